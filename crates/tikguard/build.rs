//! Records what `tikguard --version` prints beside the version: the commit it was built from
//! (when built from a git checkout with git installed; `unknown` otherwise, e.g. from a source
//! tarball) and the optional features enabled.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from("."), std::path::PathBuf::from);
    let commit = git(&dir, &["rev-parse", "--short=12", "HEAD"]);
    // Rebuild the string when HEAD moves: HEAD itself (a branch switch), the branch's ref (a
    // commit), packed refs. Outside a checkout, nothing to watch but this file.
    println!("cargo:rerun-if-changed=build.rs");
    if commit.is_some() {
        for what in ["HEAD", "packed-refs"] {
            if let Some(p) = git(
                &dir,
                &["rev-parse", "--path-format=absolute", "--git-path", what],
            ) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        if let Some(head) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
            if let Some(p) = git(
                &dir,
                &["rev-parse", "--path-format=absolute", "--git-path", &head],
            ) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    let features: Vec<&str> = [
        ("CARGO_FEATURE_OPENSSL", "openssl"),
        ("CARGO_FEATURE_INSECURE_ANON_DH", "insecure-anon-dh"),
    ]
    .iter()
    .filter(|(var, _)| std::env::var_os(var).is_some())
    .map(|(_, name)| *name)
    .collect();
    println!(
        "cargo:rustc-env=TIKGUARD_BUILD_INFO=commit {}, features: {}",
        commit.as_deref().unwrap_or("unknown"),
        if features.is_empty() {
            "none".to_string()
        } else {
            features.join(", ")
        }
    );
}
