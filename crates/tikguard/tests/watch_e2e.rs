//! `tikguard watch` end to end, as processes over real sockets: a client fails logins against
//! `tikguard emu --syslog`, the emulator sends the `login failure` lines to watch over UDP as a
//! router's remote logging action does, and watch blocks the source on the emulator's address
//! list through verified API-SSL. The failing client is Python's librouteros where CI installs
//! it (INTEROP_PYTHON), else this crate's client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use routeros_api::{Client, Options, Security, Verify};

mod common;
use common::{free_port, self_signed_pem, tikguard, wait_listening, Proc};

struct Run {
    _dir: tempfile::TempDir,
    _emu: Proc,
    watch: Proc,
    api: String,
    ssl: String,
    ca: std::path::PathBuf,
}

fn start(allow: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed_pem(dir.path());
    let pw = dir.path().join("admin.pass");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let (api_port, ssl_port) = (free_port(), free_port());
    let ssl = format!("127.0.0.1:{ssl_port}");
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\nfailures = 3\nwindow = \"1m\"\nblock = \"1d\"\nallow = [{allow}]\n\n[[router]]\nname = \"emu\"\naddress = \"{ssl}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\n",
            cert.display(),
            pw.display()
        ),
    )
    .unwrap();
    let mut watch = tikguard()
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(watch.stderr.take().unwrap()).lines();
    let udp = err
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("syslog-udp ")
        .unwrap()
        .to_string();
    std::thread::spawn(move || for _ in err {});
    let emu = tikguard()
        .args(["emu", "examples/isp-core-v7.rsc", "--api"])
        .arg(format!("127.0.0.1:{api_port}"))
        .arg("--api-ssl")
        .arg(&ssl)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--password-file")
        .arg(format!("admin={}", pw.display()))
        .arg("--syslog")
        .arg(&udp)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(api_port);
    wait_listening(ssl_port);
    Run {
        _dir: dir,
        _emu: Proc(emu),
        watch: Proc(watch),
        api: format!("127.0.0.1:{api_port}"),
        ssl,
        ca: cert,
    }
}

/// Fails `n` logins on the plaintext API, with librouteros when available.
async fn fail_logins(api: &str, n: usize) {
    let (host, port) = api.rsplit_once(':').unwrap();
    if let Some(py) = std::env::var_os("INTEROP_PYTHON") {
        let script = format!(
            "from librouteros import connect\nfrom librouteros.exceptions import TrapError\nfrom librouteros.login import plain\nfor i in range({n}):\n    try:\n        connect('{host}', 'admin', 'wrong-%d' % i, port={port}, login_method=plain)\n        raise SystemExit('logged in')\n    except TrapError:\n        pass\nprint('ok')\n"
        );
        let out = tokio::process::Command::new(py)
            .args(["-c", &script])
            .output()
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set INTEROP_PYTHON (see .ci/run)"
        );
        for _ in 0..n {
            let c = Client::connect(&Options::new(api.to_string(), Security::Plain))
                .await
                .unwrap();
            assert!(c.login("admin", "wrong").await.is_err());
        }
    }
}

async fn listed(ssl: &str, ca: &Path) -> Vec<(String, String)> {
    let c = Client::connect(&Options::new(
        ssl.to_string(),
        Security::Tls(Verify::Ca(routeros_api::tls::load_ca(ca).unwrap())),
    ))
    .await
    .unwrap();
    c.login("admin", "s3cret").await.unwrap();
    c.call(&["/ip/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
        .iter()
        .map(|i| {
            let g = |k: &str| {
                i.get(k)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            (g("address"), g("timeout"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_become_a_block_on_the_router_that_saw_them() {
    let mut r = start("");
    fail_logins(&r.api, 4).await;
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = listed(&r.ssl, &r.ca).await;
        if !entries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "127.0.0.1");
    assert!(
        !entries[0].1.is_empty(),
        "the block has a timeout: {entries:?}"
    );
    // watch said so on standard output, as a JSON line.
    let out = r.watch.0.stdout.take().unwrap();
    let first = BufReader::new(out).lines().next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["type"], "block");
    assert_eq!(v["address"], "127.0.0.1");
    assert_eq!(v["router"], "emu");
    assert_eq!(v["duration_s"], 86_400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlisted_source_is_never_blocked_however_many_failures() {
    let r = start("\"127.0.0.0/8\"");
    fail_logins(&r.api, 12).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
}
