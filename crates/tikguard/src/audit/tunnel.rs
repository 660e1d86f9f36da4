//! Tunnels as interfaces: each is its own side of the router, the `tunnel` zone, with the peer
//! it comes from and whether it encrypts what it carries.
//!
//! The facts relied on (each pinned by a test named after it):
//!
//! - **WireGuard encrypts**, and a peer's `allowed-address` is the list of sources accepted from
//!   it: "List of IP (v4 or v6) addresses with CIDR masks from which incoming traffic for this
//!   peer is allowed and to which outgoing traffic for this peer is directed" (MikroTik's
//!   WireGuard manual, help.mikrotik.com/docs/display/ROS/WireGuard; the same in `wg(8)`:
//!   "Incoming packets are only accepted if traffic to their source IP would be sent to the same
//!   peer"). So what enters `wg1` comes from the union of its enabled peers' `allowed-address`,
//!   and from a holder of one of their keys. WireGuard exists from RouterOS 7 on (its command
//!   tree is in every 7.x tree, in none of v6).
//! - **GRE, EoIP and IPIP (and their IPv6 forms) encrypt only with `ipsec-secret`**: with it
//!   "router adds dynamic IPsec peer to remote-address with pre-shared key and policy" (MikroTik's
//!   EoIP, GRE and IPIP manuals); without it they are plain encapsulation, readable and, with a
//!   spoofed outer source, writable by anyone on the path.
//! - **L2TP encrypts only with `use-ipsec`**: "When this option is enabled, dynamic IPSec peer
//!   configuration and policy is added to encapsulate L2TP connection into IPSec tunnel"
//!   (MikroTik's L2TP manual). PPP's own MPPE (RC4) is not counted as encryption.
//! - **SSTP** runs PPP inside TLS, and its `ciphers` offer no null cipher (RouterOS' command
//!   trees: `aes256-sha|aes256-gcm-sha384`): it encrypts.
//! - **OpenVPN** runs inside TLS unless its `cipher=` list is `null` alone (TG125's facts).
//!
//! **IPsec policies** (`/ip ipsec policy`) have no interface; what arrives inside them is a side
//! of its own, evaluated through the filter as decapsulated packets:
//!
//! - *How a decapsulated packet meets the filter.* An ESP packet passes the filter once as
//!   itself, then, decrypted, is "processed as usual, id est from the point an ordinal packet
//!   enters the router" (MikroTik's RouterOS manual, Packet Flow; the v7 Packet Flow page: the
//!   "logical in-interface" is "the starting point of the decapsulated packet (from tunnels,
//!   IPsec, etc)"), with the interface the ESP came in on as its in-interface: the WAN
//!   interface. The side is therefore the WAN interface's, judged by
//!   [`super::firewall::Firewall::decapsulated`].
//! - *What `ipsec-policy=in,ipsec` matches.* Packets that were decapsulated by IPsec: MikroTik's
//!   Firewall Filter manual ("ipsec - matches if the packet is subject to IPsec processing") and
//!   netfilter's `policy` match, which RouterOS' matcher is (`--dir in` is "used to select whether
//!   to match the policy used for decapsulation", `--pol ipsec|none` "matches if the packet is
//!   subject to IPsec processing"). A clear packet from the WAN never matches it; a
//!   decapsulated one always does, and never `in,none`.
//! - *Which inner sources a policy admits.* A policy is written for the packets the router
//!   sends: `src-address`/`src-port` are the router's side, `dst-address`/`dst-port` the far
//!   side, `sa-src-address`/`sa-dst-address` (or the `peer`'s `address`) the tunnel's ends
//!   (MikroTik's IPsec manual, Policies; real exports: `src-address=10.20.225.166/32` the
//!   router's `local-address`, `dst-address=185.13.148.14/32` its peer's `address`,
//!   Defm__mikrobackups__rawconf_anna_latest.rsc in the corpus). The packets it lets in
//!   decrypted are the reverse: from `dst-address` to `src-address`, to the port `src-port`,
//!   from the port `dst-port`, of `protocol`. So a policy carries a connection to the router's
//!   service when its `src-address` holds one of the router's addresses, its `src-port` is
//!   `any` or the service's port, its `dst-port` is `any` (a client's port is its own choice)
//!   and its `protocol` is `all` or `tcp`; the sources are its `dst-address`, the peer its
//!   `peer`'s `address` (else `sa-dst-address`).
//! - *Which policies are a side.* `action=encrypt` (the default) and enabled; a template
//!   (`template=yes`, or the default policy `set 0`, which has no peer) only makes dynamic
//!   policies for peers it names elsewhere and carries nothing itself; a disabled peer brings
//!   no SA.
//! - *`level`.* `require` (the default) and `unique` "drop packet" when the SA is missing,
//!   `use` will "skip this transform, do not drop packet" (MikroTik's IPsec manual, `level`;
//!   the policy's `in-dropped` counts "incoming packets dropped by the policy without an
//!   attempt to decrypt"). So with `require`/`unique` a clear packet from the policy's sources
//!   to the router's side never reaches the filter: those sources leave the WAN side's rows.
//!   With `use` they may also come in clear, and the WAN side keeps them. The drop is for the
//!   policy's selector only, whatever the interface: a clear packet from those sources to a
//!   router address outside `src-address` is not the policy's. So the sources leave the other
//!   sides' rows only when `src-address` holds every address of the router in that family.
//! - *Where the ESP comes in.* On the interface its peer is reached through: the one holding
//!   the peer's `local-address` (an `/ip address`, or the `local-address` of the PPP profile of
//!   a PPP client, as in the corpus' anna export, whose IPsec peer is at its L2TP tunnel's far
//!   end); without one, the WAN interfaces.
//!
//! Server-side L2TP, SSTP and OpenVPN users get dynamic interfaces the export does not name;
//! they are not analysed as tunnels.

use routeros_config::value::{parse_addr, parse_list};
use routeros_config::{Config, Item};
use serde::Serialize;

use super::addrset::AddrSet;

/// Tunnel menus with static interfaces, their kind in words, and how they encrypt.
const MENUS: &[(&str, &str)] = &[
    ("/interface wireguard", "WireGuard"),
    ("/interface eoip", "EoIP"),
    ("/interface eoipv6", "EoIPv6"),
    ("/interface gre", "GRE"),
    ("/interface gre6", "GRE6"),
    ("/interface ipip", "IPIP"),
    ("/interface ipipv6", "IPIPv6"),
    ("/interface l2tp-client", "L2TP client"),
    ("/interface sstp-client", "SSTP client"),
    ("/interface ovpn-client", "OpenVPN client"),
];

/// One tunnel interface.
#[derive(Clone, Debug, Serialize)]
pub struct Tunnel {
    /// The interface the firewall sees its packets on: the tunnel's own, or the bridge it is a
    /// port of.
    pub interface: String,
    /// The tunnel interface itself (the first of several bridged into one bridge).
    pub name: String,
    /// The menu it is configured in (`/interface wireguard`).
    pub menu: &'static str,
    /// `WireGuard`, `GRE`, ...
    pub kind: &'static str,
    /// Who is at the other end: `peers 10.9.0.2/32` or `remote 203.0.113.7`.
    pub peer: String,
    /// Whether what it carries is encrypted on the way.
    pub encrypts: bool,
    /// Why it does or does not, for messages.
    pub why: String,
    /// Read live without the `sensitive` policy, the router left `ipsec-secret` out
    /// ([`crate::live::HIDDEN`]): whether the tunnel encrypts cannot be told. It is counted as
    /// not encrypting (what it carries is judged as in clear), and TG220 says it is approximated.
    pub secret_hidden: bool,
    /// WireGuard: the sources its peers may send from (`allowed-address`); else none (every
    /// source the far end sends).
    #[serde(skip)]
    pub admits: Option<(AddrSet, AddrSet)>,
    /// An IPsec policy's side: what it carries.
    #[serde(skip)]
    pub ipsec: Option<Ipsec>,
}

/// What an IPsec policy carries to the router, read in the direction packets come in.
#[derive(Clone, Debug)]
pub struct Ipsec {
    /// The router-side port (`src-port`); `None` for `any`.
    pub port: Option<u16>,
    /// `level=require` or `unique`, and `src-address` holds every address of the router: the
    /// policy's sources never reach the router in clear.
    pub required: bool,
}

/// What an exposure row through a tunnel says of it.
#[derive(Clone, Debug, Serialize)]
pub struct Via {
    pub kind: &'static str,
    pub peer: String,
    pub encrypts: bool,
}

impl Tunnel {
    pub fn via(&self) -> Via {
        Via {
            kind: self.kind,
            peer: self.peer.clone(),
            encrypts: self.encrypts,
        }
    }

    /// Whether a TCP connection to `port` can come in through it: every tunnel interface
    /// carries every port; an IPsec policy the ports its `src-port` names.
    pub fn carries(&self, port: u16) -> bool {
        self.ipsec
            .as_ref()
            .is_none_or(|i| i.port.is_none_or(|p| p == port))
    }

    /// The sources a `level=require` IPsec policy keeps from arriving in clear on this
    /// interface for `port`; none for other tunnels.
    pub fn required_sources(&self, port: u16, v6: bool) -> AddrSet {
        match (&self.ipsec, &self.admits) {
            (Some(i), Some((a4, a6))) if i.required && self.carries(port) => {
                if v6 { a6 } else { a4 }.clone()
            }
            _ => AddrSet::empty(v6),
        }
    }

    /// The part of `accepted` that can arrive through this tunnel.
    pub fn sources(&self, accepted: AddrSet) -> AddrSet {
        match &self.admits {
            Some((v4, v6)) => accepted.intersect(if accepted.v6 { v6 } else { v4 }),
            None => accepted,
        }
    }
}

/// Every enabled tunnel interface of the configuration, in menu then export order.
pub fn detect(c: &Config) -> Vec<Tunnel> {
    let mut out = Vec::new();
    for &(menu, kind) in MENUS {
        let ppp = menu.ends_with("-client");
        for item in c.items(menu) {
            // PPP-family clients are created disabled: only `disabled=no` runs one (ROUTEROS.md,
            // "Defaults that exports omit"); the other tunnels are created enabled.
            let on = if ppp {
                item.get("disabled") == Some(b"no")
            } else {
                !item.is_disabled()
            };
            let Some(name) = item.get_str("name").filter(|n| !n.is_empty()) else {
                continue;
            };
            if !on {
                continue;
            }
            out.push(tunnel(c, menu, kind, name, item));
        }
    }
    bridged(c, out)
}

/// Tunnels that are ports of a bridge (EoIP's usual place: a LAN stretched over the tunnel):
/// their IP traffic reaches the firewall as the bridge's, as any bridge port's does
/// ([`super::exposure`]'s `ip_interfaces`), so the side is the bridge, reached from the tunnels'
/// far ends. Several tunnels in one bridge are one side that encrypts only if all of them do.
fn bridged(c: &Config, tunnels: Vec<Tunnel>) -> Vec<Tunnel> {
    let bridges: Vec<String> = c
        .items("/interface bridge")
        .iter()
        .filter(|b| !b.is_disabled())
        .filter_map(|b| b.get_str("name"))
        .collect();
    let mut out: Vec<Tunnel> = Vec::new();
    for mut t in tunnels {
        let bridge = c
            .items("/interface bridge port")
            .iter()
            .filter(|p| !p.is_disabled())
            .find(|p| p.get("interface") == Some(t.name.as_bytes()))
            .and_then(|p| p.get_str("bridge"))
            .filter(|b| bridges.contains(b));
        let Some(bridge) = bridge else {
            out.push(t);
            continue;
        };
        let own = format!("{} `{}` ({})", t.kind, t.name, t.peer);
        match out.iter_mut().find(|o| o.interface == bridge) {
            Some(o) => {
                o.peer = format!("{}; {own}", o.peer);
                if o.encrypts && !t.encrypts {
                    o.name = t.name.clone();
                    o.menu = t.menu;
                    o.why = t.why.clone();
                }
                o.encrypts &= t.encrypts;
            }
            None => {
                t.peer = format!("bridged: {own}");
                t.interface = bridge;
                // The bridge carries what every port brings: no allowed-address bounds it.
                t.admits = None;
                out.push(t);
            }
        }
    }
    out
}

/// The item that configures `t`.
pub fn item<'a>(c: &'a Config, t: &Tunnel) -> Option<&'a Item> {
    c.items(t.menu)
        .iter()
        .find(|i| i.get("name") == Some(t.name.as_bytes()))
}

/// The sources the encrypting tunnels admit, per family: the union of the WireGuard peers'
/// `allowed-address` (other tunnels carry whatever their far end routes, which the export does
/// not bound).
pub fn encrypted_sources(tunnels: &[Tunnel], v6: bool) -> AddrSet {
    tunnels
        .iter()
        .filter(|t| t.encrypts)
        .filter_map(|t| t.admits.as_ref())
        .fold(AddrSet::empty(v6), |acc, (v4, v6s)| {
            acc.union(if v6 { v6s } else { v4 })
        })
}

fn tunnel(c: &Config, menu: &'static str, kind: &'static str, name: String, item: &Item) -> Tunnel {
    let remote = |key: &str| {
        item.get_str(key)
            .filter(|r| !r.is_empty())
            .map(|r| format!("remote {r}"))
            .unwrap_or_else(|| "remote unknown".into())
    };
    let hidden = item.get("ipsec-secret").is_some_and(crate::live::is_hidden);
    let secret = || !hidden && item.get("ipsec-secret").is_some_and(|s| !s.is_empty());
    let (peer, encrypts, why, admits) = match menu {
        "/interface wireguard" => {
            let (peers, v4, v6) = wireguard_peers(c, &name);
            (
                peers,
                true,
                "WireGuard encrypts and authenticates every packet with the peer's key".to_string(),
                Some((v4, v6)),
            )
        }
        "/interface l2tp-client" => {
            let on = item.get("use-ipsec") == Some(b"yes");
            (
                remote("connect-to"),
                on,
                if on {
                    "L2TP inside IPsec (`use-ipsec=yes`)".into()
                } else {
                    "L2TP without `use-ipsec`: PPP in clear UDP".into()
                },
                None,
            )
        }
        "/interface sstp-client" => (
            remote("connect-to"),
            true,
            "SSTP runs inside TLS".into(),
            None,
        ),
        "/interface ovpn-client" => {
            let list = item.get("cipher").map(parse_list).unwrap_or_default();
            let named: Vec<&[u8]> = list.iter().filter(|e| !e.negated).map(|e| e.name).collect();
            let null_only = !named.is_empty() && named.iter().all(|n| *n == b"null");
            (
                remote("connect-to"),
                !null_only,
                if null_only {
                    "OpenVPN with `cipher=null`: the tunnel carries its traffic in clear".into()
                } else {
                    "OpenVPN runs inside TLS".into()
                },
                None,
            )
        }
        _ => {
            let on = secret();
            (
                remote("remote-address"),
                on,
                if on {
                    format!("{kind} inside IPsec (`ipsec-secret` set)")
                } else if hidden {
                    format!("{kind} whose `ipsec-secret` the router did not show to a reader without the `sensitive` policy")
                } else {
                    format!("{kind} without `ipsec-secret`: plain encapsulation")
                },
                None,
            )
        }
    };
    Tunnel {
        interface: name.clone(),
        name,
        menu,
        kind,
        peer,
        encrypts,
        why,
        secret_hidden: hidden,
        admits,
        ipsec: None,
    }
}

/// The IPsec policies that carry connections to the router (see the module docs), one side
/// per policy and WAN interface, in export order.
pub fn ipsec(c: &Config, wan: &[String]) -> Vec<Tunnel> {
    let own = router_addresses(c);
    let mut out = Vec::new();
    for p in c.items("/ip ipsec policy") {
        let Some((peer, ipsec, v4, v6, via)) = ipsec_policy(c, &own, p) else {
            continue;
        };
        let on: Vec<String> = match via {
            Some(i) => vec![i],
            None => wan.to_vec(),
        };
        for w in &on {
            out.push(Tunnel {
                interface: w.clone(),
                name: peer.clone(),
                menu: "/ip ipsec policy",
                kind: "IPsec",
                peer: format!("peer {peer}"),
                encrypts: true,
                why: "IPsec (ESP) encrypts and authenticates what the policy carries".into(),
                secret_hidden: false,
                admits: Some((v4.clone(), v6.clone())),
                ipsec: Some(ipsec.clone()),
            });
        }
    }
    out
}

/// The router's own addresses, both families, as single-address sets.
fn router_addresses(c: &Config) -> Vec<AddrSet> {
    ["/ip address", "/ipv6 address"]
        .iter()
        .flat_map(|m| c.items(m))
        .filter(|a| !a.is_disabled())
        .filter_map(|a| {
            let v = a.get("address")?;
            let host = v.split(|&b| b == b'/').next()?;
            parse_addr(host).map(|h| AddrSet::from_range(h.range))
        })
        .collect()
}

/// One policy read as a side: its peer's address, what it carries and its sources per family;
/// `None` when it is not one.
fn ipsec_policy(
    c: &Config,
    own: &[AddrSet],
    p: &Item,
) -> Option<(String, Ipsec, AddrSet, AddrSet, Option<String>)> {
    if p.is_disabled() || p.get("template") == Some(b"yes") {
        return None;
    }
    if p.get("action").is_some_and(|a| a != b"encrypt") {
        return None;
    }
    let level_drops = match p.get("level") {
        None | Some(b"require") | Some(b"unique") => true,
        Some(b"use") => false,
        Some(_) => return None,
    };
    let protocol = p.get("protocol").unwrap_or(b"all");
    if !matches!(protocol, b"all" | b"tcp" | b"6") {
        return None;
    }
    let any = |k: &str| p.get(k).is_none_or(|v| v.is_empty() || v == b"any");
    if !any("dst-port") {
        return None;
    }
    let port = if any("src-port") {
        None
    } else {
        Some(p.get_str("src-port")?.trim().parse::<u16>().ok()?)
    };
    let local = parse_addr(p.get("src-address")?).filter(|a| !a.negated)?;
    let local = AddrSet::from_range(local.range);
    if !own
        .iter()
        .any(|o| o.v6 == local.v6 && local.contains_set(o))
    {
        return None;
    }
    let whole = own
        .iter()
        .filter(|o| o.v6 == local.v6)
        .all(|o| local.contains_set(o));
    let required = level_drops && whole;
    let remote = parse_addr(p.get("dst-address")?).filter(|a| !a.negated)?;
    let (peer, local_address) = match p.get("peer").filter(|n| !n.is_empty()) {
        Some(name) => {
            let item = c
                .items("/ip ipsec peer")
                .iter()
                .find(|i| i.get("name") == Some(name))?;
            if item.is_disabled() {
                return None;
            }
            (item.get_str("address")?, item.get_str("local-address"))
        }
        None => (
            p.get_str("sa-dst-address").filter(|a| !a.is_empty())?,
            p.get_str("sa-src-address"),
        ),
    };
    let via = local_address.and_then(|l| esp_interface(c, &l));
    let peer = peer
        .strip_suffix("/32")
        .or_else(|| peer.strip_suffix("/128"))
        .unwrap_or(&peer);
    let peer = crate::term::printable(peer).into_owned();
    let set = AddrSet::from_range(remote.range);
    let (v4, v6) = if remote.range.v6 {
        (AddrSet::empty(false), set)
    } else {
        (set, AddrSet::empty(true))
    };
    Some((peer, Ipsec { port, required }, v4, v6, via))
}

/// The interface that holds `local` (a peer's `local-address`): an enabled `/ip address` on it,
/// or an enabled PPP client whose profile's `local-address` it is.
fn esp_interface(c: &Config, local: &str) -> Option<String> {
    let local = local.trim();
    if local.is_empty() {
        return None;
    }
    let host = |v: &str| v.split('/').next().unwrap_or("").trim().to_string();
    for menu in ["/ip address", "/ipv6 address"] {
        for a in c.items(menu).iter().filter(|a| !a.is_disabled()) {
            if a.get_str("address").is_some_and(|v| host(&v) == local) {
                return a.get_str("interface");
            }
        }
    }
    for menu in [
        "/interface l2tp-client",
        "/interface sstp-client",
        "/interface ovpn-client",
        "/interface pppoe-client",
        "/interface pptp-client",
    ] {
        for i in c.items(menu) {
            if i.get("disabled") != Some(b"no") {
                continue;
            }
            let profile = i.get("profile").unwrap_or(b"default-encryption");
            let holds = c
                .items("/ppp profile")
                .iter()
                .find(|p| p.get("name") == Some(profile))
                .and_then(|p| p.get_str("local-address"))
                .is_some_and(|l| host(&l) == local);
            if holds {
                return i.get_str("name");
            }
        }
    }
    None
}

/// The peers of WireGuard interface `iface`: a description and the sources they may send
/// from, per family (the union of enabled peers' `allowed-address`).
fn wireguard_peers(c: &Config, iface: &str) -> (String, AddrSet, AddrSet) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let mut shown: Vec<String> = Vec::new();
    let mut count = 0;
    for p in c.items("/interface wireguard peers") {
        if p.is_disabled() || p.get("interface") != Some(iface.as_bytes()) {
            continue;
        }
        count += 1;
        for raw in p
            .get("allowed-address")
            .unwrap_or(b"")
            .split(|&b| b == b',')
        {
            let Some(a) = parse_addr(raw) else { continue };
            if a.negated {
                continue;
            }
            shown.push(crate::term::printable(&String::from_utf8_lossy(raw)).into_owned());
            if a.range.v6 {
                v6.push((a.range.start, a.range.end));
            } else {
                v4.push((a.range.start, a.range.end));
            }
        }
    }
    let desc = match count {
        0 => "no peers".to_string(),
        n => {
            shown.sort();
            shown.dedup();
            let list = if shown.is_empty() {
                "no allowed-address".to_string()
            } else {
                super::rules::summarize_prefixes(&shown)
            };
            format!("{n} peer{} from {list}", if n == 1 { "" } else { "s" })
        }
    };
    (
        desc,
        AddrSet::from_ranges(false, v4),
        AddrSet::from_ranges(true, v6),
    )
}
