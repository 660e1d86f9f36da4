//! Which sources reach each management service, per address family and WAN interface.
//!
//! Exposure = the sources the `input` chain accepts for the service's port on that interface,
//! intersected with the service's own `address=` list, or nothing when the service is disabled.
//! WAN interfaces are, in order of preference: `--wan`/`--wan-list`, members of the `WAN`
//! interface list, else of lists whose name says outside (`zone-wan`, `ISP`, `uplinks`,
//! `internet`), else interfaces with an enabled DHCP or PPP-family client or the main table's
//! default route, else every interface (reported as `*`). The report says which, and why.

use routeros_config::value::{parse_addr, parse_int};
use routeros_config::Config;
use serde::Serialize;

use super::addrset::AddrSet;
use super::firewall::{Firewall, InterfaceLists, Probe};
use super::summary;

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

impl WanChoice {
    /// `--wan`/`--wan-list` must name what the configuration has; else the error lists what it
    /// has (the analysis would otherwise run on an interface nothing refers to).
    pub fn check(&self, c: &Config, source: &str) -> Result<(), String> {
        let (ifaces, lists) = known_interfaces(c);
        let show = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|s| crate::term::printable(s).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        for i in &self.interfaces {
            if !ifaces.contains(i) {
                return Err(format!(
                    "--wan {}: {source} has no such interface; it has: {}",
                    crate::term::printable(i),
                    show(&ifaces)
                ));
            }
        }
        if let Some(l) = &self.list {
            if !lists.contains(l) {
                return Err(format!(
                    "--wan-list {}: {source} has no such interface list; it has: {}",
                    crate::term::printable(l),
                    show(&lists)
                ));
            }
        }
        Ok(())
    }
}

/// Which side of the router a row looks from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// The WAN interfaces: the internet, or a provider's network.
    Wan,
    /// PPPoE and hotspot subscribers ([`super::subscribers`]).
    Subscriber,
    /// The interface of an access point or switch that gets its address by DHCP: the network
    /// it serves, not the internet ([`lan_side`]).
    Lan,
    /// A tunnel interface: its far end, and whoever holds the tunnel's key
    /// ([`super::tunnel`]).
    Tunnel,
}

impl Zone {
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Wan => "wan",
            Zone::Subscriber => "subscriber",
            Zone::Lan => "lan",
            Zone::Tunnel => "tunnel",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub service: String,
    pub port: u16,
    pub family: &'static str,
    pub zone: Zone,
    pub interface: String,
    /// The minimal prefix list of the sources that reach it, in address order; past
    /// [`summary::LIMIT`] prefixes only the first [`summary::LIMIT`], and `summary` says the rest.
    pub reachable_from: Vec<String>,
    /// A set of more than [`summary::LIMIT`] prefixes, summarised ([`summary::SetSummary`]).
    #[serde(rename = "reachable_summary", skip_serializing_if = "Option::is_none")]
    pub summary: Option<summary::SetSummary>,
    /// Filter rule numbers whose matchers were assumed to favour the attacker.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approximated_by: Vec<usize>,
    /// Raw-table rules settled likewise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub raw_approximated_by: Vec<usize>,
    /// Filter rules whose `accept` lets these sources in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted_by: Vec<usize>,
    /// Some sources get in through the `input` chain's default accept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_default: bool,
    /// For a [`Zone::Tunnel`] row, the tunnel: its kind, peer and whether it encrypts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<super::tunnel::Via>,
    #[serde(skip)]
    pub set: AddrSet,
    #[serde(skip)]
    pub enabled: bool,
}

impl Row {
    /// How wide the reach is, for severity: a subscriber row that reaches anything counts as
    /// at least private space (subscribers are many untrusted hosts, however few prefixes
    /// they use) and at most that (they are the ISP's customers, not the whole internet). A
    /// tunnel row is as wide as its sources: a WireGuard peer's `allowed-address` bounds them
    /// (a few peers are narrow), other tunnels carry whatever their far end sends, which the
    /// configuration does not bound (a VPN provider's tunnel forwards the internet).
    pub fn width(&self) -> super::reach::Width {
        use super::reach::{Reach, Width};
        match self.zone {
            Zone::Subscriber | Zone::Lan if !self.set.is_empty() => Width::Private,
            _ => Reach::of(&self.set).width(),
        }
    }

    /// The sources that reach it, for messages: every prefix up to three, the first three and a
    /// count up to [`summary::LIMIT`], past that the summary's line.
    pub fn brief(&self) -> String {
        match &self.summary {
            Some(s) => s.describe(3),
            None => super::rules::summarize_prefixes(&self.reachable_from),
        }
    }

    /// This row with every prefix of its set in `reachable_from` (`--full-sets`); the summary
    /// stays, marked as not truncated.
    pub fn with_full_set(&self) -> Row {
        let mut r = self.clone();
        if let Some(s) = &mut r.summary {
            r.reachable_from = self.set.to_prefixes();
            s.truncated = false;
        }
        r
    }

    /// Who reaches it, for messages: `the internet`, `subscribers`, ...
    pub fn who(&self) -> &'static str {
        match self.zone {
            Zone::Subscriber => "subscribers",
            Zone::Lan => "the LAN side",
            Zone::Tunnel => "tunnel peers",
            Zone::Wan => super::reach::Reach::of(&self.set).describe(),
        }
    }
}

pub struct Exposure {
    pub wan: Vec<String>,
    /// The interfaces of an access point or switch that gets its address by DHCP ([`lan_side`]):
    /// analysed as [`Zone::Lan`], and no WAN side.
    pub lan: Vec<String>,
    /// The interface list the WAN interfaces came from, when one did.
    pub wan_list: Option<String>,
    /// How the WAN interfaces were chosen, for the report.
    pub wan_source: String,
    pub rows: Vec<Row>,
    /// PPPoE and hotspot subscriber interfaces, analysed as their own zone.
    pub subscribers: Vec<super::subscribers::Subscriber>,
    /// Tunnel interfaces, analysed as [`Zone::Tunnel`].
    pub tunnels: Vec<super::tunnel::Tunnel>,
    /// WAN interfaces (by list or detection) that are tunnels, analysed as tunnels instead.
    pub moved_to_tunnel: Vec<String>,
    pub v4: Firewall,
    pub v6: Firewall,
    /// The tables as they judge IPsec-decapsulated packets ([`Firewall::decapsulated`]), when
    /// an IPsec policy is a side.
    pub v4_ipsec: Option<Firewall>,
    pub v6_ipsec: Option<Firewall>,
    pub lists: InterfaceLists,
}

/// One side an attacker comes from: a WAN interface, or a subscriber interface with the
/// subscribers' addresses.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub zone: Zone,
    pub interface: &'a str,
    subscriber: Option<&'a super::subscribers::Subscriber>,
    pub tunnel: Option<&'a super::tunnel::Tunnel>,
}

impl Side<'_> {
    /// Whether it is an IPsec policy's side ([`super::tunnel::ipsec`]).
    pub fn ipsec(&self) -> bool {
        self.tunnel.is_some_and(|t| t.ipsec.is_some())
    }

    /// The part of `accepted` (what the filter lets in on this interface) that comes from this
    /// side: over IPv6 only the link unless a WAN interface has a global address
    /// ([`from_beyond`]); for subscribers, their addresses.
    pub fn sources(&self, c: &Config, accepted: AddrSet) -> AddrSet {
        match (self.subscriber, self.tunnel) {
            (Some(s), _) => accepted.intersect(if accepted.v6 { &s.v6 } else { &s.v4 }),
            (None, Some(t)) => t.sources(accepted),
            (None, None) => from_beyond(c, self.interface, accepted),
        }
    }
}

impl Exposure {
    /// The WAN interfaces, then the LAN side, the subscriber interfaces and the tunnels.
    pub fn sides(&self) -> Vec<Side<'_>> {
        sides(&self.wan, &self.lan, &self.subscribers, &self.tunnels)
    }

    /// The table that judges what comes in from `side`: an IPsec policy's side sees the
    /// decapsulated packets' ([`Firewall::decapsulated`]).
    pub fn firewall(&self, side: Side<'_>, v6: bool) -> &Firewall {
        let plain = if v6 { &self.v6 } else { &self.v4 };
        if side.ipsec() {
            if let Some(fw) = if v6 { &self.v6_ipsec } else { &self.v4_ipsec } {
                return fw;
            }
        }
        plain
    }
}

/// The WAN interfaces, then the LAN side, the subscriber interfaces and the tunnels.
fn sides<'a>(
    wan: &'a [String],
    lan: &'a [String],
    subscribers: &'a [super::subscribers::Subscriber],
    tunnels: &'a [super::tunnel::Tunnel],
) -> Vec<Side<'a>> {
    wan.iter()
        .map(|i| Side {
            zone: Zone::Wan,
            interface: i,
            subscriber: None,
            tunnel: None,
        })
        .chain(lan.iter().map(|i| Side {
            zone: Zone::Lan,
            interface: i,
            subscriber: None,
            tunnel: None,
        }))
        .chain(subscribers.iter().map(|s| Side {
            zone: Zone::Subscriber,
            interface: &s.interface,
            subscriber: Some(s),
            tunnel: None,
        }))
        .chain(tunnels.iter().map(|t| Side {
            zone: Zone::Tunnel,
            interface: &t.interface,
            subscriber: None,
            tunnel: Some(t),
        }))
        .collect()
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
    Some((port, enabled, allowed_from(addr, v6)))
}

/// The sources an `address=`-style list admits for a family: everyone when empty (as
/// `/ip service address` and `/snmp community addresses` read), else its non-negated entries.
pub fn allowed_from(list: &[u8], v6: bool) -> AddrSet {
    if list.is_empty() {
        return AddrSet::all(v6);
    }
    let ranges: Vec<(u128, u128)> = list
        .split(|&c| c == b',')
        .filter_map(parse_addr)
        .filter(|a| a.range.v6 == v6 && !a.negated)
        .map(|a| (a.range.start, a.range.end))
        .collect();
    AddrSet::from_ranges(v6, ranges)
}

/// The ports `api` and `api-ssl` listen on (as configured, enabled or not).
pub fn api_ports(c: &Config) -> Vec<u16> {
    ["api", "api-ssl"]
        .iter()
        .filter_map(|s| service_state(c, s, false))
        .map(|(port, _, _)| port)
        .collect()
}

/// Words in an interface list's name that mark it as the outside: `WAN`, `zone-wan`,
/// `ISP`, `uplinks`, `internet`.
const WAN_WORDS: &[&str] = &["wan", "isp", "uplink", "internet"];

/// PPP-family clients: RouterOS creates them disabled, so an export shows `disabled=no` on an
/// enabled one and nothing on a disabled one (real exports in the corpus; ROUTEROS.md,
/// "Defaults that exports omit").
const PPP_CLIENTS: &[&str] = &[
    "/interface pppoe-client",
    "/interface l2tp-client",
    "/interface sstp-client",
    "/interface ovpn-client",
    "/interface pptp-client",
];

/// Whether a route is in the main table: v6 `routing-mark=` and v7 `routing-table=` other than
/// `main` are policy routing (MikroTik's Policy Routing manual), not the router's own default.
fn in_main_table(r: &routeros_config::Item) -> bool {
    r.get("routing-mark").is_none_or(<[u8]>::is_empty)
        && r.get("routing-table")
            .is_none_or(|t| t.is_empty() || t == b"main")
}

/// The WAN interfaces, and why each was taken (`ether1 (default route)`), for the report.
fn detect_wan(
    c: &Config,
    lists: &InterfaceLists,
    choice: &WanChoice,
) -> (Vec<String>, String, Option<String>) {
    if !choice.interfaces.is_empty() {
        return (choice.interfaces.clone(), "--wan".into(), None);
    }
    if let Some(l) = &choice.list {
        return (lists.members(l), format!("--wan-list {l}"), Some(l.clone()));
    }
    let members = lists.members("WAN");
    if !members.is_empty() {
        return (members, "interface list WAN".into(), Some("WAN".into()));
    }
    // Lists named like `zone-wan`, `list-WAN`, `ISP`, `uplinks`, `internet`.
    let mut named: Vec<String> = Vec::new();
    let mut found_lists: Vec<String> = Vec::new();
    for l in c.items("/interface list") {
        let Some(name) = l.get_str("name") else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if !WAN_WORDS.iter().any(|w| lower.contains(w)) {
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
        let one = (found_lists.len() == 1).then(|| found_lists[0].clone());
        return (
            named,
            format!("interface list {}", found_lists.join(", ")),
            one,
        );
    }
    let mut found: Vec<(String, &'static str)> = Vec::new();
    for i in c.items("/ip dhcp-client") {
        if !i.is_disabled() {
            found.extend(i.get_str("interface").map(|n| (n, "DHCP client")));
        }
    }
    for menu in PPP_CLIENTS {
        for i in c.items(menu) {
            if i.get("disabled") == Some(b"no") {
                found.extend(i.get_str("name").map(|n| (n, "PPP client")));
            }
        }
    }
    for r in c.items("/ip route") {
        let dst = r.get("dst-address").unwrap_or(b"0.0.0.0/0");
        if dst != b"0.0.0.0/0" || r.is_disabled() || !in_main_table(r) {
            continue;
        }
        let Some(gw) = r.get_str("gateway") else {
            continue;
        };
        match parse_addr(gw.as_bytes()) {
            None => found.push((gw, "default route")),
            Some(g) => {
                for a in c.items("/ip address") {
                    let net = a.get("address").and_then(parse_addr);
                    if net.is_some_and(|n| {
                        n.range.v6 == g.range.v6
                            && n.range.start <= g.range.start
                            && g.range.start <= n.range.end
                    }) {
                        found.extend(a.get_str("interface").map(|n| (n, "default route")));
                    }
                }
            }
        }
    }
    if found.is_empty() {
        return (
            vec!["*".into()],
            "unknown: every interface counts as WAN".into(),
            None,
        );
    }
    let mut names: Vec<String> = found.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    let why = names
        .iter()
        .map(|n| {
            let mut reasons: Vec<&str> = found
                .iter()
                .filter(|(m, _)| m == n)
                .map(|(_, r)| *r)
                .collect();
            reasons.dedup();
            format!("{n}: {}", reasons.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    (names, why, None)
}

/// Why the interfaces `wan` detection found look like the LAN side of an access point or a
/// switch rather than the internet, if they do. Only interfaces found by their DHCP client (not
/// named by a list, a PPP client or `--wan`), and only when: the device is a CAP
/// (`/interface wireless cap` or `/interface wifi cap` enabled, or `caps-man-addresses` set:
/// MikroTik's CAPsMAN manual), or UPnP marks the interface `internal` (`/ip upnp interfaces`), or
/// nothing is source-NATed and the interface is the device's only bridge, or its only interface
/// with an address on a device with radios (a router NATs its LAN out of its WAN; an access
/// point or switch bridges every port and takes its address on that bridge, as MikroTik's CAP
/// and switch default configurations do: `dhcp-client` on the bridge, no NAT). A cloud router
/// with one interface and a DHCP client, and no radio, keeps it as its WAN.
fn lan_side(c: &Config, wan: &[String]) -> Option<String> {
    if wan.is_empty() || wan.iter().any(|w| w == "*") {
        return None;
    }
    let dhcp: Vec<String> = c
        .items("/ip dhcp-client")
        .iter()
        .filter(|i| !i.is_disabled())
        .filter_map(|i| i.get_str("interface"))
        .collect();
    if !wan.iter().all(|w| dhcp.contains(w)) {
        return None;
    }
    let names = wan
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for menu in ["/interface wireless cap", "/interface wifi cap"] {
        let on = c.setting(menu, "enabled") == Some(b"yes");
        let managers = c
            .setting(menu, "caps-man-addresses")
            .is_some_and(|a| !a.is_empty());
        if on || managers {
            return Some(format!(
                "{names} has a DHCP client on a CAPsMAN access point (`{menu}`): the network it serves"
            ));
        }
    }
    let internal = wan.iter().all(|w| {
        c.items("/ip upnp interfaces")
            .iter()
            .any(|u| u.get("interface") == Some(w.as_bytes()) && u.get("type") == Some(b"internal"))
    });
    if internal {
        return Some(format!(
            "{names} has a DHCP client but UPnP marks it `internal`"
        ));
    }
    let nats = c.items("/ip firewall nat").iter().any(|n| {
        !n.is_disabled()
            && n.get("chain") == Some(b"srcnat")
            && matches!(n.get("action"), Some(b"masquerade" | b"src-nat"))
    });
    if nats {
        return None;
    }
    let bridges: Vec<String> = c
        .items("/interface bridge")
        .iter()
        .filter(|b| !b.is_disabled())
        .filter_map(|b| b.get_str("name"))
        .collect();
    let only_bridge = bridges.len() == 1 && wan.iter().all(|w| *w == bridges[0]);
    let addressed: Vec<String> = c
        .items("/ip address")
        .iter()
        .filter(|a| !a.is_disabled())
        .filter_map(|a| a.get_str("interface"))
        .filter(|i| !wan.contains(i))
        .collect();
    if only_bridge {
        return Some(format!(
            "{names} has a DHCP client, is the device's only bridge and nothing is NATed: an access point or switch, whose DHCP side is the network it serves"
        ));
    }
    // No other interface with an address is a cloud router (a CHR on its one interface) as much
    // as an access point: only radios tell them apart.
    let radios = [
        "/interface wireless",
        "/interface wifi",
        "/interface wifiwave2",
    ]
    .iter()
    .any(|m| c.items(m).iter().any(|r| !r.is_disabled()));
    if addressed.is_empty() && radios {
        return Some(format!(
            "{names} has a DHCP client, no other interface has an address, nothing is NATed and the device has radios: an access point, whose DHCP side is the network it serves"
        ));
    }
    None
}

/// The interfaces IP traffic from `wan` enters on: a bridge port's traffic reaches the IP
/// firewall with `in-interface=` the bridge, so a port in an interface list is never matched by
/// `in-interface-list=` and a port's name never by `in-interface=` (ports are matched with
/// `in-bridge-port`: "Actual interface the packet has entered the router, if incoming interface
/// is bridge", MikroTik's Firewall Filter manual, as client libraries copy its property table;
/// the same in Linux, whose bridge hands IP packets up as the bridge device and keeps the port
/// for the `physdev` match). An enabled port of an enabled bridge is replaced by its bridge;
/// returns the interfaces and, per port, why.
fn ip_interfaces(c: &Config, wan: Vec<String>) -> (Vec<String>, Vec<String>) {
    let bridges: Vec<String> = c
        .items("/interface bridge")
        .iter()
        .filter(|b| !b.is_disabled())
        .filter_map(|b| b.get_str("name"))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut why = Vec::new();
    for iface in wan {
        let bridge = c
            .items("/interface bridge port")
            .iter()
            .filter(|p| !p.is_disabled())
            .find(|p| p.get("interface") == Some(iface.as_bytes()))
            .and_then(|p| p.get_str("bridge"))
            .filter(|b| bridges.contains(b));
        let ip = match bridge {
            Some(b) => {
                why.push(format!(
                    "{iface} is a port of bridge {b}: IP traffic from it enters on {b}"
                ));
                b
            }
            None => iface,
        };
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    (out, why)
}

/// The interfaces that carry the WAN's frames beneath `wan`: the Ethernet (or VLAN) a PPPoE
/// client of the WAN dials over (MikroTik's PPPoE manual: the client runs on `interface=`),
/// and the interface a WAN VLAN runs on (VLAN manual: `interface=` is the physical interface
/// the VLAN is on), followed down (PPPoE over a VLAN over a port). A layer-2 service (MAC
/// telnet, MAC winbox, discovery) on such an interface answers whoever is on the uplink's wire.
/// The interface under a VLAN is taken only when it carries nothing but the WAN: every VLAN on
/// it WAN, no address of its own, no bridge port (a router on a stick's port carries its LAN
/// too: approximated, by what the export shows). Bridge ports are left out: a bridge port's
/// frames reach the router on the bridge, which is the interface the WAN list names.
pub fn layer2_wan_side(c: &Config, wan: &[String]) -> Vec<String> {
    let mut side: Vec<String> = wan.to_vec();
    let vlans: Vec<(String, String)> = c
        .items("/interface vlan")
        .iter()
        .filter(|v| !v.is_disabled())
        .filter_map(|v| Some((v.get_str("name")?, v.get_str("interface")?)))
        .collect();
    let addressed: Vec<String> = ["/ip address", "/ipv6 address"]
        .iter()
        .flat_map(|m| c.items(m))
        .filter(|a| !a.is_disabled())
        .filter_map(|a| a.get_str("interface"))
        .collect();
    let ported: Vec<String> = c
        .items("/interface bridge port")
        .iter()
        .filter(|p| !p.is_disabled())
        .filter_map(|p| p.get_str("interface"))
        .collect();
    // Each pass goes one layer down; PPPoE over a VLAN over a port is three.
    for _ in 0..4 {
        let mut more: Vec<String> = c
            .items("/interface pppoe-client")
            .iter()
            .filter(|p| p.get_str("name").is_some_and(|n| side.contains(&n)))
            .filter_map(|p| p.get_str("interface"))
            .collect();
        more.extend(
            vlans
                .iter()
                .filter(|(name, _)| side.contains(name))
                .map(|(_, parent)| parent.clone())
                .filter(|parent| {
                    vlans
                        .iter()
                        .filter(|(_, p)| p == parent)
                        .all(|(n, _)| side.contains(n))
                        && !addressed.contains(parent)
                        && !ported.contains(parent)
                }),
        );
        more.retain(|i| !i.is_empty() && !side.contains(i));
        if more.is_empty() {
            break;
        }
        more.sort();
        more.dedup();
        side.extend(more);
    }
    side
}

/// Menus whose items are interfaces, named by `name`: `/interface` itself and each
/// `/interface KIND` one level below it, except the lists and settings menus.
pub fn is_interface_menu(menu: &str) -> bool {
    match menu.strip_prefix("/interface") {
        Some("") => true,
        Some(kind) => {
            let kind = kind.trim_start();
            !kind.contains(' ') && !matches!(kind, "list" | "detect-internet")
        }
        None => false,
    }
}

/// Interface names the configuration knows: those its menus create, those it refers to, and
/// the interface lists; for `--wan`/`--wan-list` checks.
pub fn known_interfaces(c: &Config) -> (Vec<String>, Vec<String>) {
    let mut ifaces: Vec<String> = Vec::new();
    for m in c.menus() {
        let creates = is_interface_menu(&m.path);
        for i in &m.items {
            if creates {
                ifaces.extend(i.get_str("name"));
            }
            for key in ["interface", "in-interface", "out-interface"] {
                ifaces.extend(
                    i.get_str(key)
                        .map(|v| v.trim_start_matches('!').to_string())
                        .filter(|v| !v.is_empty()),
                );
            }
        }
    }
    ifaces.sort();
    ifaces.dedup();
    let mut lists: Vec<String> = c
        .items("/interface list")
        .iter()
        .filter_map(|l| l.get_str("name"))
        .collect();
    lists.extend(["all", "none", "dynamic", "static"].map(String::from));
    lists.sort();
    lists.dedup();
    (ifaces, lists)
}

/// Whether `iface` has a global IPv6 address, reachable from beyond its link: a non-link-local
/// `/ipv6 address` on it, an `/ipv6 dhcp-client` on it, or accepted router advertisements
/// (`/ipv6 settings accept-router-advertisements=yes`, or the default
/// `yes-if-forwarding-disabled` with `forward=no`; `forward` defaults to `yes`). Otherwise it
/// has only its link-local address (MikroTik's IPv6 Address and ND manuals; ROUTEROS.md,
/// "Reachability"). `*` (WAN unknown) has one if any interface has.
pub fn has_global_v6(c: &Config, iface: &str) -> bool {
    let on = |i: &routeros_config::Item| {
        !i.is_disabled() && (iface == "*" || i.get("interface") == Some(iface.as_bytes()))
    };
    let ll = super::reach::link_local(true);
    let global_address = c.items("/ipv6 address").iter().filter(|i| on(i)).any(|i| {
        i.get("from-pool").is_some_and(|p| !p.is_empty())
            || i.get("address")
                .and_then(parse_addr)
                .is_some_and(|a| a.range.v6 && !ll.contains_set(&AddrSet::from_range(a.range)))
    });
    let dhcp = c.items("/ipv6 dhcp-client").iter().any(on);
    let ra = match c.setting("/ipv6 settings", "accept-router-advertisements") {
        Some(b"yes") => true,
        Some(b"no") => false,
        _ => c.setting("/ipv6 settings", "forward") == Some(b"no"),
    };
    global_address || dhcp || ra
}

/// The VRF `iface` is in: the `/ip vrf` whose `interfaces=` names it (or a list holding it),
/// else `main` (MikroTik's Virtual Routing and Forwarding manual).
fn vrf_of(c: &Config, lists: &InterfaceLists, iface: &str) -> String {
    for v in c.items("/ip vrf") {
        if v.is_disabled() {
            continue;
        }
        let names = v.get("interfaces").unwrap_or(b"");
        let holds = names.split(|&b| b == b',').any(|n| {
            let n = String::from_utf8_lossy(n);
            n == iface || lists.contains(&n, iface)
        });
        if holds {
            if let Some(name) = v.get_str("name") {
                return name;
            }
        }
    }
    "main".into()
}

/// The part of `set` that can reach `iface`: over IPv6, only the link unless the interface has
/// a global address ([`has_global_v6`]) or the router has a globally routed one elsewhere
/// ([`routed_v6_elsewhere`]).
pub fn from_beyond(c: &Config, iface: &str, set: AddrSet) -> AddrSet {
    if set.v6 && !has_global_v6(c, iface) && !routed_v6_elsewhere(c) {
        set.intersect(&super::reach::link_local(true))
    } else {
        set
    }
}

/// Whether the router has a globally routed IPv6 address on any interface: a `/ipv6 address`
/// in 2000::/3, or one taken from a pool (`from-pool=`, a delegated prefix). RouterOS, as
/// Linux, answers on every local address whatever interface a packet came in on (the weak
/// host model of RFC 1122 §3.3.4.2), so a WAN interface with only its link-local address still
/// carries connections from anywhere to the router's LAN address from a delegated prefix, or to
/// a global `/128` on a loopback bridge. Unique local addresses (fc00::/7) are left out: they are
/// not routed on the internet (RFC 4193 §4.1). An approximation in the attacker's favour: it
/// assumes the upstream routes that prefix to the router, as it does a delegated prefix.
fn routed_v6_elsewhere(c: &Config) -> bool {
    const GLOBAL_UNICAST: (u128, u128) = (0x2000 << 112, (0x4000 << 112) - 1);
    c.items("/ipv6 address")
        .iter()
        .filter(|i| !i.is_disabled())
        .any(|i| {
            i.get("from-pool").is_some_and(|p| !p.is_empty())
                || i.get("address")
                    .and_then(routeros_config::value::parse_interface_addr)
                    .is_some_and(|a| {
                        a.range.v6
                            && a.range.start >= GLOBAL_UNICAST.0
                            && a.range.end <= GLOBAL_UNICAST.1
                    })
        })
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
    analyse_within(c, choice, super::firewall::Limits::default())
}

/// [`analyse`], each filter table's evaluation held to `limits` (see
/// [`super::firewall::Budget`]).
pub fn analyse_within(c: &Config, choice: &WanChoice, limits: super::firewall::Limits) -> Exposure {
    let mut lists = InterfaceLists::from_config(c);
    let subscribers = super::subscribers::detect(c);
    for s in &subscribers {
        if let Some(l) = &s.dynamic_lists {
            lists.add_dynamic(&s.interface, "ppp", l);
        }
    }
    let (wan, mut wan_source, mut wan_list) = detect_wan(c, &lists, choice);
    let (mut wan, bridged) = ip_interfaces(c, wan);
    // A tunnel in the WAN list (or found by its PPP client) is its own side: its far end, not
    // the internet. `--wan` naming it keeps it WAN, as asked.
    let tunnels = super::tunnel::detect(c);
    let mut moved_to_tunnel = Vec::new();
    wan.retain(|w| {
        // A bridge holding a tunnel is still what it was: only a tunnel's own interface moves.
        let tunnel = tunnels
            .iter()
            .any(|t| &t.interface == w && t.interface == t.name)
            && !choice.interfaces.contains(w);
        if tunnel {
            moved_to_tunnel.push(w.clone());
        }
        !tunnel
    });
    // With the WAN unknown (`*`) every interface, tunnels too, is already analysed as WAN.
    let tunnels: Vec<super::tunnel::Tunnel> = tunnels
        .into_iter()
        .filter(|t| !wan.contains(&t.interface) && !wan.iter().any(|w| w == "*"))
        .collect();
    if !moved_to_tunnel.is_empty() {
        wan_source.push_str(&format!(
            "; tunnels analysed as such, not WAN: {}",
            moved_to_tunnel.join(", ")
        ));
    }
    // Only interfaces detection found by their DHCP client: not `--wan`, not a list.
    let guessed = choice.interfaces.is_empty()
        && choice.list.is_none()
        && wan_list.is_none()
        && !wan_source.starts_with("interface list");
    let (wan, lan) = match guessed.then(|| lan_side(c, &wan)).flatten() {
        Some(why) => {
            wan_source = why;
            (Vec::new(), wan)
        }
        None => (wan, Vec::new()),
    };
    // IPsec policies: a side on each WAN interface (their ESP comes in there).
    let mut tunnels = tunnels;
    tunnels.extend(super::tunnel::ipsec(c, &wan));
    if !bridged.is_empty() {
        // The list holds the ports, not the bridges the firewall sees: a fix matching the list
        // would match nothing.
        wan_list = None;
        wan_source.push_str(&format!("; {}", bridged.join("; ")));
    }
    let v4 = Firewall::from_config(c, false).with_limits(limits);
    let v6 = Firewall::from_config(c, true).with_limits(limits);
    let any_ipsec = tunnels.iter().any(|t| t.ipsec.is_some());
    let decapsulated = |v6: bool| {
        any_ipsec.then(|| {
            Firewall::from_config(c, v6)
                .with_limits(limits)
                .decapsulated()
        })
    };
    let (v4_ipsec, v6_ipsec) = (decapsulated(false), decapsulated(true));
    let mut rows = Vec::new();
    // Rows often share one large set (every service behind the same list drop): summarised once.
    let mut summaries: Vec<(AddrSet, summary::SetSummary)> = Vec::new();
    for &svc in SERVICES {
        for (fw, fw_ipsec) in [(&v4, &v4_ipsec), (&v6, &v6_ipsec)] {
            if fw.v6 && !ipv6_active(c) {
                continue;
            }
            let Some((port, enabled, allowed)) = service_state(c, svc, fw.v6) else {
                continue;
            };
            // `/ip service vrf=` (v7): the service listens only in that VRF; a WAN interface in
            // another VRF does not reach it (MikroTik's IP Services manual, `vrf`).
            let svc_vrf = c
                .menu("/ip service")
                .and_then(|m| m.by_name(svc))
                .and_then(|s| s.get_str("vrf"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "main".into());
            for side in sides(&wan, &lan, &subscribers, &tunnels) {
                let (zone, iface) = (side.zone, side.interface);
                if side.tunnel.is_some_and(|t| !t.carries(port)) {
                    continue;
                }
                let fw = match fw_ipsec {
                    Some(d) if side.ipsec() => d,
                    _ => fw,
                };
                let other_vrf = vrf_of(c, &lists, iface) != svc_vrf;
                let (set, (approx, raw_approx), accepted_by, by_default) = if enabled && !other_vrf
                {
                    let ev = fw.evaluate(
                        Probe {
                            protocol: "tcp",
                            port,
                            interface: iface,
                        },
                        &lists,
                    );
                    let reached = ev.accepted.intersect(&allowed);
                    let mut set = side.sources(c, reached);
                    if !side.ipsec() {
                        // What a `level=require` IPsec policy carries never comes in clear, on
                        // whatever interface ([`super::tunnel`]): those sources reach it
                        // through the policy only.
                        for t in &tunnels {
                            set = set.minus(&t.required_sources(port, fw.v6));
                        }
                    }
                    let open = !set.is_empty();
                    (
                        set,
                        (ev.approximations, ev.raw_approximations),
                        if open { ev.accepted_by } else { Vec::new() },
                        open && ev.by_default,
                    )
                } else {
                    (
                        AddrSet::empty(fw.v6),
                        (Vec::new(), Vec::new()),
                        Vec::new(),
                        false,
                    )
                };
                let summary = match summaries.iter().find(|(s, _)| *s == set) {
                    Some((_, sum)) => Some(sum.clone()),
                    None => summary::SetSummary::of(&set, &fw.lists).inspect(|sum| {
                        summaries.push((set.clone(), sum.clone()));
                    }),
                };
                rows.push(Row {
                    service: svc.to_string(),
                    port,
                    family: if fw.v6 { "ipv6" } else { "ipv4" },
                    zone,
                    interface: iface.to_string(),
                    reachable_from: set.first_prefixes(summary::LIMIT),
                    summary,
                    approximated_by: if set.is_empty() { Vec::new() } else { approx },
                    raw_approximated_by: if set.is_empty() {
                        Vec::new()
                    } else {
                        raw_approx
                    },
                    accepted_by,
                    by_default,
                    tunnel: side.tunnel.map(super::tunnel::Tunnel::via),
                    set,
                    enabled,
                });
            }
        }
    }
    Exposure {
        wan,
        lan,
        wan_list,
        wan_source,
        rows,
        subscribers,
        tunnels,
        moved_to_tunnel,
        v4,
        v6,
        v4_ipsec,
        v6_ipsec,
        lists,
    }
}
