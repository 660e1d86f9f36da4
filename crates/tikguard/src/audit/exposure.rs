//! Which sources reach each management service, per address family and WAN interface.
//!
//! Exposure = the sources the `input` chain accepts for the service's port on that interface,
//! intersected with the service's own `address=` list, or nothing when the service is disabled.
//! WAN interfaces are, in order of preference: `--wan`/`--wan-list`, members of the `WAN`
//! interface list, else of lists whose name contains "wan" (`zone-wan`, `list-WAN`), else
//! interfaces with a DHCP or PPPoE client or the default route, else every interface (reported
//! as `*`).

use routeros_config::value::{parse_addr, parse_int};
use routeros_config::Config;
use serde::Serialize;

use super::addrset::AddrSet;
use super::firewall::{Firewall, InterfaceLists, Probe};

/// The management services the analysis covers, with their default ports.
pub const SERVICES: &[&str] = &[
    "api", "api-ssl", "winbox", "ssh", "telnet", "ftp", "www", "www-ssl",
];

/// Where the WAN side comes from.
#[derive(Clone, Debug, Default)]
pub struct WanChoice {
    pub interfaces: Vec<String>,
    pub list: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub service: String,
    pub port: u16,
    pub family: &'static str,
    pub interface: String,
    pub reachable_from: Vec<String>,
    /// Filter rule numbers whose matchers were assumed to favour the attacker.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approximated_by: Vec<usize>,
    /// Filter rules whose `accept` lets these sources in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted_by: Vec<usize>,
    /// Some sources get in through the `input` chain's default accept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_default: bool,
    #[serde(skip)]
    pub set: AddrSet,
    #[serde(skip)]
    pub enabled: bool,
}

pub struct Exposure {
    pub wan: Vec<String>,
    /// How the WAN interfaces were chosen, for the report.
    pub wan_source: String,
    pub rows: Vec<Row>,
    pub v4: Firewall,
    pub v6: Firewall,
    pub lists: InterfaceLists,
}

/// The service's port, enabled state and allowed source set for a family.
pub fn service_state(c: &Config, name: &str, v6: bool) -> Option<(u16, bool, AddrSet)> {
    let item = c.menu("/ip service")?.by_name(name)?;
    let port = item
        .get("port")
        .and_then(parse_int)
        .and_then(|p| u16::try_from(p).ok())?;
    let enabled = !item.is_disabled();
    // RouterOS 7.24 renamed `address` to `available-from` (7.24 changelog; both are in its
    // command tree): read either.
    let addr = item
        .get("available-from")
        .or_else(|| item.get("address"))
        .unwrap_or(b"");
    let allowed = if addr.is_empty() {
        AddrSet::all(v6)
    } else {
        let ranges: Vec<(u128, u128)> = addr
            .split(|&c| c == b',')
            .filter_map(parse_addr)
            .filter(|a| a.range.v6 == v6 && !a.negated)
            .map(|a| (a.range.start, a.range.end))
            .collect();
        AddrSet::from_ranges(v6, ranges)
    };
    Some((port, enabled, allowed))
}

/// The ports `api` and `api-ssl` listen on (as configured, enabled or not).
pub fn api_ports(c: &Config) -> Vec<u16> {
    ["api", "api-ssl"]
        .iter()
        .filter_map(|s| service_state(c, s, false))
        .map(|(port, _, _)| port)
        .collect()
}

fn detect_wan(c: &Config, lists: &InterfaceLists, choice: &WanChoice) -> (Vec<String>, String) {
    if !choice.interfaces.is_empty() {
        return (choice.interfaces.clone(), "--wan".into());
    }
    if let Some(l) = &choice.list {
        return (lists.members(l), format!("--wan-list {l}"));
    }
    let members = lists.members("WAN");
    if !members.is_empty() {
        return (members, "interface list WAN".into());
    }
    // Lists named like `zone-wan`, `list-WAN`, `wan-uplinks`.
    let mut named: Vec<String> = Vec::new();
    let mut found_lists: Vec<String> = Vec::new();
    for l in c.items("/interface list") {
        let Some(name) = l.get_str("name") else {
            continue;
        };
        if !name.to_ascii_lowercase().contains("wan") {
            continue;
        }
        let m = lists.members(&name);
        if !m.is_empty() {
            named.extend(m);
            found_lists.push(name);
        }
    }
    if !named.is_empty() {
        named.sort();
        named.dedup();
        return (named, format!("interface list {}", found_lists.join(", ")));
    }
    let mut found: Vec<String> = Vec::new();
    for i in c.items("/ip dhcp-client") {
        if !i.is_disabled() {
            found.extend(i.get_str("interface"));
        }
    }
    for i in c.items("/interface pppoe-client") {
        if !i.is_disabled() {
            found.extend(i.get_str("name"));
        }
    }
    for r in c.items("/ip route") {
        let dst = r.get("dst-address").unwrap_or(b"0.0.0.0/0");
        if dst != b"0.0.0.0/0" || r.is_disabled() {
            continue;
        }
        let Some(gw) = r.get_str("gateway") else {
            continue;
        };
        match parse_addr(gw.as_bytes()) {
            None => found.push(gw),
            Some(g) => {
                for a in c.items("/ip address") {
                    let net = a.get("address").and_then(parse_addr);
                    if net.is_some_and(|n| {
                        n.range.v6 == g.range.v6
                            && n.range.start <= g.range.start
                            && g.range.start <= n.range.end
                    }) {
                        found.extend(a.get_str("interface"));
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    if !found.is_empty() {
        return (found, "DHCP/PPPoE client or default route".into());
    }
    (
        vec!["*".into()],
        "unknown: every interface counts as WAN".into(),
    )
}

/// Whether the router speaks IPv6 at all: RouterOS 6 ships the ipv6 package disabled, so a v6
/// export with no `/ipv6` menu has none; on 7 it is on unless `/ipv6 settings disable-ipv6=yes`.
pub fn ipv6_active(c: &Config) -> bool {
    if c.setting("/ipv6 settings", "disable-ipv6") == Some(b"yes") {
        return false;
    }
    let v6_era = c.version.as_ref().is_some_and(|v| v.major < 7);
    !v6_era || c.menus().any(|m| m.path.starts_with("/ipv6"))
}

pub fn analyse(c: &Config, choice: &WanChoice) -> Exposure {
    let lists = InterfaceLists::from_config(c);
    let (wan, wan_source) = detect_wan(c, &lists, choice);
    let v4 = Firewall::from_config(c, false);
    let v6 = Firewall::from_config(c, true);
    let mut rows = Vec::new();
    for &svc in SERVICES {
        for fw in [&v4, &v6] {
            if fw.v6 && !ipv6_active(c) {
                continue;
            }
            let Some((port, enabled, allowed)) = service_state(c, svc, fw.v6) else {
                continue;
            };
            for iface in &wan {
                let (set, approx, accepted_by, by_default) = if enabled {
                    let ev = fw.evaluate(
                        Probe {
                            protocol: "tcp",
                            port,
                            interface: iface,
                        },
                        &lists,
                    );
                    let set = ev.accepted.intersect(&allowed);
                    let open = !set.is_empty();
                    (
                        set,
                        ev.approximations,
                        if open { ev.accepted_by } else { Vec::new() },
                        open && ev.by_default,
                    )
                } else {
                    (AddrSet::empty(fw.v6), Vec::new(), Vec::new(), false)
                };
                rows.push(Row {
                    service: svc.to_string(),
                    port,
                    family: if fw.v6 { "ipv6" } else { "ipv4" },
                    interface: iface.clone(),
                    reachable_from: set.to_prefixes(),
                    approximated_by: if set.is_empty() { Vec::new() } else { approx },
                    accepted_by,
                    by_default,
                    set,
                    enabled,
                });
            }
        }
    }
    Exposure {
        wan,
        wan_source,
        rows,
        v4,
        v6,
        lists,
    }
}
