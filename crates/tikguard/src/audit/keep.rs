//! Allow-lists that exist: who reaches a management service today through an explicit list.
//! Harden keeps them (unless `--replace-allow-lists`) and the audit's fix lines keep them too.
//!
//! - `/ip service address=` (7.24: `available-from`) of winbox, ssh, www-ssl, and of api and
//!   api-ssl (the API: the plaintext API's list moves to api-ssl, which replaces it). A list that
//!   admits every address restricts nothing and is not kept.
//! - Sources of `input` accepts that cover a management port (name it, or any port) with a
//!   static, narrow source (one limited to some interfaces only when its sources reach the port
//!   on every interface today anyway)
//!   (`src-address`, or `src-address-list` with static entries, less those with a timeout,
//!   which pass; wider than the public /16 that
//!   the audit calls the internet is not taken): the plan's drop sits above them, so their sources
//!   join the plan's accept lists, and the list of a service that had none (it admitted
//!   everyone; the firewall chose who). The plan's own accepts are not read back.

use routeros_config::Config;

use routeros_config::Item;

use super::prefix::Prefix;
use crate::audit::addrset::AddrSet;
use crate::audit::exposure::{allowed_from, known_interfaces, service_state};
use crate::audit::firewall::{Action, Firewall, InterfaceLists, Probe};
use crate::audit::reach::{Reach, Width};

/// What the plan keeps: per service, and per firewall list.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    /// (service, prefixes of its list); `api` stands for api and api-ssl.
    pub services: Vec<(&'static str, Vec<Prefix>)>,
    /// Sources for `tikguard-mgmt`.
    pub mgmt: Vec<Prefix>,
    /// Sources for `tikguard-api-clients`.
    pub api: Vec<Prefix>,
    /// Accepts limited to some interfaces, kept as they are ([`Limited`]).
    pub limited: Vec<Limited>,
}

/// An `input` accept for management ports whose sources it limits to some interfaces (a
/// management network on its own port: `src-address=10.9.0.0/24 in-interface=ether5`), where
/// those sources do not reach the port on every interface today. Joined to the plan's lists
/// (which hold on every interface) they would gain access elsewhere; left below the plan's drop
/// they would lose it. The plan repeats the rule's own matchers above its drop instead, for
/// the management ports the rule covers.
#[derive(Clone, Debug)]
pub struct Limited {
    pub v6: bool,
    /// The rule's matchers, as it writes them (names in [`crate::ros::script::name_text`]
    /// form, every byte kept): sources, interfaces and destinations.
    pub matchers: Vec<(&'static str, String)>,
    /// The services whose ports it covers (`api` stands for api and api-ssl).
    pub services: Vec<&'static str>,
    /// Its number among the family's filter rules, as the export shows them.
    pub number: usize,
    /// The sources it accepts.
    pub src: AddrSet,
}

/// The matchers a kept limited accept repeats; a rule with any other (`src-address-type`,
/// `limit`, a `!` protocol...) is not repeated, and the proof's table lists what its sources lose.
pub(crate) const REPEATED: &[&str] = &[
    "src-address",
    "src-address-list",
    "in-interface",
    "in-interface-list",
    "dst-address",
    "dst-address-list",
];

/// Keys of an accept that change nothing the copy must carry: what it is, its ports (the copy
/// names the plan's), a new connection's state, and its bookkeeping.
const BESIDE: &[&str] = &[
    "chain",
    "action",
    "protocol",
    "dst-port",
    "port",
    "connection-state",
    "comment",
    "disabled",
    "log",
    "log-prefix",
];

/// The rule as a [`Limited`], when it can be repeated exactly: only the keys above, TCP (or no
/// protocol), and, if it names connection states, `new` among them.
fn limited(
    item: &Item,
    v6: bool,
    number: usize,
    services: Vec<&'static str>,
    src: &AddrSet,
) -> Option<Limited> {
    for p in &item.props {
        let k = String::from_utf8_lossy(&p.key);
        if !REPEATED.contains(&k.as_ref()) && !BESIDE.contains(&k.as_ref()) {
            return None;
        }
    }
    if item
        .get("protocol")
        .is_some_and(|p| p != b"tcp" && p != b"6")
    {
        return None;
    }
    if item
        .get("connection-state")
        .is_some_and(|v| !v.split(|&b| b == b',').any(|s| s == b"new"))
    {
        return None;
    }
    let matchers = REPEATED
        .iter()
        .filter_map(|k| item.get(k).map(|v| (*k, crate::ros::script::name_text(v))))
        .collect();
    Some(Limited {
        v6,
        matchers,
        services,
        number,
        src: src.clone(),
    })
}

impl Kept {
    /// The kept prefixes of a service's list (`api-ssl` reads the API's).
    pub fn service(&self, svc: &str) -> Vec<&Prefix> {
        let svc = if svc == "api-ssl" { "api" } else { svc };
        self.services
            .iter()
            .filter(|(s, _)| *s == svc)
            .flat_map(|(_, p)| p.iter())
            .collect()
    }
}

fn prefixes(set: &AddrSet) -> Vec<Prefix> {
    set.to_prefixes()
        .iter()
        .filter_map(|p| Prefix::parse(p).ok())
        .collect()
}

fn push_unique(v: &mut Vec<Prefix>, ps: Vec<Prefix>) {
    for p in ps {
        if !v.iter().any(|q| q.text == p.text) {
            v.push(p);
        }
    }
}

/// A service's list as written, entry by entry, when it restricts (not empty, not every
/// address in whatever shape, such as two /1 halves).
fn list(c: &Config, svc: &str) -> Option<Vec<Prefix>> {
    let item = service(c, svc)?;
    let raw = item
        .get("available-from")
        .or_else(|| item.get("address"))
        .unwrap_or(b"");
    if raw.is_empty() || allowed_from(raw, false).is_all() || allowed_from(raw, true).is_all() {
        return None;
    }
    let mut out = Vec::new();
    for entry in raw.split(|&b| b == b',') {
        let text = String::from_utf8_lossy(entry);
        match Prefix::parse(&text) {
            Ok(p) => push_unique(&mut out, vec![p]),
            // A range (RouterOS prints prefixes, but an import may hold one): its prefixes.
            Err(_) => {
                if let Some(m) = routeros_config::value::parse_addr(entry).filter(|m| !m.negated) {
                    push_unique(&mut out, prefixes(&AddrSet::from_range(m.range)));
                }
            }
        }
    }
    Some(out)
}

fn service<'a>(c: &'a Config, name: &str) -> Option<&'a Item> {
    c.menu("/ip service")?.by_name(name)
}

/// The management services and the `/ip service` names each stands for.
const MGMT: &[(&str, &[&str])] = &[
    ("winbox", &["winbox"]),
    ("ssh", &["ssh"]),
    ("www-ssl", &["www-ssl"]),
    ("api", &["api", "api-ssl"]),
];

/// The sources of the accepts an earlier run repeated for ones limited to some interfaces
/// (comment `tikguard:<family>-keep-accept:`), per family. A repeat holds a narrow source
/// (wider ones are never repeated, [`known`]): a rule under that comment admitting the
/// internet is not one, and its source would strip every allow-list.
fn repeats(c: &Config, fws: &[Firewall; 2]) -> Vec<(bool, AddrSet)> {
    let mut out = Vec::new();
    for (v6, fw) in [false, true].into_iter().zip(fws) {
        let menu = if v6 {
            "/ipv6 firewall filter"
        } else {
            "/ip firewall filter"
        };
        let keep = format!(
            "{}{}-keep-accept:",
            crate::ros::TAG,
            if v6 { "ipv6" } else { "ip" }
        );
        let items = c.items(menu);
        for r in fw.chain("input") {
            if r.action != Action::Accept {
                continue;
            }
            let is_keep = items
                .get(r.number)
                .and_then(|i| i.get_str("comment"))
                .is_some_and(|t| t.starts_with(&keep));
            if let Some(src) = r
                .src()
                .filter(|s| is_keep && Reach::of(s).width() != Width::Public)
            {
                out.push((v6, src.clone()));
            }
        }
    }
    out
}

/// Who reaches management today through an explicit list (the module docs): the management
/// path the configuration shows, which the audit's fixes keep too.
pub fn known(c: &Config) -> Kept {
    let mut k = Kept::default();
    for &(svc, names) in MGMT {
        let mut ps = Vec::new();
        for name in names {
            if service(c, name).is_none_or(|i| i.is_disabled()) {
                continue;
            }
            if let Some(l) = list(c, name) {
                push_unique(&mut ps, l);
            }
        }
        if ps.is_empty() {
            continue;
        }
        if svc == "api" {
            push_unique(&mut k.api, ps.clone());
        } else {
            push_unique(&mut k.mgmt, ps.clone());
        }
        k.services.push((svc, ps));
    }
    let port = |s: &str| service_state(c, s, false).map(|p| p.0);
    let ifl = InterfaceLists::from_config(c);
    // The sources of the accepts an earlier run repeated for ones limited to some interfaces
    // (below: they are not read as management, and a service list holding them was written
    // for such accepts).
    // Each family's filter, compiled once for both walks.
    let fws = [
        Firewall::from_config(c, false),
        Firewall::from_config(c, true),
    ];
    let own_keeps = repeats(c, &fws);
    let mut ifaces = known_interfaces(c).0;
    ifaces.push("*".into());
    for (v6, fw) in [false, true].into_iter().zip(&fws) {
        let menu = if v6 {
            "/ipv6 firewall filter"
        } else {
            "/ip firewall filter"
        };
        let items = c.items(menu);
        for r in fw.chain("input") {
            if r.action != Action::Accept || !r.undecided.is_empty() {
                continue;
            }
            // This plan's own accepts hold what it was given and kept already.
            let ours = items
                .get(r.number)
                .and_then(|i| i.get_str("comment"))
                .is_some_and(|t| t.starts_with(crate::ros::TAG));
            let item = items.get(r.number);
            let by_interface = item.is_some_and(|i| {
                i.get("in-interface").is_some() || i.get("in-interface-list").is_some()
            });
            if ours {
                continue;
            }
            let Some(src) = r.src() else { continue };
            if r.src_list
                .as_ref()
                .is_some_and(|(neg, l)| *neg || fw.lists.written_at_run_time(l))
            {
                continue;
            }
            // A list's timed entries pass: copied into the plan's lists they would last.
            let timed = r
                .src_list
                .as_ref()
                .map(|(_, l)| fw.lists.expiring(l))
                .unwrap_or_else(|| AddrSet::empty(v6));
            let src = &src.minus(&timed);
            if src.is_empty() || Reach::of(src).width() == Width::Public {
                continue;
            }
            // An accept limited to some interfaces is kept only when its sources reach the
            // port on every interface today anyway (elsewhere through other rules, or the
            // chain's default accept): joining the plan's lists, which hold on every interface,
            // then widens nothing. Otherwise the proof's table lists what they lose.
            if by_interface {
                let everywhere = |port: u16| {
                    ifaces.iter().all(|i| {
                        src.minus(&fw.evaluate_connection(
                            Probe {
                                protocol: "tcp",
                                port,
                                interface: i,
                            },
                            &ifl,
                        ))
                        .is_empty()
                    })
                };
                let ports: Vec<u16> = ["winbox", "ssh", "www-ssl", "api", "api-ssl"]
                    .iter()
                    .filter_map(|n| port(n))
                    .filter(|&p| r.covers_port(p))
                    .collect();
                if !ports.iter().all(|&p| everywhere(p)) {
                    let services = MGMT
                        .iter()
                        .filter(|(_, names)| {
                            names
                                .iter()
                                .filter_map(|n| port(n))
                                .any(|p| r.covers_port(p))
                        })
                        .map(|(svc, _)| *svc)
                        .collect();
                    if let Some(l) = item.and_then(|i| limited(i, v6, r.number, services, src)) {
                        // A service's own `address=` cannot name interfaces: the sources join
                        // it (as today, where it admits everyone), and the repeated accept keeps
                        // them to the rule's interfaces.
                        for &svc in &l.services {
                            let names = MGMT.iter().find(|(s, _)| *s == svc).map(|m| m.1);
                            // A list an earlier run wrote for such accepts (it holds one's
                            // source) takes this one's sources as that run did; the
                            // operator's own list is left as it is.
                            let operators = |n: &&str| {
                                list(c, n).is_some_and(|ps| {
                                    !ps.iter().any(|p| {
                                        own_keeps
                                            .iter()
                                            .any(|(v6, s)| *v6 == p.v6 && s.contains_set(&p.set))
                                    })
                                })
                            };
                            if names.is_some_and(|ns| ns.iter().any(operators)) {
                                continue;
                            }
                            let ps = prefixes(src);
                            match k.services.iter_mut().find(|(s, _)| *s == svc) {
                                Some((_, v)) => push_unique(v, ps),
                                None => k.services.push((svc, ps)),
                            }
                        }
                        k.limited.push(l);
                    }
                    continue;
                }
            }
            for &(svc, names) in MGMT {
                if !names
                    .iter()
                    .filter_map(|n| port(n))
                    .any(|p| r.covers_port(p))
                {
                    continue;
                }
                let ps = prefixes(src);
                if svc == "api" {
                    push_unique(&mut k.api, ps.clone());
                } else {
                    push_unique(&mut k.mgmt, ps.clone());
                }
                // A service with a list of its own admits only that list: the accept's sources
                // reach it only where the list has them, which is kept above.
                if names.iter().any(|n| list(c, n).is_some()) {
                    continue;
                }
                match k.services.iter_mut().find(|(s, _)| *s == svc) {
                    Some((_, v)) => push_unique(v, ps),
                    None => k.services.push((svc, ps)),
                }
            }
        }
    }
    // Sources an interface-limited accept carries reach management only on its interfaces: a
    // service list naming them too (harden's own, written for them on an earlier run, or the
    // operator's) does not make them management everywhere.
    // One whose accept is gone (changed or removed since: harden removes the repeat) no
    // longer admits its sources anywhere, and the services' lists drop them too; read back
    // from there on the next run they would become management everywhere.
    for (v6, src) in &own_keeps {
        if k.limited
            .iter()
            .any(|l| l.v6 == *v6 && l.src.contains_set(src))
        {
            continue;
        }
        for (_, ps) in &mut k.services {
            ps.retain(|p| p.v6 != *v6 || !src.contains_set(&p.set));
        }
    }
    k.services.retain(|(_, ps)| !ps.is_empty());
    let limited = k.limited.iter().map(|l| (l.v6, l.src.clone()));
    for (v6, src) in limited.chain(own_keeps).collect::<Vec<_>>() {
        for v in [&mut k.mgmt, &mut k.api] {
            v.retain(|p| p.v6 != v6 || !src.contains_set(&p.set));
        }
    }
    k
}
