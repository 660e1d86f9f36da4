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
use common::{free_port, peak_kib, self_signed_pem, tikguard, wait_listening, Proc};

struct Run {
    dir: tempfile::TempDir,
    emu: Proc,
    emu_args: Vec<std::ffi::OsString>,
    api_port: u16,
    ssl_port: u16,
    watch: Proc,
    config: std::path::PathBuf,
    udp: String,
    tcp: Option<String>,
    said: Said,
    api: String,
    ssl: String,
    ca: std::path::PathBuf,
}

fn spawn_watch(cfg: &Path) -> Proc {
    spawn_watch_with(cfg, &[]).0
}

/// watch, its syslog UDP address, its TCP one when configured, and what it says.
fn spawn_watch_with(cfg: &Path, args: &[&str]) -> (Proc, String, Option<String>, Said) {
    let mut watch = tikguard()
        .args(["watch", "run", "--config"])
        .arg(cfg)
        .args(args)
        // Where the state goes when the file names none: beside the configuration.
        .env("STATE_DIRECTORY", cfg.parent().unwrap())
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
    let tcp_wanted = std::fs::read_to_string(cfg).unwrap().contains("syslog-tcp");
    let tcp = tcp_wanted.then(|| {
        let line = err.next().unwrap().unwrap();
        line.strip_prefix("syslog-tcp ")
            .expect("syslog-tcp ADDRESS")
            .to_string()
    });
    // What it said before its addresses counts too.
    let said: Said = std::sync::Arc::new(std::sync::Mutex::new(before));
    let keep = said.clone();
    std::thread::spawn(move || {
        for l in err.map_while(Result::ok) {
            assert!(!l.contains("panicked"), "watch panicked: {l}");
            if std::env::var_os("WATCH_E2E_VERBOSE").is_some() {
                eprintln!("watch: {l}");
            }
            keep.lock().unwrap().push(l);
        }
    });
    (Proc(watch), udp, tcp, said)
}

/// What watch printed on standard error after its addresses.
type Said = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Stops watch with SIGTERM; the line it prints when stopping.
fn stop_watch(w: &mut Proc, said: &Said) -> String {
    let pid = w.0.id().to_string();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = w.0.wait().unwrap();
    assert!(status.success(), "watch exits 0 on SIGTERM: {status}");
    // The reader thread may still be taking the last line.
    for _ in 0..50 {
        if let Some(l) = said
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("stopping:"))
        {
            return l.clone();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no stopping line in {:?}", said.lock().unwrap());
}

/// The address the emulated router takes every client as coming from (`emu --clients-as`):
/// loopback is never a block target, so a real client on 127.0.0.1 fails logins "from" here.
const CLIENT: &str = "198.51.100.77";

/// What a test changes in the setup.
#[derive(Default)]
struct Setup<'a> {
    /// The `allow` list, as TOML array items.
    allow: &'a str,
    /// More lines for [watch].
    watch: &'a str,
    /// More lines for the router.
    router: &'a str,
    /// More tables after the router ([crowdsec]).
    tail: &'a str,
    /// The emulator does not send its log by syslog (watch follows it over the API instead).
    no_syslog: bool,
    /// Arguments for `watch run`.
    args: &'a [&'a str],
}

fn start(allow: &str) -> Run {
    start_setup(Setup {
        allow,
        ..Setup::default()
    })
}

fn start_with(allow: &str, extra: &str) -> Run {
    start_setup(Setup {
        allow,
        watch: extra,
        ..Setup::default()
    })
}

fn start_setup(s: Setup) -> Run {
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
            "[watch]\ninstance = \"t\"\nsyslog-udp = \"127.0.0.1:0\"\nfailures = 3\nwindow = \"1m\"\nblock = \"1d\"\nallow = [{}]\n{}\n[[router]]\nname = \"emu\"\naddress = \"{ssl}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\n{}\n{}\n",
            s.allow,
            s.watch,
            cert.display(),
            pw.display(),
            s.router,
            s.tail,
        ),
    )
    .unwrap();
    let (watch, udp, tcp, said) = spawn_watch_with(&cfg, s.args);
    let mut emu_args: Vec<std::ffi::OsString> = vec![
        "emu".into(),
        "examples/isp-core-v7.rsc".into(),
        "--api".into(),
        format!("127.0.0.1:{api_port}").into(),
        "--api-ssl".into(),
        ssl.clone().into(),
        "--tls-cert".into(),
        cert.clone().into(),
        "--tls-key".into(),
        key.into(),
        "--password-file".into(),
        format!("admin={}", pw.display()).into(),
    ];
    if !s.no_syslog {
        emu_args.extend(["--syslog".into(), udp.clone().into()]);
    }
    emu_args.extend(["--clients-as".into(), CLIENT.into()]);
    let emu = spawn_emu(&emu_args, api_port, ssl_port);
    Run {
        dir,
        config: cfg,
        emu,
        emu_args,
        api_port,
        ssl_port,
        watch,
        udp,
        tcp,
        said,
        api: format!("127.0.0.1:{api_port}"),
        ssl,
        ca: cert,
    }
}

fn spawn_emu(args: &[std::ffi::OsString], api_port: u16, ssl_port: u16) -> Proc {
    let emu = tikguard().args(args).stdout(Stdio::null()).spawn().unwrap();
    wait_listening(api_port);
    wait_listening(ssl_port);
    Proc(emu)
}

impl Run {
    /// The router goes away (its address list with it).
    fn stop_emu(&mut self) {
        let _ = self.emu.0.kill();
        let _ = self.emu.0.wait();
    }

    /// The harness's watch goes (killed), so that another can take its state file.
    fn kill_watch(&mut self) {
        drop(std::mem::replace(
            &mut self.watch,
            Proc(std::process::Command::new("true").spawn().unwrap()),
        ));
    }

    /// The router comes back on the same addresses, from its export: every dynamic entry lost.
    fn restart_emu(&mut self) {
        self.emu = spawn_emu(&self.emu_args, self.api_port, self.ssl_port);
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

/// (address, timeout) of every entry on watch's list.
async fn listed(ssl: &str, ca: &Path) -> Vec<(String, String)> {
    listed_with(ssl, ca, "timeout").await
}

/// (address, `field`) of every entry on watch's list, as the router prints them.
async fn listed_with(ssl: &str, ca: &Path, field: &str) -> Vec<(String, String)> {
    admin(ssl, ca)
        .await
        .call(&["/ip/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
        .iter()
        .map(|i| {
            let g = |k: &str| {
                i.get(k)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            (g("address"), g(field))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_become_a_block_on_the_router_that_saw_them() {
    let alerts = tempfile::tempdir().unwrap();
    let alerts_file = alerts.path().join("alerts.jsonl");
    let mut r = start_with(
        "",
        &format!("alerts-file = \"{}\"\n", alerts_file.display()),
    );
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
    assert_eq!(entries[0].0, CLIENT);
    assert!(
        !entries[0].1.is_empty(),
        "the block has a timeout: {entries:?}"
    );
    // watch said so on standard output, as a JSON line.
    let out = r.watch.0.stdout.take().unwrap();
    let first = BufReader::new(out).lines().next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["type"], "block");
    assert_eq!(v["address"], CLIENT);
    assert_eq!(v["router"], "emu");
    assert_eq!(v["duration_s"], 86_400);
    // And in the alerts file, the same line.
    let in_file = std::fs::read_to_string(&alerts_file).unwrap();
    assert_eq!(in_file.lines().next(), Some(first.as_str()));
}

/// An address already on the list (RouterOS refuses the duplicate: `already have such
/// entry`) gets its timeout extended to the block's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_already_listed_gets_its_timeout_extended() {
    let r = start("");
    let c = admin(&r.ssl, &r.ca).await;
    c.call(&[
        "/ip/firewall/address-list/add",
        "=list=tikguard-watch",
        "=address=198.51.100.31",
        "=timeout=1m",
        "=comment=listed by hand",
    ])
    .await
    .unwrap();
    send_syslog(&r.udp, &failures_from("198.51.100.31", 3));
    let mut timeout = String::new();
    for _ in 0..100 {
        let entries = listed(&r.ssl, &r.ca).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        timeout = entries[0].1.clone();
        if timeout.contains('d') || timeout.starts_with("23h") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        timeout.starts_with("1d") || timeout.starts_with("23h"),
        "extended to a day: {timeout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlisted_source_is_never_blocked_however_many_failures() {
    let r = start("\"198.51.100.0/24\"");
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
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    let config = r.config.clone();
    let unblock = |address: &str| {
        let out = tikguard()
            .env("STATE_DIRECTORY", config.parent().unwrap())
            .args(["watch", "unblock", "--config"])
            .arg(&config)
            .arg(address)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Unblocked in another spelling (`/32`) while watch runs: gone, and watch forgot him too:
    // new failures block him again at once, not when the old block would have ended.
    assert!(unblock(&format!("{CLIENT}/32")).contains("emu: removed 1 entry"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
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
        "=comment=tikguard-watch@t: from an older run",
    ])
    .await
    .unwrap();
    // Restart: reconciled.
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    assert_eq!(
        until_listed(&r, &[CLIENT]).await,
        [CLIENT],
        "state: {}",
        std::fs::read_to_string(state.path().join("state.jsonl")).unwrap_or_default()
    );
    // Unblock for good, spelt `/32` again: gone now, and a restart does not put it back.
    assert!(unblock(&format!("{CLIENT}/32")).contains("emu: removed 1 entry"));
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    let _ = &r.dir;
}

/// Sends syslog lines to watch from 127.0.0.1, the emulator's address: as if it logged them.
fn send_syslog(udp: &str, lines: &[String]) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for l in lines {
        sock.send_to(l.as_bytes(), udp).unwrap();
    }
}

fn failures_from(source: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            format!("system,error,critical login failure for user admin from {source} via api")
        })
        .collect()
}

/// A router that cannot be reached keeps its blocks: they are applied when it comes back, and
/// a router that comes back without them (a reboot) gets them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_wait_for_an_unreachable_router_and_return_after_it_restarts() {
    let mut r = start("");
    r.stop_emu();
    send_syslog(&r.udp, &failures_from("198.51.100.23", 3));
    // Watch tries, fails, and keeps the block while the router is away.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.restart_emu();
    assert_eq!(
        until_listed(&r, &["198.51.100.23"]).await,
        ["198.51.100.23"]
    );
    // The router restarts from its configuration: the entry is lost, and put back.
    r.stop_emu();
    r.restart_emu();
    assert!(listed(&r.ssl, &r.ca).await.len() <= 1);
    assert_eq!(
        until_listed(&r, &["198.51.100.23"]).await,
        ["198.51.100.23"]
    );
}

/// `--follow ROUTER`: no syslog from the router; watch reads its log over the API
/// (`/log/print follow-only`) and blocks all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_router_is_watched_without_syslog() {
    let r = start_setup(Setup {
        no_syslog: true,
        args: &["--follow", "emu"],
        ..Setup::default()
    });
    // The stream shows only what is logged after it starts, and watch started before the
    // router (it retries with backoff): fail logins until a round is seen.
    let mut got = Vec::new();
    for _ in 0..15 {
        fail_logins(&r.api, 4).await;
        got = listed(&r.ssl, &r.ca).await;
        for _ in 0..10 {
            if !got.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            got = listed(&r.ssl, &r.ca).await;
        }
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, CLIENT);
}

/// `--follow` names a router of the configuration.
#[test]
fn follow_names_a_configured_router() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        "[watch]\nsyslog-udp = \"127.0.0.1:0\"\n[[router]]\nname = \"core-01\"\naddress = \"127.0.0.1:1\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"X\"\n",
    )
    .unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .args(["--follow", "core-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--follow core-02: no [[router]] of that name"));
}

/// A webhook receiver on loopback that answers each request with the next status of
/// `statuses` (then 200), and hands over the bodies it got; over TLS with `tls`.
fn webhook_receiver(
    statuses: Vec<u16>,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/hooks/T0/SECRET", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    fn answer(c: &mut dyn ReadWrite, status: u16) -> Option<String> {
        // One request per connection is enough: read the head, then Content-Length bytes.
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if c.read(&mut byte).ok()? == 0 {
                return None;
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).to_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        c.read_exact(&mut body).ok()?;
        let _ = write!(
            c,
            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = c.flush();
        Some(String::from_utf8_lossy(&body).into_owned())
    }
    trait ReadWrite: Read + Write {}
    impl<T: Read + Write> ReadWrite for T {}
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let status = statuses.next().unwrap_or(200);
            let body = match &tls {
                Some(cfg) => {
                    let server = rustls::ServerConnection::new(cfg.clone()).unwrap();
                    answer(&mut rustls::StreamOwned::new(server, c), status)
                }
                None => answer(&mut c, status),
            };
            if let Some(b) = body {
                let _ = tx.send(b);
            }
        }
    });
    (url, rx)
}

/// Every alert is POSTed to the webhook; a 503 is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_the_webhook_and_failures_are_retried() {
    let (url, bodies) = webhook_receiver(vec![503], None);
    let extra = format!("webhook = \"{url}\"\n");
    let r = start_with("", &extra);
    send_syslog(&r.udp, &failures_from("198.51.100.44", 3));
    let first = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    let again = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first, again, "the refused alert is sent again");
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["address"].as_str()),
        (Some("block"), Some("198.51.100.44"))
    );
    assert!(
        bodies.recv_timeout(Duration::from_millis(1500)).is_err(),
        "sent once taken"
    );
}

/// A CrowdSec Local API from Debian's `crowdsec` package, on loopback with its own
/// configuration, database and credentials in a temporary directory, the Central API off
/// (nothing is fetched from outside). `CROWDSEC_BIN_DIR` says where `crowdsec` and `cscli`
/// are (CI extracts the package there); else /usr/bin.
struct Lapi {
    dir: tempfile::TempDir,
    _proc: Proc,
    bin: std::path::PathBuf,
    url: String,
    /// The bouncer key file and the machine's credentials file (written by cscli), for watch.
    key_file: std::path::PathBuf,
    credentials_file: std::path::PathBuf,
}

impl Lapi {
    /// `None` where CrowdSec is not installed (never in CI).
    fn start() -> Option<Lapi> {
        let bin = std::env::var_os("CROWDSEC_BIN_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/usr/bin".into());
        if !bin.join("crowdsec").exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install CrowdSec (see .ci/run)"
            );
            eprintln!("skipped: no crowdsec in {}", bin.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let port = free_port();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            format!(
                "common:\n  daemonize: false\n  log_media: stdout\n  log_level: warning\n  working_dir: .\nconfig_paths:\n  config_dir: {d}/\n  data_dir: {d}/data/\n  simulation_path: {d}/simulation.yaml\n  hub_dir: {d}/hub/\n  index_path: {d}/hub/.index.json\n  notification_dir: {d}/notifications/\n  plugin_dir: {d}/plugins/\ncrowdsec_service:\n  acquisition_path: {d}/acquis.yaml\ndb_config:\n  type: sqlite\n  db_path: {d}/data/crowdsec.db\n  use_wal: false\napi:\n  client:\n    credentials_path: {d}/local_api_credentials.yaml\n  server:\n    log_level: warning\n    listen_uri: 127.0.0.1:{port}\n    profiles_path: {d}/profiles.yaml\nprometheus:\n  enabled: false\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("profiles.yaml"),
            "name: default_ip_remediation\nfilters:\n - Alert.Remediation == true && Alert.GetScope() == \"Ip\"\ndecisions:\n - type: ban\n   duration: 4h\non_success: break\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("simulation.yaml"), "simulation: off\n").unwrap();
        std::fs::write(dir.path().join("acquis.yaml"), "").unwrap();
        let proc = std::process::Command::new(bin.join("crowdsec"))
            .arg("-c")
            .arg(dir.path().join("config.yaml"))
            .arg("-no-cs")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port);
        let lapi = Lapi {
            key_file: dir.path().join("bouncer.key"),
            credentials_file: dir.path().join("machine.yaml"),
            dir,
            _proc: Proc(proc),
            bin,
            url: format!("http://127.0.0.1:{port}"),
        };
        // cscli's own machine, then the bouncer and the machine watch uses.
        let creds = lapi.dir.path().join("local_api_credentials.yaml");
        lapi.cscli(
            &["machines", "add", "cscli", "--auto", "--force", "-f"],
            Some(&creds),
        );
        let key = lapi.cscli(&["bouncers", "add", "tikguard-watch", "-o", "raw"], None);
        std::fs::write(&lapi.key_file, key.trim()).unwrap();
        // The machine as the README sets it up: cscli writes its login and password to a file,
        // nothing in argv.
        lapi.cscli(
            &[
                "machines",
                "add",
                "tikguard-watch",
                "--auto",
                "--force",
                "-f",
            ],
            Some(&lapi.credentials_file),
        );
        Some(lapi)
    }

    /// Runs cscli against this LAPI; its standard output. `file` is appended as the last
    /// argument.
    fn cscli(&self, args: &[&str], file: Option<&Path>) -> String {
        let mut c = std::process::Command::new(self.bin.join("cscli"));
        c.arg("-c")
            .arg(self.dir.path().join("config.yaml"))
            .args(args);
        if let Some(f) = file {
            c.arg(f);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "cscli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn toml(&self, with_machine: bool) -> String {
        let mut t = format!(
            "[crowdsec]\nlapi = \"{}\"\nkey-file = \"{}\"\npoll = \"1s\"\n",
            self.url,
            self.key_file.display()
        );
        if with_machine {
            t.push_str(&format!(
                "credentials-file = \"{}\"\n",
                self.credentials_file.display()
            ));
        }
        t
    }
}

/// A Local API and watch using it (as a bouncer; as a machine too with `machine`), or `None`
/// where CrowdSec is not installed.
fn with_crowdsec(machine: bool) -> Option<(Lapi, Run)> {
    let lapi = Lapi::start()?;
    let tail = lapi.toml(machine);
    let r = start_setup(Setup {
        tail: &tail,
        ..Setup::default()
    });
    Some((lapi, r))
}

/// (address, comment) of every entry on watch's list, sorted.
async fn listed_comments(r: &Run) -> Vec<(String, String)> {
    let mut out = listed_with(&r.ssl, &r.ca, "comment").await;
    out.sort();
    out
}

/// `cscli decisions add` puts the address on the router's list for the decision's duration;
/// `cscli decisions delete` takes it off. Captcha decisions are not bans and stay off. The
/// bouncer is given on the command line (`--crowdsec-lapi`, `--crowdsec-key-file`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crowdsec_decisions_go_on_the_router_and_come_off_when_deleted() {
    let Some(lapi) = Lapi::start() else { return };
    let key = lapi.key_file.display().to_string();
    let r = start_setup(Setup {
        args: &["--crowdsec-lapi", &lapi.url, "--crowdsec-key-file", &key],
        ..Setup::default()
    });
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--ip",
            "203.0.113.77",
            "--duration",
            "2h",
        ],
        None,
    );
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--range",
            "198.51.100.0/24",
            "--duration",
            "1h",
        ],
        None,
    );
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--ip",
            "203.0.113.78",
            "--type",
            "captcha",
        ],
        None,
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.0/24", "203.0.113.77"]).await,
        ["198.51.100.0/24", "203.0.113.77"]
    );
    let entries = listed(&r.ssl, &r.ca).await;
    let timeout = &entries.iter().find(|e| e.0 == "203.0.113.77").unwrap().1;
    assert!(
        timeout.starts_with("1h59m") || timeout.starts_with("2h"),
        "the decision's duration: {timeout}"
    );
    for (_, comment) in listed_comments(&r).await {
        assert!(
            comment.starts_with("tikguard-watch@t: crowdsec manual 'ban'"),
            "{comment}"
        );
    }
    lapi.cscli(&["decisions", "delete", "--ip", "203.0.113.77"], None);
    assert_eq!(
        until_listed(&r, &["198.51.100.0/24"]).await,
        ["198.51.100.0/24"]
    );
}

/// watch's own detection goes to CrowdSec as an alert with its decision (`cscli alerts list`
/// shows it), and the decision comes back to the router through the bouncer too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_detection_shows_up_in_crowdsec_alerts() {
    let Some((lapi, r)) = with_crowdsec(true) else {
        return;
    };
    send_syslog(&r.udp, &failures_from("198.51.100.61", 3));
    let mut alerts = serde_json::Value::Null;
    for _ in 0..100 {
        alerts = serde_json::from_str(&lapi.cscli(&["alerts", "list", "-o", "json"], None))
            .unwrap_or(serde_json::Value::Null);
        if alerts.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = &alerts[0];
    assert_eq!(a["scenario"], "tikguard/routeros-login-bf", "{alerts}");
    assert_eq!(a["source"]["value"], "198.51.100.61", "{alerts}");
    assert_eq!(a["decisions"][0]["type"], "ban", "{alerts}");
    assert_eq!(a["decisions"][0]["value"], "198.51.100.61", "{alerts}");
    let decisions: serde_json::Value =
        serde_json::from_str(&lapi.cscli(&["decisions", "list", "-o", "json"], None)).unwrap();
    assert_eq!(
        decisions[0]["decisions"][0]["value"], "198.51.100.61",
        "{decisions}"
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.61"]).await,
        ["198.51.100.61"]
    );
}

/// A router that was away is reconciled when it comes back: decisions made meanwhile go on,
/// decisions deleted meanwhile stay off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_that_comes_back_gets_crowdsec_decisions_made_while_it_was_away() {
    let Some((lapi, mut r)) = with_crowdsec(false) else {
        return;
    };
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.10"], None);
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.11"], None);
    assert_eq!(
        until_listed(&r, &["192.0.2.10", "192.0.2.11"]).await,
        ["192.0.2.10", "192.0.2.11"]
    );
    r.stop_emu();
    lapi.cscli(&["decisions", "delete", "--ip", "192.0.2.10"], None);
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.12"], None);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    r.restart_emu();
    assert_eq!(
        until_listed(&r, &["192.0.2.11", "192.0.2.12"]).await,
        ["192.0.2.11", "192.0.2.12"]
    );
}

/// Hostile input, at once: garbage and oversized datagrams, TCP clients that never finish a
/// line, and a million distinct failing sources. watch stays within its stated memory bound
/// (detector caps, the bounded line queue, [`input`] limits: under 200 MiB here), and a real
/// attack sent afterwards is still blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_syslog_input_leaves_watch_bounded_and_working() {
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let udp = r.udp.clone();
    let tcp = r.tcp.clone().unwrap();
    // TCP clients that send half a line and stall.
    let mut stalled = Vec::new();
    for _ in 0..50 {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(&tcp).unwrap();
        c.write_all(b"<26>system,error,critical login failure for user x from 192")
            .unwrap();
        stalled.push(c);
    }
    let sent = tokio::task::spawn_blocking(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut x: u32 = 0x9e37_79b9;
        let mut junk = [0u8; 512];
        for _ in 0..2_000 {
            for b in junk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            sock.send_to(&junk, &udp).unwrap();
        }
        let big = vec![b'A'; 60_000];
        for _ in 0..200 {
            sock.send_to(&big, &udp).unwrap();
            // One at a time: a socket buffer holds few of these.
            std::thread::sleep(Duration::from_millis(1));
        }
        // A million sources, each failing once: every one is tracked until the cap evicts.
        for i in 0..1_000_000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let line =
                format!("<26>system,error,critical login failure for user u{i} from {a} via api");
            sock.send_to(line.as_bytes(), &udp).unwrap();
            if i % 20_000 == 0 {
                // Let the receiver drain now and then, so that most lines are processed
                // rather than dropped at a full socket buffer.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        1_000_000
    })
    .await
    .unwrap();
    assert_eq!(sent, 1_000_000);
    // The flood drains; then a real attack.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    send_syslog(&r.udp, &failures_from("198.51.100.99", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.99"]).await,
        ["198.51.100.99"]
    );
    let peak = peak_kib(r.watch.0.id());
    eprintln!("watch peak RSS: {} MiB", peak / 1024);
    assert!(peak < 200 * 1024, "watch peaked at {} MiB", peak / 1024);
    drop(stalled);
    // The flood was read, not only dropped: the bound held under real load.
    let mut r = r;
    let last = stop_watch(&mut r.watch, &r.said);
    eprintln!("{last}");
    let read: u64 = last
        .split("stopping: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(read > 200_000, "{last}");
    let oversized: u64 = last
        .split(" oversized")
        .next()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(oversized > 0, "oversized datagrams are counted: {last}");
}

/// The shipped systemd unit is valid and sandboxed (see [`common::check_systemd_unit`]).
#[test]
fn the_systemd_unit_verifies_and_is_sandboxed() {
    common::check_systemd_unit("tikguard-watch.service");
}

/// An HTTPS webhook is verified: with `webhook-ca` naming its CA the alert arrives; a watch
/// that does not trust that CA sends nothing to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_is_verified_against_its_ca() {
    let (tls, _, ca_pem) = common::ca_signed_server_config();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("hook-ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let (url, bodies) = webhook_receiver(vec![], Some(tls.clone()));
    let extra = format!("webhook = \"{url}\"\nwebhook-ca = \"{}\"\n", ca.display());
    let r = start_with("", &extra);
    send_syslog(&r.udp, &failures_from("198.51.100.45", 3));
    let got = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(got.contains("198.51.100.45"), "{got}");
    // Without the CA: the TLS handshake fails, nothing is posted.
    let (url, bodies) = webhook_receiver(vec![], Some(tls));
    let extra = format!("webhook = \"{url}\"\n");
    let r2 = start_with("", &extra);
    send_syslog(&r2.udp, &failures_from("198.51.100.46", 3));
    assert!(bodies.recv_timeout(Duration::from_secs(3)).is_err());
    let said = r2.said.lock().unwrap().clone();
    let warned = said
        .iter()
        .find(|l| l.contains("webhook:"))
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(warned.contains("certificate"), "{warned}");
    assert!(
        !warned.contains("SECRET") && warned.contains("/..."),
        "the webhook's path stays out of what watch prints: {warned}"
    );
    drop(r);
}

/// A router that lets watch log in but refuses to show the list (a user without `read`: "not
/// enough permissions") is retried with backoff, not in a loop of logins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_refusing_the_list_is_retried_with_backoff() {
    let mut r = start("");
    r.kill_watch();
    let c = admin(&r.ssl, &r.ca).await;
    c.call(&["/user/group/add", "=name=nolist", "=policy=api,write"])
        .await
        .unwrap();
    c.call(&["/user/add", "=name=w", "=group=nolist", "=password=w-pass"])
        .await
        .unwrap();
    let pw = r.dir.path().join("w.pass");
    std::fs::write(&pw, "w-pass\n").unwrap();
    let cfg = r.dir.path().join("w.toml");
    std::fs::write(
        &cfg,
        format!(
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\n[[router]]\nname = \"emu\"\naddress = \"{}\"\nca = \"{}\"\nuser = \"w\"\npassword-file = \"{}\"\n",
            r.ssl,
            r.ca.display(),
            pw.display()
        ),
    )
    .unwrap();
    let (_w, _, _, said) = spawn_watch_with(&cfg, &[]);
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let logins = c
        .call(&["/log/print"])
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.get("message")
                .is_some_and(|m| m.starts_with(b"user w logged in"))
        })
        .count();
    // Attempts at 0, 1, 3 (and 7) seconds: three in four seconds, not hundreds.
    assert!((1..=4).contains(&logins), "{logins} logins in 4 s");
    let said = said.lock().unwrap().clone();
    assert!(
        said.iter().any(|l| l.contains("not enough permissions")),
        "the refusal is said: {said:?}"
    );
}

/// README's replay example works as written: the shipped configuration over the shipped log
/// blocks the brute force and the IPv6 /64, alerts the enumeration, and spares the allowlisted
/// backup tool.
#[test]
fn the_readme_replay_example_says_what_the_readme_shows() {
    let out = tikguard()
        .args([
            "watch",
            "replay",
            "--config",
            "examples/watch.toml",
            "examples/watch.log",
            "--stats",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["type"].as_str().unwrap().to_string(),
                v["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("block", "203.0.113.50"),
        ("enumeration", "2001:db8:77:1::/64"),
        ("block", "2001:db8:77:1::/64"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("20 lines, 19 login events, 3 decisions")
    );
}

/// Sends each line as one datagram from `from` (an address of this host, such as 127.0.0.2).
fn send_syslog_from(from: &str, udp: &str, lines: &[String]) {
    let sock = std::net::UdpSocket::bind(format!("{from}:0")).unwrap();
    for l in lines {
        sock.send_to(l.as_bytes(), udp).unwrap();
    }
}

/// The count after `label` in watch's stopping line (`... 12 from unknown senders ...`).
fn stopping_count(line: &str, label: &str) -> u64 {
    line.split(label)
        .next()
        .and_then(|t| t.trim_end().rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in: {line}"))
}

/// Any host that can send a datagram to watch's port is no router: its lines decide nothing
/// (no block on any router, even with `block-everywhere`; no alert, no state), a TCP
/// connection from it is closed at once, and it is counted when watch stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_is_no_router_decides_nothing_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (alerts, state) = (dir.path().join("alerts.jsonl"), dir.path().join("s.jsonl"));
    let extra = format!(
        "block-everywhere = true\nsyslog-tcp = \"127.0.0.1:0\"\nalerts-file = \"{}\"\nstate = \"{}\"\n",
        alerts.display(),
        state.display()
    );
    let mut r = start_with("", &extra);
    send_syslog_from("127.0.0.2", &r.udp, &failures_from("198.51.100.80", 10));
    {
        use std::io::{Read, Write};
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(
            &"127.0.0.2:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        sock.connect(
            &r.tcp
                .clone()
                .unwrap()
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        let mut c: std::net::TcpStream = sock.into();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let lines = failures_from("198.51.100.81", 10).join("\n") + "\n";
        let _ = c.write_all(lines.as_bytes());
        let mut buf = [0u8; 16];
        // Closed by watch: end of stream (or a reset), not a timeout.
        match c.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the connection stayed open: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    assert!(std::fs::read_to_string(&alerts)
        .unwrap_or_default()
        .is_empty());
    assert!(!std::fs::read_to_string(&state)
        .unwrap_or_default()
        .contains("198.51.100.8"));
    // The router's own lines are still read.
    send_syslog(&r.udp, &failures_from("198.51.100.82", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.82"]).await,
        ["198.51.100.82"]
    );
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " from unknown senders"), 11, "{last}");
}

/// One datagram is one message, and only the topics RouterOS logs a login failure with make
/// it one: a DHCP lease whose host name carries a newline and a failure, a script's `:log`,
/// and a datagram packed with many failure lines are not a block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_messages_from_a_router_are_not_login_failures() {
    let r = start("");
    let fail = |a: &str| format!("login failure for user admin from {a} via ssh");
    let mut lines = Vec::new();
    for _ in 0..5 {
        lines.push(format!(
            "<30>dhcp,info defconf assigned 10.0.0.5 to 00:11:22:33:44:55 x\n<26>system,error,critical {}",
            fail("198.51.100.83")
        ));
        lines.push(format!("<27>script,error {}", fail("198.51.100.84")));
    }
    // Three failure lines in one datagram: one message, not three.
    lines.push(
        (0..3)
            .map(|_| format!("<26>system,error,critical {}", fail("198.51.100.85")))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    send_syslog(&r.udp, &lines);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    // Two more real lines: the packed datagram counted once, so three in all now.
    send_syslog(&r.udp, &failures_from("198.51.100.85", 2));
    assert_eq!(
        until_listed(&r, &["198.51.100.85"]).await,
        ["198.51.100.85"]
    );
}

/// Lines that name what must never be blocked (loopback, unspecified, broadcast, multicast,
/// link-local, the router's own address) put nothing on the list, however many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_must_never_be_blocked_is_never_listed() {
    let r = start_with("", "block-everywhere = true\n");
    for a in [
        "127.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.5",
        "169.254.3.4",
        "fe80::1",
        "::",
        "::1",
        "ff02::1",
    ] {
        send_syslog(&r.udp, &failures_from(a, 6));
    }
    send_syslog(&r.udp, &failures_from("198.51.100.86", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.86"]).await,
        ["198.51.100.86"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        until_listed(&r, &["198.51.100.86"]).await,
        ["198.51.100.86"]
    );
}

/// Past `max-entries` blocks on a router, new blocks are refused and alerted, not added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_past_max_entries_are_refused_and_alerted() {
    let mut r = start_with("", "max-entries = 3\n");
    for i in 0..6 {
        send_syslog(
            &r.udp,
            &failures_from(&format!("198.51.100.{}", 100 + i), 3),
        );
    }
    let want = ["198.51.100.100", "198.51.100.101", "198.51.100.102"];
    assert_eq!(until_listed(&r, &want).await, want);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(listed(&r.ssl, &r.ca).await.len(), 3);
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(
        stopping_count(&last, " refused past max-entries"),
        3,
        "{last}"
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut r.watch.0.stdout.take().unwrap(), &mut out).unwrap();
    let refused = out
        .lines()
        .filter(|l| l.contains("\"type\":\"refused\""))
        .count();
    assert_eq!(refused, 3, "{out}");
}

/// `confirm = true`: a block decided on syslog lines stands only when the router's own log
/// holds the failures. Lines the router never logged (as if forged with its source address)
/// block nothing and are alerted as unconfirmed; a real client's failures are blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_confirm_only_what_the_router_logged_is_blocked() {
    let r = start_setup(Setup {
        router: "confirm = true\n",
        ..Setup::default()
    });
    send_syslog(&r.udp, &failures_from("198.51.100.90", 3));
    // The router is asked (a login, a `/log/print`) and answers.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    let mut r = r;
    let mut out = String::new();
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " not confirmed"), 1, "{last}");
    std::io::Read::read_to_string(&mut r.watch.0.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.lines()
            .any(|l| l.contains("\"unconfirmed\"") && l.contains("198.51.100.90")),
        "{out}"
    );
}

/// SIGHUP reads the configuration again: a broken file is refused and the running one stays;
/// a good one takes effect (a new threshold).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_a_broken_file_is_refused() {
    let r = start("");
    let hup = |pid: u32| {
        assert!(std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success());
    };
    let good = std::fs::read_to_string(&r.config).unwrap();
    std::fs::write(&r.config, "[watch]\nfailures = \"many\"\n").unwrap();
    hup(r.watch.0.id());
    let mut said = Vec::new();
    for _ in 0..50 {
        said = r.said.lock().unwrap().clone();
        if said.iter().any(|l| l.contains("reload refused")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        said.iter().any(|l| l.contains("reload refused")),
        "{said:?}"
    );
    send_syslog(&r.udp, &failures_from("198.51.100.91", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.91"]).await,
        ["198.51.100.91"]
    );
    std::fs::write(&r.config, good.replace("failures = 3", "failures = 5")).unwrap();
    hup(r.watch.0.id());
    for _ in 0..50 {
        if r.said
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("reloaded"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    send_syslog(&r.udp, &failures_from("198.51.100.92", 3));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        listed(&r.ssl, &r.ca).await.len(),
        1,
        "3 failures no longer block"
    );
    send_syslog(&r.udp, &failures_from("198.51.100.92", 2));
    assert_eq!(
        until_listed(&r, &["198.51.100.91", "198.51.100.92"]).await,
        ["198.51.100.91", "198.51.100.92"]
    );
}

/// Each watcher's entries carry its instance name, and reconciling touches only its own: a
/// second watcher on the same router (an HA pair, a test box) leaves the first's blocks alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_watcher_never_removes_the_first_ones_entries() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.95", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.95"]).await,
        ["198.51.100.95"]
    );
    let comments = listed_with(&r.ssl, &r.ca, "comment").await;
    assert!(
        comments[0].1.starts_with("tikguard-watch@t: 3 failures"),
        "{comments:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("b.toml");
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("instance = \"t\"", "instance = \"b\"");
    std::fs::write(&cfg, text).unwrap();
    let (_b, _, _, said) = spawn_watch_with(&cfg, &[]);
    // The second watcher connects and reconciles (nothing of its own wanted).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // It reached the router: no error said (the firewall warning is none).
    assert!(
        !said
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("router emu") && !l.contains("firewall")),
        "{:?}",
        said.lock().unwrap()
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.95"]).await,
        ["198.51.100.95"]
    );
}

/// Without `state` in the file, blocks are still kept (here in `$STATE_DIRECTORY`, as the
/// systemd unit's StateDirectory gives it) with their offence count, and a restart puts them
/// back on a router that lost them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_kept_across_restarts_by_default() {
    let mut r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.96", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.96"]).await,
        ["198.51.100.96"]
    );
    let state = r.dir.path().join("state.jsonl");
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("198.51.100.96") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("\"address\":\"198.51.100.96\"") && text.contains("\"offence\":1"),
        "{text}"
    );
    drop(std::mem::replace(
        &mut r.watch,
        Proc(std::process::Command::new("true").spawn().unwrap()),
    ));
    r.stop_emu();
    r.restart_emu();
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    assert_eq!(
        until_listed(&r, &["198.51.100.96"]).await,
        ["198.51.100.96"]
    );
}

/// A router whose password (or CA, or pin) is wrong stops start-up with the reason, so that
/// a broken unit is not "active" while blocking nothing; `--keep-trying` starts anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_refusing_watch_stops_start_up_unless_keep_trying() {
    let mut r = start("");
    // The harness's watch would hold the state file these start-ups want.
    r.kill_watch();
    let bad = r.dir.path().join("bad.pass");
    std::fs::write(&bad, "wrong\n").unwrap();
    let cfg = r.dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("admin.pass", "bad.pass");
    std::fs::write(&cfg, text).unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", r.dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("router emu") && err.contains("--keep-trying"),
        "{err}"
    );
    // Another CA: the certificate does not verify.
    std::fs::create_dir(r.dir.path().join("other")).unwrap();
    let (other_ca, _) = self_signed_pem(&r.dir.path().join("other"));
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace(&r.ca.display().to_string(), &other_ca.display().to_string());
    std::fs::write(&cfg, text).unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", r.dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("router emu"), "{err}");
    // --keep-trying: it starts (its syslog address said) and keeps running.
    let (mut w, _, _, _) = spawn_watch_with(&cfg, &["--keep-trying"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(w.0.try_wait().unwrap().is_none(), "watch ended");
}

/// `watch unblock` of a host inside a blocked IPv6 /64 says which block holds it; the block
/// itself is lifted in any spelling (here uncompressed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblocking_a_host_inside_a_blocked_64_names_the_block() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("2001:db8:5:6::1", 3));
    let c = admin(&r.ssl, &r.ca).await;
    let mut v6 = Vec::new();
    for _ in 0..100 {
        v6 = c
            .call(&["/ipv6/firewall/address-list/print", "?list=tikguard-watch"])
            .await
            .unwrap();
        if !v6.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v6.len(), 1);
    let unblock = |address: &str| {
        tikguard()
            .env("STATE_DIRECTORY", r.config.parent().unwrap())
            .args(["watch", "unblock", "--config"])
            .arg(&r.config)
            .arg(address)
            .output()
            .unwrap()
    };
    let out = unblock("2001:db8:5:6::9");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the block of 2001:db8:5:6::/64 holds it"),
        "{err}"
    );
    let out = unblock("2001:0db8:0005:0006:0000:0000:0000:0000/64");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("emu: removed 1 entry"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(c
        .call(&["/ipv6/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
        .is_empty());
}

/// An unknown sender flooding watch's port (as fast as one socket sends, for two seconds)
/// costs no line of a configured router: two attackers the router reports meanwhile are both
/// blocked, and nothing was dropped at the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_an_unknown_sender_costs_the_routers_no_line() {
    let mut r = start("");
    let udp = r.udp.clone();
    let flood = tokio::task::spawn_blocking(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        let line =
            "<26>system,error,critical login failure for user admin from 198.51.100.120 via ssh";
        let until = std::time::Instant::now() + Duration::from_secs(2);
        let mut n = 0u64;
        while std::time::Instant::now() < until {
            for _ in 0..100 {
                let _ = sock.send_to(line.as_bytes(), &udp);
                n += 1;
            }
        }
        n
    });
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        send_syslog(&r.udp, &failures_from("198.51.100.121", 1));
        send_syslog(&r.udp, &failures_from("198.51.100.122", 1));
    }
    let sent = flood.await.unwrap();
    assert_eq!(
        until_listed(&r, &["198.51.100.121", "198.51.100.122"]).await,
        ["198.51.100.121", "198.51.100.122"]
    );
    let last = stop_watch(&mut r.watch, &r.said);
    eprintln!("{sent} datagrams sent by the flood; {last}");
    assert_eq!(
        stopping_count(&last, " dropped with the queue full"),
        0,
        "{last}"
    );
    assert!(stopping_count(&last, " from unknown senders") > 0, "{last}");
}

/// `GET /metrics`: lines and events per router, unknown senders, blocks and the router's
/// reachability, in a form `promtool check metrics` accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routers_lines_unknown_senders_and_blocks_and_pass_promtool() {
    let r = start_with("", "metrics = \"127.0.0.1:0\"\n");
    send_syslog_from("127.0.0.2", &r.udp, &failures_from("198.51.100.130", 4));
    send_syslog(&r.udp, &failures_from("198.51.100.131", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.131"]).await,
        ["198.51.100.131"]
    );
    let addr = {
        let said = r.said.lock().unwrap().clone();
        said.iter()
            .find_map(|l| l.strip_prefix("metrics ").map(str::to_string))
            .unwrap_or_else(|| panic!("{said:?}"))
    };
    let body = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out.split_once("\r\n\r\n").unwrap().1.to_string()
    };
    for want in [
        "tikguard_watch_unknown_sender_total 4",
        "tikguard_watch_blocks_total{router=\"emu\"} 1",
        "tikguard_watch_router_up{router=\"emu\"} 1",
        "tikguard_watch_queue_drops_total 0",
    ] {
        assert!(body.contains(want), "{want} in:\n{body}");
    }
    let events: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("tikguard_watch_events_total{router=\"emu\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{body}"));
    assert!(events >= 3, "{body}");
    let promtool = match std::env::var_os("PROMTOOL") {
        Some(p) => std::path::PathBuf::from(p),
        None if Path::new("/usr/bin/promtool").exists() => "/usr/bin/promtool".into(),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (see .ci/run)"
            );
            return;
        }
    };
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A router whose firewall does not drop the list is said at start, for IPv4 and for IPv6
/// (blocks on a list nothing drops change nothing); once rules drop it, nothing is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_with_no_rule_dropping_the_list_is_warned_about() {
    let mut r = start("");
    let mut said = Vec::new();
    for _ in 0..50 {
        said = r.said.lock().unwrap().clone();
        if said.iter().filter(|l| l.contains("no IPv")).count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for family in ["no IPv4 firewall", "no IPv6 firewall"] {
        assert!(
            said.iter().any(|l| l.contains(family)),
            "{family}: {said:?}"
        );
    }
    let c = admin(&r.ssl, &r.ca).await;
    for menu in ["/ip/firewall/filter/add", "/ipv6/firewall/raw/add"] {
        c.call(&[
            menu,
            "=chain=input",
            "=src-address-list=tikguard-watch",
            "=action=drop",
        ])
        .await
        .unwrap();
    }
    r.kill_watch();
    let (_w, _, _, said) = spawn_watch_with(&r.config, &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let said = said.lock().unwrap().clone();
    assert!(!said.iter().any(|l| l.contains("no IPv")), "{said:?}");
}

/// `watch block` lists an address by hand with its reason, the running watch keeps it (a
/// router that comes back without it gets it again), `watch status` shows it, and what watch
/// never blocks is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_by_hand_is_listed_kept_and_shown() {
    let mut r = start("");
    let config = r.config.clone();
    let run = |args: &[&str]| {
        tikguard()
            .env("STATE_DIRECTORY", config.parent().unwrap())
            .arg("watch")
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let out = run(&[
        "block",
        "203.0.113.77",
        "--for",
        "1h",
        "--reason",
        "seen by the IDS",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let comments = listed_with(&r.ssl, &r.ca, "comment").await;
    assert_eq!(comments.len(), 1);
    assert_eq!(
        comments[0],
        (
            "203.0.113.77".to_string(),
            "tikguard-watch@t: seen by the IDS".to_string()
        )
    );
    let out = run(&["block", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    // The running watch took it up: the router loses it in a restart and gets it back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.stop_emu();
    r.restart_emu();
    assert_eq!(until_listed(&r, &["203.0.113.77"]).await, ["203.0.113.77"]);
    let out = run(&["status", "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["address"], "203.0.113.77");
    assert_eq!(v["router"], "emu");
    let left = v["left_s"].as_u64().unwrap();
    assert!((3500..=3600).contains(&left), "{v}");
}

/// TCP syslog from a router: at most a few connections per source (more are closed at once),
/// and a line begun must end within the partial-line limit however slowly bytes trickle in, so
/// clients sending a byte now and then cannot hold the slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_syslog_is_capped_per_source_and_a_trickle_is_closed() {
    use std::io::{Read, Write};
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let tcp = r.tcp.clone().unwrap();
    let closed = |c: &mut std::net::TcpStream| {
        c.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut b = [0u8; 1];
        match c.read(&mut b) {
            Ok(0) => true,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => true,
            _ => false,
        }
    };
    let mut held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(&tcp).unwrap())
        .collect();
    let mut fifth = std::net::TcpStream::connect(&tcp).unwrap();
    assert!(
        closed(&mut fifth),
        "a fifth connection from one router is closed"
    );
    for c in &mut held {
        assert!(!closed(c), "the first four stay");
    }
    // One of them trickles a line a byte every second: closed within the limit (10 s).
    let started = std::time::Instant::now();
    let c = &mut held[0];
    let line =
        b"<26>system,error,critical login failure for user admin from 198.51.100.140 via ssh";
    let mut gone = false;
    for b in line.iter() {
        if c.write_all(&[*b]).is_err() || closed(c) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    assert!(gone, "a trickling client is closed");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(15),
        "closed after {took:?}"
    );
    // A router's whole lines still go through.
    let mut c = std::net::TcpStream::connect(&tcp).unwrap();
    let lines = failures_from("198.51.100.141", 3).join("\n") + "\n";
    c.write_all(lines.as_bytes()).unwrap();
    assert_eq!(
        until_listed(&r, &["198.51.100.141"]).await,
        ["198.51.100.141"]
    );
}

/// Two routers see the same attacker: each counts and blocks him on its own (a block on the
/// first does not stop the count on the second), and the second block joins the first, so a
/// reconcile of the first router (after it restarted without its list) puts his entry back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_routers_each_block_and_neither_loses_its_entry() {
    let mut r = start("");
    // A second router, followed over the API (its syslog would come from 127.0.0.1 too).
    let (api2, ssl2) = (free_port(), free_port());
    let dir = r.dir.path();
    let emu2 = spawn_emu(
        &[
            "emu".into(),
            "examples/isp-core-v7.rsc".into(),
            "--api".into(),
            format!("127.0.0.1:{api2}").into(),
            "--api-ssl".into(),
            format!("127.0.0.1:{ssl2}").into(),
            "--tls-cert".into(),
            r.ca.clone().into(),
            "--tls-key".into(),
            dir.join("key.pem").into(),
            "--password-file".into(),
            format!("admin={}", dir.join("admin.pass").display()).into(),
            "--clients-as".into(),
            CLIENT.into(),
        ],
        api2,
        ssl2,
    );
    let text = std::fs::read_to_string(&r.config).unwrap()
        + &format!(
            "[[router]]\nname = \"emu2\"\naddress = \"127.0.0.1:{ssl2}\"\nsource = \"127.0.0.9\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\nfollow = true\n",
            r.ca.display(),
            dir.join("admin.pass").display()
        );
    let cfg = dir.join("two.toml");
    std::fs::write(&cfg, text).unwrap();
    // The harness's watch goes; this one watches both (the first router's syslog still comes
    // to the old port: its failures are sent here by hand, as it logs them).
    r.kill_watch();
    let (w, udp, _, _) = spawn_watch_with(&cfg, &[]);
    r.watch = w;
    send_syslog(&udp, &failures_from(CLIENT, 3));
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    // The second router sees him too: blocked there as well (the follow stream shows only
    // what is logged after it starts: fail until a block appears).
    let ssl2_addr = format!("127.0.0.1:{ssl2}");
    let api2_addr = format!("127.0.0.1:{api2}");
    let mut on2 = Vec::new();
    for _ in 0..10 {
        fail_logins(&api2_addr, 3).await;
        for _ in 0..10 {
            on2 = listed(&ssl2_addr, &r.ca).await;
            if !on2.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !on2.is_empty() {
            break;
        }
    }
    assert_eq!(on2.len(), 1, "blocked on the second router too");
    // The first router restarts without its list: reconciled, his entry comes back.
    r.stop_emu();
    r.restart_emu();
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    drop(emu2);
}

/// A second watch started with the same configuration (same instance name, same state file:
/// a unit started twice, a test run beside production) would compact the state file under the
/// first and reconcile the same entries as its own. It refuses to start, naming the state file
/// the first one holds, and the first one's blocks stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_watch_on_the_same_state_file_refuses_to_start() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.97", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.97"]).await,
        ["198.51.100.97"]
    );
    let mut second = common::tikguard()
        .args(["watch", "run", "--config"])
        .arg(&r.config)
        .env("STATE_DIRECTORY", r.config.parent().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..150 {
        if let Some(s) = second.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
        panic!("a second watch on the same state file kept running");
    }
    assert!(!status.unwrap().success());
    let mut err = String::new();
    use std::io::Read;
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("state.jsonl") && err.contains("another watch"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        until_listed(&r, &["198.51.100.97"]).await,
        ["198.51.100.97"]
    );
}

/// Expiry end to end: a block of 3 s is listed with its timeout, the router (the emulator,
/// counting `timeout=` down as RouterOS does) drops it when the time is up, watch does not put
/// it back, and the same source failing again is blocked again as a second offence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_ends_on_the_router_when_its_timeout_runs_out() {
    let mut r = start("");
    r.kill_watch();
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("block = \"1d\"", "block = \"3s\"");
    std::fs::write(&r.config, text).unwrap();
    let (w, udp, _, _) = spawn_watch_with(&r.config, &[]);
    r.watch = w;
    let who = "198.51.100.61";
    send_syslog(&udp, &failures_from(who, 3));
    assert_eq!(until_listed(&r, &[who]).await, [who]);
    let t = listed_with(&r.ssl, &r.ca, "timeout").await;
    assert!(
        t.len() == 1 && ["1s", "2s", "3s"].contains(&t[0].1.as_str()),
        "{t:?}"
    );
    let d = listed_with(&r.ssl, &r.ca, "dynamic").await;
    assert_eq!(d[0].1, "true");
    let mut gone = false;
    for _ in 0..100 {
        if listed(&r.ssl, &r.ca).await.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "still listed: {:?}", listed(&r.ssl, &r.ca).await);
    // watch does not put an ended block back.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    // Failing again: blocked again, a second offence.
    send_syslog(&udp, &failures_from(who, 3));
    assert_eq!(until_listed(&r, &[who]).await, [who]);
    let state = r.dir.path().join("state.jsonl");
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("\"offence\":2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains("\"offence\":2"), "{text}");
}

/// `confirm = true` abused: lines forged with the router's source name 600 addresses that
/// never failed, each one a block to confirm. watch must neither log in to the router once per
/// address (600 logins, one after another) nor let the forged questions crowd out the real
/// attacker's: one login and one `/log/print` answer every question waiting, and the real
/// client failing during the flood is blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_flood_costs_few_logins_and_does_not_hide_a_real_attacker() {
    let mut r = start_setup(Setup {
        router: "confirm = true\n",
        ..Setup::default()
    });
    let mut forged = Vec::new();
    for i in 0..600u32 {
        forged.extend(failures_from(
            &format!("10.{}.{}.7", 20 + i / 250, i % 250 + 1),
            3,
        ));
    }
    send_syslog(&r.udp, &forged);
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(listed(&r.ssl, &r.ca).await.len(), 1);
    // The router's own log counts watch's logins.
    let c = admin(&r.ssl, &r.ca).await;
    let log = c.call(&["/log/print"]).await.unwrap();
    let logins = log
        .iter()
        .filter(|i| {
            i.get("message")
                .is_some_and(|m| String::from_utf8_lossy(m).starts_with("user admin logged in"))
        })
        .count();
    assert!(logins < 40, "{logins} logins for one flood");
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " not confirmed"), 600, "{last}");
}

/// Standard output that nobody reads (a pipe to a stuck consumer, a stalled journal) must not
/// stall watch: 700 blocks' alert lines (over 64 KiB, a pipe's buffer) are written while the
/// test never reads watch's standard output, and a real client failing afterwards is still
/// blocked. Lines past the queue's 4,096 would be dropped and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_standard_output_does_not_stall_watch() {
    let mut r = start("");
    let mut lines = Vec::new();
    for i in 0..700u32 {
        lines.extend(failures_from(
            &format!("10.{}.{}.9", 40 + i / 250, i % 250 + 1),
            3,
        ));
    }
    send_syslog(&r.udp, &lines);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    fail_logins(&r.api, 3).await;
    let mut found = false;
    for _ in 0..100 {
        if listed(&r.ssl, &r.ca).await.iter().any(|(a, _)| a == CLIENT) {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the real client was not blocked");
    // SIGTERM is still heard (the loop is not stuck in a write), and the queue held the lines
    // the pipe could not: none was dropped.
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(
        stopping_count(&last, " alert lines not written to standard output"),
        0,
        "{last}"
    );
}
