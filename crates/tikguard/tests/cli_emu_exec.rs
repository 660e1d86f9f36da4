//! `tikguard emu` and `tikguard exec` as processes, the way a user runs them.

use std::process::Stdio;

mod common;
use common::{emu_process, tikguard};

#[test]
fn exec_against_emu_over_plain_and_tls_with_trust_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), true);
    let (api, ssl, pw) = (
        emu.api.clone().unwrap(),
        emu.ssl.clone(),
        emu.password_file.clone(),
    );

    let out = tikguard()
        .args([
            "exec",
            "--plain",
            &api,
            "/ip/service/print",
            "?name=api",
            "--format",
            "json",
            "--password-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["port"], "8728");
    assert!(String::from_utf8_lossy(&out.stderr).contains("plaintext API"));

    // TLS, trust on first use: recorded, then matched.
    let known = dir.path().join("known");
    for run in 0..2 {
        let out = tikguard()
            .args(["exec", &ssl, "/ip/address/print", "--known-routers"])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Trust on first use says so on stderr, with the fingerprint, the first time only.
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.contains("trust on first use: recorded") && err.contains("sha256"),
            run == 0,
            "{err}"
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(".id"), "{text}");
        assert!(text.contains("203.0.113.2/30"));
    }
    // A different recorded fingerprint is refused, naming the file and line.
    std::fs::write(&known, format!("{ssl} {}\n", "ab".repeat(32))).unwrap();
    let out = tikguard()
        .args(["exec", &ssl, "/ip/address/print", "--known-routers"])
        .arg(&known)
        .arg("--password-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:1", known.display())), "{err}");

    // A wrong password: RouterOS' message, exit 1, and the password is in no output.
    std::fs::write(&pw, "wrong-one\n").unwrap();
    let out = tikguard()
        .args([
            "exec",
            "--plain",
            &api,
            "/ip/address/print",
            "--password-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid user name or password (6)"), "{err}");
    assert!(!err.contains("wrong-one"));
}

#[test]
fn exec_without_a_password_source_says_how_to_give_one() {
    let out = tikguard()
        .args(["exec", "--plain", "127.0.0.1:1", "/ip/address/print"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--password-env VAR or --password-file PATH")
    );
}

#[test]
fn audit_live_reads_the_router_over_the_api_and_finds_what_the_export_shows() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (ssl, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let out = tikguard()
        .args([
            "audit",
            "--live",
            &ssl,
            "--format",
            "json",
            "--known-routers",
        ])
        .arg(dir.path().join("known"))
        .arg("--password-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = tikguard()
        .args(["audit", "--format", "json", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    let file: serde_json::Value = serde_json::from_slice(&file.stdout).unwrap();
    // The same exposure from both sources.
    let rows = |v: &serde_json::Value| {
        v["files"][0]["exposure"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["service"].clone(),
                    r["family"].clone(),
                    r["interface"].clone(),
                    r["reachable_from"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&live), rows(&file));
    assert_eq!(live["files"][0]["routeros_version"], "7.12.1");
    let rules = |v: &serde_json::Value| {
        let mut r: Vec<String> = v["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        r.sort();
        r.dedup();
        r
    };
    for rule in ["TG101", "TG102", "TG201", "TG202", "TG302"] {
        assert!(
            rules(&live).contains(&rule.to_string()),
            "{rule} missing live: {:?}",
            rules(&live)
        );
    }
}

/// A port already taken: the error names the address and the service, not only the system's
/// "Address already in use" (which of `--api` and `--api-ssl`?); exit 2.
#[test]
fn emu_on_a_port_in_use_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "x").unwrap();
    let out = tikguard()
        .args([
            "emu",
            "examples/home-v7.rsc",
            "--api",
            &addr,
            "--password-file",
        ])
        .arg(format!("admin={}", pw.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot listen on {addr} (api): ")) && err.contains("in use"),
        "{err}"
    );
    drop(taken);
}
