//! Who loses access: every prefix, user and interface that could reach a management service before the
//! script and cannot after it.
//!
//! Candidates are what someone granted explicitly, per service: the entries of the service's
//! `address=` list, the static sources of `input` accepts covering its port, and the users the
//! export shows whose `address=` the plan changes. A source that reached a service only because
//! nothing restricted it (the open door the plan closes) is not a grant. Reach is the attacker's view (what *could*
//! get in) on both sides, over every packet of the connection, on every interface the
//! configuration names. Services compared: winbox, ssh, www-ssl and the API (plaintext, or
//! api-ssl with a certificate); the services the plan turns off are listed as changes.
//!
//! Groups too: the policies the plan takes from a group, and the address restriction it puts
//! on the group's users, listed for the group since exports do not show its users.
//!
//! Layer 2 too: every interface where MAC telnet, MAC winbox or neighbour discovery was on
//! before and is off after. A WAN interface (or a subscribers' access interface) that had them
//! only because they were on every interface (`all`, RouterOS' default, or the default entry
//! before 6.41) had the open door TG112/TG113 close, not a grant, and is not listed; one a
//! setting named is.

use routeros_config::Config;
use serde::Serialize;

use super::proof::{interfaces, Deadline, Reach};
use super::script::Line;
use super::Change;
use crate::audit::addrset::AddrSet;
use crate::audit::exposure::allowed_from;
use crate::audit::firewall::{Action, Assume, Exhausted, Firewall};

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Loss {
    /// `prefix`, `user`, `group` (what its users lose), or `interface` (layer 2).
    pub kind: &'static str,
    pub who: String,
    pub service: String,
    /// Where it is lost (interfaces), or what changes (a user's addresses).
    pub r#where: Vec<String>,
    /// The source reached the service before only in the attacker's view: through a run-time
    /// address list, or a matcher the analysis cannot decide (an accept whose
    /// `dst-address-list` is filled at run time). Whether it had access, and so loses it, is
    /// not known; the row says so rather than claim it.
    pub approximated: bool,
}

/// What someone granted explicitly, per service: (service, family, set, as written).
fn candidates(c: &Config) -> Vec<(&'static str, bool, AddrSet, String)> {
    let mut out: Vec<(&'static str, bool, AddrSet, String)> = Vec::new();
    let mut push = |svc: &'static str, set: &AddrSet| {
        for p in set.to_prefixes() {
            if let Some(m) = routeros_config::value::parse_addr(p.as_bytes()) {
                let s = AddrSet::from_range(m.range);
                if !s.is_all() && !out.iter().any(|(x, _, _, t)| *x == svc && *t == p) {
                    out.push((svc, m.range.v6, s, p));
                }
            }
        }
    };
    // The API stands for api and api-ssl together.
    let of = |svc: &str| -> &'static str {
        match svc {
            "winbox" => "winbox",
            "ssh" => "ssh",
            "www-ssl" => "www-ssl",
            _ => "api",
        }
    };
    for svc in ["winbox", "ssh", "www-ssl", "api", "api-ssl"] {
        let Some(item) = c.menu("/ip service").and_then(|m| m.by_name(svc)) else {
            continue;
        };
        let raw = item
            .get("available-from")
            .or_else(|| item.get("address"))
            .unwrap_or(b"");
        if raw.is_empty() {
            continue;
        }
        for v6 in [false, true] {
            push(of(svc), &allowed_from(raw, v6));
        }
    }
    for v6 in [false, true] {
        let fw = Firewall::from_config(c, v6);
        for r in fw.chain("input") {
            if r.action != Action::Accept || !r.has_src_restriction {
                continue;
            }
            let Some(s) = r.src() else { continue };
            if crate::audit::reach::Reach::of(s).width() == crate::audit::reach::Width::Public {
                continue;
            }
            for svc in ["winbox", "ssh", "www-ssl", "api", "api-ssl"] {
                let port = crate::audit::exposure::service_state(c, svc, false).map(|p| p.0);
                if port.is_some_and(|p| r.covers_port(p)) {
                    push(of(svc), s);
                }
            }
        }
    }
    out
}

/// The table: empty when nobody loses anything. Cut short by the budget, the attacker's view
/// would hide losses: an error.
pub(super) fn losses(
    seen: &super::proof::Before,
    before: &Config,
    after: &Config,
    changes: &[Change],
    wan: &[String],
    deadline: &Deadline,
) -> Result<Vec<Loss>, Exhausted> {
    let (b, sure) = (&seen.possible, &seen.certain);
    let a = Reach::within(after, Assume::Attacker, deadline.now());
    let ifaces = interfaces(before);
    let mut out = Vec::new();
    for (svc, v6, set, text) in candidates(before) {
        let get = |r: &Reach, i: &str| {
            if svc == "api" {
                r.api(v6, i)
            } else {
                r.service(svc, v6, i)
            }
        };
        let lost: Vec<String> = ifaces
            .iter()
            .filter(|i| {
                let had = get(b, i).intersect(&set);
                !had.is_empty() && !had.minus(&get(&a, i)).is_empty()
            })
            .cloned()
            .collect();
        if !lost.is_empty() {
            let approximated = !lost
                .iter()
                .any(|i| !get(sure, i).intersect(&set).is_empty());
            out.push(Loss {
                kind: "prefix",
                who: text.clone(),
                service: svc.to_string(),
                r#where: lost,
                approximated,
            });
        }
    }
    // Users the export shows whose addresses the plan sets.
    for u in before.items("/user") {
        let (Some(name), Some(group)) = (u.get_str("name"), u.get_str("group")) else {
            continue;
        };
        let had = u.get_str("address").unwrap_or_default();
        let now = after
            .items("/user")
            .iter()
            .find(|x| x.get_str("name").as_deref() == Some(name.as_str()))
            .and_then(|x| x.get_str("address"))
            .unwrap_or_default();
        let narrower = {
            let (h, n) = (
                allowed_from(had.as_bytes(), false),
                allowed_from(now.as_bytes(), false),
            );
            let (h6, n6) = (
                allowed_from(had.as_bytes(), true),
                allowed_from(now.as_bytes(), true),
            );
            !h.minus(&n).is_empty() || !h6.minus(&n6).is_empty()
        };
        let touched = changes.iter().flat_map(|c| &c.lines).any(|l| match l {
            Line::Cmd(s) => s.menu == "/user",
            _ => false,
        });
        if narrower && touched {
            out.push(Loss {
                kind: "user",
                who: format!("{name} (group {group})"),
                service: "login".into(),
                r#where: vec![format!(
                    "address {} -> {}",
                    if had.is_empty() { "any" } else { &had },
                    now
                )],
                approximated: false,
            });
        }
    }
    out.extend(group_losses(before, after, changes));
    out.extend(layer2_losses(before, after, wan));
    if let Some(e) = b
        .exhausted()
        .or_else(|| sure.exhausted())
        .or_else(|| a.exhausted())
    {
        return Err(e);
    }
    Ok(out)
}

/// What the users of a group lose, whoever they are (exports do not hold users, so a group's
/// users are mostly not shown): the policies the plan takes from the group, and the address
/// restriction it puts on every user of the group (`/user set [find where group=G]
/// address=`), as the plan writes it.
fn group_losses(before: &Config, after: &Config, changes: &[Change]) -> Vec<Loss> {
    use super::script::{Target, Val};
    use routeros_config::value::parse_list;
    let policies = |c: &Config, g: &str| -> Vec<String> {
        c.items("/user group")
            .iter()
            .find(|i| i.get_str("name").as_deref() == Some(g))
            .and_then(|i| i.get("policy"))
            .map(|p| {
                parse_list(p)
                    .into_iter()
                    .filter(|e| !e.negated)
                    .map(|e| String::from_utf8_lossy(e.name).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for g in before.items("/user group") {
        let Some(name) = g.get_str("name") else {
            continue;
        };
        let had = policies(before, &name);
        let now = policies(after, &name);
        let lost: Vec<&String> = had.iter().filter(|p| !now.contains(p)).collect();
        if !lost.is_empty()
            && after
                .items("/user group")
                .iter()
                .any(|i| i.get_str("name").as_deref() == Some(name.as_str()))
        {
            out.push(Loss {
                kind: "group",
                who: format!("users of group {name}"),
                service: "policies".into(),
                r#where: vec![format!(
                    "policies removed: {}",
                    lost.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )],
                approximated: false,
            });
        }
        let restricted = changes.iter().flat_map(|c| &c.lines).find_map(|l| match l {
            Line::Cmd(st)
                if st.menu == "/user"
                    && matches!(&st.target, Target::Every(cs) | Target::Find(cs)
                        if cs.iter().any(|c| !c.negated && c.key == "group" && c.value.as_deref() == Some(name.as_str()))) =>
            {
                st.args.iter().find_map(|(k, v)| match v {
                    Val::Text(t) if k == "address" => Some(t.clone()),
                    _ => None,
                })
            }
            _ => None,
        });
        if let Some(addr) = restricted {
            out.push(Loss {
                kind: "group",
                who: format!("users of group {name}"),
                service: "login".into(),
                r#where: vec![format!("address restricted to {addr}")],
                approximated: false,
            });
        }
    }
    out
}

/// Interfaces where MAC telnet, MAC winbox or neighbour discovery was on before and is off
/// after ([`crate::audit::macserver`]): layer-2 access, which no address restricts. `wan`: the
/// WAN interfaces (`*` when unknown: then none is taken as WAN, and every loss is listed).
fn layer2_losses(before: &Config, after: &Config, wan: &[String]) -> Vec<Loss> {
    use crate::audit::firewall::InterfaceLists;
    use crate::audit::macserver::{access, discovery, MacAccess};
    let everywhere = |m: &MacAccess| match m {
        // `all`, `static`, or all but a list (`!dynamic`, `!LAN`).
        MacAccess::List(l) => l == "all" || l == "static" || l.starts_with('!'),
        MacAccess::PerInterface { all, .. } => *all,
    };
    let wan = super::layer2::wan_side(before, wan);
    let named = super::layer2::named_interfaces(before);
    let (lb, la) = (
        InterfaceLists::from_config(before),
        InterfaceLists::from_config(after),
    );
    // One row per interface: the services it loses, and how each setting changes.
    let mut out: Vec<Loss> = Vec::new();
    for (service, b, a) in [
        (
            "MAC telnet",
            access(before, "/tool mac-server"),
            access(after, "/tool mac-server"),
        ),
        (
            "MAC winbox",
            access(before, "/tool mac-server mac-winbox"),
            access(after, "/tool mac-server mac-winbox"),
        ),
        ("neighbour discovery", discovery(before), discovery(after)),
    ] {
        let change = format!("{} -> {}", b.describe(), a.describe());
        for i in &named {
            if !b.covers(&lb, i) || a.covers(&la, i) || (everywhere(&b) && wan.contains(i)) {
                continue;
            }
            match out.iter_mut().find(|l| l.who == *i) {
                Some(l) => {
                    l.service.push_str(&format!(", {service}"));
                    if !l.r#where.contains(&change) {
                        l.r#where.push(change.clone());
                    }
                }
                None => out.push(Loss {
                    kind: "interface",
                    who: i.clone(),
                    service: service.into(),
                    r#where: vec![change.clone()],
                    approximated: false,
                }),
            }
        }
    }
    out
}
