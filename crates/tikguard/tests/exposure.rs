//! The exposure analysis, one behaviour per test: matchers, negations, jumps and returns, address
//! lists, IPv6, service `address=`, WAN detection, and shadowing.

use routeros_config::Config;
use tikguard::audit::exposure::{analyse, WanChoice};

const HEAD: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list add name=LAN\n/interface list member add interface=ether1 list=WAN\n/interface list member add interface=bridge list=LAN\n";

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

#[test]
fn shadowing_by_one_rule_and_by_several() {
    let (c, _) = Config::load(format!("{HEAD}/ip firewall filter\nadd chain=input action=accept protocol=tcp dst-port=8728\nadd chain=input action=drop protocol=tcp dst-port=8728 src-address=10.0.0.0/8\nadd chain=input action=drop src-address=192.0.2.0/25\nadd chain=input action=drop src-address=192.0.2.128/25\nadd chain=input action=accept src-address=192.0.2.0/24\nadd chain=input action=accept protocol=tcp dst-port=22 in-interface=ether1\n").into_bytes());
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(e.v4.shadowed(), [(1, vec![0]), (4, vec![2, 3])]);
}

#[test]
fn a_rule_with_a_narrower_interface_or_state_is_not_shadowed_by_a_different_one() {
    let (c, _) = Config::load(format!("{HEAD}/ip firewall filter\nadd chain=input action=drop in-interface=ether2\nadd chain=input action=accept in-interface=ether1\nadd chain=input action=accept connection-state=established\nadd chain=input action=accept connection-state=established,related\nadd chain=input action=drop connection-state=established\n").into_bytes());
    let e = analyse(&c, &WanChoice::default());
    assert_eq!(e.v4.shadowed(), [(4, vec![2])]);
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
