//! The subscriber zone: PPPoE and hotspot clients are untrusted, and management they reach is a
//! finding (`tikguard::audit::subscribers` cites the sources).

use routeros_config::Config;
use tikguard::audit::exposure::{analyse, Exposure, Zone};
use tikguard::audit::{self, Selection, WanChoice};

const HEAD: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n\
/interface list add name=WAN\n\
/interface list member add interface=ether1 list=WAN\n\
/ip pool add name=subs ranges=100.64.0.2-100.64.255.254\n\
/ppp profile add name=subs-profile remote-address=subs local-address=100.64.0.1\n";

const PPPOE: &str = "/interface pppoe-server server add default-profile=subs-profile disabled=no interface=ether2 service-name=isp\n";

fn exposure(rest: &str) -> Exposure {
    let (c, p) = Config::load(format!("{HEAD}{rest}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    analyse(&c, &WanChoice::default())
}

/// What subscribers reach of `service` over IPv4 (`None`: no subscriber row).
fn from_subscribers(rest: &str, iface: &str, service: &str) -> Option<Vec<String>> {
    exposure(rest)
        .rows
        .iter()
        .find(|r| {
            r.zone == Zone::Subscriber
                && r.interface == iface
                && r.service == service
                && r.family == "ipv4"
        })
        .map(|r| r.reachable_from.clone())
}

fn findings(rest: &str) -> Vec<(String, String, String)> {
    let (c, _) = Config::load(format!("{HEAD}{rest}").into_bytes());
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.severity.as_str().to_string(),
                f.message.clone(),
            )
        })
        .collect()
}

#[test]
fn pppoe_subscribers_reach_management_from_their_pool() {
    let reach = from_subscribers(PPPOE, "<pppoe-*>", "api").unwrap();
    // 100.64.0.2-100.64.255.254 as prefixes: not the router's own 100.64.0.1, nor the internet.
    assert_eq!(reach.first().unwrap(), "100.64.0.2/31");
    assert_eq!(reach.last().unwrap(), "100.64.255.254/32");
    assert!(!reach
        .iter()
        .any(|p| p == "0.0.0.0/0" || p.starts_with("100.64.0.0/")));
}

#[test]
fn a_pppoe_server_is_created_disabled_so_one_without_disabled_no_has_no_subscribers() {
    let rest = "/interface pppoe-server server add default-profile=subs-profile interface=ether2\n";
    assert!(from_subscribers(rest, "<pppoe-*>", "api").is_none());
}

/// PPPoE packets arrive on the dynamic `<pppoe-NAME>` interface: a drop on the server's
/// Ethernet port does not stop them.
#[test]
fn a_drop_on_the_pppoe_servers_port_does_not_match_subscribers() {
    let rest =
        format!("{PPPOE}/ip firewall filter add chain=input in-interface=ether2 action=drop\n");
    assert!(!from_subscribers(&rest, "<pppoe-*>", "api")
        .unwrap()
        .is_empty());
}

/// `in-interface=all-ppp`, the built-in `dynamic` list and the profile's `interface-list=`
/// all match PPPoE subscribers.
#[test]
fn all_ppp_the_dynamic_list_and_the_profile_list_match_pppoe_subscribers() {
    for rule in [
        "in-interface=all-ppp",
        "in-interface-list=dynamic",
        "in-interface-list=subscribers",
    ] {
        let rest = format!(
            "/interface list add name=subscribers\n/ppp profile set subs-profile interface-list=subscribers\n{PPPOE}/ip firewall filter add chain=input {rule} action=drop\n"
        );
        assert_eq!(
            from_subscribers(&rest, "<pppoe-*>", "api"),
            Some(vec![]),
            "{rule}"
        );
    }
    // `static` is every interface without the dynamic flag: not a subscriber's.
    let rest = format!(
        "{PPPOE}/ip firewall filter add chain=input in-interface-list=static action=drop\n"
    );
    assert!(!from_subscribers(&rest, "<pppoe-*>", "api")
        .unwrap()
        .is_empty());
}

#[test]
fn all_ppp_also_matches_a_pppoe_client_wan() {
    let e = exposure(
        "/interface pppoe-client add disabled=no interface=ether1 name=pppoe-out1 user=x\n/interface list member add interface=pppoe-out1 list=WAN\n/ip firewall filter add chain=input in-interface=all-ppp action=drop\n",
    );
    let row = e
        .rows
        .iter()
        .find(|r| r.interface == "pppoe-out1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(row.reachable_from.is_empty());
}

#[test]
fn all_ethernet_matches_board_ports_by_their_default_names() {
    let e = exposure("/ip firewall filter add chain=input in-interface=all-ethernet action=drop\n");
    let row = e
        .rows
        .iter()
        .find(|r| r.interface == "ether1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(row.reachable_from.is_empty());
}

/// The service's `address=` and the subscribers' pool intersect: management restricted to
/// another range is out of their reach.
#[test]
fn a_service_address_outside_the_subscriber_pool_is_not_reached() {
    let rest = format!("{PPPOE}/ip service set api address=10.10.10.0/24\n");
    assert_eq!(from_subscribers(&rest, "<pppoe-*>", "api"), Some(vec![]));
}

/// With RADIUS the addresses are not in the export: every IPv4 source, said in the finding.
#[test]
fn radius_subscribers_have_unknown_addresses_and_the_finding_says_so() {
    let rest = format!("{PPPOE}/ppp aaa set use-radius=yes\n/ip firewall filter add chain=input in-interface=ether1 action=drop\n");
    assert_eq!(
        from_subscribers(&rest, "<pppoe-*>", "api").unwrap(),
        ["0.0.0.0/0"]
    );
    let f = findings(&rest);
    let api = f
        .iter()
        .find(|(r, _, m)| r == "TG201" && m.contains("`api`"))
        .unwrap();
    assert_eq!(api.1, "high", "{api:?}");
    assert!(api.2.contains("subscribers"), "{api:?}");
    assert!(api.2.contains("RADIUS"), "{api:?}");
}

/// Subscribers are many untrusted hosts: the API reachable from them is high even though their
/// pool is a few prefixes, and critical only when the internet reaches it too.
#[test]
fn api_reachable_only_from_subscribers_is_high_not_critical() {
    let rest =
        format!("{PPPOE}/ip firewall filter add chain=input in-interface=ether1 action=drop\n");
    let f = findings(&rest);
    let api: Vec<_> = f.iter().filter(|(r, _, _)| r == "TG201").collect();
    assert!(api.iter().all(|(_, s, _)| s == "high"), "{api:?}");
    assert!(
        api.iter().any(|(_, _, m)| m.contains("from subscribers")),
        "{api:?}"
    );
    // Without the WAN drop: one finding per service, critical, naming both zones.
    let f = findings(PPPOE);
    let api = f
        .iter()
        .find(|(r, _, m)| r == "TG201" && m.starts_with("`api` "))
        .unwrap();
    assert_eq!(api.1, "critical");
    assert!(
        api.2
            .contains("the internet on the WAN side and from subscribers"),
        "{api:?}"
    );
}

#[test]
fn hotspot_clients_are_subscribers_from_the_hotspot_network() {
    let rest = "/ip address add address=10.5.50.1/24 interface=ether3\n/ip hotspot add disabled=no interface=ether3 name=hs1\n";
    assert_eq!(
        from_subscribers(rest, "ether3", "winbox").unwrap(),
        ["10.5.50.0/24"]
    );
    let e = exposure(rest);
    assert!(e
        .subscribers
        .iter()
        .any(|s| s.why == "hotspot hs1 on ether3"));
    // A hotspot created disabled has no clients.
    let off = "/ip hotspot add interface=ether3 name=hs1\n";
    assert!(from_subscribers(off, "ether3", "winbox").is_none());
}

#[test]
fn exposure_rows_carry_their_zone_in_json() {
    let e = exposure(PPPOE);
    let json = serde_json::to_value(&e.rows).unwrap();
    let zones: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["zone"].as_str().unwrap())
        .collect();
    assert!(zones.contains(&"wan") && zones.contains(&"subscriber"));
}

/// SNMP reachable from subscribers is a finding (the SNMP check names WAN or
/// subscribers), one per community, listing every side.
#[test]
fn snmp_reachable_from_subscribers_is_reported_with_a_subscriber_side_fix() {
    let rest = format!("{PPPOE}/snmp set enabled=yes\n/ip firewall filter add chain=input in-interface-list=WAN action=drop\n");
    let f = findings(&rest);
    let snmp: Vec<_> = f.iter().filter(|(r, _, _)| r == "TG119").collect();
    assert_eq!(snmp.len(), 1, "{snmp:?}");
    assert!(
        snmp[0].2.contains("subscribers on `<pppoe-*>` (ipv4)"),
        "{snmp:?}"
    );
    assert!(!snmp[0].2.contains("WAN interface"), "{snmp:?}");
    let (c, _) = Config::load(format!("{HEAD}{rest}").into_bytes());
    let a = audit::run(&c, &WanChoice::default(), &Selection::default());
    let fix = &a.findings.iter().find(|f| f.rule == "TG119").unwrap().fix;
    assert!(
        fix.iter().any(|l| l.contains("in-interface=all-ppp")),
        "{fix:?}"
    );
}

/// The hotspot gates IPv4 only (MikroTik's HotSpot manual: it relies on NAT rules IPv6 does
/// not have): on RouterOS 7, where IPv6 is on, its clients reach the router over link-local
/// IPv6 whether logged in or not, and over the interface's own prefixes; only an `/ipv6
/// firewall filter` rule stops them.
#[test]
fn hotspot_clients_reach_management_over_ipv6_where_the_hotspot_does_not_gate() {
    let rest = "/ip address add address=10.5.50.1/24 interface=ether3\n/ip hotspot add disabled=no interface=ether3 name=hs1\n/ipv6 address add address=2001:db8:50::1 interface=ether3\n";
    let v6 = exposure(rest)
        .rows
        .into_iter()
        .find(|r| {
            r.zone == Zone::Subscriber
                && r.interface == "ether3"
                && r.service == "api"
                && r.family == "ipv6"
        })
        .map(|r| r.reachable_from)
        .unwrap();
    assert_eq!(v6, ["2001:db8:50::/64", "fe80::/10"]);
    assert!(findings(rest)
        .iter()
        .any(|(rule, _, m)| rule == "TG201"
            && m.contains("over ipv6 from 2001:db8:50::/64, fe80::/10")));
    // An IPv6 drop on the hotspot interface closes it.
    let closed =
        format!("{rest}/ipv6 firewall filter add action=drop chain=input in-interface=ether3\n");
    let rows = exposure(&closed).rows;
    assert!(rows
        .iter()
        .filter(|r| r.zone == Zone::Subscriber && r.family == "ipv6")
        .all(|r| r.reachable_from.is_empty()));
}

/// A list's `include=`/`exclude=` name other lists, the built-in `dynamic` and `static` among
/// them (real exports: `add include=dynamic name=VPN`, `add exclude=dynamic name=ISP`); RouterOS
/// resolves them against the interfaces there are at run time, the subscribers' dynamic
/// `<pppoe-NAME>` included. A drop on a list that includes `dynamic` stops subscribers; one on
/// a list that includes `static` stops the WAN port and not them.
#[test]
fn a_list_that_includes_dynamic_or_static_holds_what_those_built_in_lists_hold() {
    let rest = format!(
        "/interface list add include=dynamic name=VPN\n{PPPOE}/ip firewall filter add chain=input in-interface-list=VPN action=drop\n"
    );
    assert_eq!(from_subscribers(&rest, "<pppoe-*>", "api"), Some(vec![]));
    let rest = format!(
        "/interface list add include=static name=fixed\n{PPPOE}/ip firewall filter add chain=input in-interface-list=fixed action=drop\n"
    );
    assert!(!from_subscribers(&rest, "<pppoe-*>", "api")
        .unwrap()
        .is_empty());
    let e = exposure(&rest);
    let wan = e
        .rows
        .iter()
        .find(|r| r.interface == "ether1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(wan.reachable_from.is_empty(), "{:?}", wan.reachable_from);
    // `exclude=dynamic`: the subscribers are out of it, the static members stay.
    let rest = format!(
        "/interface list add exclude=dynamic include=all name=fixed2\n{PPPOE}/ip firewall filter add chain=input in-interface-list=fixed2 action=drop\n"
    );
    assert!(!from_subscribers(&rest, "<pppoe-*>", "api")
        .unwrap()
        .is_empty());
}

/// A list may include a list that itself includes another, created after it (`set` later):
/// membership does not depend on the order of the lines.
#[test]
fn a_list_including_a_list_that_includes_another_holds_its_members() {
    let e = exposure(
        "/interface list add include=uplinks name=outside\n/interface list add include=isp name=uplinks\n/interface list add name=isp\n/interface list member add interface=ether1 list=isp\n/ip firewall filter add chain=input in-interface-list=outside action=drop\n",
    );
    let wan = e
        .rows
        .iter()
        .find(|r| r.interface == "ether1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(wan.reachable_from.is_empty(), "{:?}", wan.reachable_from);
}

/// A PPP client joins its profile's `interface-list=` while it is up: a real export names a
/// list "includes l2tp client interfaces when UP" and fills it only through its L2TP client's
/// profile (`Defm/mikrobackups` anna). A PPPoE uplink put in WAN that way is WAN, and a drop on
/// the WAN list covers it.
#[test]
fn a_ppp_client_is_in_its_profiles_interface_list() {
    let e = exposure(
        "/ppp profile add interface-list=WAN name=isp\n/interface pppoe-client add disabled=no interface=ether1 name=pppoe-out1 profile=isp user=x\n/ip firewall filter add chain=input in-interface-list=WAN action=drop\n",
    );
    assert!(e.wan.contains(&"pppoe-out1".to_string()), "{:?}", e.wan);
    let row = e
        .rows
        .iter()
        .find(|r| r.interface == "pppoe-out1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(row.reachable_from.is_empty(), "{:?}", row.reachable_from);
}

/// Detect Internet adds interfaces to its lists at run time (MikroTik's Detect Internet manual:
/// "Interfaces with state Lan will be dynamically added to this list"; "All layer 2 interfaces
/// initially have this state", so the uplink too until it has its DHCP lease). An accept on
/// `lan-interface-list` may take the WAN port: the attacker's view counts it, as approximated;
/// the list's static members stay decided.
#[test]
fn a_detect_internet_list_may_hold_any_interface_it_monitors() {
    let rest = "/interface list add name=dlan\n/interface detect-internet set detect-interface-list=all lan-interface-list=dlan\n/ip firewall filter add chain=input in-interface-list=dlan action=accept\n/ip firewall filter add chain=input action=drop\n";
    let e = exposure(rest);
    let wan = e
        .rows
        .iter()
        .find(|r| r.interface == "ether1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(!wan.reachable_from.is_empty(), "{:?}", wan.reachable_from);
    // Not monitored (`detect-interface-list=none`, its default): nothing is added.
    let e = exposure(&rest.replace("detect-interface-list=all ", ""));
    let wan = e
        .rows
        .iter()
        .find(|r| r.interface == "ether1" && r.service == "api" && r.family == "ipv4")
        .unwrap();
    assert!(wan.reachable_from.is_empty(), "{:?}", wan.reachable_from);
}
