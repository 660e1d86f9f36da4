//! The firewall rules harden adds, which ports they cover, and where they go in the chain.
//!
//! The block, top to bottom in `input`:
//! 1. accept api-ssl from the API clients; accept every management port from management
//!    (and, on IPv6, from link-local addresses on the interfaces where management lives);
//! 2. drop sources on the block list (management ports only);
//! 3. brute-force staging, only on a port that stays open to sources beyond the API clients and
//!    management (never counting either: both are accepted above it);
//! 4. drop and log every other new connection to a management port.
//!
//! Staging where it can act: the final drop takes every new connection to a management port
//! that the accepts above it do not, before any login, so staging there would count only
//! sources that are dropped anyway. The one port that stays open to others is the plaintext
//! API kept on with `--keep-plain-api` (the CRM's accepts stay with it): staging and the
//! block-list drop guard it while it stays, and the accepts above take the API clients and
//! management on it too. Elsewhere staging is left out, TG206 is not claimed for it (the audit
//! asks for staging only where more than a few named prefixes reach the API), and the plan
//! says why.
//!
//! Trusted sources are accepted above the block-list drop, so a block list holding any source
//! (filled at run time by staging, `tikguard watch` or CrowdSec) costs management nothing.
//!
//! Ports are those of the services enabled after the plan, at their configured ports, minus ports
//! another enabled feature listens on: an SSTP server's port, a hotspot's 80/443, and 80 when a
//! script renews a Let's Encrypt certificate (`/certificate enable-ssl-certificate` answers its
//! challenge on port 80). Those are left alone and the plan says so.
//!
//! An earlier run's rule that lacks a port it should name (a service moved since) is moved to
//! the ports of today (`moved_ports`), accepts before drops; one that cannot be told to be the
//! plan's is refused by [`super::foreign`].
//!
//! Placement: each rule goes before the first non-dynamic rule that is not one of the block rules
//! above it. `find where dynamic=no` skips what RouterOS adds itself (v7's "special dummy rule to
//! show fasttrack counters", hotspot and UPnP rules), which cannot be placed before. Rules are added
//! in [`super::order`]'s order (accepts, staging, drop, block-list drop), so a fresh run builds the
//! block in order, and a re-run after an operator removed one rule puts it back in its place:
//! never above the accepts, since they are "above it". A drop is also guarded by its family's
//! accepts being present.

use routeros_config::value::parse_addr;
use routeros_config::Config;

use super::intent::{Intent, Prefix};
use super::order::Phase;
use super::plan::{add_unique, service_enabled, service_port};
use super::proof::{interfaces, Reach};
use super::script::{comment_text, name_text, text_of, Cond, Guard, Stmt, Target};
use super::{Change, TAG};
use crate::audit::addrset::AddrSet;
use crate::audit::exposure::{self, SERVICES};
use crate::audit::firewall::{Action, Assume, Firewall};

/// A script renews a Let's Encrypt certificate.
pub fn uses_letsencrypt(c: &Config) -> bool {
    ["/system script", "/system scheduler"].iter().any(|m| {
        c.items(m).iter().any(|i| {
            ["source", "on-event"].iter().any(|k| {
                i.get(k)
                    .is_some_and(|s| s.windows(22).any(|w| w == b"enable-ssl-certificate"))
            })
        })
    })
}

/// Services that stay enabled after the plan, with their ports.
fn enabled_after(c: &Config, api_ssl_port: u16, api_off: bool) -> Vec<(&'static str, u16)> {
    let le = uses_letsencrypt(c);
    SERVICES
        .iter()
        .filter_map(|&s| {
            let stays = match s {
                // On for the API clients; with none, the API is off and stays off.
                "api-ssl" => !api_off,
                "api" | "telnet" | "ftp" => false,
                "www" => le && service_enabled(c, s),
                _ => service_enabled(c, s),
            };
            if !stays {
                return None;
            }
            let port = if s == "api-ssl" {
                api_ssl_port
            } else {
                service_port(c, s)?
            };
            Some((s, port))
        })
        .collect()
}

/// Ports other enabled features listen on, with the feature's name.
fn feature_ports(c: &Config) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    if c.setting("/interface sstp-server server", "enabled") == Some(b"yes") {
        let port = c
            .setting("/interface sstp-server server", "port")
            .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok())
            .unwrap_or(443);
        out.push((port, "the SSTP server".to_string()));
    }
    if c.items("/ip hotspot").iter().any(|h| !h.is_disabled()) {
        out.push((80, "the hotspot's login pages".into()));
        out.push((443, "the hotspot's login pages".into()));
    }
    if uses_letsencrypt(c) {
        out.push((
            80,
            "Let's Encrypt (`/certificate enable-ssl-certificate`)".into(),
        ));
    }
    out
}

fn port_list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Interfaces with an address inside one of the prefixes: where management lives.
pub fn mgmt_interfaces(c: &Config, mgmt: &[Prefix]) -> Vec<String> {
    mgmt_interfaces_as(c, mgmt, |a| a.get_str("interface"))
}

/// [`mgmt_interfaces`], each name read by `name`.
fn mgmt_interfaces_as(
    c: &Config,
    mgmt: &[Prefix],
    name: impl Fn(&routeros_config::Item) -> Option<String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for menu in ["/ip address", "/ipv6 address"] {
        for a in c.items(menu) {
            if a.is_disabled() {
                continue;
            }
            let Some(net) = a.get("address").and_then(parse_addr) else {
                continue;
            };
            let net = AddrSet::from_range(net.range);
            if mgmt
                .iter()
                .any(|p| p.v6 == net.v6 && !p.set.intersect(&net).is_empty())
            {
                out.extend(name(a));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// IPv6 management when `--mgmt` names none: the IPv6 prefixes of the interfaces where IPv4
/// management lives, and link-local addresses on those interfaces.
pub fn derived_v6_mgmt(c: &Config, intent: &Intent) -> (Vec<Prefix>, Vec<String>) {
    if intent.mgmt.iter().any(|p| p.v6) {
        return (Vec::new(), Vec::new());
    }
    // The names as the router holds them (the link-local accept writes them back).
    let ifaces = mgmt_interfaces_as(c, &intent.mgmt, |a| text_of(a, "interface"));
    let mut prefixes: Vec<Prefix> = Vec::new();
    for a in c.items("/ipv6 address") {
        if a.is_disabled() || !text_of(a, "interface").is_some_and(|i| ifaces.contains(&i)) {
            continue;
        }
        if let Some(p) = a
            .get_str("address")
            .and_then(|s| Prefix::parse(&v6_with_length(&s)).ok())
        {
            if !prefixes.iter().any(|q| q.text == p.text) {
                prefixes.push(p);
            }
        }
    }
    (prefixes, ifaces)
}

/// An `/ipv6 address` as its network: one exported without a length is a /64 (ROUTEROS.md,
/// "IPv6 addresses": RouterOS adds /64 when none is given, and prints it without one).
pub fn v6_with_length(a: &str) -> String {
    if a.contains('/') {
        a.to_string()
    } else {
        format!("{a}/64")
    }
}

/// The link-local prefix, for IPv6 management on its own link.
pub fn link_local() -> Prefix {
    Prefix::parse("fe80::/10").expect("a prefix")
}

/// The plaintext API's port, when it stays on (`--keep-plain-api`) and sources beyond the API
/// clients and management (`trusted`) may reach it in this family on some interface: the port
/// where staging can act. What reaches it is today's (the attacker's view): the plan changes
/// neither the API's `address=` nor the firewall on its port, and the final drop leaves it out.
fn open_plain_api_port(c: &Config, intent: &Intent, trusted: &[&Prefix], v6: bool) -> Option<u16> {
    if !intent.keep_plain_api || !service_enabled(c, "api") {
        return None;
    }
    let port = exposure::service_state(c, "api", v6)?.0;
    let trusted = trusted
        .iter()
        .filter(|p| p.v6 == v6)
        .fold(AddrSet::empty(v6), |acc, p| acc.union(&p.set));
    let reach = Reach::new(c, Assume::Attacker);
    interfaces(c)
        .iter()
        .any(|i| !reach.service("api", v6, i).minus(&trusted).is_empty())
        .then_some(port)
}

/// One rule of the block: its tag, properties, description, findings it fixes.
pub(crate) struct BlockRule {
    pub(crate) tag: String,
    pub(crate) props: Vec<(&'static str, String)>,
    description: String,
    fixes: Vec<&'static str>,
    phase: Phase,
    /// A drop: run only while the family's accepts are there.
    pub(crate) drop: bool,
}

/// Address lists, the rule block per family, and open API accepts disabled.
pub fn plan(
    c: &Config,
    intent: &Intent,
    kept: &super::keep::Kept,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
    foreign: &mut Vec<String>,
) {
    let api_ssl_port = intent
        .api_port
        .or_else(|| service_port(c, "api-ssl"))
        .unwrap_or(8729);
    let services = enabled_after(c, api_ssl_port, intent.api_clients.is_empty());
    let mut mgmt_ports: Vec<u16> = services.iter().map(|s| s.1).collect();
    mgmt_ports.sort_unstable();
    mgmt_ports.dedup();
    let features = feature_ports(c);
    // What the services listen on today, before the plan: the ports an earlier run's rule may
    // keep when it is moved to new ones ([`moved_ports`]).
    let listening: Vec<u16> = SERVICES
        .iter()
        .filter(|s| service_enabled(c, s))
        .filter_map(|s| service_port(c, s))
        .collect();
    let mut drop_ports = mgmt_ports.clone();
    for (port, what) in &features {
        if drop_ports.contains(port) {
            drop_ports.retain(|p| p != port);
            notes.push(format!(
                "tcp/{port} left out of the drop: {what} listens on it"
            ));
        }
    }
    let tracking_off = crate::audit::firewall::tracking_off(c);
    if tracking_off {
        let mut note = "connection tracking is off (`/ip firewall connection tracking enabled=no`): the rules added match every packet (no `connection-state=`), no brute-force staging is added (it counts connections), and TG206/TG207 are left open; `set enabled=auto` and run harden again for them".to_string();
        // Not picked up mid-stream, the connection that turns tracking on is `invalid` to it
        // from then on ([`crate::audit::firewall::loose_tcp_tracking`]).
        if !crate::audit::firewall::loose_tcp_tracking(c) {
            note.push_str(" (with `loose-tcp-tracking=no` the connection that sets it is `invalid` to tracking from then on, and a rule dropping `invalid` packets cuts it: reconnect before running harden again)");
        }
        notes.push(note);
    }
    let (v6_derived, v6_ifaces) = derived_v6_mgmt(c, intent);
    let v6_active = exposure::ipv6_active(c);
    // TG206 is the router's: it asks for staging wherever more than a few named prefixes, or
    // any subscriber, reach the API over either family. With API clients or management that
    // wide, or among the subscribers, api-ssl stays so reached (accepted above any staging, as
    // they must be), and staging the plaintext API does not fix it.
    let trusted_narrow = [false, true].iter().all(|&v6| {
        let set = intent
            .api_clients
            .iter()
            .chain(&intent.mgmt)
            .chain(&kept.api)
            .chain(&kept.mgmt)
            .chain(&v6_derived)
            .filter(|p| p.v6 == v6)
            .fold(AddrSet::empty(v6), |acc, p| acc.union(&p.set));
        let subscribers = crate::audit::subscribers::detect(c).iter().any(|s| {
            s.addresses_unknown || !set.intersect(if v6 { &s.v6 } else { &s.v4 }).is_empty()
        });
        !subscribers
            && crate::audit::reach::Reach::of(&set).width() == crate::audit::reach::Width::Narrow
    });
    for v6 in [false, true] {
        if v6 && !v6_active {
            continue;
        }
        let fam = if v6 { "ipv6" } else { "ip" };
        let lists = format!("/{fam} firewall address-list");
        foreign.extend(super::foreign::entries(&lists, fam, c.items(&lists)));
        let filter = format!("/{fam} firewall filter");
        // The given prefixes, and the allow-lists kept ([`super::keep`]) that they do not cover
        // already (a list this plan wrote holds the given prefixes and link-local addresses,
        // which are accepted as such: kept again they would widen link-local to every link).
        let ll = link_local();
        // Management's accept covers api-ssl too: what it holds needs no API client entry.
        let given_mgmt: Vec<&Prefix> = intent
            .mgmt
            .iter()
            .chain(&v6_derived)
            .chain(std::iter::once(&ll))
            .collect();
        let covered = |given: &[&Prefix], p: &Prefix| {
            given
                .iter()
                .any(|g| g.v6 == p.v6 && g.set.contains_set(&p.set))
        };
        let given_api: Vec<&Prefix> = intent
            .api_clients
            .iter()
            .chain(given_mgmt.iter().copied())
            .collect();
        let clients: Vec<&Prefix> = intent
            .api_clients
            .iter()
            .chain(kept.api.iter().filter(|p| !covered(&given_api, p)))
            .filter(|p| p.v6 == v6)
            .collect();
        let mut mgmt: Vec<&Prefix> = intent
            .mgmt
            .iter()
            .chain(kept.mgmt.iter().filter(|p| !covered(&given_mgmt, p)))
            .filter(|p| p.v6 == v6)
            .collect();
        if v6 {
            mgmt.extend(v6_derived.iter());
        }
        let mut clients = clients;
        for v in [&mut clients, &mut mgmt] {
            let mut seen: Vec<&str> = Vec::new();
            v.retain(|p| {
                let new = !seen.contains(&p.text.as_str());
                seen.push(&p.text);
                new
            });
        }
        for (list, prefixes, what) in [
            ("tikguard-api-clients", &clients, "API client"),
            ("tikguard-mgmt", &mgmt, "management"),
        ] {
            for p in prefixes.iter() {
                let same = |i: &&routeros_config::Item| {
                    i.get_str("list").as_deref() == Some(list)
                        && i.get_str("address").as_deref() == Some(p.text.as_str())
                };
                let entries: Vec<&routeros_config::Item> =
                    c.items(&lists).iter().filter(same).collect();
                foreign.extend(
                    entries
                        .iter()
                        .filter_map(|i| super::foreign::not_lasting(&lists, i)),
                );
                if !entries.is_empty() {
                    continue;
                }
                out.push(add_unique(
                    &lists,
                    &format!("{fam}-{list}:{}", p.text),
                    vec![("list", list.into()), ("address", p.text.clone())],
                    &["list", "address"],
                    true,
                    format!("{what} {} in list {list} ({fam})", p.text),
                    Phase::Prepare,
                ));
            }
        }
        let new = || ("connection-state", "new".to_string());
        let tcp = || ("protocol", "tcp".to_string());
        let tag = |s: &str| format!("{TAG}{fam}-{s}");
        // Where staging can act (module docs): the plaintext API kept open beyond the trusted.
        let trusted: Vec<&Prefix> = clients.iter().chain(&mgmt).copied().collect();
        let staged = if tracking_off {
            None
        } else {
            open_plain_api_port(c, intent, &trusted, v6)
        };
        // While it is staged, the accepts take the API clients and management on it too:
        // staging never counts them, and a block list holding them costs them nothing.
        let with_staged = |ports: &[u16]| {
            let mut v = ports.to_vec();
            v.extend(staged);
            v.sort_unstable();
            v.dedup();
            v
        };
        let accept_ports = with_staged(&mgmt_ports);
        let api_ports = with_staged(&[api_ssl_port]);
        // The block in its final order.
        let mut block: Vec<BlockRule> = Vec::new();
        if !clients.is_empty() {
            block.push(BlockRule {
                tag: tag("api-accept"),
                props: vec![
                    ("chain", "input".into()),
                    ("action", "accept".into()),
                    tcp(),
                    ("dst-port", port_list(&api_ports)),
                    ("src-address-list", "tikguard-api-clients".into()),
                    new(),
                ],
                description: match staged {
                    Some(p) => format!("accept api-ssl (tcp/{api_ssl_port}) and, while it stays on, the plaintext API (tcp/{p}) from the API clients"),
                    None => format!("accept api-ssl (tcp/{api_ssl_port}) from the API clients"),
                },
                fixes: vec![],
                phase: Phase::Accept,
                drop: false,
            });
        }
        if !mgmt.is_empty() {
            block.push(BlockRule {
                tag: tag("mgmt-accept"),
                props: vec![
                    ("chain", "input".into()),
                    ("action", "accept".into()),
                    tcp(),
                    ("dst-port", port_list(&accept_ports)),
                    ("src-address-list", "tikguard-mgmt".into()),
                    new(),
                ],
                description: format!(
                    "accept management (tcp/{}) from the management prefixes",
                    port_list(&accept_ports)
                ),
                fixes: vec![],
                phase: Phase::Accept,
                drop: false,
            });
        }
        if v6 {
            for iface in &v6_ifaces {
                block.push(BlockRule {
                    tag: tag(&format!("link-local-accept:{iface}")),
                    props: vec![
                        ("chain", "input".into()),
                        ("action", "accept".into()),
                        tcp(),
                        ("dst-port", port_list(&accept_ports)),
                        ("src-address", "fe80::/10".into()),
                        ("in-interface", iface.clone()),
                        new(),
                    ],
                    description: format!(
                        "accept management (tcp/{}) from link-local addresses on `{iface}`, where management lives",
                        port_list(&accept_ports)
                    ),
                    fixes: vec![],
                    phase: Phase::Accept,
                    drop: false,
                });
            }
        }
        // Accepts limited to some interfaces, repeated above the drop as they are, for the
        // management ports they cover ([`super::keep::Limited`]): their sources keep access
        // where they have it, and gain none elsewhere.
        for l in kept.limited.iter().filter(|l| l.v6 == v6) {
            let covers = |s: &str| {
                l.services
                    .iter()
                    .any(|k| *k == s || (*k == "api" && s == "api-ssl"))
            };
            let mut ports: Vec<u16> = services
                .iter()
                .filter(|(s, _)| covers(s))
                .map(|s| s.1)
                .collect();
            if l.services.contains(&"api") {
                ports.extend(staged);
            }
            ports.sort_unstable();
            ports.dedup();
            if ports.is_empty() {
                continue;
            }
            let shown: Vec<String> = l.matchers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let digest = {
                use sha2::Digest;
                let mut h = sha2::Sha256::new();
                h.update(fam.as_bytes());
                for (k, v) in &l.matchers {
                    h.update([0]);
                    h.update(k.as_bytes());
                    h.update([0]);
                    h.update(v.as_bytes());
                }
                hex::encode(&h.finalize()[..5])
            };
            let mut props = vec![
                ("chain", "input".into()),
                ("action", "accept".into()),
                tcp(),
                ("dst-port", port_list(&ports)),
            ];
            props.extend(l.matchers.iter().cloned());
            props.push(new());
            block.push(BlockRule {
                tag: tag(&format!("keep-accept:{digest}")),
                props,
                description: format!(
                    "keep what {fam} filter rule {} accepts today (tcp/{}, {}), limited to its interfaces as it is",
                    l.number,
                    port_list(&ports),
                    shown.join(" ")
                ),
                fixes: vec![],
                phase: Phase::Accept,
                drop: false,
            });
        }
        // Every later packet of a connection the accepts below let in is `established`: without
        // an accept for those above every drop, a management connection gets its first packet
        // in and loses the rest (ROUTEROS.md, "Connection tracking"). First in the chain.
        if !tracking_off && !Firewall::from_config(c, v6).accepts_established_first() {
            block.insert(
                0,
                BlockRule {
                    tag: tag("established"),
                    props: vec![
                        ("chain", "input".into()),
                        ("action", "accept".into()),
                        ("connection-state", "established,related".into()),
                    ],
                    description: "accept established and related packets first: the accepts below take a connection's first packet, this one the rest".into(),
                    fixes: vec![],
                    phase: Phase::Accept,
                    drop: false,
                },
            );
        }
        let accepts: Vec<String> = block.iter().map(|r| r.tag.clone()).collect();
        if let Some(port) = staged {
            let ports = port.to_string();
            block.push(BlockRule {
                tag: tag("blacklist-drop"),
                props: vec![
                    ("chain", "input".into()),
                    ("action", "drop".into()),
                    tcp(),
                    ("dst-port", ports.clone()),
                    ("src-address-list", "tikguard-blacklist".into()),
                    new(),
                    ("log", "yes".into()),
                    ("log-prefix", "tikguard-blacklist".into()),
                ],
                description: format!(
                    "drop sources on the brute-force block list (the plaintext API, tcp/{ports})"
                ),
                fixes: vec![],
                phase: Phase::Drop,
                drop: true,
            });
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
                    tcp(),
                    ("dst-port", ports.clone()),
                    new(),
                ];
                match from {
                    Some(f) => p.push(("src-address-list", f.to_string())),
                    None if !clients.is_empty() => {
                        p.push(("src-address-list", "!tikguard-api-clients".into()))
                    }
                    None => {}
                }
                block.push(BlockRule {
                    tag: tag(stage),
                    props: p,
                    description: format!(
                        "brute-force staging: new connection to the plaintext API (open beyond the API clients while it stays on) -> {to} ({timeout})"
                    ),
                    fixes: if trusted_narrow { vec!["TG206"] } else { vec![] },
                    phase: Phase::Stage,
                    drop: false,
                });
            }
        }
        if !drop_ports.is_empty() {
            let ports = port_list(&drop_ports);
            if staged.is_none() && !tracking_off && !v6 {
                notes.push(format!("brute-force staging not added: after the plan the management ports (tcp/{ports}) are open only to the API clients and management, and the final drop takes every other source's connection before a login, so staging would count only sources that are dropped anyway (TG206 asks for staging only where more than a few named prefixes reach the API)"));
            }
            let mut fixes = vec![];
            if !v6 || !clients.is_empty() || !mgmt.is_empty() {
                fixes.push("TG207");
            }
            block.push(BlockRule {
                tag: tag("mgmt-drop"),
                props: vec![
                    ("chain", "input".into()),
                    ("action", "drop".into()),
                    tcp(),
                    ("dst-port", ports.clone()),
                    new(),
                    ("log", "yes".into()),
                    ("log-prefix", "tikguard-mgmt-drop".into()),
                ],
                description: format!(
                    "drop and log every other new connection to a management port (tcp/{ports})"
                ),
                fixes,
                phase: Phase::Drop,
                drop: true,
            });
        }
        if tracking_off {
            // Every `connection-state=` matcher is inert: the block matches every packet of a
            // management port; staging, which counts connections, cannot work.
            block.retain(|r| r.phase != Phase::Stage);
            for r in &mut block {
                r.props.retain(|(k, _)| *k != "connection-state");
                r.fixes.retain(|f| !["TG206", "TG207"].contains(f));
            }
        }
        // No drop per WAN interface on top: the management ports are what it could drop, and
        // `mgmt-drop` above drops them from every source on every interface already (a rule
        // behind it could never match). Other IPv6 services (an SSTP server on 443, a BGP peer
        // opening its session to 179) are left as they are.
        remove_stale_keeps(c, &filter, &block, out);
        emit_block(c, &filter, block, &accepts, &listening, out, foreign);
    }
    disable_open_api_accepts(c, out);
    log_api_drops(c, out, notes);
}

/// Drops naming the API port that do not log (TG207): given `log=yes` where a unique comment
/// names the rule; otherwise TG207 is not claimed and the plan says which rule to change.
fn log_api_drops(c: &Config, out: &mut Vec<Change>, notes: &mut Vec<String>) {
    let ports = exposure::api_ports(c);
    let mut unnamed = Vec::new();
    for fam in ["ip", "ipv6"] {
        let filter = format!("/{fam} firewall filter");
        let items = c.items(&filter);
        let fw = Firewall::from_config(c, fam == "ipv6");
        for r in fw.rules_naming(Action::Drop, &ports).filter(|r| !r.log) {
            let comment = text_of(&items[r.number], "comment").filter(|cm| {
                !cm.is_empty()
                    && items
                        .iter()
                        .filter(|i| text_of(i, "comment").as_deref() == Some(cm.as_str()))
                        .count()
                        == 1
            });
            let Some(comment) = comment else {
                unnamed.push(format!("{fam} filter rule {}", r.number));
                continue;
            };
            let target = Target::Find(vec![Cond::eq("comment", &comment)]);
            out.push(Change {
                id: format!("{fam}-log-api-drop:{comment}"),
                description: format!(
                    "log what {fam} filter rule \"{comment}\" drops (it names the API port)"
                ),
                fixes: vec!["TG207"],
                phase: Phase::Restrict,
                lines: vec![Stmt::set(&filter, target.clone()).arg("log", "yes").into()],
                guard: None,
                undo: vec![Stmt::set(&filter, target).arg("log", "no").into()],
            });
        }
    }
    if !unnamed.is_empty() {
        for ch in out.iter_mut() {
            ch.fixes.retain(|f| *f != "TG207");
        }
        notes.push(format!(
            "TG207 left open: {} drop the API port without logging and have no unique comment to name them by; add log=yes to them",
            unnamed.join(", ")
        ));
    }
}

/// The ports an earlier run's rule `have` moves to when it lacks some of the plan's `want` (a
/// service's port changed since that run: `port` is where a service listens, MikroTik's IP
/// Services manual, and real exports move it, `set ssh port=222` in the corpus' memhamwan
/// routers), or `None`
/// when it covers them already (an accept may hold more: the plaintext API while it was staged).
/// The new list is the plan's ports and those of `have` that an enabled service listens on
/// today (`listening`): what the rule did for a service that has not moved, it keeps doing;
/// a port nothing listens on any longer goes. A list that is not single ports was refused as
/// not the plan's ([`super::foreign`]).
fn moved_ports(have: &str, want: &str, listening: &[u16]) -> Option<String> {
    if super::foreign::covers(have, want) {
        return None;
    }
    let have = super::foreign::single_ports(have)?;
    let mut ports = super::foreign::single_ports(want)?;
    ports.extend(have.iter().filter(|p| listening.contains(p)));
    ports.sort_unstable();
    ports.dedup();
    Some(port_list(&ports))
}

/// The change that moves the plan's rule `r`, present in `items`, to the ports of today, if it
/// needs one ([`moved_ports`]); an error saying why it cannot be told to be the plan's when
/// several rules carry its comment (the rest was refused by [`super::foreign::rules`]).
fn moved_rule(
    filter: &str,
    items: &[routeros_config::Item],
    r: &BlockRule,
    listening: &[u16],
    drop_guard: impl Fn(Guard) -> Guard,
) -> Option<Result<Change, String>> {
    let (_, want) = r.props.iter().find(|(k, _)| *k == "dst-port")?;
    let mine: Vec<String> = items
        .iter()
        .filter(|i| text_of(i, "comment").as_deref() == Some(r.tag.as_str()))
        .map(|i| text_of(i, "dst-port").unwrap_or_default())
        .collect();
    let mut moved = mine
        .iter()
        .filter_map(|have| Some((moved_ports(have, want, listening)?, have.clone())));
    let (to, have) = moved.next()?;
    if mine.len() > 1 {
        // One `set [find ...]` would give every one of them the same ports, and which of them
        // an earlier run wrote cannot be told.
        return Some(Err(comment_text(&format!(
            "{filter} has {} rules carrying the comment `{}` that tikguard writes for one, and the ports of a service they name have changed; check who added them, then remove all but one, and run again",
            mine.len(),
            r.tag
        ))));
    }
    let target = Target::Find(vec![Cond::eq("comment", &r.tag)]);
    Some(Ok(Change {
        id: format!("{}:ports", r.tag.trim_start_matches(TAG)),
        description: format!(
            "move `{}` from tcp/{have} to tcp/{to}: a service's port changed since it was added",
            r.tag
        ),
        fixes: r.fixes.clone(),
        phase: r.phase,
        lines: vec![Stmt::set(filter, target.clone()).arg("dst-port", to).into()],
        guard: r.drop.then(|| drop_guard(Guard::default())),
        undo: vec![Stmt::set(filter, target).arg("dst-port", have).into()],
    }))
}

/// Renders the block as guarded additions placed as the module docs say, and the plan's rules
/// an earlier run added moved to the ports the services listen on now.
///
/// A moved rule is `set` in place, so it keeps its place in the chain (MikroTik's Firewall
/// Filter manual: `dst-port` is the rule's list of destination ports, and `set` changes a
/// property of the rule it names). It is set where its own phase runs ([`super::order`]): the
/// accepts take the new
/// ports before any drop does, so no prefix of the script drops management on a port its accept
/// does not cover yet, and the drops are set last, guarded like an added drop by the family's
/// accepts being present. The rollback sets the earlier ports back, drops first.
fn emit_block(
    c: &Config,
    filter: &str,
    block: Vec<BlockRule>,
    accepts: &[String],
    listening: &[u16],
    out: &mut Vec<Change>,
    foreign: &mut Vec<String>,
) {
    let items = c.items(filter);
    foreign.extend(super::foreign::rules(filter, items, &block));
    let existing = |tag: &str| {
        items
            .iter()
            .any(|i| text_of(i, "comment").as_deref() == Some(tag))
    };
    let drop_guard = |present: Guard| {
        accepts.iter().fold(present, |mut g, t| {
            g.present
                .push((filter.to_string(), vec![Cond::eq("comment", t)]));
            g
        })
    };
    let block_tags: Vec<String> = block.iter().map(|r| r.tag.clone()).collect();
    // Execution order: by phase, the block order within a phase; the block-list drop runs after
    // the final drop (both are Phase::Drop; the final drop comes later in the block).
    let mut order: Vec<usize> = (0..block.len()).collect();
    order.sort_by_key(|&i| {
        (
            block[i].phase,
            block[i].drop && block[i].tag.ends_with("blacklist-drop"),
        )
    });
    // Which rules exist when each one runs, to know whether there is anything to place before.
    let mut present: Vec<String> = items
        .iter()
        .map(|i| text_of(i, "comment").unwrap_or_default())
        .collect();
    for i in order {
        let r = &block[i];
        let above: Vec<&String> = block_tags[..i].iter().collect();
        let will_exist_after = present.iter().any(|t| !above.contains(&t) && *t != r.tag);
        if existing(&r.tag) {
            match moved_rule(filter, items, r, listening, drop_guard) {
                Some(Ok(change)) => out.push(change),
                Some(Err(why)) => foreign.push(why),
                None => {}
            }
            continue;
        }
        let mut props: Vec<(&str, String)> = r.props.clone();
        props.push(("comment", r.tag.clone()));
        let mut stmt = Stmt::add(filter).args(props);
        let skip: Vec<&str> = above.iter().map(|t| t.as_str()).collect();
        if let Some(conds) = crate::ros::placement::first(will_exist_after, &skip) {
            stmt = stmt.pick("place-before", conds);
        }
        let mut guard = Guard::absent(filter, vec![Cond::eq("comment", &r.tag)]);
        if r.drop {
            guard = drop_guard(guard);
        }
        present.push(r.tag.clone());
        out.push(Change {
            id: r.tag.trim_start_matches(TAG).to_string(),
            description: r.description.clone(),
            fixes: r.fixes.clone(),
            phase: r.phase,
            lines: vec![stmt.into()],
            guard: Some(guard),
            undo: vec![Stmt::new(
                filter,
                "remove",
                Target::Find(vec![Cond::eq("comment", &r.tag)]),
            )
            .into()],
        });
    }
}

/// Whether `item` of `filter` is an accept an earlier run repeated for an accept limited to
/// some interfaces ([`super::keep::Limited`]) that this plan no longer repeats: the operator
/// changed that accept's matchers or removed it since. It is such a rule only in the form the
/// plan writes it: its keep-accept comment, an enabled `input` accept of TCP ports with the
/// repeated matchers and nothing else; anything else under the comment is refused as not the
/// plan's ([`super::foreign`]).
pub(crate) fn stale_keep(filter: &str, item: &routeros_config::Item, block: &[BlockRule]) -> bool {
    let fam = if filter.starts_with("/ipv6") {
        "ipv6"
    } else {
        "ip"
    };
    let Some(comment) = text_of(item, "comment") else {
        return false;
    };
    if !comment.starts_with(&format!("{TAG}{fam}-keep-accept:"))
        || block.iter().any(|r| r.tag == comment)
        || item.is_disabled()
    {
        return false;
    }
    let is = |k: &str, v: &[u8]| item.get(k) == Some(v);
    let keys_ok = item.props.iter().all(|p| {
        let k = String::from_utf8_lossy(&p.key);
        [
            "chain",
            "action",
            "protocol",
            "dst-port",
            "connection-state",
            "comment",
        ]
        .contains(&k.as_ref())
            || crate::audit::keep::REPEATED.contains(&k.as_ref())
            || at_default(&k, p.value.as_bytes())
    });
    keys_ok
        && is("chain", b"input")
        && is("action", b"accept")
        && is("protocol", b"tcp")
        && text_of(item, "dst-port").is_some_and(|v| super::foreign::single_ports(&v).is_some())
        && item.get("connection-state").is_none_or(|v| v == b"new")
}

/// A property a router prints for every rule, at the value a rule gets without it
/// (`disabled=no`, `log=no`, an empty `log-prefix`: MikroTik's Firewall Filter manual gives
/// these defaults), as a live read shows them.
fn at_default(key: &str, value: &[u8]) -> bool {
    match key {
        "disabled" | "log" => value == b"no",
        "log-prefix" => value.is_empty(),
        _ => false,
    }
}

/// An earlier run's repeated accept ([`stale_keep`]) whose original was changed or removed
/// since goes: left, it would keep admitting the sources the operator took away. It is
/// removed after the plan's accepts are in (the source it admits loses access with it, and
/// the proof's table says so); the rollback adds it back, above every rule as the plan's
/// accepts are placed.
fn remove_stale_keeps(c: &Config, filter: &str, block: &[BlockRule], out: &mut Vec<Change>) {
    let items = c.items(filter);
    for item in items.iter().filter(|i| stale_keep(filter, i, block)) {
        let Some(comment) = text_of(item, "comment") else {
            continue;
        };
        let props: Vec<(String, String)> = item
            .props
            .iter()
            .filter(|p| !at_default(&String::from_utf8_lossy(&p.key), p.value.as_bytes()))
            .map(|p| {
                (
                    String::from_utf8_lossy(&p.key).into_owned(),
                    name_text(p.value.as_bytes()),
                )
            })
            .collect();
        let shown: Vec<String> = props
            .iter()
            .filter(|(k, _)| k != "comment")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let target = Target::Find(vec![Cond::eq("comment", &comment)]);
        let mut undo = Stmt::add(filter).args(props.iter().map(|(k, v)| (k.as_str(), v.clone())));
        if let Some(conds) = crate::ros::placement::first(true, &[]) {
            undo = undo.pick("place-before", conds);
        }
        out.push(Change {
            id: format!("{}:remove", comment.trim_start_matches(TAG)),
            description: format!(
                "remove `{comment}` ({}): an earlier run repeated an accept limited to its interfaces that is no longer there as it was (changed or removed since), and it would keep admitting its sources",
                shown.join(" ")
            ),
            fixes: vec![],
            phase: Phase::Last,
            lines: vec![Stmt::new(filter, "remove", target).into()],
            guard: None,
            undo: vec![undo.into()],
        });
    }
}

/// Accept rules for an API port with no source restriction are dead behind the block; disable
/// those a comment identifies, so nobody re-enables the open door by reordering (TG203).
fn disable_open_api_accepts(c: &Config, out: &mut Vec<Change>) {
    for fam in ["ip", "ipv6"] {
        let filter = format!("/{fam} firewall filter");
        let api_ports = exposure::api_ports(c);
        let fw = Firewall::from_config(c, fam == "ipv6");
        for r in fw
            .rules_naming(Action::Accept, &api_ports)
            .filter(|r| !r.has_src_restriction)
        {
            let item = &c.items(&filter)[r.number];
            // `find where comment=""` matches every rule without a comment: an empty comment
            // names nothing, and the rule is left as it is (TG203 not claimed for it).
            let Some(comment) = text_of(item, "comment").filter(|cm| !cm.is_empty()) else {
                continue;
            };
            let unique = c
                .items(&filter)
                .iter()
                .filter(|i| text_of(i, "comment").as_deref() == Some(comment.as_str()))
                .count()
                == 1;
            if comment.starts_with(TAG) || !unique {
                continue;
            }
            let target = Target::Find(vec![Cond::eq("comment", &comment)]);
            out.push(Change {
                // One change per rule: its comment makes the id unique, as it does the rule.
                id: format!("{fam}-disable-open-api-accept:{comment}"),
                description: format!(
                    "disable {fam} filter rule \"{comment}\" (accepts the API port from anyone)"
                ),
                fixes: vec!["TG203"],
                phase: Phase::Last,
                lines: vec![Stmt::new(&filter, "disable", target.clone()).into()],
                guard: None,
                undo: vec![Stmt::new(&filter, "enable", target).into()],
            });
        }
    }
}
