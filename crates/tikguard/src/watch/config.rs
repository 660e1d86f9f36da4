//! `watch.toml`: where log lines come from, the thresholds (like fail2ban's jails), the
//! allowlist, and the routers to block on. Errors name file, line and column.

use serde::Deserialize;
use toml::Spanned;

use super::detect::Rules;
use crate::proxy::config::{ConfigError, Secret, Verify};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    watch: RawWatch,
    crowdsec: Option<Spanned<RawCrowdsec>>,
    #[serde(default)]
    router: Vec<Spanned<RawRouter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCrowdsec {
    /// The Local API, `http://127.0.0.1:8080` in CrowdSec's default setup.
    lapi: Spanned<String>,
    /// A PEM CA to verify an HTTPS Local API with (default: the system's roots).
    ca: Option<String>,
    /// The bouncer key (`cscli bouncers add NAME`): enforce CrowdSec's decisions.
    key_file: Option<String>,
    /// The machine, as `cscli machines add NAME --auto -f FILE` writes it (`login:` and
    /// `password:` lines): push watch's detections.
    credentials_file: Option<String>,
    /// Or the machine's name and a file holding only its password.
    machine_id: Option<String>,
    password_file: Option<String>,
    /// How often the decision stream is polled.
    poll: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWatch {
    syslog_udp: Option<Spanned<String>>,
    syslog_tcp: Option<Spanned<String>>,
    /// Prometheus metrics on `ADDRESS:PORT` (`GET /metrics`).
    metrics: Option<Spanned<String>>,
    #[serde(default = "default_list")]
    list: String,
    failures: Option<u32>,
    window: Option<Spanned<String>>,
    block: Option<Spanned<String>>,
    max_block: Option<Spanned<String>>,
    enumeration: Option<usize>,
    spray: Option<usize>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    /// Block on every router of the inventory, not only the one that saw it.
    #[serde(default)]
    block_everywhere: bool,
    /// The state file (JSON lines) that keeps blocks across restarts ([`default_state`] when
    /// not given; `""` for none).
    state: Option<String>,
    /// This watcher's name in its entries' comments (`tikguard-watch@NAME:`); default: the host
    /// name.
    instance: Option<Spanned<String>>,
    /// Every alert is also appended to this file (JSON lines).
    alerts_file: Option<String>,
    /// Every alert is also POSTed here (JSON), retried.
    webhook: Option<Spanned<String>>,
    /// A PEM CA for an HTTPS webhook (default: the system's roots).
    webhook_ca: Option<String>,
    /// CrowdSec ranges wider than this IPv4 prefix length are refused (default 24).
    max_range: Option<Spanned<u8>>,
    /// The same for IPv6 (default 48).
    max_range_v6: Option<Spanned<u8>>,
    /// watch's own blocks on one router at most (default 10,000): past it new blocks are
    /// refused and alerted.
    max_entries: Option<usize>,
}

fn default_list() -> String {
    "tikguard-watch".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRouter {
    name: String,
    /// The router's api-ssl, `HOST:PORT`.
    address: Spanned<String>,
    /// The address its syslog datagrams come from (default: the host of `address`).
    source: Option<Spanned<String>>,
    ca: Option<String>,
    pin: Option<String>,
    known_routers: Option<String>,
    user: String,
    password_file: Option<String>,
    password_env: Option<String>,
    /// Stream its log over the API (`/log/print follow-only`) instead of, or besides, syslog.
    #[serde(default)]
    follow: bool,
    /// Before blocking on a syslog line, ask the router (`/log/print`) whether it logged it.
    #[serde(default)]
    confirm: bool,
}

/// Where a CrowdSec machine's login comes from.
#[derive(Clone, Debug)]
pub enum Machine {
    /// cscli's credentials file (`url:`, `login:`, `password:` lines).
    Credentials(String),
    /// A name, and a file holding the password.
    Password { id: String, file: String },
}

impl Machine {
    /// (login, password), read now; errors name the file and never show the password.
    pub fn read(&self) -> Result<(String, String), String> {
        match self {
            Machine::Password { id, file } => {
                Ok((id.clone(), crate::watch::run::read_secret(file)?))
            }
            Machine::Credentials(file) => {
                let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
                let field = |key: &str| {
                    text.lines()
                        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
                        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                        .filter(|v| !v.is_empty())
                };
                match (field("login"), field("password")) {
                    (Some(l), Some(p)) => Ok((l, p)),
                    _ => Err(format!(
                        "{file}: expected `login:` and `password:` lines, as `cscli machines add NAME --auto -f FILE` writes"
                    )),
                }
            }
        }
    }
}

/// CrowdSec's Local API, as a bouncer (`key_file`) and/or a machine (`machine`).
#[derive(Clone, Debug)]
pub struct CrowdsecConfig {
    pub lapi: String,
    pub ca: Option<String>,
    pub key_file: Option<String>,
    pub machine: Option<Machine>,
    pub poll_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchRouter {
    pub name: String,
    pub address: String,
    pub source: std::net::IpAddr,
    pub verify: Verify,
    pub user: String,
    pub password: Secret,
    pub follow: bool,
    pub confirm: bool,
}

#[derive(Clone, Debug)]
pub struct WatchConfig {
    pub syslog_udp: Option<String>,
    pub syslog_tcp: Option<String>,
    pub metrics: Option<String>,
    pub list: String,
    pub rules: Rules,
    pub block_everywhere: bool,
    pub state: Option<String>,
    pub routers: Vec<WatchRouter>,
    pub alerts_file: Option<String>,
    pub webhook: Option<String>,
    pub webhook_ca: Option<String>,
    pub crowdsec: Option<CrowdsecConfig>,
    pub max_range_v4: u8,
    pub max_range_v6: u8,
    pub max_entries: usize,
    /// This watcher's name in its entries' comments.
    pub instance: String,
}

/// Where blocks are kept when `state` is not given: systemd's `$STATE_DIRECTORY`
/// (`StateDirectory=tikguard-watch`: `/var/lib/tikguard-watch`), else `$XDG_STATE_HOME` or
/// `~/.local/state`, under `tikguard-watch/`; else the working directory.
pub fn default_state() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(d) = env("STATE_DIRECTORY") {
        // systemd may list several, separated by colons.
        let first = d.split(':').next().unwrap_or(&d).to_string();
        return format!("{first}/state.jsonl");
    }
    let base = env("XDG_STATE_HOME").or_else(|| env("HOME").map(|h| format!("{h}/.local/state")));
    match base {
        Some(b) => format!("{b}/tikguard-watch/state.jsonl"),
        None => "tikguard-watch-state.jsonl".into(),
    }
}

/// The host's name (`/etc/hostname`), or `default`.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| valid_instance(h))
        .unwrap_or_else(|| "default".into())
}

fn valid_instance(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// watch's own blocks on one router at most, by default.
pub const MAX_ENTRIES: usize = 10_000;

fn http_url(file: &str, text: &str, v: &Spanned<String>) -> Result<String, ConfigError> {
    let u = v.get_ref();
    let ok = (u.starts_with("http://") || u.starts_with("https://"))
        && u.parse::<hyper::Uri>().is_ok_and(|p| p.host().is_some());
    if ok {
        Ok(u.clone())
    } else {
        Err(err(
            file,
            text,
            v.span().start,
            format!(
                "`{}`: expected an http:// or https:// URL",
                crate::watch::http::shown(u)
            ),
        ))
    }
}

fn err(file: &str, text: &str, at: usize, message: impl Into<String>) -> ConfigError {
    let (line, column) = crate::proxy::config::line_col(text, at);
    ConfigError {
        file: file.to_string(),
        line,
        column,
        message: message.into(),
    }
}

fn duration(
    file: &str,
    text: &str,
    v: &Option<Spanned<String>>,
    default_ms: u64,
) -> Result<u64, ConfigError> {
    match v {
        None => Ok(default_ms),
        Some(s) => humantime::parse_duration(s.get_ref())
            .map(|d| d.as_millis() as u64)
            .map_err(|e| {
                err(
                    file,
                    text,
                    s.span().start,
                    format!("`{}`: {e} (e.g. 1m, 1d, 30d)", s.get_ref()),
                )
            }),
    }
}

pub fn parse(file: &str, text: &str) -> Result<WatchConfig, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        err(
            file,
            text,
            e.span().map_or(0, |s| s.start),
            e.message().trim_end(),
        )
    })?;
    let w = raw.watch;
    let defaults = Rules::default();
    let mut allow = Vec::new();
    for a in &w.allow {
        let parsed = routeros_config::value::parse_addr(a.get_ref().as_bytes())
            .filter(|p| !p.negated)
            .ok_or_else(|| {
                err(
                    file,
                    text,
                    a.span().start,
                    format!("`{}` is not an address or prefix", a.get_ref()),
                )
            })?;
        allow.push((parsed.range.v6, parsed.range.start, parsed.range.end));
    }
    let rules = Rules {
        failures: w.failures.unwrap_or(defaults.failures).max(1),
        window_ms: duration(file, text, &w.window, defaults.window_ms)?,
        block_ms: duration(file, text, &w.block, defaults.block_ms)?,
        max_block_ms: duration(file, text, &w.max_block, defaults.max_block_ms)?,
        enumeration: w.enumeration.unwrap_or(defaults.enumeration),
        spray: w.spray.unwrap_or(defaults.spray),
        allow,
        ..defaults
    };
    for a in [&w.syslog_udp, &w.syslog_tcp, &w.metrics]
        .into_iter()
        .flatten()
    {
        if a.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                file,
                text,
                a.span().start,
                format!("`{}`: expected ADDRESS:PORT", a.get_ref()),
            ));
        }
    }
    let mut routers = Vec::new();
    for r in &raw.router {
        let at = r.span().start;
        let r = r.get_ref();
        let verify = match (&r.ca, &r.pin, &r.known_routers) {
            (Some(c), None, None) => Verify::Ca(c.clone()),
            (None, Some(p), None) => Verify::Pin(p.clone()),
            (None, None, Some(k)) => Verify::KnownRouters(k.clone()),
            _ => {
                return Err(err(
                    file,
                    text,
                    at,
                    format!(
                        "router `{}`: exactly one of `ca`, `pin` or `known-routers`",
                        r.name
                    ),
                ))
            }
        };
        let password = match (&r.password_file, &r.password_env) {
            (Some(f), None) => Secret::File(f.clone()),
            (None, Some(e)) => Secret::Env(e.clone()),
            _ => {
                return Err(err(
                    file,
                    text,
                    at,
                    format!(
                        "router `{}`: exactly one of `password-file` or `password-env`",
                        r.name
                    ),
                ))
            }
        };
        let host = r
            .address
            .get_ref()
            .rsplit_once(':')
            .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or(r.address.get_ref());
        let source_text = r
            .source
            .as_ref()
            .map(|s| s.get_ref().as_str())
            .unwrap_or(host);
        let source = source_text.parse().map_err(|_| {
            err(
                file,
                text,
                r.source.as_ref().map_or(r.address.span().start, |s| s.span().start),
                format!("router `{}`: `{source_text}` is not an IP address; give `source = \"ADDRESS\"` (where its syslog comes from)", r.name),
            )
        })?;
        routers.push(WatchRouter {
            name: r.name.clone(),
            address: r.address.get_ref().clone(),
            source,
            verify,
            user: r.user.clone(),
            password,
            follow: r.follow,
            confirm: r.confirm,
        });
    }
    let mut names = std::collections::HashSet::new();
    for r in &raw.router {
        if !names.insert(&r.get_ref().name) {
            return Err(err(
                file,
                text,
                r.span().start,
                format!("router `{}` is named twice", r.get_ref().name),
            ));
        }
    }
    // Lines are told apart by their sender: two routers with one source would be one router.
    for (i, r) in routers.iter().enumerate() {
        if let Some(other) = routers[..i].iter().find(|o| o.source == r.source) {
            return Err(err(
                file,
                text,
                raw.router[i].span().start,
                format!(
                    "routers `{}` and `{}` have the same source {}: give each its own `source` (where its syslog comes from)",
                    other.name, r.name, r.source
                ),
            ));
        }
    }
    let webhook = w
        .webhook
        .as_ref()
        .map(|u| http_url(file, text, u))
        .transpose()?;
    let crowdsec = match &raw.crowdsec {
        None => None,
        Some(c) => {
            let at = c.span().start;
            let c = c.get_ref();
            let machine = match (&c.credentials_file, &c.machine_id, &c.password_file) {
                (Some(f), None, None) => Some(Machine::Credentials(f.clone())),
                (None, Some(id), Some(pw)) => Some(Machine::Password {
                    id: id.clone(),
                    file: pw.clone(),
                }),
                (None, None, None) => None,
                _ => {
                    return Err(err(
                        file,
                        text,
                        at,
                        "[crowdsec]: give either `credentials-file` (what `cscli machines add NAME --auto -f FILE` writes) or `machine-id` with `password-file`",
                    ))
                }
            };
            if c.key_file.is_none() && machine.is_none() {
                return Err(err(
                    file,
                    text,
                    at,
                    "[crowdsec]: give `key-file` (a bouncer key, to enforce decisions) and/or `credentials-file` (a machine, to push detections)",
                ));
            }
            let poll_ms = duration(file, text, &c.poll, 10_000)?;
            if poll_ms < 1_000 {
                return Err(err(
                    file,
                    text,
                    c.poll.as_ref().map_or(at, |p| p.span().start),
                    "[crowdsec]: `poll` below 1s would load the Local API for nothing",
                ));
            }
            Some(CrowdsecConfig {
                lapi: http_url(file, text, &c.lapi)?,
                ca: c.ca.clone(),
                key_file: c.key_file.clone(),
                machine,
                poll_ms,
            })
        }
    };
    let prefix = |v: &Option<Spanned<u8>>, default: u8, bits: u8| match v {
        None => Ok(default),
        Some(p) if *p.get_ref() <= bits => Ok(*p.get_ref()),
        Some(p) => Err(err(
            file,
            text,
            p.span().start,
            format!("a prefix length of at most {bits}"),
        )),
    };
    let instance = match &w.instance {
        None => host_name(),
        Some(i) if valid_instance(i.get_ref()) => i.get_ref().clone(),
        Some(i) => {
            return Err(err(
                file,
                text,
                i.span().start,
                "`instance`: 1 to 32 letters, digits, `-`, `_` or `.`",
            ))
        }
    };
    let max_range_v4 = prefix(&w.max_range, 24, 32)?;
    let max_range_v6 = prefix(&w.max_range_v6, 48, 128)?;
    Ok(WatchConfig {
        max_range_v4,
        max_range_v6,
        max_entries: w.max_entries.unwrap_or(MAX_ENTRIES),
        instance,
        syslog_udp: w.syslog_udp.map(|s| s.into_inner()),
        syslog_tcp: w.syslog_tcp.map(|s| s.into_inner()),
        metrics: w.metrics.map(|s| s.into_inner()),
        list: w.list,
        rules,
        block_everywhere: w.block_everywhere,
        state: match w.state {
            None => Some(default_state()),
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
        },
        routers,
        alerts_file: w.alerts_file,
        webhook,
        webhook_ca: w.webhook_ca,
        crowdsec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_example_reads_as_written() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/watch.toml");
        let c = parse(path, &std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(c.rules.failures, 5);
        assert_eq!(c.rules.block_ms, 86_400_000);
        assert_eq!(c.rules.allow.len(), 3);
        assert_eq!(c.routers.len(), 2);
        assert_eq!(c.routers[0].source.to_string(), "10.255.0.1");
        assert!(!c.routers[0].follow && c.routers[1].follow);
        assert!(c.routers[0].confirm && !c.routers[1].confirm);
        assert_eq!(
            (c.max_entries, c.max_range_v4, c.max_range_v6),
            (10_000, 24, 48)
        );
        assert_eq!(
            c.state.as_deref(),
            Some("/var/lib/tikguard-watch/state.jsonl")
        );
        let cs = c.crowdsec.unwrap();
        assert_eq!(cs.lapi, "http://127.0.0.1:8080");
        assert!(
            matches!(cs.machine, Some(Machine::Credentials(ref f)) if f.ends_with("crowdsec-machine.yaml"))
        );
        assert_eq!(cs.poll_ms, 10_000);
    }

    fn error(text: &str) -> String {
        parse("w.toml", text).unwrap_err().to_string()
    }

    const ROUTER: &str = "[[router]]\nname = \"r\"\naddress = \"10.0.0.1:8729\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"P\"\n";

    #[test]
    fn mistakes_are_named_with_line_and_column() {
        let e = error("[watch]\nwindow = \"1 fortnight\"\n");
        assert!(e.starts_with("w.toml:2:10: `1 fortnight`"), "{e}");
        let e = error("[watch]\nfailurs = 5\n");
        assert!(
            e.starts_with("w.toml:2:1:") && e.contains("unknown field `failurs`"),
            "{e}"
        );
        let e = error("[watch]\nwebhook = \"ftp://x/y\"\n");
        assert!(
            e.starts_with("w.toml:2:11:") && e.contains("http:// or https://"),
            "{e}"
        );
        let e = error(&format!(
            "[watch]\n{ROUTER}{}",
            ROUTER.replace("name = \"r\"", "name = \"r2\"")
        ));
        assert!(e.contains("the same source 10.0.0.1"), "{e}");
        let e = error(&format!("[watch]\n{ROUTER}{ROUTER}"));
        assert!(
            e.starts_with("w.toml:8:1:") && e.contains("named twice"),
            "{e}"
        );
        let e = error("[watch]\n[crowdsec]\nlapi = \"http://127.0.0.1:8080\"\n");
        assert!(
            e.starts_with("w.toml:2:1:") && e.contains("key-file"),
            "{e}"
        );
        let e =
            error("[watch]\n[crowdsec]\nlapi = \"http://127.0.0.1:8080\"\nmachine-id = \"m\"\n");
        assert!(e.contains("either `credentials-file`"), "{e}");
        let e = error(
            "[watch]\n[crowdsec]\nlapi = \"http://h:8080\"\nkey-file = \"k\"\npoll = \"100ms\"\n",
        );
        assert!(
            e.starts_with("w.toml:5:8:") && e.contains("below 1s"),
            "{e}"
        );
    }

    /// cscli's credentials file, as `cscli machines add NAME --auto -f FILE` wrote it here
    /// (crowdsec 1.4.6): `url:`, `login:` and `password:` lines.
    #[test]
    fn a_cscli_credentials_file_gives_the_machine_login() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.yaml");
        std::fs::write(
            &f,
            "url: http://127.0.0.1:8080\nlogin: tgw\npassword: S3cret-pass-123\n",
        )
        .unwrap();
        let m = Machine::Credentials(f.display().to_string());
        assert_eq!(m.read().unwrap(), ("tgw".into(), "S3cret-pass-123".into()));
        std::fs::write(&f, "url: http://127.0.0.1:8080\nlogin: tgw\n").unwrap();
        let e = m.read().unwrap_err();
        assert!(e.contains("`password:`") && !e.contains("tgw"), "{e}");
    }

    #[test]
    fn a_secret_in_a_webhook_url_stays_out_of_errors() {
        let e = error("[watch]\nwebhook = \"mailto:ops@example.net?token=SECRET\"\n");
        assert!(!e.contains("SECRET"), "{e}");
    }
}
