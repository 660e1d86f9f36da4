//! The proxy tests' setup: `tikguard proxy` as a process in front of `tikguard emu` (api-ssl,
//! verified against its certificate), and what the tests ask of it. Included by each proxy
//! test file with `#[path = "common/proxy.rs"] mod proxy_common;`, after `mod common;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use routeros_api::{Client, Error, Options, Security};

use crate::common::{emu_process, tikguard, EmuProcess, Proc};

pub const CRM_PASSWORD: &str = "crm-pass-7";

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub emu: EmuProcess,
    pub proxy: Proc,
    pub plain: String,
    /// The TLS listener (the emulator's certificate and key), when asked for.
    pub tls: Option<String>,
    /// Every listener's address, in the configuration's order.
    pub listening: Vec<String>,
    /// The Prometheus endpoint.
    pub metrics: String,
    pub config: PathBuf,
    pub log: PathBuf,
}

pub fn config_text(dir: &Path, emu: &EmuProcess, extra: &str) -> String {
    let hash = tikguard::proxy::hash_password(CRM_PASSWORD).unwrap();
    format!(
        r#"[proxy]
audit-log = "{log}"
checkpoint = "{head}"
checkpoint-lines = 20
metrics = "127.0.0.1:0"

[[router]]
name = "core-01"
address = "{ssl}"
ca = "{ca}"
user = "admin"
password-file = "{pw}"
max-sessions = 4

[[listener]]
address = "127.0.0.1:0"
router = "core-01"

[[client]]
name = "billing"
password-hash = "{hash}"
from = ["127.0.0.0/8"]
policy = "billing"
routers = ["core-01"]

[[client]]
name = "elsewhere"
password-hash = "{hash}"
from = ["192.0.2.0/24"]
policy = "monitor"
routers = ["core-01"]

[policy.billing]
extends = "crm-pppoe"

[[policy.billing.rule]]
path = "/ppp/secret"
verbs = ["print", "add", "set", "remove", "enable", "disable"]
owner-prefix = "ucrm_"
args = {{ name = {{}}, password = {{}}, profile = {{}}, service = {{ enum = ["pppoe"] }}, comment = {{}}, disabled = {{}} }}
{extra}"#,
        log = dir.join("audit.jsonl").display(),
        head = dir.join("audit.head").display(),
        ssl = emu.ssl,
        ca = dir.join("cert.pem").display(),
        pw = emu.password_file.display(),
    )
}

pub fn setup(extra: &str) -> Setup {
    setup_with(extra, false)
}

pub fn setup_with(extra: &str, tls: bool) -> Setup {
    setup_edited(extra, tls, |t| t)
}

/// [`setup_with`], the configuration text passed through `edit` first.
pub fn setup_edited(extra: &str, tls: bool, edit: impl Fn(String) -> String) -> Setup {
    setup_as(extra, tls, edit, &["run"])
}

/// [`setup_edited`], the proxy started as `tikguard proxy ARGS... --config FILE`.
pub fn setup_as(extra: &str, tls: bool, edit: impl Fn(String) -> String, args: &[&str]) -> Setup {
    setup_command(extra, tls, edit, |config| {
        let mut c = tikguard();
        c.arg("proxy").args(args).arg("--config").arg(config);
        c
    })
}

/// [`setup_edited`], the proxy started by the command `command` makes for the configuration
/// file (standard output and error are the setup's).
pub fn setup_command(
    extra: &str,
    tls: bool,
    edit: impl Fn(String) -> String,
    command: impl FnOnce(&Path) -> std::process::Command,
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let config = dir.path().join("proxy.toml");
    let mut text = edit(config_text(dir.path(), &emu, extra));
    if tls {
        text.push_str(&format!(
            "\n[[listener]]\naddress = \"127.0.0.1:0\"\nrouter = \"core-01\"\ncert = \"{}\"\nkey = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ));
    }
    std::fs::write(&config, text).unwrap();
    let stderr = std::fs::File::create(dir.path().join("proxy.err")).unwrap();
    let mut child = command(&config)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut listening = Vec::new();
    let mut metrics = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("listening ") {
            listening.push(a.to_string());
        } else if let Some(a) = line.strip_prefix("metrics ") {
            metrics = a.to_string();
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let plain = listening[0].clone();
    let tls = tls.then(|| listening.last().unwrap().clone());
    Setup {
        tls,
        listening,
        metrics,
        log: dir.path().join("audit.jsonl"),
        dir,
        emu,
        proxy: Proc(child),
        plain,
        config,
    }
}

pub async fn crm(addr: &str, user: &str, password: &str) -> Result<Client, Error> {
    let c = Client::connect(&Options::new(addr.to_string(), Security::Plain)).await?;
    c.login(user, password).await?;
    Ok(c)
}

pub fn trap_message(e: &Error) -> String {
    match e {
        Error::Trap { message, .. } => message.clone(),
        other => panic!("expected a trap, got {other:?}"),
    }
}

pub fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn signal(p: &Proc, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

pub async fn stderr_says(dir: &Path, what: &str) -> String {
    for _ in 0..100 {
        let text = std::fs::read_to_string(dir.join("proxy.err")).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "stderr never said {what}: {}",
        std::fs::read_to_string(dir.join("proxy.err")).unwrap_or_default()
    );
}

/// Logs in over an established stream by hand; the first reply's kind and message.
pub async fn login_over<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    user: &str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let words = [
        "/login".to_string(),
        format!("=name={user}"),
        format!("=password={CRM_PASSWORD}"),
    ];
    s.write_all(&routeros_api::encode_sentence(&words))
        .await
        .unwrap();
    let mut dec = routeros_api::Decoder::new(routeros_api::Limits::default());
    let mut buf = [0u8; 4096];
    loop {
        if let Some(sentence) = dec.next_sentence().unwrap() {
            let r = routeros_api::Reply::parse(&sentence).unwrap();
            return match r.kind {
                routeros_api::ReplyKind::Done => "!done".into(),
                _ => format!("!trap {}", r.message().unwrap_or_default()),
            };
        }
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed");
        dec.feed(&buf[..n]);
    }
}
