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
    #[serde(default)]
    router: Vec<Spanned<RawRouter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWatch {
    syslog_udp: Option<Spanned<String>>,
    syslog_tcp: Option<Spanned<String>>,
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
    /// The state file (JSON lines) that keeps blocks across restarts.
    state: Option<String>,
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
}

#[derive(Clone, Debug)]
pub struct WatchRouter {
    pub name: String,
    pub address: String,
    pub source: std::net::IpAddr,
    pub verify: Verify,
    pub user: String,
    pub password: Secret,
}

#[derive(Clone, Debug)]
pub struct WatchConfig {
    pub syslog_udp: Option<String>,
    pub syslog_tcp: Option<String>,
    pub list: String,
    pub rules: Rules,
    pub block_everywhere: bool,
    pub state: Option<String>,
    pub routers: Vec<WatchRouter>,
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
    for a in [&w.syslog_udp, &w.syslog_tcp].into_iter().flatten() {
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
        });
    }
    Ok(WatchConfig {
        syslog_udp: w.syslog_udp.map(|s| s.into_inner()),
        syslog_tcp: w.syslog_tcp.map(|s| s.into_inner()),
        list: w.list,
        rules,
        block_everywhere: w.block_everywhere,
        state: w.state,
        routers,
    })
}
