//! `--api-tunnel wireguard`: the CRM reaches the API through a WireGuard tunnel of its own.
//!
//! The router gets an interface `tikguard-crm` (RouterOS generates its key pair when
//! `private-key` is not given: "If not specified, it will be automatically generated upon
//! interface creation", MikroTik's WireGuard manual), an address in the tunnel's network, and
//! one peer: the CRM's public key with `allowed-address=` its tunnel address alone, so that
//! packets from that peer are accepted only with that source ("addresses ... from which incoming
//! traffic for this peer is allowed", the same manual; [`crate::audit::tunnel`]). The CRM's
//! tunnel address becomes an API client: api-ssl (and api under `--keep-plain-api`) is limited
//! to it like any `--api-client`, and the firewall accepts it above the final drop. No private
//! key is in the script; the router's public key is read after the script ran
//! (`/interface wireguard print where name=tikguard-crm`, or printed by `--apply`).
//!
//! WireGuard exists from RouterOS 7.0 (its menu is in every 7.x command tree, in none of v6):
//! a v6 target is refused. The properties written (`name`, `listen-port`, `comment`;
//! `interface`, `public-key`, `allowed-address`, `comment`) exist in every 7.x tree from 7.9.2
//! to 7.24, which the proof's schema check confirms for the target.
//!
//! An IPsec variant is left out: IPsec policies have no interface, so "only through the tunnel"
//! rests on `ipsec-policy=in,ipsec` matchers and on policies matching the CRM's traffic, whose
//! negotiation (proposals, identities, NAT traversal) the configuration alone does not show
//! working; WireGuard's peer/allowed-address pairing pins who gets in from the configuration.

use routeros_config::value::parse_addr;
use routeros_config::{Config, Version};

use super::intent::Prefix;
use super::order::Phase;
use super::script::{Cond, Guard, Stmt, Target};
use super::{Change, Plan, TAG};
use crate::audit::addrset::AddrSet;

/// The interface the script creates.
pub const INTERFACE: &str = "tikguard-crm";
/// Its UDP port: RouterOS' default `listen-port` (MikroTik's WireGuard manual: 13231).
pub const PORT: u16 = 13231;

/// The tunnel asked for.
#[derive(Clone, Debug)]
pub struct Wg {
    /// The CRM's public key, base64 of 32 bytes.
    pub client_key: String,
    /// The CRM's tunnel address (a host).
    pub client: Prefix,
    /// The router's tunnel address with the network's length: `10.77.0.1/30`.
    pub router_address: String,
    /// The tunnel's network.
    pub network: Prefix,
}

/// Checks `--api-client-key` and `--api-client-tunnel-address` for `--api-tunnel wireguard`.
pub fn parse(
    key: &str,
    address: &str,
    mgmt: &[Prefix],
    target: &Version,
    c: &Config,
) -> Result<Wg, String> {
    if target.major < 7 {
        return Err(format!(
            "--api-tunnel wireguard: WireGuard exists from RouterOS 7.0; the target is {target} (upgrade, or restrict the API to --api-client prefixes)"
        ));
    }
    let client_key = check_key(key)?;
    let a = address.trim();
    let m = parse_addr(a.as_bytes())
        .filter(|m| !m.negated && !m.range.v6)
        .ok_or_else(|| {
            format!("--api-client-tunnel-address `{}`: give the CRM's IPv4 tunnel address with the tunnel's prefix length (e.g. 10.77.0.2/30)", crate::term::printable(a))
        })?;
    let (host, len) = match a.split_once('/') {
        Some((h, l)) => (h, l.parse::<u8>().ok()),
        None => (a, None),
    };
    let len = len.filter(|l| (8..=31).contains(l)).ok_or_else(|| {
        format!("--api-client-tunnel-address `{}`: give a prefix length from /8 to /31, the tunnel's network (the router takes another address in it)", crate::term::printable(a))
    })?;
    let ip: std::net::Ipv4Addr = host.parse().map_err(|_| {
        format!(
            "--api-client-tunnel-address `{}`: not an IPv4 address",
            crate::term::printable(a)
        )
    })?;
    let ip = u32::from(ip);
    let (start, end) = (m.range.start as u32, m.range.end as u32);
    // On /30 and wider the first and last addresses are the network's and broadcast; /31 has
    // two hosts (RFC 3021).
    let hosts = if len == 31 {
        (start, end)
    } else {
        (start + 1, end - 1)
    };
    if ip < hosts.0 || ip > hosts.1 {
        return Err(format!(
            "--api-client-tunnel-address `{a}`: that is the network's or broadcast address; give a host"
        ));
    }
    let router = if ip == hosts.0 { hosts.0 + 1 } else { hosts.0 };
    // An interface of that name the script did not add is someone else's: adding a peer and an
    // address to it would change what it carries.
    let tag = format!("{TAG}api-tunnel-interface");
    if let Some(i) = c
        .items("/interface wireguard")
        .iter()
        .find(|i| i.get("name") == Some(INTERFACE.as_bytes()))
    {
        if i.get("comment") != Some(tag.as_bytes()) {
            return Err(format!(
                "--api-tunnel wireguard: the router has a WireGuard interface `{INTERFACE}` that tikguard did not add; rename it or remove it first"
            ));
        }
    }
    let network = Prefix::parse(&format!("{}/{len}", std::net::Ipv4Addr::from(start)))?;
    for p in mgmt.iter().filter(|p| !p.v6) {
        if !p.set.intersect(&network.set).is_empty() {
            return Err(format!(
                "--api-client-tunnel-address `{a}`: the tunnel's network overlaps --mgmt {}; give the tunnel a network of its own",
                p.text
            ));
        }
    }
    // The tunnel's own address (an earlier run) is no overlap.
    for item in c
        .items("/ip address")
        .iter()
        .filter(|i| i.get("interface") != Some(INTERFACE.as_bytes()))
    {
        let Some(have) = item.get("address").and_then(parse_addr) else {
            continue;
        };
        if have.range.v6 {
            continue;
        }
        let theirs = AddrSet::from_range(have.range);
        if !theirs.intersect(&network.set).is_empty() {
            return Err(format!(
                "--api-client-tunnel-address `{a}`: the tunnel's network overlaps the router's address {} on {}; give the tunnel a network of its own",
                crate::term::printable(&item.get_str("address").unwrap_or_default()),
                crate::term::printable(&item.get_str("interface").unwrap_or_default())
            ));
        }
    }
    Ok(Wg {
        client_key,
        client: Prefix::parse(&std::net::Ipv4Addr::from(ip).to_string())?,
        router_address: format!("{}/{len}", std::net::Ipv4Addr::from(router)),
        network,
    })
}

/// A WireGuard public key: base64 (standard alphabet, padded) of 32 bytes, as `wg pubkey`
/// prints it.
pub fn check_key(key: &str) -> Result<String, String> {
    use base64::Engine as _;
    let k = key.trim();
    let ok = k.len() == 44
        && base64::engine::general_purpose::STANDARD
            .decode(k)
            .is_ok_and(|b| b.len() == 32);
    if ok {
        Ok(k.to_string())
    } else {
        Err(format!(
            "--api-client-key `{}`: not a WireGuard public key (44 characters of base64 for 32 bytes, as `wg pubkey` prints it)",
            crate::term::printable(k)
        ))
    }
}

/// Adds the tunnel's changes to `plan`, and the notes that tell how to finish the CRM's side.
pub fn extend(plan: &mut Plan, c: &Config, wg: &Wg) {
    let tag = |id: &str| format!("{TAG}{id}");
    let wgm = "/interface wireguard";
    let peers = "/interface wireguard peers";
    let addr = "/ip address";
    let filter = "/ip firewall filter";
    let has = |menu: &str, conds: &[(&str, &str)]| {
        c.items(menu)
            .iter()
            .any(|i| conds.iter().all(|(k, v)| i.get(k) == Some(v.as_bytes())))
    };
    let mut ch = Vec::new();
    ch.push(Change {
        id: "api-tunnel-interface".into(),
        description: format!(
            "WireGuard interface {INTERFACE} for the CRM (the router generates its key pair)"
        ),
        fixes: vec![],
        phase: Phase::Prepare,
        lines: vec![Stmt::add(wgm)
            .arg("name", INTERFACE)
            .arg("listen-port", PORT.to_string())
            .arg("comment", tag("api-tunnel-interface"))
            .into()],
        guard: Some(Guard::absent(wgm, vec![Cond::eq("name", INTERFACE)])),
        undo: vec![Stmt::new(
            wgm,
            "remove",
            Target::Find(vec![
                Cond::eq("name", INTERFACE),
                Cond::eq("comment", &tag("api-tunnel-interface")),
            ]),
        )
        .into()],
    });
    ch.push(Change {
        id: "api-tunnel-address".into(),
        description: format!("tunnel address {} on {INTERFACE}", wg.router_address),
        fixes: vec![],
        phase: Phase::Prepare,
        lines: vec![Stmt::add(addr)
            .arg("address", wg.router_address.clone())
            .arg("interface", INTERFACE)
            .arg("comment", tag("api-tunnel-address"))
            .into()],
        guard: Some(Guard::absent(
            addr,
            vec![
                Cond::eq("address", &wg.router_address),
                Cond::eq("interface", INTERFACE),
            ],
        )),
        undo: vec![Stmt::new(
            addr,
            "remove",
            Target::Find(vec![
                Cond::eq("interface", INTERFACE),
                Cond::eq("comment", &tag("api-tunnel-address")),
            ]),
        )
        .into()],
    });
    let allowed = format!("{}/32", wg.client.text);
    ch.push(Change {
        id: "api-tunnel-peer".into(),
        description: format!("WireGuard peer: the CRM's key, admitted only from {allowed}"),
        fixes: vec![],
        phase: Phase::Prepare,
        lines: vec![Stmt::add(peers)
            .arg("interface", INTERFACE)
            .arg("public-key", wg.client_key.clone())
            .arg("allowed-address", allowed.clone())
            .arg("comment", tag("api-tunnel-peer"))
            .into()],
        guard: Some(Guard::absent(
            peers,
            vec![
                Cond::eq("interface", INTERFACE),
                Cond::eq("public-key", &wg.client_key),
            ],
        )),
        undo: vec![Stmt::new(
            peers,
            "remove",
            Target::Find(vec![
                Cond::eq("interface", INTERFACE),
                Cond::eq("comment", &tag("api-tunnel-peer")),
            ]),
        )
        .into()],
    });
    // The CRM connects in: its handshakes must pass the input chain. WireGuard answers nothing
    // to a packet without a valid handshake from a configured key (WireGuard's protocol paper,
    // "silence is a virtue"), so the port discloses nothing to others.
    let t = tag("api-tunnel-accept");
    if !c
        .items(filter)
        .iter()
        .any(|i| i.get("comment") == Some(t.as_bytes()))
    {
        let mut stmt = Stmt::add(filter)
            .arg("chain", "input")
            .arg("protocol", "udp")
            .arg("dst-port", PORT.to_string())
            .arg("action", "accept")
            .arg("comment", t.clone());
        if let Some(conds) = crate::ros::placement::first(!c.items(filter).is_empty(), &[]) {
            stmt = stmt.pick("place-before", conds);
        }
        ch.push(Change {
            id: "api-tunnel-accept".into(),
            description: format!("accept WireGuard handshakes on udp/{PORT}"),
            fixes: vec![],
            // Before the block's accepts, which then go above it, and its drops, which are
            // placed below those accepts: an accept placed first after them would sit above the
            // management accept, and the drop placed below the block's accepts only would land
            // above management's (the proof refuses that order).
            phase: Phase::Prepare,
            lines: vec![stmt.into()],
            guard: Some(Guard::absent(filter, vec![Cond::eq("comment", &t)])),
            undo: vec![Stmt::new(
                filter,
                "remove",
                Target::Find(vec![Cond::eq("comment", &t)]),
            )
            .into()],
        });
    }
    // What the router has already (an earlier run) is not planned again.
    let allowed32 = format!("{}/32", wg.client.text);
    ch.retain(|c| match c.id.as_str() {
        "api-tunnel-interface" => !has(wgm, &[("name", INTERFACE)]),
        "api-tunnel-address" => !has(
            addr,
            &[("address", &wg.router_address), ("interface", INTERFACE)],
        ),
        "api-tunnel-peer" => !has(
            peers,
            &[
                ("interface", INTERFACE),
                ("public-key", &wg.client_key),
                ("allowed-address", &allowed32),
            ],
        ),
        _ => true,
    });
    plan.changes.extend(ch);
    super::order::sort(&mut plan.changes);
    plan.notes.push(format!(
        "the CRM's side: the router's public key is `/interface wireguard get [find name={INTERFACE}] public-key` once the script ran (--apply prints it); the CRM connects to the router's address on udp/{PORT} and reaches the API at {}",
        wg.router_address.split('/').next().unwrap_or_default()
    ));
}

/// The CRM's wg-quick configuration, with the router's public key when known.
pub fn client_config(wg: &Wg, router_key: Option<&str>) -> String {
    let router = wg.router_address.split('/').next().unwrap_or_default();
    let len = wg.router_address.split('/').nth(1).unwrap_or("32");
    format!(
        "[Interface]\n\
         PrivateKey = <the CRM's private key, whose public key is {}>\n\
         Address = {}/{len}\n\n\
         [Peer]\n\
         PublicKey = {}\n\
         Endpoint = <the router's public address>:{PORT}\n\
         AllowedIPs = {router}/32\n\
         PersistentKeepalive = 25\n",
        wg.client_key,
        wg.client.text,
        router_key.unwrap_or("<the router's public key>"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

    fn v7() -> Version {
        Version::new(7, 16, 0)
    }

    fn empty() -> Config {
        Config::load(Vec::new()).0
    }

    #[test]
    fn a_key_is_base64_of_32_bytes() {
        assert!(check_key(KEY).is_ok());
        for bad in [
            "",
            "not a key",
            // 31 bytes.
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8A==",
            // Not base64.
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8D!=",
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\"; /user add",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_router_takes_the_other_host_of_the_tunnel_network() {
        let w = parse(KEY, "10.77.0.2/30", &[], &v7(), &empty()).unwrap();
        assert_eq!(w.router_address, "10.77.0.1/30");
        assert_eq!(w.client.text, "10.77.0.2");
        let w = parse(KEY, "10.77.0.1/30", &[], &v7(), &empty()).unwrap();
        assert_eq!(w.router_address, "10.77.0.2/30");
        let w = parse(KEY, "10.77.0.1/31", &[], &v7(), &empty()).unwrap();
        assert_eq!(w.router_address, "10.77.0.0/31");
    }

    #[test]
    fn addresses_that_are_no_tunnel_are_refused() {
        for bad in [
            "0.0.0.0/0",
            "10.77.0.2",
            "10.77.0.2/32",
            "10.77.0.0/30",
            "10.77.0.3/30",
            "fd00::2/64",
            "10.77.0.2-10.77.0.9",
            "nonsense",
        ] {
            assert!(parse(KEY, bad, &[], &v7(), &empty()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tunnel_overlapping_management_or_the_routers_networks_is_refused() {
        let mgmt = [Prefix::parse("10.77.0.0/24").unwrap()];
        let e = parse(KEY, "10.77.0.2/30", &mgmt, &v7(), &empty()).unwrap_err();
        assert!(e.contains("overlaps --mgmt"), "{e}");
        let c = Config::load(b"/ip address add address=10.77.0.5/29 interface=ether2\n".to_vec()).0;
        let e = parse(KEY, "10.77.0.2/30", &[], &v7(), &c).unwrap_err();
        assert!(e.contains("overlaps the router's address"), "{e}");
    }

    #[test]
    fn wireguard_exists_from_routeros_7_only() {
        let e = parse(KEY, "10.77.0.2/30", &[], &Version::new(6, 49, 0), &empty()).unwrap_err();
        assert!(e.contains("from RouterOS 7.0"), "{e}");
    }
}
