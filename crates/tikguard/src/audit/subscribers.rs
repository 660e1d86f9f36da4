//! The subscriber side of an ISP router: PPPoE server clients and hotspot clients are as
//! untrusted as the internet, so management they can reach is a finding (ROUTEROS.md,
//! "Reachability": the subscriber side).
//!
//! - **PPPoE**: each enabled `/interface pppoe-server server` (created disabled: an export
//!   shows `disabled=no` on an enabled one, as every server in the corpus does) gives each
//!   subscriber a dynamic interface `<pppoe-NAME>`. Its packets arrive on that interface, not
//!   on the server's Ethernet port: `in-interface=ether2` does not match them, while
//!   `in-interface=all-ppp`, the built-in `dynamic` list and the PPP profile's
//!   `interface-list=` do (MikroTik's PPP AAA and Interface Lists manuals). All of them are
//!   analysed as one interface, `<pppoe-*>`. Their addresses are the `remote-address` of the
//!   server's default profile and of PPPoE secrets and their profiles (a pool, with its
//!   `next-pool` chain, or an address); IPv6 prefixes come from `remote-ipv6-prefix-pool` and
//!   `dhcpv6-pd-pool`. With RADIUS (`/ppp aaa use-radius=yes`) or no address anywhere, the
//!   addresses are unknown and every IPv4 source counts (said in the report).
//! - **Hotspot**: each enabled `/ip hotspot` server's clients arrive on its `interface=`, from
//!   its `address-pool` or the interface's own networks. Before login the hotspot's dynamic
//!   `hs-unauth` rules reject them; once logged in they go through the `input` chain as written
//!   (MikroTik forum, "A little question about firewall rules to HotSpot": the dynamic rules
//!   jump to `hs-unauth` only for `hotspot=from-client,!auth`). So the rows are what a
//!   logged-in client reaches. The hotspot is IPv4 only ("Hotspot relies on Firewall NAT
//!   rules which currently are not supported for IPv6", MikroTik's HotSpot manual): its gate
//!   rules exist in `/ip firewall` alone, so over IPv6 every client on the interface, logged in
//!   or not, meets the `/ipv6 firewall filter` as written ("IPv6 traffic passes by the hotspot
//!   unhindered", mikrotik-routeros.com). Every client has a link-local address there, and one
//!   in each prefix the interface has (`/ipv6 address`, /64 when written without a length).

use routeros_config::value::parse_addr;
use routeros_config::{Config, Item};

use super::addrset::AddrSet;

/// One subscriber interface and who is behind it.
#[derive(Clone, Debug)]
pub struct Subscriber {
    /// `<pppoe-*>` for every PPPoE subscriber, else the hotspot's interface.
    pub interface: String,
    /// `PPPoE server on bridge1` / `hotspot hotspot1 on ether2`.
    pub why: String,
    pub v4: AddrSet,
    pub v6: AddrSet,
    /// The addresses could not be read from the export (RADIUS, no pool): every IPv4 source.
    pub addresses_unknown: bool,
    /// For a dynamic interface, the lists it joins (`interface-list=` of its profiles).
    pub dynamic_lists: Option<Vec<String>>,
}

/// The name the analysis gives every PPPoE subscriber's dynamic interface.
pub const PPPOE: &str = "<pppoe-*>";

/// The ranges a pool gives out, following `next-pool`; a value that is an address is itself.
fn pool_or_address(c: &Config, v6: bool, value: &str, out: &mut Vec<(u128, u128)>) -> bool {
    if let Some(a) = parse_addr(value.as_bytes()) {
        if a.range.v6 == v6 && !a.negated {
            out.push((a.range.start, a.range.end));
        }
        return true;
    }
    let menu = if v6 { "/ipv6 pool" } else { "/ip pool" };
    let key = if v6 { "prefix" } else { "ranges" };
    let mut name = value.to_string();
    let mut found = false;
    // `next-pool` may loop; a pool is visited once.
    let mut seen = std::collections::HashSet::new();
    while seen.insert(name.clone()) {
        let Some(pool) = c.menu(menu).and_then(|m| m.by_name(&name)) else {
            break;
        };
        found = true;
        for r in pool.get(key).unwrap_or(b"").split(|&b| b == b',') {
            if let Some(a) = parse_addr(r) {
                if a.range.v6 == v6 {
                    out.push((a.range.start, a.range.end));
                }
            }
        }
        match pool.get_str("next-pool") {
            Some(n) if !n.is_empty() && n != "none" => name = n,
            _ => break,
        }
    }
    found
}

/// The enabled servers of a subscriber menu (`/interface pppoe-server server`, `/ip hotspot`).
/// Both are created disabled: an export writes `disabled=no` on an enabled one, so an item
/// without it is off (the module doc above).
pub fn enabled_servers<'a>(c: &'a Config, menu: &str) -> impl Iterator<Item = &'a Item> {
    c.items(menu)
        .iter()
        .filter(|s| s.get("disabled") == Some(b"no"))
}

fn pppoe(c: &Config) -> Option<Subscriber> {
    let servers: Vec<_> = enabled_servers(c, "/interface pppoe-server server").collect();
    if servers.is_empty() {
        return None;
    }
    let mut profiles: Vec<String> = servers
        .iter()
        .map(|s| {
            s.get_str("default-profile")
                .unwrap_or_else(|| "default".into())
        })
        .collect();
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let mut known = false;
    for s in c.items("/ppp secret") {
        if s.is_disabled() || !matches!(s.get("service"), None | Some(b"any" | b"pppoe")) {
            continue;
        }
        profiles.extend(s.get_str("profile"));
        if let Some(r) = s.get_str("remote-address").filter(|r| !r.is_empty()) {
            known |= pool_or_address(c, false, &r, &mut v4);
        }
    }
    profiles.sort();
    profiles.dedup();
    let mut lists = Vec::new();
    for name in &profiles {
        let Some(p) = c.menu("/ppp profile").and_then(|m| m.by_name(name)) else {
            continue;
        };
        if let Some(r) = p.get_str("remote-address").filter(|r| !r.is_empty()) {
            known |= pool_or_address(c, false, &r, &mut v4);
        }
        for key in ["remote-ipv6-prefix-pool", "dhcpv6-pd-pool"] {
            if let Some(r) = p.get_str(key).filter(|r| !r.is_empty() && r != "none") {
                pool_or_address(c, true, &r, &mut v6);
            }
        }
        lists.extend(p.get_str("interface-list").filter(|l| !l.is_empty()));
    }
    let radius = c.setting("/ppp aaa", "use-radius") == Some(b"yes");
    let unknown = radius || !known;
    let on: Vec<String> = servers
        .iter()
        .filter_map(|s| s.get_str("interface"))
        .map(|i| crate::term::printable(&i).into_owned())
        .collect();
    Some(Subscriber {
        interface: PPPOE.into(),
        why: format!("PPPoE server on {}", on.join(", ")),
        v4: if unknown {
            AddrSet::all(false)
        } else {
            AddrSet::from_ranges(false, v4)
        },
        v6: AddrSet::from_ranges(true, v6),
        addresses_unknown: unknown,
        dynamic_lists: Some(lists),
    })
}

fn hotspots(c: &Config) -> Vec<Subscriber> {
    let mut out = Vec::new();
    for h in enabled_servers(c, "/ip hotspot") {
        let Some(iface) = h.get_str("interface") else {
            continue;
        };
        let mut v4 = Vec::new();
        let mut known = false;
        if let Some(p) = h.get_str("address-pool").filter(|p| p != "none") {
            known |= pool_or_address(c, false, &p, &mut v4);
        }
        for a in c.items("/ip address") {
            if a.is_disabled() || a.get("interface") != Some(iface.as_bytes()) {
                continue;
            }
            if let Some(net) = a.get("address").and_then(parse_addr) {
                // The interface's network: the prefix the address sits in.
                v4.push((net.range.start, net.range.end));
                known = true;
            }
        }
        let v6 = hotspot_v6(c, &iface);
        out.push(Subscriber {
            why: format!(
                "hotspot {} on {}",
                crate::term::printable(&h.get_str("name").unwrap_or_default()),
                crate::term::printable(&iface)
            ),
            interface: iface,
            v4: if known {
                AddrSet::from_ranges(false, v4)
            } else {
                AddrSet::all(false)
            },
            v6,
            addresses_unknown: !known,
            dynamic_lists: None,
        });
    }
    out
}

/// The IPv6 sources on a hotspot's interface: its link and the prefixes it has.
fn hotspot_v6(c: &Config, iface: &str) -> AddrSet {
    let mut set = super::reach::link_local(true);
    for a in c.items("/ipv6 address") {
        if a.is_disabled() || a.get("interface") != Some(iface.as_bytes()) {
            continue;
        }
        if let Some(net) = a
            .get("address")
            .and_then(routeros_config::value::parse_interface_addr)
            .filter(|n| n.range.v6)
        {
            set = set.union(&AddrSet::from_range(net.range));
        }
    }
    set
}

/// Every subscriber interface of the configuration.
pub fn detect(c: &Config) -> Vec<Subscriber> {
    let mut out: Vec<Subscriber> = pppoe(c).into_iter().collect();
    out.extend(hotspots(c));
    out
}
