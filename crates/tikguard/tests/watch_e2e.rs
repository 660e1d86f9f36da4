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
    dir: tempfile::TempDir,
    _emu: Proc,
    watch: Proc,
    config: std::path::PathBuf,
    api: String,
    ssl: String,
    ca: std::path::PathBuf,
}

fn spawn_watch(cfg: &Path) -> (Proc, String) {
    let mut watch = tikguard()
        .args(["watch", "run", "--config"])
        .arg(cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The bound address; warnings (a reconcile running at start) may come before it.
    let mut err = BufReader::new(watch.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    let udp = loop {
        let line = err
            .next()
            .unwrap_or_else(|| panic!("watch ended; it said: {before:?}"))
            .unwrap();
        match line.strip_prefix("syslog-udp ") {
            Some(a) => break a.to_string(),
            None => {
                assert!(!line.contains("panicked"), "watch panicked: {line}");
                before.push(line)
            }
        }
    };
    std::thread::spawn(move || for _ in err {});
    (Proc(watch), udp)
}

fn start(allow: &str) -> Run {
    start_with(allow, "")
}

fn start_with(allow: &str, extra: &str) -> Run {
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
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\nfailures = 3\nwindow = \"1m\"\nblock = \"1d\"\nallow = [{allow}]\n{extra}\n[[router]]\nname = \"emu\"\naddress = \"{ssl}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\n",
            cert.display(),
            pw.display()
        ),
    )
    .unwrap();
    let (watch, udp) = spawn_watch(&cfg);
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
        dir,
        config: cfg,
        _emu: Proc(emu),
        watch,
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

async fn admin(ssl: &str, ca: &Path) -> Client {
    let c = Client::connect(&Options::new(
        ssl.to_string(),
        Security::Tls(Verify::Ca(routeros_api::tls::load_ca(ca).unwrap())),
    ))
    .await
    .unwrap();
    c.login("admin", "s3cret").await.unwrap();
    c
}

async fn until_listed(r: &Run, want: &[&str]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = listed(&r.ssl, &r.ca)
            .await
            .into_iter()
            .map(|(a, _)| a)
            .collect::<Vec<_>>();
        got.sort();
        if got == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

/// The state file: a restart puts running blocks back on a router that lost them and takes off
/// watch's entries the state does not hold; `watch unblock` removes a block for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_survive_restarts_and_unblock_removes_them_for_good() {
    let state = tempfile::tempdir().unwrap();
    let extra = format!(
        "state = \"{}\"\n",
        state.path().join("state.jsonl").display()
    );
    let mut r = start_with("", &extra);
    fail_logins(&r.api, 4).await;
    assert_eq!(until_listed(&r, &["127.0.0.1"]).await, ["127.0.0.1"]);
    // Watch stops; the router loses the entry and gains a stale one of watch's.
    drop(std::mem::replace(
        &mut r.watch,
        Proc(std::process::Command::new("true").spawn().unwrap()),
    ));
    let c = admin(&r.ssl, &r.ca).await;
    for item in c
        .call(&["/ip/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
    {
        let id = String::from_utf8_lossy(item.get(".id").unwrap()).into_owned();
        c.call(&["/ip/firewall/address-list/remove", &format!("=.id={id}")])
            .await
            .unwrap();
    }
    c.call(&[
        "/ip/firewall/address-list/add",
        "=list=tikguard-watch",
        "=address=192.0.2.99",
        "=comment=tikguard-watch: from an older run",
    ])
    .await
    .unwrap();
    // Restart: reconciled.
    r.watch = spawn_watch(&r.config).0;
    assert_eq!(
        until_listed(&r, &["127.0.0.1"]).await,
        ["127.0.0.1"],
        "state: {}",
        std::fs::read_to_string(state.path().join("state.jsonl")).unwrap_or_default()
    );
    // Unblock for good: gone now, and a restart does not put it back.
    let out = tikguard()
        .args(["watch", "unblock", "--config"])
        .arg(&r.config)
        .arg("127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("emu: removed 1 entry"));
    r.watch = spawn_watch(&r.config).0;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    let _ = &r.dir;
}
