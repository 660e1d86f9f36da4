//! Interop with clients nobody here wrote, as CRMs use them: Python `librouteros` and
//! `RouterOS-api` (PyPI), npm `node-routeros` and `routeros-client`. Each logs in to the
//! emulator over plain and TLS (verified against the CA), prints with `?disabled=no`, adds,
//! changes and removes, and gets RouterOS' traps for a wrong password, duplicates, unknown
//! parameters and missing profiles.
//!
//! `.ci/run` installs them and sets `INTEROP_PYTHON` (a venv with both Python clients) and
//! `INTEROP_NODE_MODULES` (a `node_modules` with both npm clients); without them these tests are
//! not run here, and fail in CI, where they must run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use routeros_config::Config;
use tikguard::emu;

mod common;

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.16
/ip address
add address=192.168.88.1/24 interface=bridge
/ppp profile
add name=plan-10M rate-limit=10M/10M
/ppp secret
add name=cust1 password=s1 profile=plan-10M service=pppoe
add name=cust2 password=s2 profile=default disabled=yes
";

fn tool(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set {var} (see .ci/run)"
            );
            eprintln!("{var} not set: interop test not run here");
            None
        }
    }
}

/// Runs `program script HOST PORT admin PWFILE [CAFILE]` against a fresh emulator, over the
/// plaintext port and then over TLS; the script prints `ok` when every check passed.
async fn run_client(program: &Path, script: &str, env: &[(&str, &Path)]) {
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, "interop-pass\n").unwrap();
    for tls in [false, true] {
        // A fresh router each time: the clients change it.
        let (config, pw) = (config.clone(), {
            let mut pw = HashMap::new();
            pw.insert("admin".to_string(), "interop-pass".to_string());
            pw
        });
        let (cfg, _, ca_pem) = common::ca_signed_server_config();
        let e = emu::start(
            emu::router_from(config, pw, None),
            emu::Options {
                api: Some("127.0.0.1:0".parse().unwrap()),
                api_ssl: Some(("127.0.0.1:0".parse().unwrap(), cfg)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let cafile = dir.path().join("ca.pem");
        std::fs::write(&cafile, ca_pem).unwrap();
        let port = if tls { e.api_ssl } else { e.api }.unwrap().port();
        let mut cmd = tokio::process::Command::new(program);
        cmd.arg(format!(
            "{}/tests/interop/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg("127.0.0.1")
        .arg(port.to_string())
        .arg("admin")
        .arg(&pwfile);
        if tls {
            cmd.arg(&cafile);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "{script} over {}: {}{}",
            if tls { "TLS" } else { "plain" },
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_talks_to_the_emulator_over_plain_and_tls() {
    let Some(py) = tool("INTEROP_PYTHON") else {
        return;
    };
    run_client(&py, "librouteros_client.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routeros_api_talks_to_the_emulator_as_a_crm_does() {
    let Some(py) = tool("INTEROP_PYTHON") else {
        return;
    };
    run_client(&py, "routeros_api_client.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_routeros_and_routeros_client_talk_to_the_emulator_as_a_crm_does() {
    let Some(modules) = tool("INTEROP_NODE_MODULES") else {
        return;
    };
    run_client(
        Path::new("node"),
        "node_clients.js",
        &[("NODE_PATH", modules.as_path())],
    )
    .await;
}
