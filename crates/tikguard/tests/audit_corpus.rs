//! The whole shared corpus audits without a panic, and the audit of the real exports gives no
//! finding whose location lies outside the file.

use std::path::{Path, PathBuf};

use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

fn corpus() -> PathBuf {
    std::env::var_os("TIKGUARD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus")
}

#[test]
fn every_corpus_file_audits_without_panic() {
    let dir = corpus();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|f| f == "MANIFEST.tsv") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        let (config, _) = Config::load(bytes);
        let a = audit::run(&config, &WanChoice::default(), &Selection::default());
        for f in &a.findings {
            if let Some(l) = f.line {
                assert!(
                    l <= lines,
                    "{}: {} at line {l} of {lines}",
                    path.display(),
                    f.rule
                );
            }
            if let Some(e) = &f.evidence {
                assert_no_visible_password(e);
            }
        }
        n += 1;
    }
    assert!(n >= 90, "only {n} files");
}

/// Every `password=` in shown text is followed by `***`, an empty value, or nothing.
fn assert_no_visible_password(text: &str) {
    for (i, _) in text.match_indices("password=") {
        let rest = &text[i + "password=".len()..];
        assert!(
            rest.starts_with("***")
                || rest.starts_with("\"\"")
                || rest.is_empty()
                || rest.starts_with(' '),
            "visible password in: {text}"
        );
    }
}

#[test]
fn the_password_check_itself_catches_a_visible_password() {
    assert!(
        std::panic::catch_unwind(|| assert_no_visible_password("add password=hunter2")).is_err()
    );
    assert_no_visible_password("add password=*** name=x");
}
