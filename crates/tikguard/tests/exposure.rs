//! The exposure analysis, one behaviour per test: matchers, negations, jumps and returns, address
//! lists, IPv6, service `address=`, WAN detection, and shadowing.

use routeros_config::Config;
use tikguard::audit::exposure::{analyse, WanChoice};

/// ether1 is the WAN, with a global IPv6 address (without one it is reachable over IPv6 from
/// its link only: see the link-local tests).
const HEAD: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list add name=LAN\n/interface list member add interface=ether1 list=WAN\n/interface list member add interface=bridge list=LAN\n/ipv6 address add address=2001:db8:f::2/64 interface=ether1 advertise=no\n";

/// The prefixes that reach `service` over `family` on ether1.
fn reach(rules: &str, service: &str, family: &str) -> Vec<String> {
    let (c, p) = Config::load(format!("{HEAD}{rules}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    let row = e
        .rows
        .iter()
        .find(|r| r.service == service && r.family == family && r.interface == "ether1")
        .unwrap_or_else(|| panic!("no row for {service} {family}"));
    row.reachable_from.clone()
}

fn v4(rules: &str, service: &str) -> Vec<String> {
    reach(rules, service, "ipv4")
}

const ALL4: &[&str] = &["0.0.0.0/0"];

#[test]
fn no_firewall_means_everything_reaches_every_enabled_service() {
    assert_eq!(v4("", "api"), ALL4);
    assert_eq!(reach("", "winbox", "ipv6"), ["::/0"]);
}

#[test]
fn a_disabled_service_is_reachable_from_nowhere() {
    assert!(v4("/ip service set api disabled=yes\n", "api").is_empty());
}

#[test]
fn service_address_intersects_the_firewall_result() {
    assert_eq!(
        v4("/ip service set api address=10.0.0.0/8,192.0.2.7\n", "api"),
        ["10.0.0.0/8", "192.0.2.7/32"]
    );
    // IPv4-only service addresses keep IPv6 sources out.
    assert!(reach("/ip service set api address=10.0.0.0/8\n", "api", "ipv6").is_empty());
}

#[test]
fn final_drop_on_wan_list_closes_everything() {
    let fw = "/ip firewall filter add chain=input action=drop in-interface-list=WAN\n";
    assert!(v4(fw, "api").is_empty());
    // Only IPv4 was closed.
    assert_eq!(reach(fw, "api", "ipv6"), ["::/0"]);
}

#[test]
fn negated_interface_list_drop_closes_wan() {
    assert!(v4(
        "/ip firewall filter add chain=input action=drop in-interface-list=!LAN\n",
        "ssh"
    )
    .is_empty());
}

#[test]
fn in_interface_exact_and_negated() {
    assert!(v4(
        "/ip firewall filter add chain=input action=drop in-interface=ether1\n",
        "ssh"
    )
    .is_empty());
    assert_eq!(
        v4(
            "/ip firewall filter add chain=input action=drop in-interface=ether2\n",
            "ssh"
        ),
        ALL4
    );
    assert_eq!(
        v4(
            "/ip firewall filter add chain=input action=drop in-interface=!ether1\n",
            "ssh"
        ),
        ALL4
    );
}

#[test]
fn accept_above_the_drop_opens_the_port_only() {
    let fw = "/ip firewall filter\nadd chain=input action=accept protocol=tcp dst-port=8728\nadd chain=input action=drop in-interface-list=WAN\n";
    assert_eq!(v4(fw, "api"), ALL4);
    assert!(v4(fw, "winbox").is_empty());
}

#[test]
fn dst_port_lists_and_ranges() {
    let fw = "/ip firewall filter\nadd chain=input action=accept protocol=tcp dst-port=22,8000-8999\nadd chain=input action=drop\n";
    assert_eq!(v4(fw, "api"), ALL4);
    assert_eq!(v4(fw, "ssh"), ALL4);
    assert!(v4(fw, "www").is_empty());
}

#[test]
fn protocol_other_than_tcp_does_not_match_management() {
    let fw = "/ip firewall filter\nadd chain=input action=accept protocol=udp dst-port=8728\nadd chain=input action=drop\n";
    assert!(v4(fw, "api").is_empty());
    let neg = "/ip firewall filter\nadd chain=input action=accept protocol=!udp\nadd chain=input action=drop\n";
    assert_eq!(v4(neg, "api"), ALL4);
}

#[test]
fn src_address_prefix_range_and_negation() {
    let fw = "/ip firewall filter\nadd chain=input action=accept src-address=10.0.0.0/8\nadd chain=input action=drop\n";
    assert_eq!(v4(fw, "api"), ["10.0.0.0/8"]);
    let range = "/ip firewall filter\nadd chain=input action=accept src-address=192.0.2.1-192.0.2.2\nadd chain=input action=drop\n";
    assert_eq!(v4(range, "api"), ["192.0.2.1/32", "192.0.2.2/32"]);
    let neg = "/ip firewall filter\nadd chain=input action=drop src-address=!10.0.0.0/8\n";
    assert_eq!(v4(neg, "api"), ["10.0.0.0/8"]);
}

#[test]
fn address_lists_static_entries_and_negation() {
    let fw = "/ip firewall address-list\nadd list=mgmt address=10.1.0.0/16\nadd list=mgmt address=10.2.0.0/16 disabled=yes\n/ip firewall filter\nadd chain=input action=drop src-address-list=!mgmt\n";
    assert_eq!(v4(fw, "winbox"), ["10.1.0.0/16"]);
}

#[test]
fn dynamic_lists_are_empty_for_a_first_connection() {
    // The blacklist is only filled at run time: a first connection is not in it.
    let fw = "/ip firewall filter\nadd chain=input action=drop src-address-list=blacklist\nadd chain=input action=add-src-to-address-list address-list=blacklist protocol=tcp dst-port=8728\n";
    assert_eq!(v4(fw, "api"), ALL4);
}

#[test]
fn connection_state_rules_for_established_do_not_match_new() {
    let fw = "/ip firewall filter\nadd chain=input action=accept connection-state=established,related\nadd chain=input action=drop\n";
    assert!(v4(fw, "api").is_empty());
    let new = "/ip firewall filter\nadd chain=input action=accept connection-state=new src-address=10.0.0.0/8\nadd chain=input action=drop\n";
    assert_eq!(v4(new, "api"), ["10.0.0.0/8"]);
    let not_inv = "/ip firewall filter\nadd chain=input action=accept connection-state=!invalid\nadd chain=input action=drop\n";
    assert_eq!(v4(not_inv, "api"), ALL4);
}

#[test]
fn disabled_rules_are_ignored() {
    assert_eq!(
        v4(
            "/ip firewall filter add chain=input action=drop disabled=yes\n",
            "api"
        ),
        ALL4
    );
}

#[test]
fn jump_and_return_into_custom_chains() {
    let fw = "/ip firewall filter\nadd chain=input action=jump jump-target=mgmt protocol=tcp dst-port=8291\nadd chain=mgmt action=return src-address=10.0.0.0/8\nadd chain=mgmt action=drop\nadd chain=input action=accept\n";
    // Sources outside 10/8 are dropped in `mgmt`; 10/8 returns and is accepted in input.
    assert_eq!(v4(fw, "winbox"), ["10.0.0.0/8"]);
    // Other ports never jump.
    assert_eq!(v4(fw, "ssh"), ALL4);
    let accept_in_chain = "/ip firewall filter\nadd chain=input action=jump jump-target=c\nadd chain=c action=accept src-address=192.0.2.0/24\nadd chain=input action=drop\n";
    assert_eq!(v4(accept_in_chain, "ssh"), ["192.0.2.0/24"]);
}

#[test]
fn falling_off_a_custom_chain_returns_to_the_caller() {
    let fw = "/ip firewall filter\nadd chain=input action=jump jump-target=empty\nadd chain=input action=drop\n";
    assert!(v4(fw, "ssh").is_empty());
}

#[test]
fn jump_loops_terminate() {
    let fw = "/ip firewall filter\nadd chain=input action=jump jump-target=a\nadd chain=a action=jump jump-target=b\nadd chain=b action=jump jump-target=a\nadd chain=input action=drop\n";
    // Must not hang; the loop is settled in the attacker's favour.
    let _ = v4(fw, "ssh");
}

#[test]
fn undecided_matchers_favour_the_attacker_and_say_so() {
    let (c, _) = Config::load(format!("{HEAD}/ip firewall filter\nadd chain=input action=drop limit=10,5:packet\nadd chain=input action=accept time=0s-1h,mon\nadd chain=input action=drop\n").into_bytes());
    let e = analyse(&c, &WanChoice::default());
    let row = e
        .rows
        .iter()
        .find(|r| r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert_eq!(row.reachable_from, ALL4);
    assert_eq!(row.approximated_by, [0, 1]);
}

#[test]
fn loopback_destination_never_matches_traffic_from_outside() {
    // The default configuration's "accept to local loopback" rule does not open anything.
    let fw = "/ip firewall filter\nadd chain=input action=accept dst-address=127.0.0.1\nadd chain=input action=drop in-interface-list=!LAN\n";
    assert!(v4(fw, "api").is_empty());
}

#[test]
fn ipv6_uses_its_own_table_and_lists() {
    let fw = "/ipv6 firewall address-list add list=adm address=2001:db8:1::/48\n/ipv6 firewall filter\nadd chain=input action=accept src-address-list=adm\nadd chain=input action=drop in-interface-list=!LAN\n";
    assert_eq!(reach(fw, "ssh", "ipv6"), ["2001:db8:1::/48"]);
    assert_eq!(v4(fw, "ssh"), ALL4);
}

#[test]
fn routeros6_without_ipv6_menus_has_no_ipv6_rows() {
    let (c, _) = Config::load(
        &b"# jan/01/2023 00:00:00 by RouterOS 6.49.7\n/ip dhcp-client add interface=ether1\n"[..],
    );
    let e = analyse(&c, &WanChoice::default());
    assert!(e.rows.iter().all(|r| r.family == "ipv4"));
    assert_eq!(e.wan, ["ether1"]);
}

#[test]
fn wan_detection_prefers_options_then_list_then_clients() {
    let src = "/interface list add name=WAN\n/interface list member add interface=sfp1 list=WAN\n/ip dhcp-client add interface=ether1\n";
    let (c, _) = Config::load(src.as_bytes().to_vec());
    assert_eq!(analyse(&c, &WanChoice::default()).wan, ["sfp1"]);
    let wan = WanChoice {
        interfaces: vec!["ether9".into()],
        list: None,
    };
    assert_eq!(analyse(&c, &wan).wan, ["ether9"]);
    let (c, _) = Config::load(&b"/ip address add address=203.0.113.2/30 interface=uplink\n/ip route add gateway=203.0.113.1\n"[..]);
    assert_eq!(analyse(&c, &WanChoice::default()).wan, ["uplink"]);
    let (c, _) = Config::load(&b"/system identity set name=x\n"[..]);
    assert_eq!(analyse(&c, &WanChoice::default()).wan, ["*"]);
}

/// (shadowed rule, the earlier rules named as taking its traffic).
fn shadowed(e: &tikguard::audit::exposure::Exposure) -> Vec<(usize, Vec<usize>)> {
    e.v4.shadowed()
        .into_iter()
        .map(|s| (s.rule, s.by))
        .collect()
}

#[test]
fn shadowing_by_one_rule_and_by_several() {
    let (c, _) = Config::load(format!("{HEAD}/ip firewall filter\nadd chain=input action=accept protocol=tcp dst-port=8728\nadd chain=input action=drop protocol=tcp dst-port=8728 src-address=10.0.0.0/8\nadd chain=input action=drop src-address=192.0.2.0/25\nadd chain=input action=drop src-address=192.0.2.128/25\nadd chain=input action=accept src-address=192.0.2.0/24\nadd chain=input action=accept protocol=tcp dst-port=22 in-interface=ether1\n").into_bytes());
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(shadowed(&e), [(1, vec![0]), (4, vec![2, 3])]);
}

#[test]
fn a_rule_with_a_narrower_interface_or_state_is_not_shadowed_by_a_different_one() {
    let (c, _) = Config::load(format!("{HEAD}/ip firewall filter\nadd chain=input action=drop in-interface=ether2\nadd chain=input action=accept in-interface=ether1\nadd chain=input action=accept connection-state=established\nadd chain=input action=accept connection-state=established,related\nadd chain=input action=drop connection-state=established\n").into_bytes());
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(shadowed(&e), [(4, vec![2])]);
}

#[test]
fn interface_list_including_all_covers_every_interface_but_its_exclusions() {
    let fw = "/interface list add name=everything include=all exclude=LAN\n/ip firewall filter add chain=input action=drop in-interface-list=everything\n";
    assert!(v4(fw, "ssh").is_empty());
    let (c, _) = Config::load(format!("{HEAD}{fw}").into_bytes());
    let e = analyse(
        &c,
        &WanChoice {
            interfaces: vec!["bridge".into()],
            list: None,
        },
    );
    let row = e
        .rows
        .iter()
        .find(|r| r.service == "ssh" && r.family == "ipv4")
        .unwrap();
    assert_eq!(row.reachable_from, ALL4);
}

#[test]
fn lists_named_like_wan_are_the_wan_side() {
    let (c, _) = Config::load(&b"/interface list add name=zone-wan\n/interface list member add interface=uplink list=zone-wan\n/ip dhcp-client add interface=mgmt\n"[..]);
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(e.wan, ["uplink"]);
    assert_eq!(e.wan_source, "interface list zone-wan");
}

/// `www-ssl` ships disabled (MikroTik's IP Services manual; exports write `set www-ssl
/// disabled=no` to turn it on): an export that does not mention it exposes nothing on 443 and
/// gets none of the www-ssl findings (TG103, TG104, TG109, TG202, TG209).
#[test]
fn www_ssl_is_disabled_by_default_and_reported_nowhere() {
    assert!(v4("", "www-ssl").is_empty());
    assert_eq!(v4("/ip service set www-ssl disabled=no\n", "www-ssl"), ALL4);
    let (c, _) = Config::load(HEAD.as_bytes().to_vec());
    let audit = tikguard::audit::run(&c, &WanChoice::default(), &Default::default());
    let about_www_ssl: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.message.contains("www-ssl"))
        .map(|f| f.rule)
        .collect();
    assert!(about_www_ssl.is_empty(), "{about_www_ssl:?}");
}

fn wan_of(export: &str) -> (Vec<String>, String) {
    let (c, p) =
        Config::load(format!("# 2024-01-01 00:00:00 by RouterOS 7.16\n{export}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    (e.wan, e.wan_source)
}

/// MikroTik's Policy Routing manual: a default route with `routing-table=` other than main (v7)
/// or `routing-mark=` (v6) serves marked traffic only; its interface is not the router's WAN.
#[test]
fn a_default_route_in_another_routing_table_does_not_make_a_wan() {
    let (wan, why) = wan_of(
        "/ip address\nadd address=203.0.113.2/30 interface=ether1\nadd address=198.51.100.2/30 interface=ether2\n/routing table add name=backup fib\n/ip route\nadd gateway=203.0.113.1\nadd gateway=198.51.100.1 routing-table=backup\nadd gateway=198.51.100.1 routing-mark=old\n",
    );
    assert_eq!(wan, ["ether1"]);
    assert_eq!(why, "ether1: default route");
}

/// PPP-family clients are created disabled: an export shows `disabled=no` on an enabled one.
#[test]
fn ppp_clients_without_disabled_no_are_disabled_and_not_a_wan() {
    let (wan, _) = wan_of(
        "/interface pppoe-client\nadd interface=ether1 name=pppoe-old user=a\nadd disabled=no interface=ether2 name=pppoe-out user=b\n/interface l2tp-client\nadd connect-to=192.0.2.1 name=l2tp-lab user=c\n",
    );
    assert_eq!(wan, ["pppoe-out"]);
}

/// Lists named like ISP, uplink or internet mark the outside as `WAN` does.
#[test]
fn interface_lists_named_isp_uplink_or_internet_count_as_wan() {
    for name in ["ISP", "uplinks", "Internet", "zone-wan"] {
        let (wan, why) = wan_of(&format!(
            "/interface list add name={name}\n/interface list member add interface=sfp1 list={name}\n"
        ));
        assert_eq!(wan, ["sfp1"], "{name}");
        assert_eq!(why, format!("interface list {name}"));
    }
    let (wan, _) = wan_of(
        "/interface list add name=LAN\n/interface list member add interface=bridge list=LAN\n",
    );
    assert_eq!(wan, ["*"]);
}

/// The report says why each interface was taken as WAN.
#[test]
fn wan_reasons_name_each_interface() {
    let (wan, why) = wan_of(
        "/ip dhcp-client add interface=ether1\n/interface pppoe-client add disabled=no interface=ether2 name=pppoe-out user=x\n",
    );
    assert_eq!(wan, ["ether1", "pppoe-out"]);
    assert_eq!(why, "ether1: DHCP client; pppoe-out: PPP client");
}

fn v6_rows(export: &str) -> Vec<String> {
    let (c, p) = Config::load(
        format!("# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n{export}")
            .into_bytes(),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    e.rows
        .iter()
        .find(|r| r.service == "winbox" && r.family == "ipv6")
        .map(|r| r.reachable_from.join(","))
        .into_iter()
        .collect()
}

/// On v7 IPv6 is on, but an interface with only its link-local address is reachable over IPv6
/// from its own link only (MikroTik's IPv6 Address manual: every interface gets a link-local
/// address; a global one comes from `/ipv6 address`, DHCPv6 or SLAAC). Such rows read
/// `fe80::/10` and raise no TG201/TG202/TG209.
#[test]
fn an_interface_with_only_its_link_local_address_is_reachable_from_its_link_only() {
    assert_eq!(v6_rows(""), ["fe80::/10"]);
    let (c, _) = Config::load(
        b"# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip firewall filter add chain=input action=drop in-interface-list=WAN\n".to_vec(),
    );
    let audit = tikguard::audit::run(&c, &WanChoice::default(), &Default::default());
    let v6: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| ["TG201", "TG202", "TG209"].contains(&f.rule))
        .map(|f| (f.rule, f.message.clone()))
        .collect();
    assert!(v6.is_empty(), "{v6:?}");
}

/// A global address comes from a non-link-local `/ipv6 address`, an `/ipv6 dhcp-client`, or
/// accepted router advertisements: `yes`, or the default `yes-if-forwarding-disabled` with
/// `forward=no` (MikroTik's IPv6 ND manual).
#[test]
fn a_global_ipv6_address_comes_from_an_address_dhcpv6_or_accepted_ras() {
    let all = ["::/0"];
    assert_eq!(
        v6_rows("/ipv6 address add address=2001:db8::1/64 interface=ether1\n"),
        all
    );
    assert_eq!(
        v6_rows("/ipv6 address add address=fe80::1/64 interface=ether1\n"),
        ["fe80::/10"]
    );
    assert_eq!(
        v6_rows("/ipv6 dhcp-client add interface=ether1 request=address\n"),
        all
    );
    assert_eq!(
        v6_rows("/ipv6 settings set accept-router-advertisements=yes\n"),
        all
    );
    assert_eq!(v6_rows("/ipv6 settings set forward=no\n"), all);
    assert_eq!(
        v6_rows("/ipv6 settings set accept-router-advertisements=no forward=no\n"),
        ["fe80::/10"]
    );
    // A unique local address on another interface is not routed to the router from beyond
    // ether1's link (a global one is: see the weak host test).
    assert_eq!(
        v6_rows("/ipv6 address add address=fd00:1::1/64 interface=bridge\n"),
        ["fe80::/10"]
    );
    // `disable-ipv6=yes`: no IPv6 at all.
    assert!(v6_rows("/ipv6 settings set disable-ipv6=yes\n").is_empty());
}

/// The router answers on every local address whatever interface a packet comes in on (Linux's
/// weak host model, RFC 1122 §3.3.4.2): a WAN interface with only its link-local address still
/// carries connections from anywhere to a global address elsewhere on the router, a LAN address
/// from a delegated prefix or a `/128` on a loopback bridge; not to a unique local address,
/// which the internet does not route (RFC 4193 §4.1).
#[test]
fn the_router_answers_on_its_global_ipv6_addresses_from_any_interface() {
    let all = ["::/0"];
    assert_eq!(
        v6_rows("/interface bridge add name=loopback\n/ipv6 address add address=2001:db8:ff::1/128 advertise=no interface=loopback\n"),
        all
    );
    assert_eq!(
        v6_rows("/ipv6 address add address=2001:db8:5::1 interface=bridge\n"),
        all
    );
    assert_eq!(
        v6_rows("/ipv6 address add from-pool=isp interface=bridge\n"),
        all
    );
    assert_eq!(
        v6_rows("/ipv6 address add address=fd00:5::1 interface=bridge\n"),
        ["fe80::/10"]
    );
}

/// Severity follows who can reach the API: the internet is critical, private/CGNAT space high,
/// explicit prefixes nothing (TG201's doc).
#[test]
fn api_severity_follows_who_can_reach_it() {
    let sev = |rules: &str| -> Vec<String> {
        let (c, _) = Config::load(format!("{HEAD}{rules}").into_bytes());
        tikguard::audit::run(&c, &WanChoice::default(), &Default::default())
            .findings
            .iter()
            .filter(|f| f.rule == "TG201" && f.message.contains("ipv4"))
            .map(|f| format!("{:?}", f.severity))
            .collect()
    };
    let v6_closed = "/ipv6 firewall filter add chain=input action=drop in-interface-list=WAN\n";
    assert_eq!(sev(v6_closed), ["Critical", "Critical"]);
    assert_eq!(
        sev(&format!(
            "{v6_closed}/ip service set api,api-ssl address=10.0.0.0/8,100.64.0.0/10\n"
        )),
        ["High", "High"]
    );
    assert!(sev(&format!(
        "{v6_closed}/ip service set api,api-ssl address=203.0.113.0/24,10.1.2.0/24\n"
    ))
    .is_empty());
}

fn row(rules: &str, service: &str) -> tikguard::audit::exposure::Row {
    let (c, p) = Config::load(format!("{HEAD}{rules}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    analyse(&c, &WanChoice::default())
        .rows
        .into_iter()
        .find(|r| r.service == service && r.family == "ipv4" && r.interface == "ether1")
        .unwrap()
}

/// MikroTik's Firewall Filter manual: `port=` "matches if any (source or destination) port
/// matches". A drop naming the service port closes it; an accept naming another port lets in
/// whoever picks that source port (`accept port=53` is the classic hole); decided, not
/// approximated.
#[test]
fn port_matches_the_source_or_the_destination_port_and_is_decided() {
    let closed = row(
        "/ip firewall filter add chain=input action=drop protocol=tcp port=8728\n",
        "api",
    );
    assert!(closed.reachable_from.is_empty() && closed.approximated_by.is_empty());
    let hole = row(
        "/ip firewall filter\nadd chain=input action=accept protocol=tcp port=53\nadd chain=input action=drop in-interface-list=WAN\n",
        "api",
    );
    assert_eq!(hole.reachable_from, ALL4);
    assert!(hole.approximated_by.is_empty());
    assert_eq!(hole.accepted_by, [0]);
    let other_drop = row(
        "/ip firewall filter add chain=input action=drop protocol=tcp port=53\n",
        "api",
    );
    assert_eq!(other_drop.reachable_from, ALL4);
}

/// `/ip service vrf=` (v7): the service listens only in that VRF (`/ip vrf interfaces=`); a WAN
/// port in the main VRF does not reach it, and one in that VRF does.
#[test]
fn a_service_in_a_vrf_is_reachable_only_from_that_vrfs_interfaces() {
    let mgmt_vrf = "/ip vrf add name=mgmt interfaces=ether5\n/ip service set winbox vrf=mgmt\n";
    assert!(v4(mgmt_vrf, "winbox").is_empty());
    assert_eq!(v4(mgmt_vrf, "ssh"), ALL4);
    // The WAN in the service's VRF: reachable.
    let wan_in_vrf = "/ip vrf add name=cust interfaces=ether1\n/ip service set api vrf=cust\n";
    assert_eq!(v4(wan_in_vrf, "api"), ALL4);
    // A main-VRF service is not reachable from a WAN interface moved to another VRF.
    assert!(v4(wan_in_vrf, "winbox").is_empty());
}

/// MikroTik's Firewall manual (Raw): `/ip firewall raw` prerouting runs before connection
/// tracking and the filter. A raw drop means `input` never sees the packet.
#[test]
fn a_raw_drop_closes_before_the_filter_accepts() {
    let fw = "/ip firewall raw add chain=prerouting action=drop protocol=tcp dst-port=8728 in-interface-list=WAN\n/ip firewall filter add chain=input action=accept protocol=tcp dst-port=8728\n";
    let r = row(fw, "api");
    assert!(r.reachable_from.is_empty());
    // Other services are untouched; a raw accept leaves the decision to the filter.
    assert_eq!(v4(fw, "winbox"), ALL4);
    let pass = "/ip firewall raw add chain=prerouting action=accept src-address=192.0.2.0/24\n/ip firewall filter add chain=input action=drop in-interface-list=WAN\n";
    assert!(v4(pass, "api").is_empty());
}

/// `notrack` makes the connection `untracked`: a filter accepting `connection-state=new` does
/// not match it, a drop of `new` does not stop it, and one naming `untracked` does.
#[test]
fn notrack_makes_connections_untracked_for_the_filter() {
    let raw = "/ip firewall raw add chain=prerouting action=notrack protocol=tcp dst-port=8728\n";
    // The filter drops only new connections: an untracked one passes to the default accept.
    let r = row(
        &format!("{raw}/ip firewall filter add chain=input action=drop connection-state=new in-interface-list=WAN\n"),
        "api",
    );
    assert_eq!(r.reachable_from, ALL4);
    // A drop of untracked closes it.
    assert!(v4(
        &format!("{raw}/ip firewall filter add chain=input action=drop connection-state=untracked in-interface-list=WAN\n"),
        "api"
    )
    .is_empty());
}

/// `content=` matches payload; the SYN that opens a TCP connection carries none (RFC 9293), so
/// such a rule decides nothing about who can connect (the "drop winbox exploit content=user.dat"
/// rule of real exports): not approximated, not a lockout.
#[test]
fn a_content_matcher_never_decides_whether_a_connection_opens() {
    let r = row(
        "/ip firewall raw add chain=prerouting action=drop content=user.dat\n/ip firewall filter add chain=input action=drop protocol=tcp dst-port=8291 content=x\n",
        "winbox",
    );
    assert_eq!(r.reachable_from, ALL4);
    assert!(r.approximated_by.is_empty() && r.raw_approximated_by.is_empty());
}

/// One finding per root cause: a service open on several WAN interfaces and both families is one
/// TG201 finding listing where; the IPv6 bypass of several services on several interfaces is one
/// TG209 finding, and the missing final drop on several interfaces and families one TG205.
#[test]
fn one_finding_per_root_cause_across_interfaces_families_and_services() {
    let (c, _) = Config::load(
        b"# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/interface list member add interface=ether2 list=WAN\n/ipv6 dhcp-client add interface=ether1 request=address\n/ipv6 dhcp-client add interface=ether2 request=address\n/ip firewall filter add chain=input action=drop protocol=tcp dst-port=8291,22,23,21,80 in-interface-list=WAN\n".to_vec(),
    );
    let a = tikguard::audit::run(&c, &WanChoice::default(), &Default::default());
    let by = |rule: &str| {
        a.findings
            .iter()
            .filter(|f| f.rule == rule)
            .collect::<Vec<_>>()
    };
    let tg201 = by("TG201");
    assert_eq!(tg201.len(), 2, "api and api-ssl: {tg201:#?}");
    let api = &tg201[0].message;
    for part in [
        "on `ether1` over ipv4",
        "over ipv6",
        "on `ether2` over ipv4",
    ] {
        assert!(api.contains(part), "{api}");
    }
    let tg209 = by("TG209");
    assert_eq!(tg209.len(), 1, "{tg209:#?}");
    let m = &tg209[0].message;
    assert!(m.contains("`winbox`") && m.contains("`ssh`"), "{m}");
    assert!(
        m.contains("on `ether1`") && m.contains("on `ether2`"),
        "{m}"
    );
    let tg205 = by("TG205");
    assert_eq!(tg205.len(), 1, "{tg205:#?}");
    let m = &tg205[0].message;
    for part in ["`ether1` over ipv4", "`ether2` over ipv6"] {
        assert!(m.contains(part), "{m}");
    }
    // One fix line per family: the WAN list matcher is the same on both interfaces.
    assert_eq!(tg205[0].fix.len(), 2, "{:?}", tg205[0].fix);
}

/// Rules matching one large address list are answered from the group's memory of that list
/// (it is not read interval by interval again); the rules named must be the same as reading it.
#[test]
fn rules_reusing_a_large_list_name_the_same_rules_as_reading_it() {
    let mut src = format!("{HEAD}/ip firewall address-list\n");
    for i in 0..10 {
        src += &format!("add list=customers address=10.0.{}.0/24\n", 2 * i);
    }
    src += "/ip firewall filter\n";
    // 0: takes the first customer block; 1: the rest of them; 2, 3: the list again, twice.
    src += "add chain=input action=accept protocol=tcp dst-port=22 src-address=10.0.0.0/24\n";
    src += "add chain=input action=accept protocol=tcp dst-port=22 src-address-list=customers\n";
    src += "add chain=input action=accept protocol=tcp dst-port=22 src-address-list=customers\n";
    src += "add chain=input action=accept protocol=tcp dst-port=22 src-address-list=customers\n";
    // 4: a drop of everything; 5: the list once more, now behind one wide rule as well.
    src += "add chain=input action=drop\n";
    src += "add chain=input action=accept protocol=tcp dst-port=22 src-address-list=customers\n";
    let (c, _) = Config::load(src.into_bytes());
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(
        shadowed(&e),
        [(2, vec![0, 1]), (3, vec![0, 1]), (5, vec![4])]
    );
}

/// The WAN port `ether1` bridged into `br-wan` (the WAN list names the port).
const BRIDGED_WAN: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface bridge add name=br-wan\n/interface bridge port add bridge=br-wan interface=ether1\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n";

fn bridged(rules: &str, service: &str) -> (Vec<String>, Vec<String>) {
    let (c, p) = Config::load(format!("{BRIDGED_WAN}{rules}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    let row = e
        .rows
        .iter()
        .find(|r| {
            r.service == service
                && r.family == "ipv4"
                && r.zone == tikguard::audit::exposure::Zone::Wan
        })
        .unwrap();
    (e.wan.clone(), row.reachable_from.clone())
}

/// Traffic arriving on a bridge port reaches the IP firewall with `in-interface=` the bridge: a
/// WAN list holding the port never matches `in-interface-list=WAN`, so a drop on that list
/// closes nothing (before: reported closed) and an accept on it opens nothing (before: reported
/// reachable).
#[test]
fn a_bridge_port_is_not_where_ip_traffic_enters() {
    let drop = "/ip firewall filter add action=drop chain=input in-interface-list=WAN\n";
    let (wan, from) = bridged(drop, "api");
    assert_eq!(wan, ["br-wan"]);
    assert_eq!(from, ["0.0.0.0/0"]);
    let accept = "/ip firewall filter add action=accept chain=input dst-port=8291 in-interface-list=WAN protocol=tcp\n/ip firewall filter add action=drop chain=input\n";
    assert!(bridged(accept, "winbox").1.is_empty());
    // `in-interface=` the port matches nothing either; the bridge is what matches.
    let port = "/ip firewall filter add action=drop chain=input in-interface=ether1\n";
    assert_eq!(bridged(port, "api").1, ["0.0.0.0/0"]);
    let bridge = "/ip firewall filter add action=drop chain=input in-interface=br-wan\n";
    assert!(bridged(bridge, "api").1.is_empty());
}

/// `ipsec-policy=in,ipsec` matches only packets decapsulated from IPsec (MikroTik's Firewall
/// Filter manual); a connection from the WAN side is not one, so the default configuration's
/// "accept all that matches ipsec policy" lets nobody in, and is no longer an approximation.
#[test]
fn ipsec_policy_in_ipsec_matches_only_what_came_out_of_a_tunnel() {
    let fw = "/ip firewall filter add action=accept chain=input ipsec-policy=in,ipsec\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n";
    let (c, p) = Config::load(format!("{HEAD}{fw}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    let row = e
        .rows
        .iter()
        .find(|r| r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(row.reachable_from.is_empty(), "{:?}", row.reachable_from);
    // `in,none` is every packet not from a tunnel: the attacker's too.
    let none = fw.replace("in,ipsec", "in,none");
    assert_eq!(v4(&none, "api"), ALL4);
}

/// `add-src-to-address-list` passes the packet on with its source already on the list, so a
/// drop of that list later in the chain drops that very packet (MikroTik's Address-lists
/// manual: hosts that tried telnet "were subsequently dropped by the filter rule"). Before,
/// the list counted as empty for a first connection and winbox read "reachable from
/// 0.0.0.0/0"; only `mgmt` reaches it. A port the adding rule does not match stays open.
#[test]
fn a_source_added_to_a_list_is_dropped_by_that_list_in_the_same_pass() {
    let fw = "/ip firewall address-list add address=198.51.100.0/24 list=mgmt\n/ip firewall filter\nadd action=add-src-to-address-list address-list=blocked chain=input dst-port=8291 protocol=tcp src-address-list=!mgmt\nadd action=drop chain=input src-address-list=blocked\n";
    assert_eq!(v4(fw, "winbox"), ["198.51.100.0/24"]);
    assert_eq!(v4(fw, "api"), ALL4);
    // A drop *before* the rule that adds does not see the source on the list.
    let before = "/ip firewall address-list add address=198.51.100.0/24 list=mgmt\n/ip firewall filter\nadd action=drop chain=input src-address-list=blocked\nadd action=add-src-to-address-list address-list=blocked chain=input dst-port=8291 protocol=tcp src-address-list=!mgmt\n";
    assert_eq!(v4(before, "winbox"), ALL4);
}

/// (WAN interfaces, LAN-side interfaces) detection finds in `export`.
fn sides_of(export: &str) -> (Vec<String>, Vec<String>) {
    let (c, p) =
        Config::load(format!("# 2024-01-01 00:00:00 by RouterOS 7.16\n{export}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = analyse(&c, &WanChoice::default());
    (e.wan, e.lan)
}

/// An interface with a DHCP client is not the internet on an access point or switch: the
/// device's only bridge with nothing NATed, the only interface with an address on a device
/// with radios, a CAP
/// (`/interface wireless cap`, `/interface wifi cap`, `caps-man-addresses`), or an interface UPnP
/// marks `internal`. It is the LAN side: its rows are zone `lan`, at most private space; a
/// router that NATs out of its DHCP interface keeps it as WAN.
#[test]
fn a_dhcp_client_on_an_access_point_or_switch_is_the_lan_side() {
    let switch = "/interface bridge add name=bridge01\n/interface bridge port add bridge=bridge01 interface=ether1\n/interface bridge port add bridge=bridge01 interface=ether2\n/ip dhcp-client add interface=bridge01\n";
    assert_eq!(sides_of(switch), (vec![], vec!["bridge01".to_string()]));
    let lone = "/interface wireless set [ find default-name=wlan1 ] disabled=no mode=ap-bridge ssid=x\n/ip dhcp-client add interface=ether1\n";
    assert_eq!(sides_of(lone).1, ["ether1"]);
    // Without radios one interface with a DHCP client is a cloud router's WAN.
    let chr = "/ip dhcp-client add interface=ether1\n";
    assert_eq!(sides_of(chr), (vec!["ether1".to_string()], vec![]));
    let cap = "/ip dhcp-client add interface=ether1\n/ip address add address=10.9.0.1/24 interface=wlan-guest\n/interface wireless cap set enabled=yes interfaces=wlan1\n";
    assert_eq!(sides_of(cap).1, ["ether1"]);
    let managed = "/ip dhcp-client add interface=ether1\n/ip address add address=10.9.0.1/24 interface=wlan-guest\n/interface wifi cap set caps-man-addresses=10.0.0.1\n";
    assert_eq!(sides_of(managed).1, ["ether1"]);
    let upnp = "/ip dhcp-client add interface=ether1\n/ip address add address=10.9.0.1/24 interface=bridge\n/ip firewall nat add action=masquerade chain=srcnat\n/ip upnp interfaces add interface=ether1 type=internal\n";
    assert_eq!(sides_of(upnp).1, ["ether1"]);
    // A router: its LAN has an address and it NATs out of the DHCP interface.
    let router = "/interface bridge add name=bridge\n/ip address add address=192.168.88.1/24 interface=bridge\n/ip dhcp-client add interface=ether1\n/ip firewall nat add action=masquerade chain=srcnat out-interface=ether1\n";
    assert_eq!(sides_of(router), (vec!["ether1".to_string()], vec![]));
    // A list naming the WAN is believed.
    let listed = format!("/interface list add name=WAN\n/interface list member add interface=bridge01 list=WAN\n{switch}");
    assert_eq!(sides_of(&listed).0, ["bridge01"]);
    // On the LAN side the API is high (private space), not critical.
    let (c, _) =
        Config::load(format!("# 2024-01-01 00:00:00 by RouterOS 7.16\n{switch}").into_bytes());
    let a = tikguard::audit::run(&c, &WanChoice::default(), &Default::default());
    let api: Vec<_> = a.findings.iter().filter(|f| f.rule == "TG201").collect();
    assert!(
        !api.is_empty()
            && api
                .iter()
                .all(|f| f.severity == tikguard::audit::Severity::High)
    );
    assert!(
        api[0].message.contains("from the LAN side"),
        "{}",
        api[0].message
    );
    assert!(!a
        .findings
        .iter()
        .any(|f| ["TG205", "TG112", "TG113", "TG206"].contains(&f.rule)));
}
