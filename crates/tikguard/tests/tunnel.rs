//! The tunnel zone: tunnels are their own side of the router, with the peer they come from and
//! whether they encrypt (`tikguard::audit::tunnel` cites the sources). Each test is named after
//! the fact it pins.

#[path = "../../../testdata/corpus.rs"]
mod corpus;

use routeros_config::Config;
use tikguard::audit::exposure::{analyse, Exposure, Zone};
use tikguard::audit::{self, Selection, WanChoice};

const HEAD: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n\
/interface list add name=WAN\n\
/interface list member add interface=ether1 list=WAN\n\
/ip address add address=203.0.113.2/24 interface=ether1\n";

/// The CRM over WireGuard, the API restricted to its tunnel address, everything else dropped.
const WG: &str = "/interface wireguard add listen-port=13231 name=wg-crm\n\
/interface wireguard peers add allowed-address=10.99.0.2/32 interface=wg-crm public-key=\"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\"\n\
/ip address add address=10.99.0.1/30 interface=wg-crm\n\
/ip firewall filter\n\
add action=accept chain=input connection-state=established,related\n\
add action=accept chain=input dst-port=13231 protocol=udp\n\
add action=accept chain=input in-interface=wg-crm\n\
add action=drop chain=input\n\
/ip service set api address=10.99.0.2/32\n";

fn config(rest: &str) -> Config {
    let (c, p) = Config::load(format!("{HEAD}{rest}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    c
}

fn exposure(rest: &str) -> Exposure {
    analyse(&config(rest), &WanChoice::default())
}

fn row<'a>(e: &'a Exposure, iface: &str, service: &str) -> &'a audit::exposure::Row {
    e.rows
        .iter()
        .find(|r| r.interface == iface && r.service == service && r.family == "ipv4")
        .unwrap_or_else(|| panic!("no {service} row on {iface}"))
}

fn findings(rest: &str, id: &str) -> Vec<(String, String)> {
    audit::run(&config(rest), &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .map(|f| (f.severity.as_str().to_string(), f.message.clone()))
        .collect()
}

#[test]
fn wireguard_allowed_address_is_the_sources_accepted_from_the_peer() {
    // The filter accepts everything on wg-crm; only the peer's allowed-address gets in.
    let e = exposure(&WG.replace(" address=10.99.0.2/32", ""));
    let r = row(&e, "wg-crm", "api-ssl");
    assert_eq!(r.zone, Zone::Tunnel);
    assert_eq!(r.reachable_from, vec!["10.99.0.2/32".to_string()]);
    let via = r.tunnel.as_ref().unwrap();
    assert!(via.encrypts);
    assert_eq!(via.kind, "WireGuard");
    assert!(via.peer.contains("10.99.0.2/32"), "{}", via.peer);
    // A disabled peer admits nothing.
    let off = exposure(&WG.replace("peers add ", "peers add disabled=yes "));
    assert!(row(&off, "wg-crm", "api-ssl").set.is_empty());
}

#[test]
fn wireguard_encrypts_so_the_plaintext_api_only_through_it_is_medium_and_says_why() {
    let f = findings(WG, "TG101");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "medium");
    assert!(f[0].1.contains("tunnel encrypts"), "{}", f[0].1);
    assert!(f[0].1.contains("still crosses in clear"), "{}", f[0].1);
    assert!(f[0].1.contains("wg-crm"), "{}", f[0].1);
}

#[test]
fn the_same_api_reachable_from_the_internet_stays_high() {
    // The WAN accepts the API too.
    let open = WG.replace(
        "add action=drop chain=input\n",
        "add action=accept chain=input dst-port=8728 protocol=tcp\nadd action=drop chain=input\n",
    );
    let open = open.replace("/ip service set api address=10.99.0.2/32\n", "");
    assert_eq!(findings(&open, "TG101")[0].0, "high");
    // An `address=` wider than the tunnel's peers (the LAN, which the analysis does not model,
    // may reach it): high.
    let lan = WG.replace(
        "address=10.99.0.2/32\n",
        "address=10.99.0.2/32,192.168.88.0/24\n",
    );
    assert_eq!(findings(&lan, "TG101")[0].0, "high");
    // No address at all: high.
    let none = WG.replace("/ip service set api address=10.99.0.2/32\n", "");
    assert_eq!(findings(&none, "TG101")[0].0, "high");
}

#[test]
fn a_peer_admitting_a_whole_network_is_not_a_few_peers() {
    let wide = WG
        .replace("allowed-address=10.99.0.2/32", "allowed-address=10.0.0.0/8")
        .replace("address=10.99.0.2/32\n", "address=10.0.0.0/8\n");
    assert_eq!(findings(&wide, "TG101")[0].0, "high");
}

const GRE: &str = "/interface gre add name=gre-noc remote-address=198.51.100.9\n\
/ip firewall filter\n\
add action=accept chain=input connection-state=established,related\n\
add action=accept chain=input in-interface=gre-noc\n\
add action=drop chain=input\n";

#[test]
fn gre_encrypts_only_with_ipsec_secret() {
    let plain = exposure(GRE);
    let via = row(&plain, "gre-noc", "api").tunnel.clone().unwrap();
    assert!(!via.encrypts);
    assert_eq!(via.peer, "remote 198.51.100.9");
    let f = findings(GRE, "TG220");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "high");
    let secret = GRE.replace("name=gre-noc", "ipsec-secret=x name=gre-noc");
    assert!(
        row(&exposure(&secret), "gre-noc", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
    assert!(findings(&secret, "TG220").is_empty());
}

#[test]
fn eoip_and_ipip_encrypt_only_with_ipsec_secret() {
    for menu in ["eoip", "ipip", "eoipv6", "gre6", "ipipv6"] {
        let t = GRE.replace("/interface gre add", &format!("/interface {menu} add"));
        assert!(
            !row(&exposure(&t), "gre-noc", "api")
                .tunnel
                .as_ref()
                .unwrap()
                .encrypts,
            "{menu}"
        );
        let s = t.replace("name=gre-noc", "ipsec-secret=x name=gre-noc");
        assert!(
            row(&exposure(&s), "gre-noc", "api")
                .tunnel
                .as_ref()
                .unwrap()
                .encrypts,
            "{menu}"
        );
    }
}

#[test]
fn only_self_encrypting_services_through_a_plain_tunnel_are_medium() {
    let t = format!("{GRE}/ip service\nset api disabled=yes\nset telnet disabled=yes\nset ftp disabled=yes\nset www disabled=yes\n");
    let f = findings(&t, "TG220");
    assert_eq!(f[0].0, "medium", "{f:?}");
}

const L2TP: &str =
    "/interface l2tp-client add connect-to=198.51.100.1 disabled=no name=to-core user=r1\n\
/ip firewall filter\n\
add action=accept chain=input in-interface=to-core\n\
add action=drop chain=input\n";

#[test]
fn l2tp_encrypts_only_with_use_ipsec() {
    assert!(
        !row(&exposure(L2TP), "to-core", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
    let on = L2TP.replace("name=to-core", "name=to-core use-ipsec=yes");
    assert!(
        row(&exposure(&on), "to-core", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
    // A PPP client created without `disabled=no` does not run: no tunnel.
    let off = L2TP.replace(" disabled=no", "");
    assert!(exposure(&off).tunnels.is_empty());
}

#[test]
fn sstp_encrypts_and_openvpn_unless_its_cipher_is_null_alone() {
    let sstp = L2TP.replace("/interface l2tp-client", "/interface sstp-client");
    assert!(
        row(&exposure(&sstp), "to-core", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
    let ovpn = L2TP.replace(
        "/interface l2tp-client add",
        "/interface ovpn-client add cipher=null",
    );
    assert!(
        !row(&exposure(&ovpn), "to-core", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
    let mixed = ovpn.replace("cipher=null", "cipher=aes256-gcm,null");
    assert!(
        row(&exposure(&mixed), "to-core", "api")
            .tunnel
            .as_ref()
            .unwrap()
            .encrypts
    );
}

#[test]
fn a_tunnel_in_the_wan_list_is_analysed_as_a_tunnel_not_as_the_internet() {
    let t = format!("{WG}/interface list member add interface=wg-crm list=WAN\n");
    let e = exposure(&t);
    assert_eq!(e.moved_to_tunnel, vec!["wg-crm".to_string()]);
    assert!(!e.wan.contains(&"wg-crm".to_string()));
    assert_eq!(row(&e, "wg-crm", "api").zone, Zone::Tunnel);
    assert!(
        e.wan_source.contains("tunnels analysed as such"),
        "{}",
        e.wan_source
    );
    // `--wan wg-crm` keeps it WAN, as asked.
    let asked = analyse(
        &config(&t),
        &WanChoice {
            interfaces: vec!["wg-crm".into()],
            list: None,
        },
    );
    assert_eq!(row(&asked, "wg-crm", "api").zone, Zone::Wan);
}

#[test]
fn ipsec_policy_in_ipsec_matches_only_decapsulated_packets_so_the_wan_side_is_not_counted() {
    // `ipsec-policy=in,ipsec` matches packets IPsec decapsulated: a connection from the WAN
    // side in clear is not one, so this accept lets nobody in from the WAN.
    let t = "/ip firewall filter\n\
add action=accept chain=input ipsec-policy=in,ipsec\n\
add action=drop chain=input\n";
    let e = exposure(t);
    assert!(row(&e, "ether1", "api").set.is_empty());
    assert!(findings(t, "TG201").is_empty());
}

#[test]
fn hostile_tunnel_names_and_peers_are_escaped_in_messages() {
    let t = GRE.replace("gre-noc", "\"gre\\1B[31mX\"");
    let f = findings(&t, "TG220");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(!f[0].1.contains('\u{1b}'), "{:?}", f[0].1);
}

/// Real exports: a WireGuard interface (carried in the repository) and, in the larger corpus, an
/// L2TP client without IPsec that detection used to take for a WAN interface.
#[test]
fn corpus_tunnels_are_their_own_zone() {
    let load = |path: &std::path::Path| {
        let (c, _) = Config::load(std::fs::read(path).unwrap());
        c
    };
    let wg = corpus::find("alwaldend__src__infra__mikrotik__router1.rsc")
        .expect("carried in testdata/corpus");
    let e = analyse(&load(&wg), &WanChoice::default());
    let t = e
        .tunnels
        .iter()
        .find(|t| t.interface == "ingress-vpc")
        .unwrap();
    assert!(t.encrypts && t.kind == "WireGuard");
    assert!(e
        .rows
        .iter()
        .any(|r| r.interface == "ingress-vpc" && r.zone == Zone::Tunnel));
    if let Some(anna) = corpus::find("Defm__mikrobackups__rawconf_anna_latest.rsc") {
        let c = load(&anna);
        let e = analyse(&c, &WanChoice::default());
        assert_eq!(e.moved_to_tunnel, vec!["chr-tunnel".to_string()]);
        let f = audit::run(&c, &WanChoice::default(), &Selection::default());
        let tg220: Vec<_> = f.findings.iter().filter(|f| f.rule == "TG220").collect();
        assert_eq!(tg220.len(), 1);
        assert!(tg220[0].message.contains("L2TP without `use-ipsec`"));
    }
}

#[test]
fn a_tunnel_bridged_into_a_lan_is_that_bridge_reached_from_its_far_end() {
    // EoIP's usual place: a port of a bridge. Its IP traffic reaches the firewall as the
    // bridge's, so the side is the bridge, and it does not encrypt.
    let t = "/interface bridge add name=br-site\n\
/interface eoip add name=eoip-site remote-address=198.51.100.9 tunnel-id=7\n\
/interface bridge port add bridge=br-site interface=eoip-site\n\
/ip firewall filter\n\
add action=accept chain=input in-interface=br-site\n\
add action=drop chain=input\n";
    let e = exposure(t);
    let r = row(&e, "br-site", "api");
    assert_eq!(r.zone, Zone::Tunnel);
    assert!(!r.set.is_empty());
    let via = r.tunnel.as_ref().unwrap();
    assert!(!via.encrypts);
    assert!(via.peer.contains("eoip-site"), "{}", via.peer);
    let f = findings(t, "TG220");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].1.contains("`eoip-site`"), "{}", f[0].1);
    // A WAN bridge holding a tunnel stays WAN.
    let wan = format!("{t}/interface list member add interface=br-site list=WAN\n");
    let e = exposure(&wan);
    assert!(e.moved_to_tunnel.is_empty());
    assert_eq!(row(&e, "br-site", "api").zone, Zone::Wan);
}

#[test]
fn a_tunnel_whose_far_end_forwards_the_internet_is_judged_as_wide_as_that() {
    // A VPN provider's WireGuard peer admits every source: the API reached through it is the
    // internet's, whatever the tunnel encrypts.
    let t = WG
        .replace("allowed-address=10.99.0.2/32", "allowed-address=0.0.0.0/0")
        .replace("/ip service set api address=10.99.0.2/32\n", "");
    let f = findings(&t, "TG201");
    assert_eq!(f.first().map(|f| f.0.as_str()), Some("critical"), "{f:?}");
    assert!(f[0].1.contains("far ends of tunnels"), "{}", f[0].1);
    // A few peers are explicit prefixes: no TG201.
    assert!(findings(WG, "TG201").is_empty());
}

#[test]
fn the_reports_escape_a_hostile_tunnel_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rsc");
    std::fs::write(
        &path,
        format!(
            "{HEAD}{}",
            GRE.replace("gre-noc", "\"<script>alert(1)</script>\\1B[31m\"")
        ),
    )
    .unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tikguard"))
            .args(["audit", "--format", format])
            .arg(&path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let html = run("html");
    assert!(html.contains("tunnel: <code>&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    let text = run("text");
    assert!(text.contains("tunnel: "), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}

/// The CRM (192.0.2.10) reaches the router's API (8728) inside IPsec from its gateway
/// 198.51.100.7: the policy is written for what the router sends, `src-address` the router's
/// side, `dst-address` the far side. No filter: the input chain accepts everything.
const IPSEC: &str = "/ip ipsec peer add address=198.51.100.7/32 name=crm-gw\n\
/ip ipsec policy add dst-address=192.0.2.10/32 peer=crm-gw protocol=tcp src-address=203.0.113.2/32 src-port=8728 tunnel=yes\n\
/ip service set api address=192.0.2.10/32\n";

/// The rows of `service` over IPv4 on ether1, by zone.
fn ether1(e: &Exposure, service: &str, zone: Zone) -> Vec<audit::exposure::Row> {
    e.rows
        .iter()
        .filter(|r| {
            r.interface == "ether1" && r.service == service && r.family == "ipv4" && r.zone == zone
        })
        .cloned()
        .collect()
}

fn ipsec_reach(rest: &str, service: &str) -> Vec<String> {
    let e = exposure(rest);
    let rows = ether1(&e, service, Zone::Tunnel);
    assert!(rows.len() <= 1, "{rows:?}");
    rows.first()
        .map(|r| r.reachable_from.clone())
        .unwrap_or_default()
}

fn wan_reach(rest: &str, service: &str) -> Vec<String> {
    let e = exposure(rest);
    ether1(&e, service, Zone::Wan)[0].reachable_from.clone()
}

#[test]
fn an_ipsec_policy_admits_its_dst_address_to_its_src_side_from_its_peer_in_the_tunnel_zone() {
    let e = exposure(IPSEC);
    let rows = ether1(&e, "api", Zone::Tunnel);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].reachable_from, vec!["192.0.2.10/32".to_string()]);
    let via = rows[0].tunnel.as_ref().unwrap();
    assert_eq!(
        (via.kind, via.peer.as_str()),
        ("IPsec", "peer 198.51.100.7")
    );
    assert!(via.encrypts);
    // The far side is `dst-address`: a policy naming the CRM as its `src-address` carries
    // what the router sends *from* the CRM's address, not to the router.
    let reversed = IPSEC.replace(
        "dst-address=192.0.2.10/32 peer=crm-gw protocol=tcp src-address=203.0.113.2/32",
        "dst-address=203.0.113.2/32 peer=crm-gw protocol=tcp src-address=192.0.2.10/32",
    );
    assert!(ipsec_reach(&reversed, "api").is_empty());
    assert_eq!(wan_reach(&reversed, "api"), ["192.0.2.10/32"]);
    // A `src-address` that holds none of the router's addresses protects forwarded traffic.
    let elsewhere = IPSEC.replace("src-address=203.0.113.2/32", "src-address=10.1.0.0/24");
    assert!(ipsec_reach(&elsewhere, "api").is_empty());
    // A policy for every address (`0.0.0.0/0`) holds the router's too.
    let all = IPSEC.replace("src-address=203.0.113.2/32", "src-address=0.0.0.0/0");
    assert_eq!(ipsec_reach(&all, "api"), ["192.0.2.10/32"]);
}

#[test]
fn an_ipsec_policy_carries_the_port_its_src_port_names_and_tcp_only_if_its_protocol_allows() {
    // `src-port=8728`: the API, not api-ssl, whose WAN row stays.
    assert!(ipsec_reach(IPSEC, "api-ssl").is_empty());
    assert!(ether1(&exposure(IPSEC), "api-ssl", Zone::Tunnel).is_empty());
    assert_eq!(wan_reach(IPSEC, "api-ssl"), ["0.0.0.0/0"]);
    // `src-port` any: every service.
    let any = IPSEC.replace(" src-port=8728", "");
    assert_eq!(ipsec_reach(&any, "api-ssl"), ["192.0.2.10/32"]);
    // UDP only: no TCP connection to the API comes in through it.
    let udp = IPSEC.replace("protocol=tcp", "protocol=udp");
    assert!(ipsec_reach(&udp, "api").is_empty());
    assert_eq!(wan_reach(&udp, "api"), ["192.0.2.10/32"]);
    // `dst-port` (the CRM's own port) fixed: its connections from other ports are not carried.
    let dport = IPSEC.replace("src-port=8728", "dst-port=8728");
    assert!(ipsec_reach(&dport, "api").is_empty());
}

#[test]
fn level_require_keeps_the_policys_sources_from_arriving_in_clear_so_the_wan_row_loses_them() {
    // No filter: without the policy, the CRM's address reaches the API from the WAN.
    assert!(wan_reach(IPSEC, "api").is_empty());
    let plain = IPSEC.replace(
        "/ip ipsec policy add ",
        "/ip ipsec policy add disabled=yes ",
    );
    assert_eq!(wan_reach(&plain, "api"), ["192.0.2.10/32"]);
    // `unique` drops as `require` does.
    let unique = IPSEC.replace("tunnel=yes", "level=unique tunnel=yes");
    assert!(wan_reach(&unique, "api").is_empty());
}

#[test]
fn level_use_lets_the_policys_sources_also_arrive_in_clear_so_the_internet_row_stays() {
    let used = IPSEC.replace("tunnel=yes", "level=use tunnel=yes");
    assert_eq!(ipsec_reach(&used, "api"), ["192.0.2.10/32"]);
    assert_eq!(wan_reach(&used, "api"), ["192.0.2.10/32"]);
    assert_eq!(findings(&used, "TG101")[0].0, "high");
}

#[test]
fn a_disabled_policy_a_disabled_peer_and_a_template_are_not_a_side() {
    for off in [
        IPSEC.replace(
            "/ip ipsec policy add ",
            "/ip ipsec policy add disabled=yes ",
        ),
        IPSEC.replace(
            "/ip ipsec policy add ",
            "/ip ipsec policy add template=yes ",
        ),
        IPSEC.replace("/ip ipsec peer add ", "/ip ipsec peer add disabled=yes "),
        IPSEC.replace("/ip ipsec policy add ", "/ip ipsec policy add action=none "),
    ] {
        let e = exposure(&off);
        assert!(ether1(&e, "api", Zone::Tunnel).is_empty(), "{off}");
        assert_eq!(wan_reach(&off, "api"), ["192.0.2.10/32"], "{off}");
        assert_eq!(findings(&off, "TG101")[0].0, "high", "{off}");
    }
    // The default policy (`set 0`, a template) has no peer: not a side.
    let default = "/ip ipsec policy\nset 0 dst-address=0.0.0.0/0 src-address=0.0.0.0/0\n";
    assert!(ether1(&exposure(default), "api", Zone::Tunnel).is_empty());
    assert_eq!(wan_reach(default, "api"), ["0.0.0.0/0"]);
}

#[test]
fn a_decapsulated_packet_meets_the_filter_on_the_wan_interface_where_in_ipsec_matches_and_in_none_does_not(
) {
    // The usual pair: accept what IPsec decapsulated, drop the rest. The CRM gets in through
    // the policy; nobody from the WAN in clear.
    let accept = format!(
        "{IPSEC}/ip firewall filter\n\
add action=accept chain=input ipsec-policy=in,ipsec\n\
add action=drop chain=input\n"
    );
    assert_eq!(ipsec_reach(&accept, "api"), ["192.0.2.10/32"]);
    assert!(wan_reach(&accept, "api").is_empty());
    // `in,none` matches only what did not come out of IPsec.
    let none = accept.replace("ipsec-policy=in,ipsec", "ipsec-policy=in,none");
    assert!(ipsec_reach(&none, "api").is_empty());
    // Its in-interface is the WAN interface the ESP came in on: a drop of the WAN list drops
    // it too.
    let wan_drop = format!(
        "{IPSEC}/ip firewall filter\n\
add action=drop chain=input in-interface-list=WAN\n"
    );
    assert!(ipsec_reach(&wan_drop, "api").is_empty());
}

#[test]
fn ipsec_encrypts_so_the_plaintext_api_only_through_it_is_medium_and_says_why() {
    let f = findings(IPSEC, "TG101");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "medium");
    assert!(f[0].1.contains("tunnel encrypts"), "{}", f[0].1);
    assert!(f[0].1.contains("still crosses in clear"), "{}", f[0].1);
    assert!(f[0].1.contains("IPsec, peer 198.51.100.7"), "{}", f[0].1);
    // The same API reachable from the internet as well: high.
    let open = IPSEC.replace("/ip service set api address=192.0.2.10/32\n", "");
    assert_eq!(findings(&open, "TG101")[0].0, "high");
}

#[test]
fn hostile_ipsec_peer_addresses_are_escaped_in_messages() {
    let t = IPSEC.replace(
        "address=198.51.100.7/32 name",
        "address=\"198.51.100.7\\1B[31m\" name",
    );
    let e = exposure(&t);
    let via = ether1(&e, "api", Zone::Tunnel)[0].tunnel.clone().unwrap();
    assert!(!via.peer.contains('\u{1b}'), "{:?}", via.peer);
}

#[test]
fn a_policy_whose_src_address_leaves_out_a_router_address_does_not_keep_its_sources_out_in_clear() {
    // The router also answers on its LAN address, which the policy does not select: a clear
    // connection from the CRM's address to it is not the policy's to drop.
    let lan = format!("/ip address add address=192.168.88.1/24 interface=bridge\n{IPSEC}");
    assert_eq!(ipsec_reach(&lan, "api"), ["192.0.2.10/32"]);
    assert_eq!(wan_reach(&lan, "api"), ["192.0.2.10/32"]);
    assert_eq!(findings(&lan, "TG101")[0].0, "high");
}

#[test]
fn the_esp_comes_in_on_the_interface_holding_the_peers_local_address() {
    // The peer sits at the far end of an L2TP tunnel whose profile gives the router 10.0.0.3.
    let l2tp = IPSEC.replace(
        "name=crm-gw\n",
        "local-address=10.0.0.3 name=crm-gw\n\
/ppp profile add local-address=10.0.0.3 name=to-core remote-address=10.0.0.1\n\
/interface l2tp-client add connect-to=198.51.100.7 disabled=no name=core profile=to-core user=r1\n",
    );
    let e = exposure(&l2tp);
    assert!(ether1(&e, "api", Zone::Tunnel).is_empty());
    let through = e
        .rows
        .iter()
        .find(|r| {
            r.interface == "core"
                && r.service == "api"
                && r.tunnel.as_ref().is_some_and(|t| t.kind == "IPsec")
        })
        .expect("an IPsec row on core");
    assert_eq!(through.reachable_from, vec!["192.0.2.10/32".to_string()]);
    // An `/ip address` holding it: that interface.
    let addr = IPSEC.replace("name=crm-gw\n", "local-address=203.0.113.2 name=crm-gw\n");
    assert_eq!(ipsec_reach(&addr, "api"), ["192.0.2.10/32"]);
}
