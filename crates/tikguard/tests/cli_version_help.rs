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

/// Every command's help; `proxy` names `examples/proxy.toml` for its configuration's sections,
/// left as it is here (its text belongs with the proxy's configuration documentation).
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
        vec!["rules"],
        vec!["explain"],
    ] {
        let out = tikguard().args(&cmd).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage: tikguard"), "{cmd:?}: {text}");
        assert!(!text.contains("examples/"), "{cmd:?} --help: {text}");
    }
}
