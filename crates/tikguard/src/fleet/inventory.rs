//! The fleet's inventory: which routers, how to reach them, how to log in and how to verify
//! them. Three formats, picked by the file's extension:
//!
//! - **TOML** (`.toml`): `[[router]]` tables, `[group.NAME]` tables with shared defaults, and an
//!   optional `[defaults]` table for every router.
//! - **An Ansible inventory**, read as it is: YAML (`.yml`, `.yaml`) or INI (any other
//!   extension, e.g. `hosts`, `.ini`). `ansible_host`, `ansible_user`, `ansible_port`, groups,
//!   `children` and group vars (`vars:` / `[group:vars]`), `validate_certs` and `ca_path` as
//!   community.routeros' API modules name them.
//! - **CSV** (`.csv`): a header row, then `name,address,port,group,tags` (tags separated by `;`),
//!   optionally `user`, `password_env`, `password_file`, `ca`, `pin`, and `fleet harden`'s
//!   `mgmt` and `api_clients` (prefixes separated by `;`).
//!
//! `fleet harden` takes each router's management prefixes and API clients from the inventory
//! where it gives them (TOML `mgmt = [...]`, `api_clients = [...]` on a router, group or the
//! defaults; Ansible `tikguard_mgmt`, `tikguard_api_clients`; CSV as above), else from the
//! command line's `--mgmt` and `--api-client`.
//!
//! Credentials are never in the inventory: a router, group or the command line names an
//! environment variable (`password_env`) or a file (`password_file`). A password written in the
//! inventory is an error that says why: inventories are committed, shared and printed.
//!
//! Precedence, most specific first: router, its group, the inventory's defaults, the command
//! line's defaults ([`Defaults`]), then tikguard's (API-SSL on 8729 verified by trust on first use
//! into the known-routers file, user `admin`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Where a router's password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// None given: the run refuses routers that need one (probe and pins do not).
    None,
    /// This environment variable holds it.
    Env(String),
    /// The first line of this file holds it.
    File(PathBuf),
}

impl Credential {
    /// Reads the password. The error names the variable or file, never the value.
    pub fn read(&self) -> Result<String, String> {
        match self {
            Credential::None => Err(
                "no password: give password_env or password_file (router, group or --password-env)"
                    .into(),
            ),
            Credential::Env(var) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
            }
            Credential::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Ok(text.lines().next().unwrap_or("").to_string())
            }
        }
    }
}

/// How a router's API is reached and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// API-SSL, the certificate checked against these PEM CA certificates.
    Ca(PathBuf),
    /// API-SSL, the certificate's SHA-256 must be this (64 hex digits, lowercase, no colons).
    Pin(String),
    /// API-SSL, trust on first use into this known-routers file (`None`: the default file,
    /// `~/.config/tikguard/known_routers`).
    KnownRouters(Option<PathBuf>),
    /// API-SSL without verification (`insecure_skip_verify = true`).
    InsecureSkipVerify,
    /// The plaintext `api` service (`plain = true`): the password crosses the network in clear.
    Plain,
}

impl Tls {
    pub fn default_port(&self) -> u16 {
        match self {
            Tls::Plain => 8728,
            _ => 8729,
        }
    }
}

/// One router of the inventory, every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Router {
    /// Unique in the inventory. Any text (it comes from a file someone else may edit): escape
    /// it on a terminal; the output folder names files by `output::file_name`, not by this.
    pub name: String,
    /// Host name or address (no port).
    pub host: String,
    pub port: u16,
    /// Its first group (TOML `group`, CSV `group`, Ansible: the innermost group it is listed in).
    pub group: Option<String>,
    /// Every group it is in (Ansible: with their parents), sorted.
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub user: String,
    pub credential: Credential,
    pub tls: Tls,
    /// `fleet harden`: where administrators keep access to this router (prefixes, as given;
    /// empty: the command line's `--mgmt`).
    pub mgmt: Vec<String>,
    /// `fleet harden`: where this router's API clients connect from (empty: `--api-client`).
    pub api_clients: Vec<String>,
}

impl Router {
    /// `host:port`, IPv6 in brackets.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Settings the command line gives every router that the inventory leaves open.
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    pub known_routers: Option<PathBuf>,
    pub plain: bool,
    pub insecure_skip_verify: bool,
}

/// An inventory error: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub path: PathBuf,
    /// 1-based; 0 when the error is not at one place (a duplicate name across groups).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = crate::term::printable(&self.message);
        if self.line == 0 {
            write!(f, "{}: {msg}", self.path.display())
        } else {
            write!(
                f,
                "{}:{}:{}: {msg}",
                self.path.display(),
                self.line,
                self.column
            )
        }
    }
}

impl std::error::Error for Error {}

/// The routers, in inventory order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub routers: Vec<Router>,
}

/// The inventory formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    AnsibleYaml,
    AnsibleIni,
    Csv,
}

impl Format {
    /// By extension: `.toml`, `.yml`/`.yaml`, `.csv`; anything else is an Ansible INI
    /// inventory (Ansible's own `hosts` files have no extension).
    pub fn of(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Format::Toml,
            Some("yml" | "yaml") => Format::AnsibleYaml,
            Some("csv") => Format::Csv,
            _ => Format::AnsibleIni,
        }
    }
}

/// Reads the inventory at `path` (format by [`Format::of`]).
pub fn load(path: &Path, defaults: &Defaults) -> Result<Inventory, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the inventory: {e}"),
    })?;
    parse(&text, Format::of(path), path, defaults)
}

/// Parses inventory text; `path` names it in errors and anchors relative paths in it.
pub fn parse(
    text: &str,
    format: Format,
    path: &Path,
    defaults: &Defaults,
) -> Result<Inventory, Error> {
    let ctx = Ctx {
        path,
        base: path.parent().unwrap_or(Path::new("")),
        text,
    };
    let entries = match format {
        Format::Toml => toml_entries(&ctx)?,
        Format::AnsibleYaml => yaml_entries(&ctx)?,
        Format::AnsibleIni => ini_entries(&ctx)?,
        Format::Csv => csv_entries(&ctx)?,
    };
    let mut seen = BTreeSet::new();
    let mut routers = Vec::with_capacity(entries.len());
    for e in entries {
        if !seen.insert(e.name.clone()) {
            return Err(ctx.err_at(e.line, format!("router `{}` is listed twice", e.name)));
        }
        routers.push(e.resolve(&ctx, defaults)?);
    }
    Ok(Inventory { routers })
}

struct Ctx<'a> {
    path: &'a Path,
    base: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err_at(&self, line: usize, message: String) -> Error {
        Error {
            path: self.path.to_path_buf(),
            line,
            column: usize::from(line > 0),
            message,
        }
    }

    fn err_offset(&self, offset: usize, message: String) -> Error {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Error {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
        }
    }

    fn rel(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }
}

/// Settings at one level (router, group, defaults), each optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    port: Option<u16>,
    user: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    ca: Option<String>,
    pin: Option<String>,
    known_routers: Option<String>,
    plain: Option<bool>,
    insecure_skip_verify: Option<bool>,
    #[serde(default)]
    tags: Vec<String>,
    /// `fleet harden`'s management prefixes; a level that sets them replaces those below.
    mgmt: Option<Vec<String>>,
    /// `fleet harden`'s API clients; a level that sets them replaces those below.
    api_clients: Option<Vec<String>>,
    /// Only to say why it is refused.
    password: Option<toml::Value>,
}

impl Settings {
    /// `self` where set, else `under`. The credential (`password_env`/`password_file`) and the
    /// verification (`ca`/`pin`/`known_routers`/`plain`/`insecure_skip_verify`) are each one
    /// choice: a level that sets any part of it replaces the whole choice below it.
    fn over(&self, under: &Settings) -> Settings {
        let mut tags = under.tags.clone();
        tags.extend(self.tags.iter().cloned());
        let cred = if self.password_env.is_some() || self.password_file.is_some() {
            self
        } else {
            under
        };
        let tls = if self.ca.is_some()
            || self.pin.is_some()
            || self.known_routers.is_some()
            || self.plain.is_some()
            || self.insecure_skip_verify.is_some()
        {
            self
        } else {
            under
        };
        Settings {
            port: self.port.or(under.port),
            user: self.user.clone().or_else(|| under.user.clone()),
            password_env: cred.password_env.clone(),
            password_file: cred.password_file.clone(),
            ca: tls.ca.clone(),
            pin: tls.pin.clone(),
            known_routers: tls.known_routers.clone(),
            plain: tls.plain,
            insecure_skip_verify: tls.insecure_skip_verify,
            tags,
            mgmt: self.mgmt.clone().or_else(|| under.mgmt.clone()),
            api_clients: self
                .api_clients
                .clone()
                .or_else(|| under.api_clients.clone()),
            password: None,
        }
    }
}

/// A router as read, before defaults.
struct Entry {
    name: String,
    host: String,
    /// 1-based line of its definition (0 if unknown).
    line: usize,
    group: Option<String>,
    groups: Vec<String>,
    /// Most specific first: the router's own, then its groups', then the inventory's defaults.
    settings: Settings,
}

const INLINE_PASSWORD: &str = "a password written in the inventory is refused (inventories are committed, shared and printed): name an environment variable with password_env, or a file with password_file";

impl Entry {
    fn resolve(self, ctx: &Ctx<'_>, d: &Defaults) -> Result<Router, Error> {
        let s = self.settings;
        let err = |m: String| ctx.err_at(self.line, format!("router `{}`: {m}", self.name));
        if self.name.is_empty() {
            return Err(ctx.err_at(self.line, "a router has an empty name".into()));
        }
        if self.host.is_empty() {
            return Err(err("no address".into()));
        }
        let plain = s.plain.unwrap_or(d.plain);
        let insecure = s.insecure_skip_verify.unwrap_or(d.insecure_skip_verify);
        let chosen = [
            s.ca.is_some(),
            s.pin.is_some(),
            plain,
            insecure,
            s.known_routers.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if chosen > 1 {
            return Err(err(
                "give at most one of ca, pin, known_routers, plain and insecure_skip_verify".into(),
            ));
        }
        let tls = if let Some(ca) = &s.ca {
            Tls::Ca(ctx.rel(ca))
        } else if let Some(pin) = &s.pin {
            let fp = routeros_api::Fingerprint::parse(pin).ok_or_else(|| {
                err(format!(
                    "pin `{pin}` is not a SHA-256 fingerprint (64 hex digits)"
                ))
            })?;
            Tls::Pin(fp.to_string().replace(':', "").to_ascii_lowercase())
        } else if plain {
            Tls::Plain
        } else if insecure {
            Tls::InsecureSkipVerify
        } else if let Some(k) = &s.known_routers {
            Tls::KnownRouters(Some(ctx.rel(k)))
        } else if let Some(ca) = &d.ca {
            Tls::Ca(ca.clone())
        } else {
            Tls::KnownRouters(d.known_routers.clone())
        };
        let credential = if let Some(v) = &s.password_env {
            Credential::Env(v.clone())
        } else if let Some(f) = &s.password_file {
            Credential::File(ctx.rel(f))
        } else if let Some(v) = &d.password_env {
            Credential::Env(v.clone())
        } else if let Some(f) = &d.password_file {
            Credential::File(f.clone())
        } else {
            Credential::None
        };
        let mut tags = s.tags;
        tags.sort();
        tags.dedup();
        let mut groups = self.groups;
        groups.sort();
        groups.dedup();
        Ok(Router {
            port: s.port.unwrap_or_else(|| tls.default_port()),
            name: self.name,
            host: self.host,
            group: self.group,
            groups,
            tags,
            user: s
                .user
                .or_else(|| d.user.clone())
                .unwrap_or_else(|| "admin".into()),
            credential,
            tls,
            mgmt: s.mgmt.unwrap_or_default(),
            api_clients: s.api_clients.unwrap_or_default(),
        })
    }
}

// ---------------------------------------------------------------- TOML

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    defaults: Settings,
    #[serde(default)]
    group: BTreeMap<String, Settings>,
    #[serde(default)]
    router: Vec<toml::Spanned<TomlRouter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRouter {
    name: String,
    address: String,
    group: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    ca: Option<String>,
    pin: Option<String>,
    known_routers: Option<String>,
    plain: Option<bool>,
    insecure_skip_verify: Option<bool>,
    #[serde(default)]
    tags: Vec<String>,
    mgmt: Option<Vec<String>>,
    api_clients: Option<Vec<String>>,
    password: Option<toml::Value>,
}

impl TomlRouter {
    fn settings(&self) -> Settings {
        Settings {
            port: self.port,
            user: self.user.clone(),
            password_env: self.password_env.clone(),
            password_file: self.password_file.clone(),
            ca: self.ca.clone(),
            pin: self.pin.clone(),
            known_routers: self.known_routers.clone(),
            plain: self.plain,
            insecure_skip_verify: self.insecure_skip_verify,
            tags: self.tags.clone(),
            mgmt: self.mgmt.clone(),
            api_clients: self.api_clients.clone(),
            password: None,
        }
    }
}

fn toml_entries(ctx: &Ctx<'_>) -> Result<Vec<Entry>, Error> {
    let file: TomlFile = toml::from_str(ctx.text).map_err(|e| {
        let msg = e.message().to_string();
        match e.span() {
            Some(span) => ctx.err_offset(span.start, msg),
            None => ctx.err_at(0, msg),
        }
    })?;
    if file.defaults.password.is_some() {
        return Err(ctx.err_at(0, format!("[defaults]: {INLINE_PASSWORD}")));
    }
    if let Some((g, _)) = file.group.iter().find(|(_, s)| s.password.is_some()) {
        return Err(ctx.err_at(0, format!("[group.{g}]: {INLINE_PASSWORD}")));
    }
    let mut out = Vec::new();
    for r in file.router {
        let line = ctx.err_offset(r.span().start, String::new()).line;
        let r = r.into_inner();
        if r.password.is_some() {
            return Err(ctx.err_at(line, format!("router `{}`: {INLINE_PASSWORD}", r.name)));
        }
        let group_settings = match &r.group {
            Some(g) => file.group.get(g).ok_or_else(|| {
                ctx.err_at(
                    line,
                    format!(
                        "router `{}`: group `{g}` is not defined (add a [group.{g}] table)",
                        r.name
                    ),
                )
            })?,
            None => &Settings::default(),
        };
        let settings = r.settings().over(&group_settings.over(&file.defaults));
        out.push(Entry {
            name: r.name,
            host: r.address,
            line,
            groups: r.group.iter().cloned().collect(),
            group: r.group,
            settings,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- Ansible

/// Ansible variables tikguard reads (the rest are ignored: an inventory holds much else).
///
/// community.routeros' API modules run on the controller (`hosts: localhost`, or
/// `ansible_connection=local`) and take the router as module options: `hostname`, `port`,
/// `username`, `password`, `tls` (default false), `validate_certs`, `ca_path` (community.routeros
/// API guide and api module docs:
/// https://docs.ansible.com/ansible/latest/collections/community/routeros/docsite/api-guide.html).
/// Inventories therefore keep the address in `ansible_host` and pass it as `hostname`.
///
/// - `ansible_host`, `ansible_user`: the address and the user, as Ansible's own.
/// - `ansible_port`: the API port, unless `ansible_connection` is `ssh`, `network_cli` or
///   `paramiko` (then it is the SSH port) or it is 22. `tikguard_port` overrides it.
/// - `validate_certs`, `ca_path`: as the community.routeros API modules name them. A
///   `ca_path` verifies by that CA; `validate_certs: false` falls back to tikguard's trust on
///   first use, never to no verification (set `tikguard_insecure_skip_verify` for that).
/// - `tikguard_password_env`, `tikguard_password_file`, `tikguard_pin`, `tikguard_plain`,
///   `tikguard_known_routers`, `tikguard_tags`, `tikguard_mgmt`, `tikguard_api_clients` (lists or
///   comma-separated).
/// - `ansible_password`: a literal value is refused ([`INLINE_PASSWORD`]); a Jinja template
///   (`{{ ... }}`, e.g. a vault lookup) cannot be evaluated here and is ignored.
#[derive(Clone, Debug, Default)]
struct AnsibleVars(BTreeMap<String, String>);

impl AnsibleVars {
    fn over(&self, under: &AnsibleVars) -> AnsibleVars {
        let mut m = under.0.clone();
        m.extend(self.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        AnsibleVars(m)
    }

    fn settings(&self) -> Result<Settings, String> {
        let v = |k: &str| self.0.get(k).map(String::as_str);
        let truthy = |k: &str| -> Result<Option<bool>, String> {
            match v(k) {
                None => Ok(None),
                Some(s) => match s.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "on" | "1" => Ok(Some(true)),
                    "false" | "no" | "off" | "0" => Ok(Some(false)),
                    _ => Err(format!("{k}: `{s}` is not a boolean")),
                },
            }
        };
        if let Some(p) = v("ansible_password").or(v("password")) {
            if !p.contains("{{") {
                return Err(format!("ansible_password: {INLINE_PASSWORD}"));
            }
        }
        let port_of = |k: &str| -> Result<Option<u16>, String> {
            v(k).map(|p| {
                p.parse::<u16>()
                    .map_err(|_| format!("{k}: `{p}` is not a port"))
            })
            .transpose()
        };
        let ssh = matches!(
            v("ansible_connection"),
            Some("ssh" | "network_cli" | "ansible.netcommon.network_cli" | "paramiko")
        );
        let port = match port_of("tikguard_port")? {
            Some(p) => Some(p),
            None => port_of("ansible_port")?.filter(|p| *p != 22 && !ssh),
        };
        let validate = truthy("validate_certs")?;
        let list = |k: &str| -> Option<Vec<String>> {
            v(k).map(|t| {
                t.trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        };
        let tags = list("tikguard_tags").unwrap_or_default();
        let known = v("tikguard_known_routers").map(str::to_string);
        Ok(Settings {
            port,
            user: v("ansible_user").map(str::to_string),
            password_env: v("tikguard_password_env").map(str::to_string),
            password_file: v("tikguard_password_file").map(str::to_string),
            ca: v("ca_path").map(str::to_string),
            pin: v("tikguard_pin").map(str::to_string),
            known_routers: known,
            plain: truthy("tikguard_plain")?,
            insecure_skip_verify: truthy("tikguard_insecure_skip_verify")?
                .filter(|b| *b && validate != Some(true)),
            tags,
            mgmt: list("tikguard_mgmt"),
            api_clients: list("tikguard_api_clients"),
            password: None,
        })
    }
}

/// A group as read from either Ansible format.
#[derive(Default)]
struct AGroup {
    hosts: Vec<(String, AnsibleVars, usize)>,
    vars: AnsibleVars,
    children: Vec<String>,
}

/// Walks the group tree from `all`, giving each host its variables (host over innermost group
/// over outer groups, as Ansible's precedence has it) and its groups.
fn ansible_entries(ctx: &Ctx<'_>, groups: &BTreeMap<String, AGroup>) -> Result<Vec<Entry>, Error> {
    struct Seen {
        vars: AnsibleVars,
        groups: Vec<String>,
        innermost: Option<String>,
        line: usize,
    }
    let mut order: Vec<String> = Vec::new();
    let mut hosts: BTreeMap<String, Seen> = BTreeMap::new();
    // Depth-first from the roots (`all`, then groups nobody lists as a child), vars layered.
    let children: BTreeSet<&String> = groups.values().flat_map(|g| &g.children).collect();
    let mut roots: Vec<&String> = groups.keys().filter(|g| !children.contains(g)).collect();
    roots.sort_by_key(|g| (g.as_str() != "all", g.as_str()));
    let mut stack: Vec<(String, AnsibleVars, Vec<String>, usize)> = roots
        .into_iter()
        .rev()
        .map(|g| (g.clone(), AnsibleVars::default(), Vec::new(), 0))
        .collect();
    while let Some((name, inherited, mut path, depth)) = stack.pop() {
        if depth > 64 || path.contains(&name) {
            return Err(ctx.err_at(0, format!("group `{name}` is its own child")));
        }
        let Some(g) = groups.get(&name) else {
            continue;
        };
        let vars = g.vars.over(&inherited);
        path.push(name.clone());
        for (h, hv, line) in &g.hosts {
            let merged = hv.over(&vars);
            let entry = hosts.entry(h.clone()).or_insert_with(|| {
                order.push(h.clone());
                Seen {
                    vars: AnsibleVars::default(),
                    groups: Vec::new(),
                    innermost: None,
                    line: *line,
                }
            });
            entry.vars = merged.over(&entry.vars);
            entry
                .groups
                .extend(path.iter().filter(|p| p.as_str() != "all").cloned());
            if name != "all" && entry.innermost.is_none() {
                entry.innermost = Some(name.clone());
            }
        }
        for c in g.children.iter().rev() {
            stack.push((c.clone(), vars.clone(), path.clone(), depth + 1));
        }
    }
    let mut out = Vec::new();
    for h in order {
        let seen = hosts.remove(&h).expect("recorded");
        let settings = seen
            .vars
            .settings()
            .map_err(|m| ctx.err_at(seen.line, format!("host `{h}`: {m}")))?;
        let host = seen
            .vars
            .0
            .get("ansible_host")
            .cloned()
            .unwrap_or(h.clone());
        out.push(Entry {
            name: h,
            host,
            line: seen.line,
            group: seen.innermost,
            groups: seen.groups,
            settings,
        });
    }
    Ok(out)
}

fn yaml_scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Sequence(s) => Some(
            s.iter()
                .filter_map(yaml_scalar)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

fn yaml_vars(v: Option<&serde_yaml_ng::Value>) -> AnsibleVars {
    let mut m = BTreeMap::new();
    if let Some(serde_yaml_ng::Value::Mapping(map)) = v {
        for (k, v) in map {
            if let (Some(k), Some(v)) = (k.as_str(), yaml_scalar(v)) {
                m.insert(k.to_string(), v);
            }
        }
    }
    AnsibleVars(m)
}

fn yaml_entries(ctx: &Ctx<'_>) -> Result<Vec<Entry>, Error> {
    use serde_yaml_ng::Value;
    let doc: Value = serde_yaml_ng::from_str(ctx.text).map_err(|e| match e.location() {
        Some(l) => Error {
            path: ctx.path.to_path_buf(),
            line: l.line(),
            column: l.column(),
            message: e.to_string(),
        },
        None => ctx.err_at(0, e.to_string()),
    })?;
    let Value::Mapping(top) = doc else {
        return Err(ctx.err_at(
            1,
            "an Ansible YAML inventory is a mapping of groups (`all:` with `hosts:` and `children:`)"
                .into(),
        ));
    };
    let mut groups = BTreeMap::new();
    fn walk(
        name: &str,
        v: &Value,
        groups: &mut BTreeMap<String, AGroup>,
        ctx: &Ctx<'_>,
    ) -> Result<(), Error> {
        let g = groups.entry(name.to_string()).or_default();
        let Value::Mapping(m) = v else {
            return Ok(()); // `group:` with nothing under it
        };
        g.vars = yaml_vars(m.get("vars")).over(&g.vars);
        if let Some(Value::Mapping(hosts)) = m.get("hosts") {
            for (h, hv) in hosts {
                let h = yaml_scalar(h).unwrap_or_default();
                let line = line_of(ctx.text, &h);
                g.hosts.push((h, yaml_vars(Some(hv)), line));
            }
        }
        let mut kids = Vec::new();
        if let Some(Value::Mapping(children)) = m.get("children") {
            for (c, cv) in children {
                let c = yaml_scalar(c).unwrap_or_default();
                kids.push((c, cv.clone()));
            }
        }
        for (c, cv) in kids {
            groups
                .get_mut(name)
                .expect("inserted")
                .children
                .push(c.clone());
            walk(&c, &cv, groups, ctx)?;
        }
        Ok(())
    }
    for (k, v) in &top {
        let k = yaml_scalar(k).unwrap_or_default();
        walk(&k, v, &mut groups, ctx)?;
    }
    ansible_entries(ctx, &groups)
}

/// The line where `host` first appears as a YAML key (for error messages; 0 if not found).
fn line_of(text: &str, host: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(host)
                .or_else(|| {
                    t.strip_prefix('"')
                        .and_then(|t| t.strip_prefix(host))
                        .and_then(|t| t.strip_prefix('"'))
                })
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .map_or(0, |i| i + 1)
}

/// Ansible's INI inventory: host lines (`name key=value ...`) before any section or under
/// `[group]`, `[group:vars]` with `key=value` lines, `[group:children]` with group names.
/// Comments start with `#` or `;`. Host ranges (`r[01:20]`) are expanded.
fn ini_entries(ctx: &Ctx<'_>) -> Result<Vec<Entry>, Error> {
    let mut groups: BTreeMap<String, AGroup> = BTreeMap::new();
    groups.entry("all".into()).or_default();
    let mut section = ("ungrouped".to_string(), "hosts");
    groups.entry("ungrouped".into()).or_default();
    groups
        .get_mut("all")
        .expect("inserted")
        .children
        .push("ungrouped".into());
    for (i, raw) in ctx.text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(head) = line.strip_prefix('[') {
            let head = head.strip_suffix(']').ok_or_else(|| {
                ctx.err_at(
                    lineno,
                    format!("section header `{line}` has no closing `]`"),
                )
            })?;
            let (name, kind) = match head.split_once(':') {
                Some((n, "vars")) => (n, "vars"),
                Some((n, "children")) => (n, "children"),
                Some((_, k)) => {
                    return Err(ctx.err_at(
                        lineno,
                        format!("unknown section kind `:{k}` (Ansible knows :vars and :children)"),
                    ))
                }
                None => (head, "hosts"),
            };
            groups.entry(name.to_string()).or_default();
            section = (name.to_string(), kind);
            continue;
        }
        let words = split_ini(line).map_err(|m| ctx.err_at(lineno, m))?;
        match section.1 {
            "vars" => {
                let (k, v) = line
                    .split_once('=')
                    .ok_or_else(|| ctx.err_at(lineno, format!("`{line}` is not key=value")))?;
                let v = unquote(v.trim());
                groups
                    .get_mut(&section.0)
                    .expect("inserted")
                    .vars
                    .0
                    .insert(k.trim().to_string(), v);
            }
            "children" => {
                let g = groups.get_mut(&section.0).expect("inserted");
                g.children.push(line.to_string());
            }
            _ => {
                let mut vars = BTreeMap::new();
                for w in &words[1..] {
                    let (k, v) = w.split_once('=').ok_or_else(|| {
                        ctx.err_at(lineno, format!("host variable `{w}` is not key=value"))
                    })?;
                    vars.insert(k.to_string(), unquote(v));
                }
                for h in expand_range(&words[0]).map_err(|m| ctx.err_at(lineno, m))? {
                    groups.get_mut(&section.0).expect("inserted").hosts.push((
                        h,
                        AnsibleVars(vars.clone()),
                        lineno,
                    ));
                }
            }
        }
    }
    // Every group that is nobody's child hangs under `all`, as in Ansible.
    let kids: BTreeSet<String> = groups.values().flat_map(|g| g.children.clone()).collect();
    let orphans: Vec<String> = groups
        .keys()
        .filter(|g| g.as_str() != "all" && !kids.contains(*g))
        .cloned()
        .collect();
    groups
        .get_mut("all")
        .expect("inserted")
        .children
        .extend(orphans);
    ansible_entries(ctx, &groups)
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

/// Splits an INI host line on whitespace, keeping quoted values whole.
fn split_ini(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, '#') if cur.is_empty() => break,
            _ => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err("empty host line".into());
    }
    Ok(out)
}

/// Ansible's host ranges: `r[01:12]` is r01..r12 (width kept), `r[a:c]` is ra, rb, rc.
fn expand_range(h: &str) -> Result<Vec<String>, String> {
    let Some(open) = h.find('[') else {
        return Ok(vec![h.to_string()]);
    };
    let close = h[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| format!("host range `{h}` has no closing `]`"))?;
    let (pre, range, post) = (&h[..open], &h[open + 1..close], &h[close + 1..]);
    let (a, b) = range
        .split_once(':')
        .ok_or_else(|| format!("host range `{h}` is not [start:end]"))?;
    let rest = expand_range(post)?;
    let mut out = Vec::new();
    let mut push = |mid: String| {
        for r in &rest {
            out.push(format!("{pre}{mid}{r}"));
        }
    };
    if let (Ok(x), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>()) {
        if y < x || y - x > 65535 {
            return Err(format!("host range `{h}` is empty or too long"));
        }
        for n in x..=y {
            push(format!("{n:0width$}", width = a.len()));
        }
    } else if a.len() == 1 && b.len() == 1 && a <= b {
        for c in a.chars().next().unwrap_or('a')..=b.chars().next().unwrap_or('a') {
            push(c.to_string());
        }
    } else {
        return Err(format!("host range `{h}` is not numbers or single letters"));
    }
    Ok(out)
}

// ---------------------------------------------------------------- CSV

fn csv_entries(ctx: &Ctx<'_>) -> Result<Vec<Entry>, Error> {
    const KNOWN: &[&str] = &[
        "name",
        "address",
        "port",
        "group",
        "tags",
        "user",
        "password_env",
        "password_file",
        "ca",
        "pin",
        "mgmt",
        "api_clients",
    ];
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(ctx.text.as_bytes());
    let cerr = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line() as usize);
        ctx.err_at(line, e.to_string())
    };
    let header: Vec<String> = rd
        .headers()
        .map_err(cerr)?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for h in &header {
        if h == "password" {
            return Err(ctx.err_at(1, format!("column `password`: {INLINE_PASSWORD}")));
        }
        if !KNOWN.contains(&h.as_str()) {
            return Err(ctx.err_at(
                1,
                format!("unknown column `{h}` (known: {})", KNOWN.join(", ")),
            ));
        }
    }
    for need in ["name", "address"] {
        if !header.iter().any(|h| h == need) {
            return Err(ctx.err_at(1, format!("no `{need}` column in the header")));
        }
    }
    let mut out = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(cerr)?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let get = |k: &str| {
            header
                .iter()
                .position(|h| h == k)
                .and_then(|i| rec.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let port = get("port")
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| ctx.err_at(line, format!("port `{p}` is not a port number")))
            })
            .transpose()?;
        let tags = get("tags")
            .map(|t| {
                t.split([';', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let prefixes = |k: &str| {
            get(k).map(|t| {
                t.split([';', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
        };
        let group = get("group");
        out.push(Entry {
            name: get("name").unwrap_or_default(),
            host: get("address").unwrap_or_default(),
            line,
            groups: group.iter().cloned().collect(),
            group,
            settings: Settings {
                port,
                user: get("user"),
                password_env: get("password_env"),
                password_file: get("password_file"),
                ca: get("ca"),
                pin: get("pin"),
                tags,
                mgmt: prefixes("mgmt"),
                api_clients: prefixes("api_clients"),
                ..Settings::default()
            },
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- --limit

/// `--limit`: comma-separated terms, each a name, `tag:T` or `group:G`, with `*` and `?`
/// wildcards; `!term` excludes. A router is picked when it matches a plain term (or there is
/// none) and no `!` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    terms: Vec<(bool, Term)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Name(String),
    Tag(String),
    Group(String),
}

impl Term {
    fn matches(&self, r: &Router) -> bool {
        match self {
            Term::Name(p) => glob(p, &r.name),
            Term::Tag(p) => r.tags.iter().any(|t| glob(p, t)),
            Term::Group(p) => r.groups.iter().any(|g| glob(p, g)),
        }
    }
}

impl Limit {
    pub fn parse(s: &str) -> Result<Limit, String> {
        let mut terms = Vec::new();
        for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (neg, t) = match t.strip_prefix('!') {
                Some(t) => (true, t),
                None => (false, t),
            };
            let term = if let Some(v) = t.strip_prefix("tag:") {
                Term::Tag(v.to_string())
            } else if let Some(v) = t.strip_prefix("group:") {
                Term::Group(v.to_string())
            } else {
                Term::Name(t.to_string())
            };
            terms.push((neg, term));
        }
        if terms.is_empty() {
            return Err("--limit is empty (give names, tag:T or group:G, comma-separated)".into());
        }
        Ok(Limit { terms })
    }

    pub fn matches(&self, r: &Router) -> bool {
        let positive: Vec<&Term> = self.terms.iter().filter(|t| !t.0).map(|t| &t.1).collect();
        (positive.is_empty() || positive.iter().any(|t| t.matches(r)))
            && !self.terms.iter().any(|(neg, t)| *neg && t.matches(r))
    }

    /// The routers picked; a term that picks nothing is an error (a typo would otherwise run
    /// on fewer routers than meant, silently).
    pub fn select(&self, inv: &Inventory) -> Result<Vec<Router>, String> {
        for (_, t) in &self.terms {
            if !inv.routers.iter().any(|r| t.matches(r)) {
                let shown = match t {
                    Term::Name(p) => p.clone(),
                    Term::Tag(p) => format!("tag:{p}"),
                    Term::Group(p) => format!("group:{p}"),
                };
                return Err(format!(
                    "--limit `{}` matches no router of the inventory",
                    crate::term::printable(&shown)
                ));
            }
        }
        Ok(inv
            .routers
            .iter()
            .filter(|r| self.matches(r))
            .cloned()
            .collect())
    }
}

/// `*` any run, `?` one character; everything else literal.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

// ---------------------------------------------------------------- --shard

/// `--shard K/N`: this run takes the routers whose [`shard_of`] is `K` (0-based, so that a
/// Kubernetes Indexed Job passes `$(JOB_COMPLETION_INDEX)` as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard `{s}` is not K/N with 0 <= K < N (e.g. 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k >= n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    pub fn contains(&self, name: &str) -> bool {
        shard_of(name, self.n) == self.k
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The shard of a router: the first 8 bytes of SHA-256 of its name's UTF-8 bytes, read
/// big-endian, modulo `n`. SHA-256 is fixed by FIPS 180-4 and the byte order is explicit, so every
/// tikguard version on every platform puts a name in the same shard; std's `DefaultHasher` is
/// SipHash with keys and algorithm the standard library does not promise to keep. Only the name
/// counts, so adding or removing other routers moves no router between shards.
pub fn shard_of(name: &str, n: u32) -> u32 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(n.max(1))) as u32
}
