//! Where the tests find their data: `testdata/` in the repository, and the larger corpus of
//! `TIKGUARD_SHARED` (its `corpus/MANIFEST.tsv`) added to it when that variable is set.
//! Included by the test files that read the corpus (`#[path]`), so there is one place for it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One export of the corpus, as its manifest lists it.
pub struct Entry {
    pub file: String,
    pub path: PathBuf,
    /// The RouterOS version of its header, or `unknown`.
    pub version: String,
}

/// The repository's `testdata/`.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The larger corpus of `TIKGUARD_SHARED`, when set. Set but without a manifest is a mistake
/// worth stopping for, not a reason to test less in silence.
fn extra() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("TIKGUARD_SHARED")?).join("corpus");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "TIKGUARD_SHARED is set but {} has no MANIFEST.tsv",
        dir.display()
    );
    Some(dir)
}

fn read_manifest(dir: &Path, into: &mut Vec<Entry>) {
    let path = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (f, v) = (col("filename"), col("routeros_version"));
    for l in lines.filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = l.split('\t').collect();
        if into.iter().any(|e| e.file == cols[f]) {
            continue;
        }
        into.push(Entry {
            file: cols[f].to_string(),
            path: dir.join(cols[f]),
            version: cols[v].to_string(),
        });
    }
}

/// The repository's corpus, then the files of the larger one it does not hold.
pub fn corpus() -> Vec<Entry> {
    let mut all = Vec::new();
    read_manifest(&testdata().join("corpus"), &mut all);
    if let Some(dir) = extra() {
        read_manifest(&dir, &mut all);
    }
    all
}

/// How many exports the repository itself carries.
pub fn carried() -> usize {
    let mut own = Vec::new();
    read_manifest(&testdata().join("corpus"), &mut own);
    own.len()
}

/// A corpus file by name, if the repository or the larger corpus holds it.
pub fn find(name: &str) -> Option<PathBuf> {
    corpus()
        .into_iter()
        .find(|e| e.file == name)
        .map(|e| e.path)
}
