//! `tikguard harden`: the changes a configuration needs, as an idempotent `.rsc` script that is
//! proven, before it is shown, to fix what it claims and to keep the administrators in.
//!
//! Flow: [`plan`] reads the model and the intent (where the API clients and the administrators
//! connect from) and lists typed [`Change`]s, each naming the findings it resolves; only what the
//! configuration needs is planned, so planning the hardened result again gives nothing. The
//! changes render as `.rsc`, every addition tagged `comment="tikguard:..."` and (unless
//! `--no-guards`) guarded by `:if ([:len [find comment=...]] = 0)`. [`prove`] then applies the
//! unguarded script to the original export in memory, re-runs the audit, checks that the
//! management and API-client prefixes still reach their services on every interface they reach
//! today, and checks every command against RouterOS' command tree ([`schema`]).

pub mod schema;

use std::fmt::Write as _;

use routeros_config::escape::quote;
use routeros_config::value::{parse_addr, parse_int, AddrMatch};
use routeros_config::{parse, Config, StatementKind, Version};
use serde::Serialize;

use crate::audit::addrset::AddrSet;
use crate::audit::exposure::{self, WanChoice};
use crate::audit::firewall::{Firewall, InterfaceLists, Probe};
use crate::audit::{self, Finding, Selection, Severity};

/// A prefix given on the command line.
#[derive(Clone, Debug)]
pub struct Prefix {
    pub text: String,
    pub m: AddrMatch,
}

impl Prefix {
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let m = parse_addr(s.as_bytes())
            .filter(|m| !m.negated)
            .ok_or_else(|| {
                format!("`{s}` is not an address or prefix (e.g. 198.51.100.20/32, 2001:db8::/48)")
            })?;
        let text = if s.contains('/') || s.contains('-') {
            s.to_string()
        } else if m.range.v6 {
            format!("{s}/128")
        } else {
            format!("{s}/32")
        };
        Ok(Prefix { text, m })
    }

    fn set(&self) -> AddrSet {
        AddrSet::from_range(self.m.range)
    }
}

/// The certificate api-ssl should use.
#[derive(Clone, Debug)]
pub enum CertPlan {
    /// Create and sign one on the router (`tikguard-api`).
    Generate,
    /// Use this existing certificate.
    Named(String),
}

/// What the administrator wants.
#[derive(Clone, Debug)]
pub struct Intent {
    pub api_clients: Vec<Prefix>,
    pub mgmt: Vec<Prefix>,
    pub wan: WanChoice,
    pub api_port: Option<u16>,
    pub cert: CertPlan,
    pub syslog: Option<(String, u16)>,
    pub target: Version,
    pub api_user: String,
    /// Put the API user's password in the script (off by default: the user is created disabled).
    pub password_in_script: Option<String>,
}

/// One planned change.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub id: String,
    pub description: String,
    pub fixes: Vec<&'static str>,
    /// Lines without guards.
    #[serde(skip)]
    pub lines: Vec<String>,
    /// `find` condition that tells the change was already made (for the guard), if it adds.
    #[serde(skip)]
    pub guard: Option<(String, String)>,
    /// Lines that undo it.
    #[serde(skip)]
    pub undo: Vec<String>,
}

const TAG: &str = "tikguard:";

fn prop_list(props: &[(&str, String)]) -> String {
    props
        .iter()
        .map(|(k, v)| format!("{k}={}", value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as RouterOS script text: bare when safe, else quoted.
fn value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:,/*!@+".contains(&c));
    if plain {
        v.to_string()
    } else {
        quote(v.as_bytes())
    }
}

fn service_props(c: &Config, name: &str) -> Vec<(String, String)> {
    c.menu("/ip service")
        .and_then(|m| m.by_name(name))
        .map(|i| {
            i.props
                .iter()
                .map(|p| {
                    (
                        String::from_utf8_lossy(&p.key).into_owned(),
                        p.value.to_lossy(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn service_get(c: &Config, name: &str, key: &str) -> Option<String> {
    c.menu("/ip service")?.by_name(name)?.get_str(key)
}

fn service_enabled(c: &Config, name: &str) -> bool {
    c.menu("/ip service")
        .and_then(|m| m.by_name(name))
        .is_some_and(|i| !i.is_disabled())
}

fn has_comment(c: &Config, menu: &str, comment: &str) -> bool {
    c.items(menu)
        .iter()
        .any(|i| i.get("comment") == Some(comment.as_bytes()))
}

/// A change that sets properties of a named service, with the values to restore.
fn service_set(
    c: &Config,
    service: &str,
    want: Vec<(&str, String)>,
    description: String,
    fixes: Vec<&'static str>,
) -> Option<Change> {
    let have = service_props(c, service);
    let diff: Vec<(&str, String)> = want
        .into_iter()
        .filter(|(k, v)| {
            have.iter()
                .find(|(hk, _)| hk == k)
                .map(|(_, hv)| hv.as_str())
                != Some(v.as_str())
        })
        .collect();
    if diff.is_empty() {
        return None;
    }
    let undo: Vec<(&str, String)> = diff
        .iter()
        .map(|(k, _)| {
            let before = have
                .iter()
                .find(|(hk, _)| hk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (*k, before)
        })
        .collect();
    Some(Change {
        id: format!("service-{service}"),
        description,
        fixes,
        lines: vec![format!("/ip service set {service} {}", prop_list(&diff))],
        guard: None,
        undo: vec![format!("/ip service set {service} {}", prop_list(&undo))],
    })
}

/// A firewall rule of the block: id, properties, description, findings it fixes.
type BlockRule<'a> = (String, Vec<(&'a str, String)>, String, Vec<&'static str>);

/// A settings property: menu, key, the value wanted, RouterOS' default.
struct Setting<'a>(&'a str, &'a str, &'a str, &'a str);

fn setting_set(
    c: &Config,
    Setting(menu, key, want, default): Setting<'_>,
    id: &str,
    description: &str,
    fixes: Vec<&'static str>,
) -> Option<Change> {
    let have = c
        .setting(menu, key)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_else(|| default.to_string());
    if have == want {
        return None;
    }
    Some(Change {
        id: id.to_string(),
        description: description.to_string(),
        fixes,
        lines: vec![format!("{menu} set {key}={}", value(want))],
        guard: None,
        undo: vec![format!("{menu} set {key}={}", value(&have))],
    })
}

fn add(
    menu: &str,
    comment: &str,
    props: Vec<(&str, String)>,
    description: String,
    fixes: Vec<&'static str>,
) -> Change {
    let tagged = format!("{TAG}{comment}");
    let mut all = props;
    all.push(("comment", tagged.clone()));
    Change {
        id: comment.to_string(),
        description,
        fixes,
        lines: vec![format!("{menu} add {}", prop_list(&all))],
        guard: Some((menu.to_string(), tagged.clone())),
        undo: vec![format!("{menu} remove [find comment={}]", value(&tagged))],
    }
}

/// An addition identified by its own properties, for menus without `comment` (`/user group`, and
/// `/system logging` before 7.22).
fn add_identified(
    menu: &str,
    id: &str,
    props: Vec<(&str, String)>,
    find: &str,
    description: String,
    fixes: Vec<&'static str>,
) -> Change {
    Change {
        id: id.to_string(),
        description,
        fixes,
        lines: vec![format!("{menu} add {}", prop_list(&props))],
        guard: Some((menu.to_string(), find.to_string())),
        undo: vec![format!("{menu} remove [find {find}]")],
    }
}

/// The sum of the sizes of some prefixes is "narrow" (not what the audit calls wide).
fn narrow(prefixes: &[&Prefix]) -> bool {
    let mut v4 = AddrSet::empty(false);
    let mut v6 = AddrSet::empty(true);
    for p in prefixes {
        if p.m.range.v6 {
            v6 = v6.union(&p.set());
        } else {
            v4 = v4.union(&p.set());
        }
    }
    v4.size() <= 1 << 16 && v6.size() <= 1 << 80
}

/// Lists the changes the configuration needs.
pub fn plan(c: &Config, intent: &Intent) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let v7 = intent.target.major >= 7;
    let e = exposure::analyse(c, &intent.wan);
    let api_ssl_port: u16 = intent.api_port.unwrap_or_else(|| {
        service_get(c, "api-ssl", "port")
            .and_then(|p| p.parse().ok())
            .unwrap_or(8729)
    });
    let clients_and_mgmt: Vec<&Prefix> = intent.api_clients.iter().chain(&intent.mgmt).collect();
    let all_narrow = narrow(&clients_and_mgmt);
    let mgmt_refs: Vec<&Prefix> = intent.mgmt.iter().collect();
    let mgmt_narrow = narrow(&mgmt_refs);
    let join = |ps: &[&Prefix]| {
        let mut v: Vec<String> = ps.iter().map(|p| p.text.clone()).collect();
        v.sort();
        v.dedup();
        v.join(",")
    };

    // The certificate api-ssl will use.
    let cert_name = match &intent.cert {
        CertPlan::Named(n) => n.clone(),
        CertPlan::Generate => {
            let current =
                service_get(c, "api-ssl", "certificate").filter(|n| n != "none" && !n.is_empty());
            match current {
                Some(n) => n,
                None => {
                    let name = "tikguard-api".to_string();
                    if !c
                        .items("/certificate")
                        .iter()
                        .any(|i| i.get("name") == Some(name.as_bytes()))
                    {
                        let cn = c
                            .setting("/system identity", "name")
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_else(|| "router".into());
                        let usage = "digital-signature,key-encipherment,tls-server".to_string();
                        out.push(Change {
                            id: "certificate".into(),
                            description: format!("create and sign a 2048-bit RSA certificate `{name}` (CN={cn}, 825 days) for api-ssl"),
                            fixes: vec!["TG102"],
                            lines: vec![
                                format!(
                                    "/certificate add {}",
                                    prop_list(&[
                                        ("name", name.clone()),
                                        ("common-name", cn),
                                        ("key-size", "2048".into()),
                                        ("days-valid", "825".into()),
                                        ("key-usage", usage),
                                    ])
                                ),
                                format!("/certificate sign {name}"),
                            ],
                            guard: Some(("/certificate".into(), format!("name={name}"))),
                            undo: vec![format!("/certificate remove [find name={name}]")],
                        });
                    }
                    name
                }
            }
        }
    };

    // Services.
    if service_enabled(c, "api") {
        out.extend(service_set(
            c,
            "api",
            vec![("disabled", "yes".into())],
            "disable the plaintext API (8728)".into(),
            vec!["TG101", "TG103"],
        ));
    }
    let mut ssl: Vec<(&str, String)> = vec![
        ("disabled", "no".into()),
        ("certificate", cert_name.clone()),
        ("address", join(&clients_and_mgmt)),
    ];
    if v7 {
        ssl.push(("tls-version", "only-1.2".into()));
    }
    let mut ssl_fixes = vec!["TG102", "TG103"];
    if v7 {
        ssl_fixes.push("TG104");
    }
    if let Some(p) = intent.api_port {
        ssl.push(("port", p.to_string()));
        if p != 8729 {
            ssl_fixes.push("TG105");
        }
    }
    out.extend(service_set(
        c,
        "api-ssl",
        ssl,
        format!(
            "api-ssl: certificate {cert_name}{}, only the API clients and management may connect",
            if v7 { ", TLS 1.2+" } else { "" }
        ),
        ssl_fixes,
    ));
    for svc in ["winbox", "ssh"] {
        if service_enabled(c, svc) {
            out.extend(service_set(
                c,
                svc,
                vec![("address", join(&mgmt_refs))],
                format!("{svc}: only management may connect"),
                vec!["TG103"],
            ));
        }
    }
    if service_enabled(c, "www-ssl") {
        let mut w: Vec<(&str, String)> = vec![
            ("address", join(&mgmt_refs)),
            ("certificate", cert_name.clone()),
        ];
        if v7 {
            w.push(("tls-version", "only-1.2".into()));
        }
        let mut fixes = vec!["TG103", "TG109"];
        if v7 {
            fixes.push("TG104");
        }
        let what = format!(
            "www-ssl: certificate{}, only management may connect",
            if v7 { ", TLS 1.2+" } else { "" }
        );
        out.extend(service_set(c, "www-ssl", w, what, fixes));
    }
    for (svc, rule) in [("telnet", "TG106"), ("ftp", "TG107"), ("www", "TG108")] {
        if service_enabled(c, svc) {
            out.extend(service_set(
                c,
                svc,
                vec![("disabled", "yes".into())],
                format!("disable {svc} (clear-text logins)"),
                vec![rule, "TG103"],
            ));
        }
    }

    // Settings the findings name.
    if service_enabled(c, "ssh") || out.iter().any(|ch| ch.id == "service-ssh") {
        out.extend(setting_set(
            c,
            Setting("/ip ssh", "strong-crypto", "yes", "no"),
            "ssh-strong-crypto",
            "ssh: strong ciphers only",
            vec!["TG111"],
        ));
    }
    let lan_ok = e.wan.iter().all(|w| !e.lists.contains("LAN", w))
        && c.items("/interface list")
            .iter()
            .any(|l| l.get("name") == Some(b"LAN"));
    let safe_list = if lan_ok { "LAN" } else { "none" };
    let reaches_wan = |list: &str| match list {
        "none" => false,
        "all" => true,
        l if l.starts_with('!') => true,
        l => e.wan.iter().any(|w| e.lists.contains(l, w)),
    };
    for (menu, key, id, what, default) in [
        (
            "/tool mac-server",
            "allowed-interface-list",
            "mac-server",
            "MAC telnet",
            "all",
        ),
        (
            "/tool mac-server mac-winbox",
            "allowed-interface-list",
            "mac-winbox",
            "MAC winbox",
            "all",
        ),
        (
            "/ip neighbor discovery-settings",
            "discover-interface-list",
            "discovery",
            "neighbor discovery",
            "all",
        ),
    ] {
        let have = c
            .setting(menu, key)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| default.to_string());
        if reaches_wan(&have) {
            let rule = if id == "discovery" { "TG113" } else { "TG112" };
            out.extend(setting_set(
                c,
                Setting(menu, key, safe_list, default),
                id,
                &format!("{what} only on interface list {safe_list}"),
                vec![rule],
            ));
        }
    }
    out.extend(setting_set(
        c,
        Setting("/tool bandwidth-server", "enabled", "no", "yes"),
        "bandwidth-server",
        "disable the bandwidth-test server",
        vec!["TG114"],
    ));
    for (menu, id, what) in [
        ("/ip socks", "socks", "SOCKS proxy"),
        ("/ip proxy", "proxy", "web proxy"),
    ] {
        if c.setting(menu, "enabled") == Some(b"yes") {
            out.extend(setting_set(
                c,
                Setting(menu, "enabled", "no", "no"),
                id,
                &format!("disable the {what}"),
                vec!["TG116"],
            ));
        }
    }

    // A dedicated API group and user.
    let group = "tikguard-api";
    let mut deny: Vec<&str> = vec![
        "local",
        "telnet",
        "ssh",
        "ftp",
        "reboot",
        "policy",
        "test",
        "winbox",
        "password",
        "web",
        "sniff",
        "sensitive",
        "romon",
    ];
    if v7 {
        deny.push("rest-api");
    } else {
        // RouterOS 6 also has these two.
        deny.extend(["dude", "tikapp"]);
    }
    let policy = format!(
        "read,write,api,{}",
        deny.iter()
            .map(|d| format!("!{d}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    if !c
        .items("/user group")
        .iter()
        .any(|g| g.get("name") == Some(group.as_bytes()))
    {
        out.push(add_identified(
            "/user group",
            "api-group",
            vec![("name", group.into()), ("policy", policy)],
            &format!("name={group}"),
            format!("group `{group}`: read, write and api only, every other policy denied"),
            vec![],
        ));
    }
    let user = intent.api_user.as_str();
    if !c
        .items("/user")
        .iter()
        .any(|u| u.get("name") == Some(user.as_bytes()))
    {
        let clients: Vec<&Prefix> = intent.api_clients.iter().collect();
        let mut props = vec![
            ("name", user.to_string()),
            ("group", group.to_string()),
            ("address", join(&clients)),
        ];
        let description = match &intent.password_in_script {
            Some(pw) => {
                props.push(("password", pw.clone()));
                format!("user `{user}` in `{group}`, allowed only from the API clients (password in the script, as asked)")
            }
            None => {
                props.push(("disabled", "yes".into()));
                format!("user `{user}` in `{group}`, allowed only from the API clients; created disabled: set its password interactively, then enable it")
            }
        };
        let mut ch = add("/user", "api-user", props, description, vec![]);
        ch.undo = vec![format!("/user remove [find name={user}]")];
        out.push(ch);
    }

    // Address lists and firewall rules, per family.
    let mut ports: Vec<u16> = exposure::SERVICES
        .iter()
        .filter_map(|s| {
            service_get(c, s, "port")
                .and_then(|p| parse_int(p.as_bytes()))
                .map(|p| p as u16)
        })
        .collect();
    ports.push(api_ssl_port);
    ports.sort_unstable();
    ports.dedup();
    let port_list = ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut mgmt_ports: Vec<u16> = ["winbox", "ssh", "www-ssl"]
        .iter()
        .filter(|s| service_enabled(c, s))
        .filter_map(|s| service_get(c, s, "port").and_then(|p| p.parse().ok()))
        .collect();
    mgmt_ports.push(api_ssl_port);
    mgmt_ports.sort_unstable();
    mgmt_ports.dedup();
    let mgmt_port_list = mgmt_ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let v6_active = exposure::ipv6_active(c);
    for v6 in [false, true] {
        if v6 && !v6_active {
            continue;
        }
        let fam = if v6 { "ipv6" } else { "ip" };
        let lists = format!("/{fam} firewall address-list");
        let filter = format!("/{fam} firewall filter");
        let fam_clients: Vec<&Prefix> = intent
            .api_clients
            .iter()
            .filter(|p| p.m.range.v6 == v6)
            .collect();
        let fam_mgmt: Vec<&Prefix> = intent.mgmt.iter().filter(|p| p.m.range.v6 == v6).collect();
        for (list, prefixes, what) in [
            ("tikguard-api-clients", &fam_clients, "API client"),
            ("tikguard-mgmt", &fam_mgmt, "management"),
        ] {
            for p in prefixes.iter() {
                let comment = format!("{list}:{}", p.text);
                if has_comment(c, &lists, &format!("{TAG}{comment}")) {
                    continue;
                }
                out.push(add(
                    &lists,
                    &comment,
                    vec![("list", list.into()), ("address", p.text.clone())],
                    format!("{what} {} in list {list} ({fam})", p.text),
                    vec![],
                ));
            }
        }
        // The block, in final order; emitted last-first so each rule goes before its successor.
        let mut block: Vec<BlockRule<'_>> = Vec::new();
        let new = || ("connection-state", "new".to_string());
        block.push((
            format!("{fam}-blacklist-drop"),
            vec![
                ("chain", "input".into()),
                ("action", "drop".into()),
                ("src-address-list", "tikguard-blacklist".into()),
                new(),
                ("log", "yes".into()),
                ("log-prefix", "tikguard-blacklist".into()),
            ],
            "drop sources on the brute-force block list".into(),
            vec![],
        ));
        if !fam_clients.is_empty() {
            block.push((
                format!("{fam}-api-accept"),
                vec![
                    ("chain", "input".into()),
                    ("action", "accept".into()),
                    ("protocol", "tcp".into()),
                    ("dst-port", api_ssl_port.to_string()),
                    ("src-address-list", "tikguard-api-clients".into()),
                    new(),
                ],
                format!("accept api-ssl (tcp/{api_ssl_port}) from the API clients"),
                vec![],
            ));
        }
        if !fam_mgmt.is_empty() {
            block.push((
                format!("{fam}-mgmt-accept"),
                vec![
                    ("chain", "input".into()),
                    ("action", "accept".into()),
                    ("protocol", "tcp".into()),
                    ("dst-port", mgmt_port_list.clone()),
                    ("src-address-list", "tikguard-mgmt".into()),
                    new(),
                ],
                format!("accept management (tcp/{mgmt_port_list}) from the management prefixes"),
                vec![],
            ));
        }
        for (stage, from, timeout, to) in [
            (
                "stage3",
                Some("tikguard-stage2"),
                "1d",
                "tikguard-blacklist",
            ),
            ("stage2", Some("tikguard-stage1"), "1m", "tikguard-stage2"),
            ("stage1", None, "1m", "tikguard-stage1"),
        ] {
            let mut p = vec![
                ("chain", "input".into()),
                ("action", "add-src-to-address-list".into()),
                ("address-list", to.to_string()),
                ("address-list-timeout", timeout.to_string()),
                ("protocol", "tcp".into()),
                ("dst-port", port_list.clone()),
                new(),
            ];
            if let Some(f) = from {
                p.push(("src-address-list", f.to_string()));
            }
            block.push((
                format!("{fam}-{stage}"),
                p,
                format!(
                    "brute-force staging: new connection to a management port -> {to} ({timeout})"
                ),
                vec!["TG206"],
            ));
        }
        block.push((
            format!("{fam}-mgmt-drop"),
            vec![
                ("chain", "input".into()),
                ("action", "drop".into()),
                ("protocol", "tcp".into()),
                ("dst-port", port_list.clone()),
                new(),
                ("log", "yes".into()),
                ("log-prefix", "tikguard-mgmt-drop".into()),
            ],
            format!(
                "drop and log every other new connection to a management port (tcp/{port_list})"
            ),
            {
                let mut f = vec![];
                if !v6 || !fam_clients.is_empty() || !fam_mgmt.is_empty() {
                    f.push("TG207");
                }
                if v6 {
                    f.push("TG209");
                }
                f
            },
        ));
        let menu_items = c.items(&filter);
        let mut successor: Option<String> = None;
        let mut emitted: Vec<Change> = Vec::new();
        for (comment, props, description, fixes) in block.into_iter().rev() {
            let tagged = format!("{TAG}{comment}");
            let exists = has_comment(c, &filter, &tagged);
            let mut props = props;
            match &successor {
                Some(next) => {
                    props.push(("place-before", format!("[find comment={}]", value(next))))
                }
                None if !menu_items.is_empty() => {
                    props.push(("place-before", "[:pick [find] 0]".into()))
                }
                None => {}
            }
            successor = Some(tagged.clone());
            if exists {
                continue;
            }
            let mut ch = add(&filter, &comment, vec![], description, fixes);
            let mut all = props;
            all.push(("comment", tagged.clone()));
            // place-before takes an expression: it must not be quoted.
            let text: Vec<String> = all
                .iter()
                .map(|(k, v)| {
                    if *k == "place-before" {
                        format!("{k}={v}")
                    } else {
                        format!("{k}={}", value(v))
                    }
                })
                .collect();
            ch.lines = vec![format!("{filter} add {}", text.join(" "))];
            emitted.push(ch);
        }
        out.extend(emitted);
    }
    // Accept rules for an API port with no source restriction are dead behind the block; disable
    // those a comment identifies, so nobody re-enables the open door by reordering (TG203).
    for fam in ["ip", "ipv6"] {
        let filter = format!("/{fam} firewall filter");
        let api_ports = exposure::api_ports(c);
        let fw = Firewall::from_config(c, fam == "ipv6");
        for r in fw
            .rules_naming(crate::audit::firewall::Action::Accept, &api_ports)
            .filter(|r| !r.has_src_restriction)
        {
            let item = &c.items(&filter)[r.number];
            let Some(comment) = item.get_str("comment") else {
                continue;
            };
            if comment.starts_with(TAG)
                || c.items(&filter)
                    .iter()
                    .filter(|i| i.get_str("comment").as_deref() == Some(comment.as_str()))
                    .count()
                    != 1
            {
                continue;
            }
            out.push(Change {
                id: format!("{fam}-disable-open-api-accept"),
                description: format!(
                    "disable {fam} filter rule \"{comment}\" (accepts the API port from anyone)"
                ),
                fixes: vec!["TG203"],
                lines: vec![format!(
                    "{filter} disable [find comment={}]",
                    value(&comment)
                )],
                guard: None,
                undo: vec![format!(
                    "{filter} enable [find comment={}]",
                    value(&comment)
                )],
            });
        }
    }

    // Exposure findings the block resolves, when the prefixes given are narrow.
    if all_narrow {
        if let Some(ch) = out.iter_mut().find(|c| c.id == "service-api-ssl") {
            ch.fixes.push("TG201");
        } else if let Some(ch) = out.iter_mut().find(|c| c.id.ends_with("-mgmt-drop")) {
            ch.fixes.push("TG201");
        }
    }
    if mgmt_narrow {
        if let Some(ch) = out.iter_mut().find(|c| c.id.ends_with("-mgmt-drop")) {
            ch.fixes.push("TG202");
        }
    }

    // Remote logging.
    if let Some((host, port)) = &intent.syslog {
        let action = "tikguard-syslog";
        if !c
            .items("/system logging action")
            .iter()
            .any(|a| a.get("name") == Some(action.as_bytes()))
        {
            out.push(add_identified(
                "/system logging action",
                "syslog-action",
                vec![
                    ("name", action.into()),
                    ("target", "remote".into()),
                    ("remote", host.clone()),
                    ("remote-port", port.to_string()),
                ],
                &format!("name={action}"),
                format!("remote logging action to {host}:{port}"),
                vec!["TG501"],
            ));
        }
        for topics in ["critical", "account"] {
            let exists = c.items("/system logging").iter().any(|r| {
                r.get("topics") == Some(topics.as_bytes())
                    && r.get("action") == Some(action.as_bytes())
            });
            if !exists {
                out.push(add_identified(
                    "/system logging",
                    &format!("syslog-{topics}"),
                    vec![("topics", topics.into()), ("action", action.into())],
                    &format!("topics={topics} action={action}"),
                    format!("log `{topics}` (login failures/successes) remotely"),
                    vec!["TG502"],
                ));
            }
        }
    }
    for ch in &mut out {
        ch.fixes.sort_unstable();
        ch.fixes.dedup();
    }
    out
}

/// The script: guarded (idempotent on a router) or plain (to append to an export).
pub fn render(changes: &[Change], guards: bool, header: &str) -> String {
    let mut s = String::new();
    for line in header.lines() {
        let _ = writeln!(s, "# {line}");
    }
    for ch in changes {
        let _ = writeln!(
            s,
            "# {}{}",
            ch.description,
            if ch.fixes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", ch.fixes.join(", "))
            }
        );
        match (&ch.guard, guards) {
            (Some((menu, cond)), true) => {
                let find = if cond.contains('=') && !cond.starts_with(TAG) {
                    format!("[{menu} find {cond}]")
                } else {
                    format!("[{menu} find comment={}]", value(cond))
                };
                let _ = writeln!(s, ":if ([:len {find}] = 0) do={{");
                for l in &ch.lines {
                    let _ = writeln!(s, "    {l}");
                }
                let _ = writeln!(s, "}}");
            }
            _ => {
                for l in &ch.lines {
                    let _ = writeln!(s, "{l}");
                }
            }
        }
    }
    s
}

/// The script that undoes the changes, last first.
pub fn rollback(changes: &[Change]) -> String {
    let mut s = String::from("# tikguard rollback: restores what `harden` changed\n");
    for ch in changes.iter().rev() {
        let _ = writeln!(s, "# undo: {}", ch.description);
        for l in &ch.undo {
            let _ = writeln!(s, "{l}");
        }
    }
    s
}

/// Why a plan is refused.
#[derive(Debug, Serialize)]
pub struct Refusal(pub String);

/// The outcome of the proof.
#[derive(Debug, Default, Serialize)]
pub struct Proof {
    /// Findings before, at or above medium, by rule.
    pub findings_before: usize,
    pub findings_after: usize,
    /// Schema notes (unchecked commands on RouterOS 6).
    pub unchecked: Vec<String>,
}

fn reach(fw: &Firewall, lists: &InterfaceLists, port: u16, iface: &str) -> AddrSet {
    fw.evaluate(
        Probe {
            protocol: "tcp",
            port,
            interface: iface,
        },
        lists,
    )
    .accepted
}

/// A configuration's firewalls and interface lists, compiled once for the lockout check.
struct Reach<'a> {
    config: &'a Config,
    v4: Firewall,
    v6: Firewall,
    lists: InterfaceLists,
}

impl<'a> Reach<'a> {
    fn new(config: &'a Config) -> Reach<'a> {
        Reach {
            config,
            v4: Firewall::from_config(config, false),
            v6: Firewall::from_config(config, true),
            lists: InterfaceLists::from_config(config),
        }
    }

    /// The sources that reach an enabled service on an interface; `None` when it is disabled.
    fn service(&self, svc: &str, v6: bool, iface: &str) -> Option<AddrSet> {
        let (port, enabled, allowed) = exposure::service_state(self.config, svc, v6)?;
        if !enabled {
            return None;
        }
        let fw = if v6 { &self.v6 } else { &self.v4 };
        Some(reach(fw, &self.lists, port, iface).intersect(&allowed))
    }
}

/// Every interface name the configuration mentions, plus `*` for any other.
fn interfaces(c: &Config) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for m in c.menus() {
        if !m.path.starts_with("/interface") || m.path.contains("list") {
            continue;
        }
        for i in &m.items {
            v.extend(i.get_str("name"));
        }
    }
    for i in c.items("/interface list member") {
        v.extend(i.get_str("interface"));
    }
    v.push("*".into());
    v.sort();
    v.dedup();
    v
}

/// Applies the unguarded script to the export, re-audits, and checks lockout and the schema.
pub fn prove(
    original: &[u8],
    before: &Config,
    changes: &[Change],
    intent: &Intent,
) -> Result<(Config, Proof), Refusal> {
    let script = render(changes, false, "");
    let mut combined = original.to_vec();
    combined.push(b'\n');
    combined.extend_from_slice(script.as_bytes());
    let (after, parsed) = Config::load(combined);
    if let Some(d) = parsed.diagnostics.first() {
        return Err(Refusal(format!(
            "the generated script does not parse: {}",
            d.message
        )));
    }
    let sel = Selection::default();
    let a_before = audit::run(before, &intent.wan, &sel);
    let a_after = audit::run(&after, &intent.wan, &sel);

    // Every claimed fix holds.
    let claimed: Vec<&str> = changes
        .iter()
        .flat_map(|c| c.fixes.iter().copied())
        .collect();
    for rule in &claimed {
        if let Some(f) = a_after.findings.iter().find(|f| f.rule == *rule) {
            return Err(Refusal(format!(
                "the plan claims to fix {rule}, but after it: {}",
                f.message
            )));
        }
    }
    // Nothing new at high or critical.
    let key = |f: &Finding| (f.rule, f.message.clone());
    let old: Vec<_> = a_before.findings.iter().map(key).collect();
    if let Some(f) = a_after.findings.iter().find(|f| {
        f.severity >= Severity::High
            && !old.contains(&key(f))
            && !a_before.findings.iter().any(|b| b.rule == f.rule)
    }) {
        return Err(Refusal(format!(
            "the plan would add a new {} finding {}: {}",
            f.severity.as_str(),
            f.rule,
            f.message
        )));
    }

    // Lockout: management keeps winbox, ssh and api-ssl wherever it has them today; API clients
    // reach api-ssl on every WAN interface.
    let (was, now_reach) = (Reach::new(before), Reach::new(&after));
    for v6 in [false, true] {
        for iface in interfaces(before) {
            for svc in ["winbox", "ssh", "api-ssl"] {
                let Some(had) = was.service(svc, v6, &iface) else {
                    continue;
                };
                for p in intent.mgmt.iter().filter(|p| p.m.range.v6 == v6) {
                    let needed = had.intersect(&p.set());
                    if needed.is_empty() {
                        continue;
                    }
                    let now = now_reach
                        .service(svc, v6, &iface)
                        .unwrap_or_else(|| AddrSet::empty(v6));
                    if !needed.minus(&now).is_empty() {
                        return Err(Refusal(lockout_reason(&after, svc, v6, &iface, p)));
                    }
                }
            }
        }
    }
    let e = exposure::analyse(&after, &intent.wan);
    for p in &intent.api_clients {
        for iface in &e.wan {
            let now = now_reach
                .service("api-ssl", p.m.range.v6, iface)
                .unwrap_or_else(|| AddrSet::empty(p.m.range.v6));
            if !p.set().minus(&now).is_empty() {
                return Err(Refusal(lockout_reason(
                    &after,
                    "api-ssl",
                    p.m.range.v6,
                    iface,
                    p,
                )));
            }
        }
    }

    // Schema.
    let mut unchecked = Vec::new();
    for st in parse(script.into_bytes()).statements {
        if let StatementKind::Command(cmd) = st.kind {
            let args: Vec<String> = cmd
                .args
                .iter()
                .filter_map(|a| {
                    a.key
                        .as_ref()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                })
                .collect();
            for p in schema::check(&intent.target, &cmd.menu, &cmd.verb, &args) {
                match p {
                    schema::Problem::Unchecked { .. } => unchecked.push(p.to_string()),
                    _ => return Err(Refusal(format!("{p} (RouterOS {})", intent.target))),
                }
            }
        }
    }
    unchecked.sort();
    unchecked.dedup();
    Ok((
        after,
        Proof {
            findings_before: a_before.findings.len(),
            findings_after: a_after.findings.len(),
            unchecked,
        },
    ))
}

fn lockout_reason(after: &Config, svc: &str, v6: bool, iface: &str, p: &Prefix) -> String {
    let fam = if v6 { "ipv6" } else { "ip" };
    if let Some((_, enabled, allowed)) = exposure::service_state(after, svc, v6) {
        if !enabled {
            return format!(
                "refusing: {} would lose `{svc}` on `{iface}`: the service would be disabled",
                p.text
            );
        }
        if !p.set().minus(&allowed).is_empty() {
            return format!("refusing: {} would lose `{svc}` on `{iface}`: `/ip service {svc} address=` would not include it", p.text);
        }
    }
    let fw = Firewall::from_config(after, v6);
    let port = exposure::service_state(after, svc, v6)
        .map(|s| s.0)
        .unwrap_or(0);
    let lists = InterfaceLists::from_config(after);
    let dropper = fw
        .chain("input")
        .find(|r| {
            r.action == crate::audit::firewall::Action::Drop
                && r.matches_probe(
                    Probe {
                        protocol: "tcp",
                        port,
                        interface: iface,
                    },
                    &lists,
                )
                && r.src().is_none_or(|s| !s.intersect(&p.set()).is_empty())
        })
        .map(|r| format!("{fam} filter rule {} would drop it", r.number))
        .unwrap_or_else(|| "the firewall would not accept it".into());
    format!(
        "refusing: {} would lose `{svc}` on `{iface}`: {dropper}",
        p.text
    )
}
