//! `proxy.toml`: routers, listeners, clients and policies, checked as a whole. Errors name the
//! file, line and column. Built-in policies ([`BUILTIN`]) are defined in the same format.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use regex::Regex;
use routeros_config::value::parse_addr;
use serde::Deserialize;
use toml::Spanned;

use super::policy::{Action, Constraint, Policy, Rule};

/// The built-in policies (`crm-pppoe`, `crm-hotspot`, `crm-queues`, `crm-isp`, `read-only`, `monitor`).
pub const BUILTIN: &str = include_str!("builtin.toml");

/// A configuration error with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column of a byte offset, for errors.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    proxy: Option<RawProxy>,
    #[serde(default)]
    router: Vec<Spanned<RawRouter>>,
    #[serde(default)]
    listener: Vec<Spanned<RawListener>>,
    #[serde(default)]
    client: Vec<Spanned<RawClient>>,
    #[serde(default)]
    policy: BTreeMap<String, Spanned<RawPolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProxy {
    audit_log: Spanned<String>,
    audit_log_mode: Option<Spanned<String>>,
    checkpoint: Option<String>,
    checkpoint_key: Option<Spanned<String>>,
    checkpoint_lines: Option<u64>,
    checkpoint_seconds: Option<u64>,
    metrics: Option<Spanned<String>>,
    memory_budget: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRouter {
    name: Spanned<String>,
    address: Spanned<String>,
    ca: Option<String>,
    pin: Option<Spanned<String>>,
    known_routers: Option<String>,
    user: String,
    password_file: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    max_sessions: Option<usize>,
    command_timeout: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawListener {
    address: Spanned<String>,
    router: Option<Spanned<String>>,
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    client_cert_name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClient {
    name: Spanned<String>,
    password_hash: Spanned<String>,
    #[serde(default)]
    from: Vec<Spanned<String>>,
    policy: Spanned<String>,
    routers: Vec<Spanned<String>>,
    rate: Option<RawRate>,
    upstream_sessions: Option<usize>,
    #[serde(default)]
    require_client_cert: bool,
    legacy_password_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRate {
    per_second: f64,
    burst: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    extends: Option<Spanned<Extends>>,
    redact: Option<Vec<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

/// `extends = "crm-pppoe"` or `extends = ["crm-pppoe", "crm-queues"]`.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Extends {
    One(String),
    Many(Vec<String>),
}

impl Extends {
    fn names(&self) -> Vec<String> {
        match self {
            Extends::One(n) => vec![n.clone()],
            Extends::Many(v) => v.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    action: Option<Spanned<String>>,
    path: Spanned<String>,
    verbs: Option<Vec<String>>,
    args: Option<BTreeMap<String, Spanned<RawConstraint>>>,
    items: Option<BTreeMap<String, Spanned<RawConstraint>>>,
    query: Option<Vec<String>>,
    proplist: Option<Vec<String>>,
    owner_prefix: Option<String>,
    #[serde(default)]
    redact: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConstraint {
    #[serde(rename = "enum")]
    one_of: Option<Vec<String>>,
    regex: Option<String>,
    cidr: Option<Vec<String>>,
    /// With `cidr`: single addresses only, no prefix wider than a host.
    #[serde(default)]
    host: bool,
    range: Option<[i64; 2]>,
}

/// How the proxy verifies a router's certificate (the same choices as `tikguard exec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verify {
    Ca(String),
    Pin(String),
    KnownRouters(String),
}

impl Verify {
    /// The client's transport: API-SSL verified this way (CA, pin, or known routers).
    pub fn security(&self) -> Result<routeros_api::Security, String> {
        use routeros_api::Verify as V;
        Ok(routeros_api::Security::Tls(match self {
            Verify::Ca(p) => V::Ca(routeros_api::tls::load_ca(std::path::Path::new(p))?),
            Verify::Pin(p) => V::Pin(
                routeros_api::Fingerprint::parse(p)
                    .ok_or_else(|| format!("pin `{p}` is not a SHA-256 fingerprint"))?,
            ),
            Verify::KnownRouters(f) => V::TrustOnFirstUse(f.into()),
        }))
    }
}

/// Where a router's password comes from; read when a connection is made, never logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    File(String),
    Env(String),
}

impl Secret {
    pub fn read(&self) -> Result<String, String> {
        match self {
            Secret::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| format!("{p}: {e}")),
            Secret::Env(v) => std::env::var(v).map_err(|_| format!("${v} is not set")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RouterCfg {
    pub name: String,
    /// `host:port` of the router's api-ssl.
    pub address: String,
    pub verify: Verify,
    pub user: String,
    pub password: Secret,
    /// Upstream sessions at most (RouterOS' `max-sessions` defaults to 20).
    pub max_sessions: usize,
    /// A forwarded command with no reply from the router for this long gets a trap, and the
    /// connection is not used again (`command-timeout`, seconds; 20 by default). Commands that
    /// stream for as long as they run (`listen`, `follow`, `follow-only`) have none.
    pub command_timeout: std::time::Duration,
}

#[derive(Clone, Debug)]
pub struct ListenerCfg {
    pub address: String,
    /// The router behind it; `None` routes on the login name (`crm@core-01`).
    pub router: Option<String>,
    pub tls: Option<TlsCfg>,
}

#[derive(Clone, Debug)]
pub struct TlsCfg {
    pub cert: String,
    pub key: String,
    /// Clients must present a certificate from this CA (mutual TLS).
    pub client_ca: Option<String>,
    /// Where a client certificate names its client (`client-cert-name`, `cn` by default): a
    /// connection that presented one logs in as that client only
    /// ([`super::clientcert`]).
    pub cert_name: super::clientcert::CertName,
}

#[derive(Clone, Debug)]
pub struct ClientCfg {
    pub name: String,
    /// Argon2 PHC string (`tikguard proxy hash-password` makes one).
    pub password_hash: String,
    /// Source prefixes it may connect from; empty: nowhere.
    pub from: Vec<(bool, u128, u128)>,
    pub policy: String,
    pub routers: Vec<String>,
    /// Commands per second and burst.
    pub rate: Option<(f64, u32)>,
    /// Upstream sessions of a router the client may hold at once; `None`: the router's
    /// `max-sessions - 1` (at least 1), so that one client never holds them all.
    pub upstream_sessions: Option<usize>,
    pub require_client_cert: bool,
    /// The password in clear, for clients that log in with RouterOS' pre-6.43 MD5 challenge
    /// (which needs it on this side, as RouterOS keeps it). Without it such logins fail.
    pub legacy_password: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub audit_log: String,
    /// The mode of the log's files (`audit-log-mode`, default 0640: the log, its next file
    /// after a rotation, checkpoints, cut lines kept aside).
    pub audit_log_mode: u32,
    /// Where the log's chain head is written (`checkpoint`), every `checkpoint-lines` lines
    /// and `checkpoint-seconds` seconds, and at shutdown.
    pub checkpoint: Option<String>,
    /// The Ed25519 private key checkpoints are signed with (`checkpoint-key`); read at start.
    pub checkpoint_key: Option<String>,
    pub checkpoint_lines: u64,
    pub checkpoint_seconds: u64,
    pub metrics: Option<String>,
    pub memory_budget: usize,
    pub routers: Vec<RouterCfg>,
    pub listeners: Vec<ListenerCfg>,
    pub clients: Vec<ClientCfg>,
    pub policies: HashMap<String, Policy>,
}

impl ProxyConfig {
    pub fn client(&self, name: &str) -> Option<&ClientCfg> {
        self.clients.iter().find(|c| c.name == name)
    }

    pub fn router(&self, name: &str) -> Option<&RouterCfg> {
        self.routers.iter().find(|r| r.name == name)
    }

    pub fn policy_of(&self, client: &ClientCfg) -> &Policy {
        &self.policies[&client.policy]
    }
}

fn parse_raw(src: &Source<'_>) -> Result<RawFile, ConfigError> {
    toml::from_str(src.text)
        .map_err(|e| src.err(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))
}

fn cidrs(
    src: &Source<'_>,
    items: &[Spanned<String>],
) -> Result<Vec<(bool, u128, u128)>, ConfigError> {
    items
        .iter()
        .map(|s| {
            parse_addr(s.get_ref().as_bytes())
                .filter(|a| !a.negated)
                .map(|a| (a.range.v6, a.range.start, a.range.end))
                .ok_or_else(|| {
                    src.err(
                        s.span(),
                        format!("`{}` is not an address or prefix", s.get_ref()),
                    )
                })
        })
        .collect()
}

fn compile_policy(
    src: &Source<'_>,
    name: &str,
    raw: &RawPolicy,
) -> Result<(Vec<Rule>, Option<Vec<String>>), ConfigError> {
    let mut rules = Vec::new();
    for (i, r) in raw.rule.iter().enumerate() {
        let span = r.span();
        let r = r.get_ref();
        let action = match r.action.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("allow") => Action::Allow,
            Some("deny") => Action::Deny,
            Some(other) => {
                return Err(src.err(
                    r.action.as_ref().map(|a| a.span()).unwrap_or(span),
                    format!("action `{other}`: expected `allow` or `deny`"),
                ))
            }
        };
        let path = r.path.get_ref();
        if !path.starts_with('/') {
            return Err(src.err(r.path.span(), format!("path `{path}` must start with `/`")));
        }
        let args = match &r.args {
            Some(raw_args) => Some(constraints(src, raw_args)?),
            None => None,
        };
        let items = match &r.items {
            Some(raw_items) => constraints(src, raw_items)?.into_iter().collect(),
            None => Vec::new(),
        };
        rules.push(Rule {
            name: format!("policy {name} rule {}", i + 1),
            action,
            path: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            verbs: r.verbs.clone(),
            args,
            items,
            query: r.query.clone(),
            proplist: r.proplist.clone(),
            owner_prefix: r.owner_prefix.clone(),
            redact: r.redact.clone(),
            level: 0,
        });
    }
    Ok((rules, raw.redact.clone()))
}

/// Compiles the constraints of `args` or `items`.
fn constraints(
    src: &Source<'_>,
    raw: &BTreeMap<String, Spanned<RawConstraint>>,
) -> Result<BTreeMap<String, Constraint>, ConfigError> {
    let mut m = BTreeMap::new();
    for (k, c) in raw {
        let cs = c.span();
        let c = c.get_ref();
        if c.host && c.cidr.is_none() {
            return Err(src.err(cs, format!("argument `{k}`: `host` goes with `cidr`")));
        }
        let set = [
            c.one_of.is_some(),
            c.regex.is_some(),
            c.cidr.is_some(),
            c.range.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if set > 1 {
            return Err(src.err(
                cs,
                format!("argument `{k}`: one of enum, regex, cidr or range, not several"),
            ));
        }
        let constraint = if let Some(v) = &c.one_of {
            Constraint::Enum(v.clone())
        } else if let Some(re) = &c.regex {
            Constraint::Regex(
                Regex::new(re)
                    .map_err(|e| src.err(cs.clone(), format!("argument `{k}`: bad regex: {e}")))?,
            )
        } else if let Some(list) = &c.cidr {
            let spanned: Vec<Spanned<String>> = list
                .iter()
                .map(|s| Spanned::new(cs.clone(), s.clone()))
                .collect();
            Constraint::Cidr(cidrs(src, &spanned)?, c.host)
        } else if let Some([lo, hi]) = c.range {
            if lo > hi {
                return Err(src.err(cs, format!("argument `{k}`: range {lo} > {hi}")));
            }
            Constraint::Range(lo, hi)
        } else {
            Constraint::Any
        };
        m.insert(k.clone(), constraint);
    }
    Ok(m)
}

/// Policies of one file (with `extends` names, unresolved).
type Partial = BTreeMap<
    String,
    (
        Vec<Rule>,
        Option<Vec<String>>,
        Option<Spanned<Extends>>,
        usize,
    ),
>;

fn partial(src: &Source<'_>, raw: &RawFile) -> Result<Partial, ConfigError> {
    let mut out = Partial::new();
    for (name, p) in &raw.policy {
        let (rules, redact) = compile_policy(src, name, p.get_ref())?;
        out.insert(
            name.clone(),
            (rules, redact, p.get_ref().extends.clone(), p.span().start),
        );
    }
    Ok(out)
}

/// Resolves `extends`: the policy's own rules first (level 0), then each base's in the order
/// listed, recursively, one level deeper; [`super::policy::decide`] lets the shallowest level
/// naming a command's path decide it.
fn resolve(
    src: &Source<'_>,
    all: &Partial,
    name: &str,
    seen: &mut Vec<String>,
) -> Result<Policy, ConfigError> {
    let (rules, redact, extends, at) = &all[name];
    let mut policy = Policy {
        name: name.to_string(),
        rules: rules.clone(),
        redact: redact.clone().unwrap_or_else(|| {
            super::policy::DEFAULT_REDACT
                .iter()
                .map(|f| f.to_string())
                .collect()
        }),
        permissive: false,
    };
    let bases = extends
        .as_ref()
        .map(|e| (e.span(), e.get_ref().names()))
        .unwrap_or_default();
    let mut redact_set = redact.is_some();
    for b in &bases.1 {
        let span = bases.0.clone();
        if seen.iter().any(|s| s == b) {
            return Err(src.err(
                span,
                format!(
                    "policy {name} extends {b}, which extends it back: {}",
                    seen.join(" -> ")
                ),
            ));
        }
        if !all.contains_key(b) {
            return Err(src.err(span, format!("policy {name} extends unknown policy `{b}`")));
        }
        seen.push(b.clone());
        let base = resolve(src, all, b, seen)?;
        seen.pop();
        policy.rules.extend(base.rules.into_iter().map(|mut r| {
            r.level += 1;
            r
        }));
        // Without its own `redact`, a policy hides what its bases hide, all of it.
        if redact.is_none() {
            if redact_set {
                for f in base.redact {
                    if !policy.redact.contains(&f) {
                        policy.redact.push(f);
                    }
                }
            } else {
                policy.redact = base.redact;
                redact_set = true;
            }
        }
    }
    let _ = at;
    Ok(policy)
}

/// Reads and checks a configuration text. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ProxyConfig, ConfigError> {
    let builtin_src = Source {
        file: "built-in policies",
        text: BUILTIN,
    };
    let builtin = partial(&builtin_src, &parse_raw(&builtin_src)?)?;
    let src = Source { file, text };
    let raw = parse_raw(&src)?;
    let mine = partial(&src, &raw)?;
    let mut all = builtin.clone();
    for (name, p) in mine {
        if builtin.contains_key(&name) {
            return Err(src.err(
                p.3..p.3,
                format!(
                    "policy `{name}` is built in; define a new name with `extends = \"{name}\"`"
                ),
            ));
        }
        all.insert(name, p);
    }
    let mut policies = HashMap::new();
    for name in all.keys() {
        let s = if builtin.contains_key(name) {
            &builtin_src
        } else {
            &src
        };
        policies.insert(
            name.clone(),
            resolve(s, &all, name, &mut vec![name.clone()])?,
        );
    }

    let Some(proxy) = raw.proxy else {
        return Err(src.err(0..0, "missing [proxy] with `audit-log = \"FILE\"`"));
    };
    if let Some(m) = &proxy.metrics {
        if m.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(src.err(
                m.span(),
                format!("metrics `{}`: expected ADDRESS:PORT", m.get_ref()),
            ));
        }
    }
    if proxy.audit_log.get_ref().is_empty() {
        return Err(src.err(proxy.audit_log.span(), "audit-log is empty"));
    }
    let audit_log_mode = match &proxy.audit_log_mode {
        Some(m) => super::logfile::parse_mode(m.get_ref()).map_err(|e| src.err(m.span(), e))?,
        None => super::logfile::DEFAULT_MODE,
    };
    if let (Some(k), None) = (&proxy.checkpoint_key, &proxy.checkpoint) {
        return Err(src.err(
            k.span(),
            "checkpoint-key signs checkpoints: it needs `checkpoint = \"FILE\"` too",
        ));
    }

    let mut routers: Vec<RouterCfg> = Vec::new();
    for r in &raw.router {
        let span = r.span();
        let r = r.get_ref();
        let name = r.name.get_ref();
        if routers.iter().any(|x| &x.name == name) {
            return Err(src.err(r.name.span(), format!("router `{name}` is defined twice")));
        }
        let verify = match (&r.ca, &r.pin, &r.known_routers) {
            (Some(ca), None, None) => Verify::Ca(ca.clone()),
            (None, Some(pin), None) => {
                let hexpart = pin.get_ref().trim_start_matches("sha256:");
                if hexpart.len() != 64 || !hexpart.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(src.err(pin.span(), "pin: expected sha256:<64 hex digits>"));
                }
                Verify::Pin(pin.get_ref().clone())
            }
            (None, None, Some(k)) => Verify::KnownRouters(k.clone()),
            _ => {
                return Err(src.err(
                    span,
                    format!("router `{name}`: exactly one of `ca`, `pin` or `known-routers` (the router's certificate is always verified)"),
                ))
            }
        };
        let password = match (&r.password_file, &r.password_env) {
            (Some(f), None) => Secret::File(f.get_ref().clone()),
            (None, Some(e)) => Secret::Env(e.get_ref().clone()),
            _ => {
                return Err(src.err(
                    span,
                    format!("router `{name}`: exactly one of `password-file` or `password-env` (never the password itself)"),
                ))
            }
        };
        if !r.address.get_ref().contains(':') {
            return Err(src.err(
                r.address.span(),
                "address: expected HOST:PORT (api-ssl, usually 8729)",
            ));
        }
        routers.push(RouterCfg {
            name: name.clone(),
            address: r.address.get_ref().clone(),
            verify,
            user: r.user.clone(),
            password,
            max_sessions: r.max_sessions.unwrap_or(4).clamp(1, 20),
            command_timeout: std::time::Duration::from_secs(
                r.command_timeout.unwrap_or(20).clamp(1, 3600),
            ),
        });
    }

    let mut listeners = Vec::new();
    for l in &raw.listener {
        let span = l.span();
        let l = l.get_ref();
        if l.address.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(src.err(
                l.address.span(),
                format!("address `{}`: expected ADDRESS:PORT", l.address.get_ref()),
            ));
        }
        if let Some(r) = &l.router {
            if !routers.iter().any(|x| &x.name == r.get_ref()) {
                return Err(src.err(r.span(), format!("unknown router `{}`", r.get_ref())));
            }
        }
        let cert_name = match &l.client_cert_name {
            None => super::clientcert::CertName::default(),
            Some(_) if l.client_ca.is_none() => {
                return Err(src.err(
                    span,
                    "`client-cert-name` goes with `client-ca` (it says where a client certificate names its client)",
                ))
            }
            Some(n) => super::clientcert::CertName::parse(n.get_ref()).ok_or_else(|| {
                src.err(
                    n.span(),
                    format!(
                        "client-cert-name `{}`: expected `cn` (the subject's common name) or `san-dns` (a DNS subject alternative name)",
                        n.get_ref()
                    ),
                )
            })?,
        };
        let tls =
            match (&l.cert, &l.key) {
                (Some(cert), Some(key)) => Some(TlsCfg {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: l.client_ca.clone(),
                    cert_name,
                }),
                (None, None) if l.client_ca.is_none() => None,
                _ => return Err(src.err(
                    span,
                    "a TLS listener needs both `cert` and `key` (and `client-ca` only with them)",
                )),
            };
        listeners.push(ListenerCfg {
            address: l.address.get_ref().clone(),
            router: l.router.as_ref().map(|r| r.get_ref().clone()),
            tls,
        });
    }

    let mut clients: Vec<ClientCfg> = Vec::new();
    for c in &raw.client {
        let c = c.get_ref();
        let name = c.name.get_ref();
        if name.contains('@') || name.is_empty() {
            return Err(src.err(c.name.span(), format!("client name `{name}` must be non-empty and without `@` (used for `client@router` logins)")));
        }
        if clients.iter().any(|x| &x.name == name) {
            return Err(src.err(c.name.span(), format!("client `{name}` is defined twice")));
        }
        if argon2::PasswordHash::new(c.password_hash.get_ref()).is_err() {
            return Err(src.err(
                c.password_hash.span(),
                "password-hash: expected an Argon2 PHC string ($argon2id$...); make one with `tikguard proxy hash-password`",
            ));
        }
        if !policies.contains_key(c.policy.get_ref()) {
            let mut names: Vec<&String> = policies.keys().collect();
            names.sort();
            return Err(src.err(
                c.policy.span(),
                format!(
                    "unknown policy `{}`; known: {}",
                    c.policy.get_ref(),
                    names
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        for r in &c.routers {
            if !routers.iter().any(|x| &x.name == r.get_ref()) {
                return Err(src.err(r.span(), format!("unknown router `{}`", r.get_ref())));
            }
        }
        let rate = match &c.rate {
            Some(r) if r.per_second <= 0.0 || r.burst == 0 => {
                return Err(src.err(
                    c.name.span(),
                    format!("client `{name}`: rate needs per-second > 0 and burst >= 1"),
                ))
            }
            Some(r) => Some((r.per_second, r.burst)),
            None => None,
        };
        clients.push(ClientCfg {
            name: name.clone(),
            password_hash: c.password_hash.get_ref().clone(),
            from: cidrs(&src, &c.from)?,
            policy: c.policy.get_ref().clone(),
            routers: c.routers.iter().map(|r| r.get_ref().clone()).collect(),
            rate,
            upstream_sessions: c.upstream_sessions.map(|n| n.max(1)),
            require_client_cert: c.require_client_cert,
            legacy_password: c.legacy_password_file.clone().map(Secret::File),
        });
    }

    Ok(ProxyConfig {
        audit_log: proxy.audit_log.get_ref().clone(),
        audit_log_mode,
        checkpoint: proxy.checkpoint.clone(),
        checkpoint_key: proxy.checkpoint_key.map(|k| k.into_inner()),
        checkpoint_lines: proxy.checkpoint_lines.unwrap_or(1000).max(1),
        checkpoint_seconds: proxy.checkpoint_seconds.unwrap_or(60).max(1),
        metrics: proxy.metrics.map(|m| m.into_inner()),
        memory_budget: proxy.memory_budget.unwrap_or(64 << 20),
        routers,
        listeners,
        clients,
        policies,
    })
}

/// Reads `path` and [`parse`]s it.
pub fn load(path: &str) -> Result<ProxyConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    parse(path, &text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> String {
        super::super::hash_password("s3cret").unwrap()
    }

    fn minimal(extra: &str) -> String {
        format!(
            "[proxy]\naudit-log = \"/tmp/x.jsonl\"\n\n[[router]]\nname = \"core-01\"\naddress = \"127.0.0.1:8729\"\nca = \"ca.pem\"\nuser = \"proxy\"\npassword-env = \"CORE01\"\n\n[[listener]]\naddress = \"127.0.0.1:18728\"\nrouter = \"core-01\"\n\n[[client]]\nname = \"billing\"\npassword-hash = \"{}\"\nfrom = [\"198.51.100.20/32\"]\npolicy = \"crm-pppoe\"\nrouters = [\"core-01\"]\n{extra}",
            hash()
        )
    }

    fn with_proxy(lines: &str) -> String {
        minimal("").replacen(
            "audit-log = \"/tmp/x.jsonl\"\n",
            &format!("audit-log = \"/tmp/x.jsonl\"\n{lines}"),
            1,
        )
    }

    /// The log is 0640 unless said otherwise; a mode letting others read or anyone but its
    /// owner write is refused where it is written; a key without a checkpoint to sign too.
    #[test]
    fn the_log_mode_and_checkpoint_key_are_checked_where_written() {
        let c = parse("p.toml", &minimal("")).unwrap();
        assert_eq!(c.audit_log_mode, 0o640);
        assert_eq!(c.checkpoint_key, None);
        let c = parse("p.toml", &with_proxy("audit-log-mode = \"0600\"\n")).unwrap();
        assert_eq!(c.audit_log_mode, 0o600);
        let e = parse("p.toml", &with_proxy("audit-log-mode = \"0644\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:3:18:") && e.contains("0644"), "{e}");
        let e = parse("p.toml", &with_proxy("checkpoint-key = \"/k\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:3:") && e.contains("needs `checkpoint"),
            "{e}"
        );
        let c = parse(
            "p.toml",
            &with_proxy("checkpoint = \"/h\"\ncheckpoint-key = \"/k\"\n"),
        )
        .unwrap();
        assert_eq!(c.checkpoint_key.as_deref(), Some("/k"));
    }

    #[test]
    fn builtin_policies_parse_and_extend() {
        let c = parse("p.toml", &minimal("")).unwrap();
        for p in [
            "crm-pppoe",
            "crm-hotspot",
            "crm-queues",
            "read-only",
            "monitor",
        ] {
            assert!(c.policies.contains_key(p), "{p}");
        }
        // crm-pppoe's own rules, then monitor's.
        let p = &c.policies["crm-pppoe"];
        assert!(p
            .rules
            .first()
            .unwrap()
            .name
            .starts_with("policy crm-pppoe"));
        assert!(p.rules.last().unwrap().name.starts_with("policy monitor"));
    }

    /// `crm-isp` extends two bases (which both extend `monitor`); a rule of the extending
    /// policy naming a path decides every verb there, the bases' rules for it unused.
    #[test]
    fn several_bases_and_no_fall_through_for_a_named_path() {
        use crate::proxy::policy::{decide, Command, Decision};
        let c = parse(
            "p.toml",
            &minimal(
                "\n[policy.x]\nextends = \"crm-pppoe\"\n[[policy.x.rule]]\npath = \"/ppp/secret\"\nverbs = [\"add\"]\nowner-prefix = \"ucrm_\"\n",
            ),
        )
        .unwrap();
        let cmd = |word: &str, args: &[(&str, &str)]| {
            let i = word.rfind('/').unwrap();
            Command {
                path: word[..i].into(),
                verb: word[i + 1..].into(),
                args: args
                    .iter()
                    .map(|(k, v)| (k.to_string(), bytes::Bytes::copy_from_slice(v.as_bytes())))
                    .collect(),
                queries: vec![],
            }
        };
        let isp = &c.policies["crm-isp"];
        let yes = |c: &Command| matches!(decide(isp, c), Decision::Allow { .. });
        assert!(yes(&cmd(
            "/ppp/secret/add",
            &[("name", "a"), ("password", "p")]
        )));
        assert!(yes(&cmd(
            "/queue/simple/add",
            &[("name", "q"), ("target", "100.64.1.1")]
        )));
        assert!(!yes(&cmd(
            "/queue/simple/add",
            &[("name", "q"), ("target", "0.0.0.0/0")]
        )));
        assert!(yes(&cmd("/system/identity/print", &[])));
        assert!(!yes(&cmd("/system/script/print", &[])));
        let x = &c.policies["x"];
        let x_yes = |c: &Command| matches!(decide(x, c), Decision::Allow { .. });
        assert!(x_yes(&cmd("/ppp/secret/add", &[("comment", "ucrm_1")])));
        // crm-pppoe allows these on /ppp/secret; x names the path and does not.
        assert!(!x_yes(&cmd("/ppp/secret/print", &[])));
        assert!(!x_yes(&cmd("/ppp/secret/remove", &[(".id", "*1")])));
        // Paths x does not name still come from its base.
        assert!(x_yes(&cmd("/ppp/active/print", &[])));
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = minimal("").replace("policy = \"crm-pppoe\"", "policy = \"crm-ppoe\"");
        let e = parse("p.toml", &text).unwrap_err();
        assert_eq!(e.line, 19, "{e}");
        assert_eq!(e.column, 10, "{e}");
        assert!(e.message.contains("unknown policy `crm-ppoe`"), "{e}");
        let e = parse("p.toml", "[proxy]\naudit-log = 3\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 13), "{e}");
        let text =
            minimal("\n[[policy.x.rule]]\npath = \"/ppp\"\nargs = { name = { regex = \"(\" } }\n");
        let e = parse("p.toml", &text).unwrap_err();
        assert!(e.message.contains("bad regex"), "{e}");
        assert_eq!(e.line, 24, "{e}");
    }

    #[test]
    fn a_router_always_verifies_and_never_holds_its_password_inline() {
        let text = minimal("").replace("ca = \"ca.pem\"\n", "");
        let e = parse("p.toml", &text).unwrap_err();
        assert!(
            e.message
                .contains("exactly one of `ca`, `pin` or `known-routers`"),
            "{e}"
        );
        let text = minimal("").replace("password-env = \"CORE01\"", "password = \"x\"");
        assert!(parse("p.toml", &text)
            .unwrap_err()
            .message
            .contains("unknown field `password`"));
    }

    #[test]
    fn extends_cycles_and_builtin_redefinition_are_errors() {
        let text = minimal("\n[policy.a]\nextends = \"b\"\n[policy.b]\nextends = \"a\"\n");
        assert!(parse("p.toml", &text)
            .unwrap_err()
            .message
            .contains("extends it back"));
        let text = minimal("\n[policy.monitor]\n");
        assert!(parse("p.toml", &text)
            .unwrap_err()
            .message
            .contains("is built in"));
    }
}
