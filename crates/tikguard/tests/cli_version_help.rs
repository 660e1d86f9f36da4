//! What an installed binary says of itself: `--version` names the commit it was built from and
//! the optional features, and no `--help` sends the user to `examples/`, which only a checkout
//! of the repository has.

use std::process::Command;

fn tikguard() -> Command {
    // Run from a directory without `examples/`, as an installed binary is.
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(std::env::temp_dir());
    c
}

#[test]
fn version_names_the_commit_and_the_features() {
    let out = tikguard().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let want_commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert!(
        text.starts_with(&format!(
            "tikguard {} (commit {want_commit}, features: ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let features = if cfg!(feature = "insecure-anon-dh") {
        "openssl, insecure-anon-dh"
    } else if cfg!(feature = "openssl") {
        "openssl"
    } else {
        "none"
    };
    assert!(
        text.trim_end().ends_with(&format!("features: {features})")),
        "{text}"
    );
}

/// Every command's help: each teaches its configuration in itself (`watch`, `proxy` show an
/// example file) instead of sending the user to `examples/`.
#[test]
fn no_help_points_at_examples_only_a_checkout_has() {
    for cmd in [
        vec![],
        vec!["audit"],
        vec!["harden"],
        vec!["parse"],
        vec!["emu"],
        vec!["exec"],
        vec!["probe"],
        vec!["watch"],
        vec!["proxy"],
        vec!["rules"],
        vec!["explain"],
    ] {
        let out = tikguard().args(&cmd).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage: tikguard"), "{cmd:?}: {text}");
        assert!(!text.contains("examples/"), "{cmd:?} --help: {text}");
    }
}

/// `proxy --help`'s example is a configuration `proxy check` accepts, once its password hash is
/// a real one (the help shows it shortened): the help teaches what works.
#[test]
fn the_proxy_help_example_is_a_valid_configuration() {
    let out = tikguard().args(["proxy", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text.find("Example proxy.toml:").expect("an example");
    let example: String = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("  "))
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    assert!(example.contains("[[policy.billing.rule]]"), "{example}");
    let mut hasher = tikguard()
        .args(["proxy", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = hasher.stdin.take().unwrap();
        stdin.write_all(b"a-client-password\n").unwrap();
    }
    let hash = String::from_utf8(hasher.wait_with_output().unwrap().stdout).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let config = example.replace("$argon2id$...", hash.trim());
    let dir = std::env::temp_dir().join(format!("tikguard-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, &config).unwrap();
    let out = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{config}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
