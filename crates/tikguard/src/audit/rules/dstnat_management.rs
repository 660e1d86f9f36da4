#![doc = include_str!("docs/TG211.md")]

use super::*;
use crate::audit::addrset::AddrSet;
use crate::audit::exposure::Zone;
use crate::audit::firewall::{Firewall, Probe};
use crate::audit::reach::{Reach, Width};

pub const RULE: Rule = Rule {
    id: "TG211",
    name: "management-published-by-dst-nat",
    severity: Severity::High,
    summary: "a dst-nat rule publishes the management of a device behind the router, or of the router, on the WAN side",
    doc: include_str!("docs/TG211.md"),
    check,
};

/// MikroTik management ports on a device behind the router (their defaults: MikroTik's IP
/// Services manual), and telnet.
const DEVICE_PORTS: &[(u16, &str)] = &[
    (8291, "winbox"),
    (8728, "api"),
    (8729, "api-ssl"),
    (23, "telnet"),
];

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let wan: Vec<&str> = cx
        .exposure
        .sides()
        .into_iter()
        .filter(|s| s.zone == Zone::Wan)
        .map(|s| s.interface)
        .collect();
    if wan.is_empty() {
        return;
    }
    let items = cx.config.items("/ip firewall nat");
    for r in Firewall::dstnat_rules(cx.config) {
        let Some(item) = items.get(r.number) else {
            continue;
        };
        let action = item.get_str("action").unwrap_or_default();
        let to_router = match action.as_str() {
            "redirect" => true,
            "dst-nat" => match item.get("to-addresses") {
                Some(a) => is_router_address(cx.config, a),
                None => continue,
            },
            _ => continue,
        };
        let target = |public: u16| match item.get_str("to-ports") {
            None => Some(public),
            Some(p) => p.parse::<u16>().ok(),
        };
        // The ports it is published on: `dst-port=` as plain numbers; none when it names a
        // range (`to-ports=` then maps ranges, not modelled) or nothing (then every port is).
        let publics: Vec<u16> = match item.get_str("dst-port") {
            Some(p) => match p.split(',').map(|x| x.parse::<u16>()).collect() {
                Ok(v) => v,
                Err(_) => continue,
            },
            None => match item.get_str("to-ports").and_then(|p| p.parse::<u16>().ok()) {
                Some(t) => vec![t],
                None => continue,
            },
        };
        for public in publics {
            let Some(port) = target(public) else {
                continue;
            };
            let service = if to_router {
                [
                    "winbox", "api", "api-ssl", "ssh", "telnet", "www", "www-ssl", "ftp",
                ]
                .into_iter()
                .find(|s| {
                    crate::audit::exposure::service_state(cx.config, s, false)
                        .is_some_and(|(p, on, _)| on && p == port)
                })
            } else {
                DEVICE_PORTS
                    .iter()
                    .find(|(p, _)| *p == port)
                    .map(|(_, s)| *s)
            };
            let Some(service) = service else {
                continue;
            };
            let mut set = AddrSet::empty(false);
            let mut forward_approx: Vec<usize> = Vec::new();
            for iface in &wan {
                let probe = Probe {
                    protocol: "tcp",
                    port: public,
                    interface: iface,
                };
                if !r.matches_probe(probe, &cx.exposure.lists) {
                    continue;
                }
                let mut matched = r.src().cloned().unwrap_or_else(|| AddrSet::all(false));
                if to_router {
                    // The input chain then sees the translated port, as for a direct
                    // connection: what it lets in on this interface is what gets through.
                    let let_in = cx
                        .exposure
                        .rows
                        .iter()
                        .filter(|row| {
                            row.family == "ipv4"
                                && row.zone == Zone::Wan
                                && row.interface == *iface
                                && row.service == service
                        })
                        .fold(AddrSet::empty(false), |acc, row| acc.union(&row.set));
                    matched = matched.intersect(&let_in);
                } else {
                    // To another host the connection goes through `forward`, its port
                    // already translated ([`Firewall::forward_dstnat`]).
                    let (through, approx) = cx.exposure.v4.forward_dstnat(
                        Probe {
                            protocol: "tcp",
                            port,
                            interface: iface,
                        },
                        &cx.exposure.lists,
                    );
                    matched = matched.intersect(&through);
                    if !matched.is_empty() {
                        forward_approx.extend(approx);
                    }
                }
                set = set.union(&matched);
            }
            if set.is_empty() {
                continue;
            }
            let reach = Reach::of(&set);
            let severity = match reach.width() {
                Width::Public => Severity::High,
                Width::Private => Severity::Medium,
                Width::Narrow => Severity::Low,
            };
            let whom = if to_router {
                "the router itself".to_string()
            } else {
                format!(
                    "`{}`",
                    crate::term::printable(&item.get_str("to-addresses").unwrap_or_default())
                )
            };
            forward_approx.sort_unstable();
            forward_approx.dedup();
            let after = if to_router {
                "the input filter lets it in".to_string()
            } else if forward_approx.is_empty() {
                "the forward chain lets it through".to_string()
            } else {
                format!(
                    "the forward chain lets it through, assuming forward rules {} match as an attacker would wish",
                    forward_approx
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let mut f = cx.finding(
                &RULE,
                Some(item),
                None,
                format!(
                    "ip nat rule {}{} publishes {service} (TCP port {port}) of {whom} on WAN port {public} to {} ({}; {after})",
                    r.number,
                    dynamic_first_note(cx.config),
                    reach.describe(),
                    sources(&set),
                ),
                vec![format!(
                    "/ip firewall nat set {} src-address-list=<management prefixes>",
                    nat_ref(item)
                )],
            );
            f.severity = severity;
            out.push(f);
        }
    }
}

/// The sources, for a message: up to three prefixes, then a count of the rest.
fn sources(set: &AddrSet) -> String {
    let shown = set.first_prefixes(3);
    match set.prefix_count().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        n => format!("{} and {n} more prefixes", shown.join(", ")),
    }
}

/// How a fix names the nat rule: by comment when it has one, else by what it matches and
/// where it sends connections.
fn nat_ref(item: &Item) -> String {
    use crate::ros::script::value;
    if let Some(c) = item.get_str("comment") {
        return format!("[find comment={}]", value(&c));
    }
    let mut find = String::from("[find chain=dstnat");
    for key in ["action", "dst-port", "to-addresses", "to-ports"] {
        if let Some(v) = item.get_str(key) {
            find.push_str(&format!(" {key}={}", value(&v)));
        }
    }
    find.push(']');
    find
}

/// Whether `to-addresses` is exactly one of the router's own IPv4 addresses (the host part of
/// an `/ip address` entry), not merely inside one of its networks.
fn is_router_address(c: &routeros_config::Config, to: &[u8]) -> bool {
    let Ok(to) = std::str::from_utf8(to).map(str::trim) else {
        return false;
    };
    let Ok(to) = to.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    c.items("/ip address").iter().any(|i| {
        i.get_str("address")
            .and_then(|a| a.split('/').next()?.parse::<std::net::Ipv4Addr>().ok())
            == Some(to)
    })
}
