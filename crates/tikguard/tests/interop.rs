//! Interop with a client nobody here wrote: Python `librouteros` (PyPI) logs in to the emulator
//! over plain and TLS, prints, adds, updates, removes and gets RouterOS' traps. `.ci/run`
//! installs it into a venv and sets `LIBROUTEROS_PYTHON`; without it the test is not run here
//! (and fails in CI, where it must run).

use std::collections::HashMap;
use std::path::PathBuf;

use routeros_config::Config;
use tikguard::emu;

mod common;

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.16\n/ip address\nadd address=192.168.88.1/24 interface=bridge\n";

fn python() -> Option<PathBuf> {
    match std::env::var_os("LIBROUTEROS_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set LIBROUTEROS_PYTHON (see .ci/run)"
            );
            eprintln!("LIBROUTEROS_PYTHON not set: interop test not run here");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_talks_to_the_emulator_over_plain_and_tls() {
    let Some(py) = python() else { return };
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let mut pw = HashMap::new();
    pw.insert("admin".to_string(), "interop-pass".to_string());
    let (cfg, _, ca_pem) = common::ca_signed_server_config();
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            api_ssl: Some(("127.0.0.1:0".parse().unwrap(), cfg)),
            syslog: None,
            syslog_bsd: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, "interop-pass\n").unwrap();
    let cafile = dir.path().join("ca.pem");
    std::fs::write(&cafile, ca_pem).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/librouteros_client.py"
    );
    for (port, ca) in [
        (e.api.unwrap().port(), None),
        (e.api_ssl.unwrap().port(), Some(&cafile)),
    ] {
        let mut cmd = tokio::process::Command::new(&py);
        cmd.arg(script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .arg("admin")
            .arg(&pwfile);
        if let Some(ca) = ca {
            cmd.arg(ca);
        }
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "librouteros on port {port}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
