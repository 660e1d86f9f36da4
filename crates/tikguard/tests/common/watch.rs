//! The harness of watch's end-to-end tests (`watch_e2e`, `watch_input`, `watch_outputs`): an
//! emulated router sending its log to a running `tikguard watch`, both as processes on
//! loopback, and what a test needs to drive and read them.
#![allow(dead_code)]

use crate::common::{free_port, self_signed_pem, tikguard, wait_listening, Proc};
use routeros_api::Client;
use routeros_api::Options;
use routeros_api::Security;
use routeros_api::Verify;
use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

pub struct Run {
    pub dir: tempfile::TempDir,
    pub emu: Proc,
    pub emu_args: Vec<std::ffi::OsString>,
    pub api_port: u16,
    pub ssl_port: u16,
    pub watch: Proc,
    pub config: std::path::PathBuf,
    pub udp: String,
    pub tcp: Option<String>,
    pub said: Said,
    pub api: String,
    pub ssl: String,
    pub ca: std::path::PathBuf,
}

pub fn spawn_watch(cfg: &Path) -> Proc {
    spawn_watch_with(cfg, &[]).0
}

/// watch, its syslog UDP address, its TCP one when configured, and what it says.
pub fn spawn_watch_with(cfg: &Path, args: &[&str]) -> (Proc, String, Option<String>, Said) {
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
pub type Said = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Stops watch with SIGTERM; the line it prints when stopping.
pub fn stop_watch(w: &mut Proc, said: &Said) -> String {
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
pub const CLIENT: &str = "198.51.100.77";

/// What a test changes in the setup.
#[derive(Default)]
pub struct Setup<'a> {
    /// The `allow` list, as TOML array items.
    pub allow: &'a str,
    /// More lines for [watch].
    pub watch: &'a str,
    /// More lines for the router.
    pub router: &'a str,
    /// More tables after the router ([crowdsec]).
    pub tail: &'a str,
    /// The emulator does not send its log by syslog (watch follows it over the API instead).
    pub no_syslog: bool,
    /// Arguments for `watch run`.
    pub args: &'a [&'a str],
}

pub fn start(allow: &str) -> Run {
    start_setup(Setup {
        allow,
        ..Setup::default()
    })
}

pub fn start_with(allow: &str, extra: &str) -> Run {
    start_setup(Setup {
        allow,
        watch: extra,
        ..Setup::default()
    })
}

pub fn start_setup(s: Setup) -> Run {
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

pub fn spawn_emu(args: &[std::ffi::OsString], api_port: u16, ssl_port: u16) -> Proc {
    let emu = tikguard().args(args).stdout(Stdio::null()).spawn().unwrap();
    wait_listening(api_port);
    wait_listening(ssl_port);
    Proc(emu)
}

impl Run {
    /// The router goes away (its address list with it).
    pub fn stop_emu(&mut self) {
        let _ = self.emu.0.kill();
        let _ = self.emu.0.wait();
    }

    /// The harness's watch goes (killed), so that another can take its state file.
    pub fn kill_watch(&mut self) {
        drop(std::mem::replace(
            &mut self.watch,
            Proc(std::process::Command::new("true").spawn().unwrap()),
        ));
    }

    /// The router comes back on the same addresses, from its export: every dynamic entry lost.
    pub fn restart_emu(&mut self) {
        self.emu = spawn_emu(&self.emu_args, self.api_port, self.ssl_port);
    }
}

/// A second emulated router beside the harness's (same certificate and password, its own
/// ports, sending no syslog), and its `[[router]]` table for watch: source `source`, followed
/// over the API when `follow`. Returns (process, api address, api-ssl address, table).
pub fn second_emu(
    r: &Run,
    name: &str,
    source: &str,
    follow: bool,
) -> (Proc, String, String, String) {
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
    let table = format!(
        "[[router]]\nname = \"{name}\"\naddress = \"127.0.0.1:{ssl2}\"\nsource = \"{source}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\nfollow = {follow}\n",
        r.ca.display(),
        dir.join("admin.pass").display()
    );
    (
        emu2,
        format!("127.0.0.1:{api2}"),
        format!("127.0.0.1:{ssl2}"),
        table,
    )
}

/// Runs `tikguard watch ARGS --config CONFIG` (the state beside it); (success, stdout, stderr).
pub fn watch_cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tikguard()
        .env("STATE_DIRECTORY", config.parent().unwrap())
        .arg("watch")
        .args(&args[..1])
        .arg("--config")
        .arg(config)
        .args(&args[1..])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The addresses on watch's list of the router at `ssl`, sorted.
pub async fn addresses_on(ssl: &str, ca: &Path) -> Vec<String> {
    let mut got: Vec<String> = listed(ssl, ca).await.into_iter().map(|(a, _)| a).collect();
    got.sort();
    got
}

/// Waits (10 s at most) until the router at `ssl` lists exactly `want`; what it lists.
pub async fn until_on(ssl: &str, ca: &Path, want: &[&str]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = addresses_on(ssl, ca).await;
        if got == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

/// Fails `n` logins on the plaintext API, with librouteros when available.
pub async fn fail_logins(api: &str, n: usize) {
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
pub async fn listed(ssl: &str, ca: &Path) -> Vec<(String, String)> {
    listed_with(ssl, ca, "timeout").await
}

/// (address, `field`) of every entry on watch's list, as the router prints them.
pub async fn listed_with(ssl: &str, ca: &Path, field: &str) -> Vec<(String, String)> {
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

pub async fn admin(ssl: &str, ca: &Path) -> Client {
    let c = Client::connect(&Options::new(
        ssl.to_string(),
        Security::Tls(Verify::Ca(routeros_api::tls::load_ca(ca).unwrap())),
    ))
    .await
    .unwrap();
    c.login("admin", "s3cret").await.unwrap();
    c
}

pub async fn until_listed(r: &Run, want: &[&str]) -> Vec<String> {
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

/// Sends syslog lines to watch from 127.0.0.1, the emulator's address: as if it logged them.
pub fn send_syslog(udp: &str, lines: &[String]) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for l in lines {
        sock.send_to(l.as_bytes(), udp).unwrap();
    }
}

pub fn failures_from(source: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            format!("system,error,critical login failure for user admin from {source} via api")
        })
        .collect()
}

/// A webhook receiver on loopback that answers each request with the next status of
/// `statuses` (then 200), and hands over the bodies it got; over TLS with `tls`.
pub fn webhook_receiver(
    statuses: Vec<u16>,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/hooks/T0/SECRET", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    pub fn answer(c: &mut dyn ReadWrite, status: u16) -> Option<String> {
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

/// A CrowdSec Local API from Debian's `crowdsec` package, on loopback with its own
/// configuration, database and credentials in a temporary directory, the Central API off
/// (nothing is fetched from outside). `CROWDSEC_BIN_DIR` says where `crowdsec` and `cscli`
/// are (CI extracts the package there); else /usr/bin.
pub struct Lapi {
    pub dir: tempfile::TempDir,
    pub _proc: Proc,
    pub bin: std::path::PathBuf,
    pub url: String,
    /// The bouncer key file and the machine's credentials file (written by cscli), for watch.
    pub key_file: std::path::PathBuf,
    pub credentials_file: std::path::PathBuf,
}

impl Lapi {
    /// `None` where CrowdSec is not installed (never in CI).
    pub fn start() -> Option<Lapi> {
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
    pub fn cscli(&self, args: &[&str], file: Option<&Path>) -> String {
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

    pub fn toml(&self, with_machine: bool) -> String {
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
pub fn with_crowdsec(machine: bool) -> Option<(Lapi, Run)> {
    let lapi = Lapi::start()?;
    let tail = lapi.toml(machine);
    let r = start_setup(Setup {
        tail: &tail,
        ..Setup::default()
    });
    Some((lapi, r))
}

/// (address, comment) of every entry on watch's list, sorted.
pub async fn listed_comments(r: &Run) -> Vec<(String, String)> {
    let mut out = listed_with(&r.ssl, &r.ca, "comment").await;
    out.sort();
    out
}

/// Sends each line as one datagram from `from` (an address of this host, such as 127.0.0.2).
pub fn send_syslog_from(from: &str, udp: &str, lines: &[String]) {
    let sock = std::net::UdpSocket::bind(format!("{from}:0")).unwrap();
    for l in lines {
        sock.send_to(l.as_bytes(), udp).unwrap();
    }
}

/// The count after `label` in watch's stopping line (`... 12 from unknown senders ...`).
pub fn stopping_count(line: &str, label: &str) -> u64 {
    line.split(label)
        .next()
        .and_then(|t| t.trim_end().rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in: {line}"))
}
