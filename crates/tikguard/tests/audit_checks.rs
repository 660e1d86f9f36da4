//! Checks named after the RouterOS facts they rely on (the rules' docs cite the sources).

use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

fn rules(export: &str) -> Vec<String> {
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .filter(|f| f.rule == "TG601")
        .flat_map(|f| {
            // Every `CVE-YEAR-N` (or `CVE-YEAR-N..M`) the one finding lists.
            f.message
                .split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ';')
                .filter(|w| w.starts_with("CVE-"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn v(version: &str, rest: &str) -> String {
    format!("# 2024-01-01 00:00:00 by RouterOS {version}\n{rest}")
}

/// A CVE reached through a service is reported only while that service is enabled (TG601).
#[test]
fn cves_that_need_a_service_count_only_while_it_is_enabled() {
    // CVE-2017-20149 ("Chimay-Red", www, before 6.38.5).
    assert!(rules(&v("6.38.4", "")).contains(&"CVE-2017-20149".to_string()));
    assert!(!rules(&v("6.38.4", "/ip service set www disabled=yes\n"))
        .contains(&"CVE-2017-20149".to_string()));
    assert!(!rules(&v("6.38.5", "")).contains(&"CVE-2017-20149".to_string()));
    // CVE-2018-14847 needs Winbox.
    assert!(rules(&v("6.40.5", "")).contains(&"CVE-2018-14847".to_string()));
    assert!(
        !rules(&v("6.40.5", "/ip service set winbox disabled=yes\n"))
            .contains(&"CVE-2018-14847".to_string())
    );
    // CVE-2023-41570: the REST API over www-ssl (7.1+, off by default) or www (7.9+).
    assert!(!rules(&v("7.5", "")).contains(&"CVE-2023-41570".to_string()));
    assert!(rules(&v("7.5", "/ip service set www-ssl disabled=no\n"))
        .contains(&"CVE-2023-41570".to_string()));
    assert!(rules(&v("7.10", "")).contains(&"CVE-2023-41570".to_string()));
    assert!(!rules(&v("7.10", "/ip service set www disabled=yes\n"))
        .contains(&"CVE-2023-41570".to_string()));
}

/// CVE-2019-3943 (Winbox, stable ≤ 6.43.12, long-term ≤ 6.42.12); CVE-2019-3976..3979 (stable
/// ≤ 6.45.6, long-term ≤ 6.44.5); CVE-2023-30800 (www, every v6 before 6.49.10).
#[test]
fn cve_boundaries_from_the_advisories() {
    let has = |ver: &str, cve: &str| rules(&v(ver, "")).contains(&cve.to_string());
    assert!(has("6.43.12", "CVE-2019-3943") && !has("6.43.13", "CVE-2019-3943"));
    assert!(has("6.42.12", "CVE-2019-3943") && !has("6.42.13", "CVE-2019-3943"));
    assert!(has("6.45.6", "CVE-2019-3976..3979") && !has("6.45.7", "CVE-2019-3976..3979"));
    assert!(has("6.44.5", "CVE-2019-3976..3979") && !has("6.44.6", "CVE-2019-3976..3979"));
    assert!(has("6.49.9", "CVE-2023-30800") && !has("6.49.10", "CVE-2023-30800"));
    assert!(!has("7.1", "CVE-2023-30800"));
}

/// CERT Polska's September 2026 disclosure: fixed in 6.49.21, 7.23.4 (long-term) and 7.24.2
/// (stable); 7.24 and 7.24.1 are affected (CVE records CVE-2026-86060, -67279, -67277).
#[test]
fn september_2026_ssh_and_btest_cves_at_their_version_edges() {
    let has = |ver: &str, cve: &str| rules(&v(ver, "")).contains(&cve.to_string());
    for cve in ["CVE-2026-86060", "CVE-2026-67279", "CVE-2026-67277"] {
        assert!(has("6.49.20", cve) && !has("6.49.21", cve), "{cve}");
        assert!(has("7.23.3", cve) && !has("7.23.4", cve), "{cve}");
        assert!(
            has("7.24", cve) && has("7.24.1", cve) && !has("7.24.2", cve),
            "{cve}"
        );
        assert!(!has("7.25", cve), "{cve}");
    }
    // The SSH ones need ssh; the btest one the bandwidth-test server (on by default).
    let no_ssh = rules(&v("7.24.1", "/ip service set ssh disabled=yes\n"));
    assert!(
        !no_ssh.contains(&"CVE-2026-86060".to_string()),
        "{no_ssh:?}"
    );
    assert!(
        !no_ssh.contains(&"CVE-2026-67279".to_string()),
        "{no_ssh:?}"
    );
    assert!(no_ssh.contains(&"CVE-2026-67277".to_string()), "{no_ssh:?}");
    let no_btest = rules(&v("7.24.1", "/tool bandwidth-server set enabled=no\n"));
    assert!(
        !no_btest.contains(&"CVE-2026-67277".to_string()),
        "{no_btest:?}"
    );
}

/// CVE-2026-67276 (SSH RSA exponent) is 7.9 to 7.23.3 and 7.24 to 7.24.1, no 6.x (CERT-PL's
/// updated record); CVE-2026-67281 (WebFig `/jsproxy`) 7.20 to 7.23.3 and 7.24 to 7.24.1.
#[test]
fn ssh_key_forgery_and_jsproxy_file_read_start_at_their_first_affected_release() {
    let has = |ver: &str, cve: &str| rules(&v(ver, "")).contains(&cve.to_string());
    assert!(!has("7.8", "CVE-2026-67276") && has("7.9", "CVE-2026-67276"));
    assert!(has("7.23.3", "CVE-2026-67276") && !has("7.23.4", "CVE-2026-67276"));
    assert!(has("7.24.1", "CVE-2026-67276") && !has("7.24.2", "CVE-2026-67276"));
    assert!(!has("6.49.20", "CVE-2026-67276"));
    assert!(!has("7.19.4", "CVE-2026-67281") && has("7.20", "CVE-2026-67281"));
    assert!(has("7.23.3", "CVE-2026-67281") && !has("7.23.4", "CVE-2026-67281"));
    assert!(has("7.24.1", "CVE-2026-67281") && !has("7.24.2", "CVE-2026-67281"));
    let no_web = "/ip service set www disabled=yes\n";
    assert!(!rules(&v("7.20", no_web)).contains(&"CVE-2026-67281".to_string()));
}

/// CVE-2026-84411 (web server, before authentication): affected before 7.24, 7.24 fixed; the
/// record names no 7.23.x fix, so 7.23.4 with www on is still listed.
#[test]
fn web_server_underflow_is_fixed_in_7_24() {
    let has = |ver: &str, cve: &str| rules(&v(ver, "")).contains(&cve.to_string());
    assert!(has("7.23.9", "CVE-2026-84411") && !has("7.24", "CVE-2026-84411"));
    assert!(has("6.49.21", "CVE-2026-84411"));
    let no_web = "/ip service set www disabled=yes\n";
    assert!(!rules(&v("7.23.9", no_web)).contains(&"CVE-2026-84411".to_string()));
    let ssl_only = "/ip service set www disabled=yes\n/ip service set www-ssl disabled=no\n";
    assert!(rules(&v("7.23.9", ssl_only)).contains(&"CVE-2026-84411".to_string()));
}

/// RouterOS 6.43.7 renamed the update channels (`bugfix` to `long-term`, `current` to
/// `stable`): the fix names the channel the router knows.
#[test]
fn update_channel_advice_uses_the_names_before_6_43_7() {
    let fix = |ver: &str| {
        let (c, _) = Config::load(v(ver, "").into_bytes());
        audit::run(&c, &WanChoice::default(), &Selection::default())
            .findings
            .into_iter()
            .find(|f| f.rule == "TG601")
            .map(|f| f.fix[0].clone())
            .unwrap()
    };
    assert_eq!(fix("6.43.6"), "/system package update set channel=bugfix");
    assert_eq!(
        fix("6.43.7"),
        "/system package update set channel=long-term"
    );
    assert_eq!(fix("6.40.5"), "/system package update set channel=bugfix");
    assert_eq!(fix("7.10"), "/system package update set channel=stable");
}

/// CVE-2023-41570 is the REST API ignoring the user's allowed addresses (`/user address=`),
/// not `/ip service address` (E. Bassetti's disclosure).
#[test]
fn the_rest_api_cve_names_the_user_address_restriction() {
    let (c, _) = Config::load(v("7.10", "").into_bytes());
    let f = audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .into_iter()
        .find(|f| f.rule == "TG601")
        .unwrap();
    assert!(f.message.contains("`/user address=`"), "{}", f.message);
    assert!(!f.message.contains("/ip service address"), "{}", f.message);
}

/// One version is one TG601 finding listing its CVEs, at the worst one's severity: one upgrade
/// fixes them all. 6.40.5 with its default services on has eleven.
#[test]
fn one_tg601_finding_per_version_lists_its_cves() {
    let (c, _) = Config::load(v("6.40.5", "").into_bytes());
    let f: Vec<_> = audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .into_iter()
        .filter(|f| f.rule == "TG601")
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, tikguard::audit::Severity::Critical);
    assert!(
        f[0].message.starts_with(
            "RouterOS 6.40.5 is affected by 11 known vulnerabilities: CVE-2018-14847 (critical: "
        ),
        "{}",
        f[0].message
    );
    let listed = rules(&v("6.40.5", ""));
    for cve in [
        "CVE-2018-14847",
        "CVE-2019-3924",
        "CVE-2023-30800",
        "CVE-2023-30799",
    ] {
        assert!(listed.contains(&cve.to_string()), "{cve}: {listed:?}");
    }
}

/// Beta and rc builds compare as the release they precede: 6.45beta is 6.45.
#[test]
fn beta_builds_count_as_the_release_they_precede() {
    let r = rules(&v("6.45beta54", ""));
    assert!(r.contains(&"CVE-2019-3976..3979".to_string()), "{r:?}");
    assert!(!r.contains(&"CVE-2019-3943".to_string()), "{r:?}");
}

/// The findings of one rule, as messages.
fn rule_messages(export: &str, rule: &str) -> Vec<String> {
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.message.clone())
        .collect()
}

const WLAN_OPEN: &str = "/interface bridge add name=bridge\n/interface bridge port add bridge=bridge interface=wlan1\n/interface wireless set [ find default-name=wlan1 ] disabled=no mode=ap-bridge ssid=Guest\n";

/// Every wireless security profile, the built-in `default` included, has `mode=none` unless
/// set: an AP on it is open, and bridged clients reach the router on the bridge (TG124).
#[test]
fn an_open_ap_bridged_into_the_management_network_reaches_its_services() {
    let m = rule_messages(&v("6.49.10", WLAN_OPEN), "TG124");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("`wlan1` (SSID `Guest`)"), "{m:?}");
    assert!(m[0].contains("bridged into `bridge`"), "{m:?}");
    assert!(m[0].contains("`winbox`"), "{m:?}");
}

#[test]
fn a_wpa_profile_or_a_station_is_not_an_open_ap() {
    let wpa = format!("{WLAN_OPEN}/interface wireless security-profiles set [ find default=yes ] authentication-types=wpa2-psk mode=dynamic-keys\n");
    assert!(rule_messages(&v("6.49.10", &wpa), "TG124").is_empty());
    let station = "/interface wireless set [ find default-name=wlan1 ] disabled=no ssid=Uplink\n";
    assert!(rule_messages(&v("6.49.10", station), "TG124").is_empty());
    // A default-name radio an export does not enable is disabled.
    let off = "/interface wireless set [ find default-name=wlan1 ] mode=ap-bridge ssid=Guest\n";
    assert!(rule_messages(&v("6.49.10", off), "TG124").is_empty());
}

#[test]
fn an_open_ap_whose_bridge_is_dropped_on_input_is_not_a_finding() {
    let dropped =
        format!("{WLAN_OPEN}/ip firewall filter add chain=input in-interface=bridge action=drop\n");
    assert!(rule_messages(&v("6.49.10", &dropped), "TG124").is_empty());
}

/// A hotspot rejects clients until they log in: the subscriber zone covers it, not TG124.
#[test]
fn an_open_ap_behind_a_hotspot_is_left_to_the_subscriber_zone() {
    let hs = format!("{WLAN_OPEN}/ip hotspot add disabled=no interface=bridge name=hs1\n");
    assert!(rule_messages(&v("6.49.10", &hs), "TG124").is_empty());
}

/// `/interface wifi` is open with no authentication types and no passphrase, on the interface
/// or in its security profile.
#[test]
fn a_wifi_interface_without_authentication_types_or_passphrase_is_open() {
    let open = "/interface bridge add name=bridge\n/interface wifi set [ find default-name=wifi1 ] configuration.ssid=Cafe datapath.bridge=bridge disabled=no\n";
    let m = rule_messages(&v("7.16", open), "TG124");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains("SSID `Cafe`") && m[0].contains("`bridge`"),
        "{m:?}"
    );
    let keyed = "/interface bridge add name=bridge\n/interface wifi set [ find default-name=wifi1 ] configuration.ssid=Home datapath.bridge=bridge disabled=no security.authentication-types=wpa2-psk,wpa3-psk\n";
    assert!(rule_messages(&v("7.16", keyed), "TG124").is_empty());
    let profile = "/interface bridge add name=bridge\n/interface wifi security add name=sec passphrase=REDACTED\n/interface wifi set [ find default-name=wifi1 ] configuration.ssid=Home datapath.bridge=bridge disabled=no security=sec\n";
    assert!(rule_messages(&v("7.16", profile), "TG124").is_empty());
}

/// `default-authentication=no` admits only the access list's MAC addresses: still open, since
/// MACs travel in clear, but medium (TG124).
#[test]
fn an_open_ap_with_a_mac_access_list_only_is_medium() {
    let (c, _) = Config::load(
        v(
            "6.49.10",
            "/interface bridge add name=bridge\n/interface bridge port add bridge=bridge interface=all\n/interface wireless set [ find default-name=wlan1 ] default-authentication=no disabled=no mode=bridge ssid=PtP\n",
        )
        .into_bytes(),
    );
    let f = audit::run(&c, &WanChoice::default(), &Selection::default());
    let f: Vec<_> = f.findings.iter().filter(|f| f.rule == "TG124").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity.as_str(), "medium");
    assert!(
        f[0].message.contains("bridged into `bridge`"),
        "{}",
        f[0].message
    );
}

/// One root cause, one finding: the accept rule through which the WAN reaches the API is
/// TG201's cause and carries TG203's fix; TG203 does not report it again.
#[test]
fn the_accept_rule_that_opens_the_api_to_the_wan_is_one_finding_not_two() {
    let export = v(
        "7.16",
        "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip firewall filter add action=accept chain=input dst-port=8728 protocol=tcp comment=\"billing API\"\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n",
    );
    assert!(rule_messages(&export, "TG203").is_empty());
    let (c, _) = Config::load(export.into_bytes());
    let a = audit::run(&c, &WanChoice::default(), &Selection::default());
    let tg201: Vec<_> = a.findings.iter().filter(|f| f.rule == "TG201").collect();
    assert_eq!(tg201.len(), 1);
    assert!(tg201[0].fix.contains(
        &"/ip firewall filter set [ find comment=\"billing API\" ] src-address-list=api-clients"
            .to_string()
    ));
}

/// Fix lines never name a filter rule by its print number: `set 2` means the numbering of the
/// user's last `print`, which counts dynamic rules too.
#[test]
fn fix_lines_refer_to_filter_rules_by_comment_or_position_in_their_chain() {
    let export = v(
        "7.16",
        "/ip firewall filter add action=accept chain=forward\n/ip firewall filter add action=drop chain=input protocol=tcp dst-port=8728\n/ip firewall filter add action=drop chain=input protocol=tcp dst-port=8728 src-address-list=!x\n",
    );
    let (c, _) = Config::load(export.into_bytes());
    let a = audit::run(&c, &WanChoice::default(), &Selection::default());
    let fixes: Vec<&String> = a
        .findings
        .iter()
        .filter(|f| f.rule == "TG204" || f.rule == "TG207")
        .flat_map(|f| &f.fix)
        .collect();
    assert!(!fixes.is_empty());
    for f in &fixes {
        let words: Vec<&str> = f.split_whitespace().collect();
        let verb = words
            .iter()
            .position(|w| ["set", "move", "disable"].contains(w))
            .unwrap();
        assert!(
            words[verb + 1].parse::<usize>().is_err(),
            "a print number in {f}"
        );
    }
    assert!(fixes
        .iter()
        .any(|f| f.contains("[ :pick [ find chain=input dynamic=no ] 0 ]")));
}

/// `/export` never lists users: on a plain export neither `admin` nor its removal is visible,
/// so TG301 and TG303 say nothing; where the input lists users they judge them.
#[test]
fn users_are_not_in_exports_so_user_rules_judge_only_listed_users() {
    let plain = v("7.16", "/ip service set telnet disabled=yes\n");
    assert!(rule_messages(&plain, "TG301").is_empty());
    assert!(rule_messages(&plain, "TG303").is_empty());
    let listed = v("7.16", "/user add name=noc group=full\n");
    assert_eq!(rule_messages(&listed, "TG301").len(), 1);
    let m = rule_messages(&listed, "TG303");
    assert!(m.iter().any(|m| m.contains("`noc`")), "{m:?}");
    // Without the API listening, an API user without address= reaches nothing.
    let off = v(
        "7.16",
        "/user add name=noc group=full\n/ip service set api disabled=yes\n/ip service set api-ssl disabled=yes\n",
    );
    assert!(rule_messages(&off, "TG303").is_empty());
}

/// Names in fix lines are quoted by the one quoting function: `[find name=billing team]` is not
/// RouterOS.
#[test]
fn user_and_group_names_in_fixes_are_quoted() {
    let export = v(
        "7.16",
        "/user group add name=\"billing team\" policy=read,write,api,ssh\n/user add name=\"crm bot\" group=\"billing team\"\n",
    );
    let (c, _) = Config::load(export.into_bytes());
    let a = audit::run(&c, &WanChoice::default(), &Selection::default());
    let fixes: Vec<&String> = a
        .findings
        .iter()
        .filter(|f| f.rule == "TG303" || f.rule == "TG304")
        .flat_map(|f| &f.fix)
        .collect();
    assert!(
        fixes.iter().any(|f| f.contains("[find name=\"crm bot\"]")),
        "{fixes:?}"
    );
    assert!(
        fixes
            .iter()
            .any(|f| f.contains("[find name=\"billing team\"]")),
        "{fixes:?}"
    );
}

/// A service reachable from outside is one finding (TG201/TG202, which carry the `address=`
/// fix); TG103 speaks only where the firewall keeps the outside away.
#[test]
fn a_service_open_to_the_wan_is_reported_once_not_also_as_missing_address() {
    let open = v(
        "7.16",
        "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n",
    );
    assert!(!rule_messages(&open, "TG103")
        .iter()
        .any(|m| m.starts_with("`winbox`")));
    assert!(rule_messages(&open, "TG202")
        .iter()
        .any(|m| m.starts_with("`winbox`")));
    let closed = v(
        "7.16",
        "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n",
    );
    assert!(rule_messages(&closed, "TG103")
        .iter()
        .any(|m| m.starts_with("`winbox`")));
}

/// RouterOS 7.18 replaced `/ip ssh allow-none-crypto` with `ciphers=`, where `null` accepts
/// unencrypted sessions (command trees 7.16.2 and 7.18.2): TG118 sees it, its fix keeps the
/// rest of the list; without `null`, or with ssh off, nothing.
#[test]
fn null_in_ssh_ciphers_accepts_unencrypted_sessions_from_7_18() {
    let m = |rest: &str| -> Vec<(String, Vec<String>)> {
        let (c, p) = Config::load(v("7.18.2", rest).into_bytes());
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        audit::run(&c, &WanChoice::default(), &Selection::default())
            .findings
            .into_iter()
            .filter(|f| f.rule == "TG118")
            .map(|f| (f.message, f.fix))
            .collect()
    };
    let got = m("/ip ssh set ciphers=aes-gcm,aes-ctr,aes-cbc,3des-cbc,null\n");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].0.contains("`null` cipher"), "{got:?}");
    assert_eq!(
        got[0].1,
        ["/ip ssh set ciphers=aes-gcm,aes-ctr,aes-cbc,3des-cbc"]
    );
    assert_eq!(
        m("/ip ssh set ciphers=null\n")[0].1,
        ["/ip ssh set ciphers=aes-gcm,aes-ctr"]
    );
    assert!(m("/ip ssh set ciphers=aes-gcm,aes-ctr\n").is_empty());
    assert!(m("/ip ssh set ciphers=null\n/ip service set ssh disabled=yes\n").is_empty());
}

/// `discover-interface-list=!WAN` and MAC server `allowed-interface-list=!WAN` exclude the WAN
/// side (real exports write `set discover-interface-list=!WAN`): TG112 and TG113 stay silent;
/// `!LAN` or `!dynamic` still include a WAN port outside those lists.
#[test]
fn negated_interface_lists_exclude_what_they_name() {
    let head = "/interface list add name=WAN\n/interface list add name=LAN\n/interface list member add interface=ether1 list=WAN\n/interface list member add interface=bridge list=LAN\n";
    let rules = |settings: &str| -> Vec<&'static str> {
        let text = v("7.16", &format!("{head}{settings}"));
        let (c, p) = Config::load(text.into_bytes());
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        audit::run(&c, &WanChoice::default(), &Selection::default())
            .findings
            .iter()
            .filter(|f| f.rule == "TG112" || f.rule == "TG113")
            .map(|f| f.rule)
            .collect()
    };
    let not_wan = "/ip neighbor discovery-settings set discover-interface-list=!WAN\n/tool mac-server set allowed-interface-list=!WAN\n/tool mac-server mac-winbox set allowed-interface-list=!WAN\n";
    assert!(rules(not_wan).is_empty());
    let not_lan = not_wan.replace("!WAN", "!LAN");
    assert_eq!(rules(&not_lan), ["TG112", "TG112", "TG113"]);
    let not_dynamic = not_wan.replace("!WAN", "!dynamic");
    assert_eq!(rules(&not_dynamic).len(), 3);
}

/// `port=` matches a packet whose source *or* destination port is in the list (MikroTik's
/// Firewall Filter manual): an earlier `drop port=8291` takes only the traffic to or from 8291,
/// so it shadows a later rule for `dst-port=8291` or `port=8291`, and nothing else. Before, it
/// was read as taking every port: real exports got dozens of false "can never match".
#[test]
fn port_matches_source_or_destination_in_the_shadow_analysis() {
    let fw = "/ip firewall filter\nadd action=drop chain=input port=8291 protocol=tcp\nadd action=accept chain=input dst-port=22 protocol=tcp\nadd action=accept chain=input dst-port=8291 protocol=tcp\nadd action=accept chain=input port=8291 protocol=tcp\nadd action=accept chain=input port=8291,8728 protocol=tcp\n";
    let shadowed: Vec<String> = rule_messages(&v("7.16", fw), "TG204");
    assert_eq!(shadowed.len(), 2, "{shadowed:?}");
    assert!(shadowed[0].starts_with("ip filter rule 2 "), "{shadowed:?}");
    assert!(shadowed[1].starts_with("ip filter rule 3 "), "{shadowed:?}");
}

/// An accept with `port=53` lets in a connection from source port 53 to any port (`port=`
/// matches the source port too): TG205 says so, and does not blame a final drop the chain has.
#[test]
fn tg205_names_an_accept_whose_port_matches_the_source_port() {
    let fw = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip firewall filter\nadd action=accept chain=input port=53 protocol=tcp\nadd action=drop chain=input in-interface-list=WAN\n";
    let m = rule_messages(&v("7.16", fw), "TG205");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains("ip filter rule 0's `port=53` matches the source port too"),
        "{m:?}"
    );
    assert!(!m[0].contains("no final drop"), "{m:?}");
}

/// Staging counts the new connections of sources nobody named; an API port that the WAN side
/// reaches only from a few named prefixes (the CRM's) has none to count (TG206). Open to the
/// internet, it is still a finding.
#[test]
fn an_api_port_reachable_from_wan_only_from_named_prefixes_needs_no_staging() {
    let base = "# 2025-01-10 12:00:00 by RouterOS 7.18.2\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip service set api disabled=yes\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\n";
    let narrow = format!("{base}add action=accept chain=input dst-port=8729 protocol=tcp src-address=198.51.100.20\nadd action=drop chain=input in-interface-list=WAN\n/ipv6 firewall filter add action=drop chain=input in-interface-list=WAN\n");
    assert!(rule_messages(&narrow, "TG206").is_empty());
    let open = format!("{base}add action=accept chain=input dst-port=8729 protocol=tcp\nadd action=drop chain=input in-interface-list=WAN\n/ipv6 firewall filter add action=drop chain=input in-interface-list=WAN\n");
    assert_eq!(rule_messages(&open, "TG206").len(), 1);
}

/// Before RouterOS 6.41 the MAC server has no `allowed-interface-list`: a default entry (every
/// interface, on until disabled) and entries per interface (real 6.39.2 and 6.40.5 exports).
/// TG112 reads that form: the default entry on, or an entry on a WAN interface, is a finding,
/// and its fix is per interface.
#[test]
fn before_6_41_the_mac_server_is_read_per_interface() {
    let base = "# jan/02/2018 10:00:00 by RouterOS 6.40.5\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=192.168.88.1/24 interface=ether2\n";
    let lan_only = format!("{base}/tool mac-server\nset [ find default=yes ] disabled=yes\nadd interface=ether2\n/tool mac-server mac-winbox\nset [ find default=yes ] disabled=yes\nadd interface=ether2\n");
    assert!(rule_messages(&lan_only, "TG112").is_empty());
    let default_on = rule_messages(base, "TG112");
    assert_eq!(default_on.len(), 2, "{default_on:?}");
    assert!(
        default_on[0].contains("default entry is on"),
        "{default_on:?}"
    );
    let wan = format!("{base}/tool mac-server\nset [ find default=yes ] disabled=yes\nadd interface=ether1\n/tool mac-server mac-winbox\nset [ find default=yes ] disabled=yes\n");
    let m = rule_messages(&wan, "TG112");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("`ether1`"), "{m:?}");
}

/// The fixes of one rule.
fn rule_fixes(export: &str, rule: &str) -> Vec<String> {
    let (c, _) = Config::load(export.as_bytes().to_vec());
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .flat_map(|f| f.fix.clone())
        .collect()
}

/// TG205's drop goes where it acts: before the rule that accepts what it would drop (appended
/// after an `accept` of everything it never matches).
#[test]
fn the_wan_drop_is_placed_before_the_rule_that_accepts_wan_traffic() {
    let export = "# 2025-01-10 12:00:00 by RouterOS 7.18.2\n/interface list add name=WAN\n/interface list add name=LAN\n/interface list member add interface=ether1 list=WAN\n/interface list member add interface=bridge list=LAN\n/ip address add address=192.168.88.1/24 interface=bridge\n/ip address add address=203.0.113.2/30 interface=ether1\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\nadd action=accept chain=input comment=\"allow all\"\nadd action=drop chain=input\n";
    let fixes = rule_fixes(export, "TG205");
    let drop = fixes
        .iter()
        .find(|f| f.contains("action=drop"))
        .unwrap_or_else(|| panic!("{fixes:?}"));
    assert!(
        drop.ends_with("place-before=[:pick [find where comment=\"allow all\"] 0]"),
        "{drop}"
    );
}

/// On a router whose every addressed interface is WAN (a cloud CHR, an access point on DHCP)
/// the administrators come in over the WAN: TG205's drop keeps the management path the
/// configuration shows (its allow-lists), accepted above the drop, or asks for the prefixes.
#[test]
fn the_wan_drop_on_a_single_interface_router_keeps_the_management_path() {
    let base = "# 2025-01-10 12:00:00 by RouterOS 7.18.2\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip route add gateway=203.0.113.1\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\n";
    let known = format!("{base}/ip service set winbox address=198.51.100.0/24\n");
    let fixes = rule_fixes(&known, "TG205");
    let accept = fixes
        .iter()
        .position(|f| f.contains("action=accept") && f.contains("src-address-list=management"))
        .unwrap_or_else(|| panic!("{fixes:?}"));
    let drop = fixes
        .iter()
        .position(|f| f.contains("action=drop"))
        .unwrap();
    assert!(accept < drop, "{fixes:?}");
    assert!(
        fixes
            .iter()
            .any(|f| f.contains("list=management address=198.51.100.0/24")),
        "{fixes:?}"
    );
    let unknown = rule_fixes(base, "TG205");
    assert!(
        unknown
            .iter()
            .any(|f| f.contains("action=accept") && f.contains("<management prefixes>")),
        "{unknown:?}"
    );
}

/// `/tool bandwidth-server authenticate=no` runs a test for any client, without a login
/// (MikroTik's Bandwidth Test manual; default `yes`); with the default it asks for a login (TG114).
#[test]
fn a_bandwidth_server_with_authenticate_no_runs_tests_without_a_login() {
    let export = v("7.18.2", "/tool bandwidth-server set authenticate=no\n");
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let found: Vec<_> = audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .into_iter()
        .filter(|f| f.rule == "TG114")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity.as_str(), "medium");
    assert!(found[0].message.contains("without a login"), "{found:?}");
    assert_eq!(found[0].line, Some(2));
    // The default asks for a login: low, and said so.
    let m = rule_messages(&v("7.18.2", ""), "TG114");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("asks for a login"), "{m:?}");
    assert!(rule_messages(
        &v(
            "7.18.2",
            "/tool bandwidth-server set enabled=no authenticate=no\n"
        ),
        "TG114"
    )
    .is_empty());
}

/// `null` is an OpenVPN cipher RouterOS accepts (command trees: `/interface ovpn-server server
/// set cipher=...|null[,Cipher*]`): it encrypts nothing (TG125). Before 7.18 the server is one
/// setting (`enabled=yes`), from 7.18 a list; ppp-family clients run only with `disabled=no`.
#[test]
fn null_as_an_ovpn_cipher_carries_the_tunnel_in_clear() {
    let found = |export: &str| {
        let (c, p) = Config::load(export.as_bytes().to_vec());
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        audit::run(&c, &WanChoice::default(), &Selection::default())
            .findings
            .into_iter()
            .filter(|f| f.rule == "TG125")
            .map(|f| (f.severity.as_str().to_string(), f.message, f.fix))
            .collect::<Vec<_>>()
    };
    let v6 = found(&v(
        "6.49.10",
        "/interface ovpn-server server set enabled=yes cipher=null\n",
    ));
    assert_eq!(v6.len(), 1, "{v6:?}");
    assert_eq!(v6[0].0, "high");
    assert!(v6[0].1.contains("unencrypted"), "{v6:?}");
    assert_eq!(
        v6[0].2,
        vec!["/interface ovpn-server server set cipher=aes256".to_string()]
    );
    // Off by default before 7.18: a null cipher on a server that does not run is no finding.
    assert!(found(&v(
        "6.49.10",
        "/interface ovpn-server server set cipher=null\n"
    ))
    .is_empty());
    let client = found(&v(
        "7.18.2",
        "/interface ovpn-client add connect-to=192.0.2.1 name=\"to hq\" user=r cipher=null disabled=no\n",
    ));
    assert_eq!(client.len(), 1, "{client:?}");
    assert_eq!(
        client[0].2,
        vec!["/interface ovpn-client set [find name=\"to hq\"] cipher=aes256-gcm".to_string()]
    );
    // A client without `disabled=no` was created disabled.
    assert!(found(&v(
        "7.18.2",
        "/interface ovpn-client add connect-to=192.0.2.1 name=x user=r cipher=null\n"
    ))
    .is_empty());
    let listed = found(&v(
        "7.18.2",
        "/interface ovpn-server server add name=s1 cipher=aes128-gcm,null\n",
    ));
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].0, "medium");
    assert_eq!(
        listed[0].2,
        vec!["/interface ovpn-server server set [find name=s1] cipher=aes128-gcm".to_string()]
    );
}

/// `:local <var> [<value>]` (MikroTik's Scripting manual): a password given to a variable and
/// used as `password=$var` is a literal in the script (TG122), and the value reaches no report.
#[test]
fn a_password_held_in_a_local_variable_is_reported_and_never_shown() {
    let export = v(
        "7.18.2",
        "/system script add name=vpn source=\":local pw \\\"hunter2\\\"\\r\\n/interface ovpn-client set [find] password=\\$pw\"\n",
    );
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let findings = audit::run(&c, &WanChoice::default(), &Selection::default()).findings;
    let tg122: Vec<_> = findings.iter().filter(|f| f.rule == "TG122").collect();
    assert_eq!(tg122.len(), 1, "{findings:?}");
    assert!(tg122[0].message.contains("password ($pw)"), "{tg122:?}");
    for f in &findings {
        let text = format!("{} {:?} {:?}", f.message, f.evidence, f.fix);
        assert!(!text.contains("hunter2"), "{}: {text}", f.rule);
    }
}

const NAT_BASE: &str = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=192.168.88.1/24 interface=ether2\n/ip dhcp-client add interface=ether1\n";

/// A dst-nat rule sends what it matches to `to-addresses:to-ports` (MikroTik's NAT manual): a
/// WAN port forwarded to a device's Winbox publishes that login to the rule's sources (TG211);
/// to the router itself, the input filter then decides on the translated port.
#[test]
fn a_dst_nat_to_a_management_port_publishes_it_to_the_sources_it_matches() {
    let fwd = "/ip firewall nat add action=dst-nat chain=dstnat dst-port=9999 in-interface-list=WAN protocol=tcp to-addresses=192.168.88.10 to-ports=8291";
    let m = rule_messages(&v("7.18.2", &format!("{NAT_BASE}{fwd}\n")), "TG211");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains("winbox (TCP port 8291) of `192.168.88.10` on WAN port 9999 to the internet"),
        "{m:?}"
    );
    // Only from one prefix: said so.
    let m = rule_messages(
        &v(
            "7.18.2",
            &format!("{NAT_BASE}{fwd} src-address=198.51.100.0/24\n"),
        ),
        "TG211",
    );
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("198.51.100.0/24"), "{m:?}");
    // A web server is not management.
    assert!(rule_messages(
        &v("7.18.2", &format!("{NAT_BASE}/ip firewall nat add action=dst-nat chain=dstnat dst-port=443 protocol=tcp to-addresses=192.168.88.20\n")),
        "TG211"
    )
    .is_empty());
    // To the router's own API: reported while the input filter lets port 8728 in from the WAN,
    // not once it drops it.
    let redirect = "/ip firewall nat add action=redirect chain=dstnat dst-port=18728 in-interface-list=WAN protocol=tcp to-ports=8728\n";
    let m = rule_messages(&v("7.18.2", &format!("{NAT_BASE}{redirect}")), "TG211");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains("api (TCP port 8728) of the router itself on WAN port 18728"),
        "{m:?}"
    );
    let dropped = format!("{NAT_BASE}/ip firewall filter add action=drop chain=input in-interface-list=WAN\n{redirect}");
    assert!(rule_messages(&v("7.18.2", &dropped), "TG211").is_empty());
}

/// `to-addresses` inside the router's network is another host, not the router (TG211).
#[test]
fn a_dst_nat_to_a_host_of_the_routers_network_is_that_host() {
    let fwd = "/ip firewall nat add action=dst-nat chain=dstnat dst-port=2222 protocol=tcp to-addresses=192.168.88.101 to-ports=22\n";
    // ssh of another device is not among the device ports (a server's ssh is a service).
    assert!(rule_messages(&v("7.18.2", &format!("{NAT_BASE}{fwd}")), "TG211").is_empty());
    let own = "/ip firewall nat add action=dst-nat chain=dstnat dst-port=2222 protocol=tcp to-addresses=192.168.88.1 to-ports=22\n";
    let m = rule_messages(&v("7.18.2", &format!("{NAT_BASE}{own}")), "TG211");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains("ssh (TCP port 22) of the router itself"),
        "{m:?}"
    );
}

const CAPS_OPEN: &str = "/interface bridge add name=bridge\n/caps-man manager set enabled=yes\n/caps-man configuration add datapath.bridge=bridge name=guest ssid=Guest\n/caps-man provisioning add action=create-dynamic-enabled master-configuration=guest\n";

/// CAPsMAN v1: a provisioned configuration without `authentication-types` or a passphrase is an
/// open network, and with the manager forwarding (no `local-forwarding`) its clients are in the
/// datapath's bridge, where they reach the router's services (TG124).
#[test]
fn an_open_capsman_configuration_forwarded_into_a_bridge_reaches_management() {
    let m = rule_messages(&v("6.49.10", CAPS_OPEN), "TG124");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("CAPsMAN configuration guest"), "{m:?}");
    assert!(m[0].contains("bridged into `bridge`"), "{m:?}");
    assert!(m[0].contains("`winbox`"), "{m:?}");
    // A WPA2 profile, local forwarding, the manager off, or no provisioning: no finding.
    for extra in [
        "/caps-man security add name=s authentication-types=wpa2-psk passphrase=longenough1\n/caps-man configuration set [ find name=guest ] security=s\n",
        "/caps-man configuration set [ find name=guest ] datapath.local-forwarding=yes\n",
        "/caps-man manager set enabled=no\n",
        "/caps-man provisioning set [ find ] action=none\n",
    ] {
        let m = rule_messages(&v("6.49.10", &format!("{CAPS_OPEN}{extra}")), "TG124");
        assert!(m.is_empty(), "{extra}: {m:?}");
    }
    // Through a datapath profile.
    let dp = "/interface bridge add name=bridge\n/caps-man manager set enabled=yes\n/caps-man datapath add name=dp bridge=bridge\n/caps-man configuration add datapath=dp name=guest ssid=Guest\n/caps-man provisioning add action=create-enabled master-configuration=guest\n";
    assert_eq!(rule_messages(&v("6.49.10", dp), "TG124").len(), 1);
}

/// RoMON secrets authenticate RoMON messages; a session over RoMON still asks for a RouterOS
/// login (RoMON manual). TG121 says what an open RoMON gives: reach to the logins, not control.
#[test]
fn romon_without_a_secret_gives_reach_to_the_logins_not_control() {
    let m = rule_messages(&v("7.18.2", "/tool romon set enabled=yes\n"), "TG121");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(!m[0].contains("manage this router"), "{m:?}");
    assert!(m[0].contains("a login is still asked"), "{m:?}");
}

/// MikroTik's RoMON manual, "Secrets": unhashed messages are accepted while the list "is empty
/// or contains 'empty secret'". A list holding `""` beside a secret (the manual's first two
/// steps of introducing one, `secrets="","S"` and `secrets="S",""`) still lets any agent in:
/// flagged high; the secret alone is not flagged.
#[test]
fn romon_secrets_holding_the_empty_secret_accept_unhashed_messages() {
    for list in [
        "\"\",long-enough-secret",
        "long-enough-secret,\"\"",
        "\",long-enough-secret\"",
    ] {
        let m = rule_messages(
            &v(
                "7.18.2",
                &format!("/tool romon set enabled=yes secrets={list}\n"),
            ),
            "TG121",
        );
        assert_eq!(m.len(), 1, "{list}: {m:?}");
        assert!(
            m[0].contains("unhashed RoMON messages are accepted"),
            "{list}: {m:?}"
        );
    }
    let m = rule_messages(
        &v(
            "7.18.2",
            "/tool romon set enabled=yes secrets=long-enough-secret\n",
        ),
        "TG121",
    );
    assert!(m.is_empty(), "{m:?}");
}

const DNS_WAN: &str = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip dns set allow-remote-requests=yes\n";

fn tg115(export: &str) -> Vec<(String, Vec<String>)> {
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .into_iter()
        .filter(|f| f.rule == "TG115")
        .map(|f| (f.message, f.fix))
        .collect()
}

/// The resolver answers on TCP 53 too: a firewall that drops only udp/53 from the WAN still
/// leaves an open resolver, and the fix closes TCP.
#[test]
fn an_open_resolver_over_tcp_is_found_and_its_fix_closes_tcp() {
    let f = tg115(&v(
        "7.18.2",
        &format!("{DNS_WAN}/ip firewall filter add action=drop chain=input in-interface-list=WAN protocol=udp\n/ipv6 firewall filter add action=drop chain=input in-interface-list=WAN\n"),
    ));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].0.contains("`ether1` over ipv4 (tcp) from 0.0.0.0/0"),
        "{f:?}"
    );
    assert_eq!(f[0].1.len(), 1, "{f:?}");
    assert!(f[0].1[0].starts_with("/ip firewall filter add action=drop chain=input in-interface-list=WAN protocol=tcp dst-port=53"), "{f:?}");
}

/// Over IPv6 a WAN interface with a global address reaches the resolver unless the IPv6
/// firewall drops it: the fix closes IPv6 (udp and tcp) in `/ipv6 firewall filter`.
#[test]
fn an_open_resolver_over_ipv6_is_found_and_its_fix_closes_ipv6() {
    let f = tg115(&v(
        "7.18.2",
        &format!("{DNS_WAN}/ipv6 address add address=2001:db8::2/64 interface=ether1 advertise=no\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n"),
    ));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].0.contains("`ether1` over ipv6 (udp, tcp) from ::/0"),
        "{f:?}"
    );
    assert!(!f[0].0.contains("over ipv4"), "{f:?}");
    let fixes = &f[0].1;
    assert_eq!(fixes.len(), 2, "{fixes:?}");
    assert!(
        fixes.iter().all(|l| l.starts_with(
            "/ipv6 firewall filter add action=drop chain=input in-interface-list=WAN"
        )),
        "{fixes:?}"
    );
    assert!(
        fixes[0].contains("protocol=udp dst-port=53")
            && fixes[1].contains("protocol=tcp dst-port=53"),
        "{fixes:?}"
    );
    // Closed over both: no finding.
    let closed = format!("{DNS_WAN}/ipv6 address add address=2001:db8::2/64 interface=ether1 advertise=no\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n/ipv6 firewall filter add action=drop chain=input in-interface-list=WAN\n");
    assert!(tg115(&v("7.18.2", &closed)).is_empty());
}

/// Hotspot clients over IPv6 with no global prefix reach the router from `fe80::/10` only: the
/// neighbours on one link. TG206 (brute-force staging) is about sources nobody named at
/// internet scale, so it stays silent on such rows; their IPv4 side, dropped, is closed.
#[test]
fn brute_force_staging_is_not_asked_for_link_local_only_sources() {
    let hs = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip address add address=10.5.50.1/24 interface=ether3\n/ip hotspot add disabled=no interface=ether3 name=hs1\n/ip firewall filter add action=drop chain=input\n";
    assert!(rule_messages(&v("7.18.2", hs), "TG206").is_empty());
    // The same router with a global prefix on the hotspot side: clients reach the API from it.
    let global = format!("{hs}/ipv6 address add address=2001:db8:50::1 interface=ether3\n");
    let m = rule_messages(&v("7.18.2", &global), "TG206");
    assert!(m.iter().any(|m| m.starts_with("`api` (tcp/8728)")), "{m:?}");
}

const NAT_AP: &str = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip address add address=192.168.88.1/24 interface=bridge\n/ip firewall nat add action=dst-nat chain=dstnat dst-port=9999 in-interface-list=WAN protocol=tcp to-addresses=192.168.88.10 to-ports=8291\n";

/// A connection dst-nat'd to another host goes through `forward` (Packet Flow and NAT
/// manuals): a forward drop of it closes the published Winbox, and the default configuration's
/// "drop all from WAN not DSTNATed" does not (the connection is dst-nat'd).
#[test]
fn a_dst_nat_to_another_host_is_published_only_if_the_forward_chain_lets_it_through() {
    let open = rule_messages(&v("7.18.2", NAT_AP), "TG211");
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(
        open[0].contains("the forward chain lets it through"),
        "{open:?}"
    );
    let dropped = format!("{NAT_AP}/ip firewall filter add action=drop chain=forward in-interface-list=WAN protocol=tcp dst-port=8291\n");
    assert!(rule_messages(&v("7.18.2", &dropped), "TG211").is_empty());
    let defconf = format!("{NAT_AP}/ip firewall filter add action=accept chain=forward connection-state=established,related\n/ip firewall filter add action=drop chain=forward connection-nat-state=!dstnat connection-state=new in-interface-list=WAN\n");
    assert_eq!(rule_messages(&v("7.18.2", &defconf), "TG211").len(), 1);
    // A forward drop the analysis cannot decide (out-interface) is named, not trusted.
    let undecided = format!("{NAT_AP}/ip firewall filter add action=drop chain=forward out-interface=bridge protocol=tcp\n");
    let m = rule_messages(&v("7.18.2", &undecided), "TG211");
    assert!(
        m.len() == 1 && m[0].contains("assuming forward rules 0 match"),
        "{m:?}"
    );
}

/// An accept on `dst-address=` (a private address of the router) is counted as matching: the
/// analysis does not decide which address the attacker connects to. The finding says that this
/// verdict assumed the attacker can address it (issue 24, §2.8), naming the rule.
#[test]
fn a_verdict_resting_on_a_dst_address_accept_says_what_it_assumed() {
    let export = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip address add address=192.168.88.1/24 interface=bridge\n/ip firewall filter add action=accept chain=input dst-address=192.168.88.1 dst-port=8291 protocol=tcp\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n";
    let m = rule_messages(&v("7.18.2", export), "TG202");
    let winbox: Vec<_> = m.iter().filter(|m| m.starts_with("`winbox`")).collect();
    assert_eq!(winbox.len(), 1, "{m:?}");
    assert!(
        winbox[0].contains("assumes the attacker can address the router at `dst-address=192.168.88.1` (ip filter rule 0)"),
        "{winbox:?}"
    );
}

/// `print` numbers a hotspot's dynamic rules first (RouterOS v3 manual, HotSpot "Packet filter
/// rules": `0 D chain=forward action=jump jump-target=hs-unauth`), and how many there are is not
/// in the export: a rule number on a hotspot router says it counts the export's rules.
#[test]
fn rule_numbers_on_a_hotspot_router_say_print_lists_the_dynamic_rules_first() {
    let base = "/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip address add address=203.0.113.2/24 interface=ether1\n/ip firewall filter add action=accept chain=input dst-port=8728 protocol=tcp\n/ip firewall filter add action=drop chain=input in-interface-list=WAN\n";
    let plain = rule_messages(&v("7.18.2", base), "TG201");
    assert!(
        plain
            .iter()
            .any(|m| m.contains("accepted by ip filter rule 0)")),
        "{plain:?}"
    );
    let hs = format!("{base}/ip address add address=10.5.50.1/24 interface=ether3\n/ip hotspot add disabled=no interface=ether3 name=hs1\n");
    let with = rule_messages(&v("7.18.2", &hs), "TG201");
    assert!(
        with.iter().any(|m| m.contains("accepted by ip filter rule 0 (numbered as the export shows them; `print` lists the hotspot's dynamic rules first")),
        "{with:?}"
    );
    // Every rule that names a filter rule by number says it (an API drop without a log, TG207).
    let drop = "/ip firewall filter add action=drop chain=input dst-port=8728 protocol=tcp\n";
    let unlogged = rule_messages(&v("7.18.2", &format!("{hs}{drop}")), "TG207");
    assert!(
        unlogged
            .iter()
            .any(|m| m.starts_with("ip filter rule 2 (numbered as the export shows them;")),
        "{unlogged:?}"
    );
    assert!(
        rule_messages(&v("7.18.2", &format!("{base}{drop}")), "TG207")
            .iter()
            .all(|m| !m.contains("numbered as the export"))
    );
}

/// MikroTik's Connection tracking manual: "Disabling connection tracking will cause several
/// firewall features to stop working", `connection-state` among them. With
/// `enabled=no`, staging rules that count `connection-state=new` may count nothing: the API
/// port is not known to be staged, and TG206 stays, saying why. Staging that names no state
/// counts every packet and works without tracking; with `auto` the staging rules are
/// themselves firewall rules, so tracking is on.
#[test]
fn with_connection_tracking_off_connection_state_staging_may_count_nothing_and_tg206_stays() {
    let good = include_str!("rules/TG206/good.rsc");
    assert!(rule_messages(good, "TG206").is_empty());
    let off = format!("{good}/ip firewall connection tracking set enabled=no\n");
    let m = rule_messages(&off, "TG206");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("connection tracking"), "{m:?}");
    let auto = format!("{good}/ip firewall connection tracking set enabled=auto\n");
    assert!(rule_messages(&auto, "TG206").is_empty());
    let stateless = off.replace(" connection-state=new", "");
    assert!(rule_messages(&stateless, "TG206").is_empty());
}

/// The layer-2 side of a WAN is the Ethernet (or VLAN) a PPPoE client dials over, and the port
/// under a WAN VLAN that carries nothing else (MikroTik's PPPoE manual: the client runs on
/// `interface=`; VLAN manual: a VLAN interface runs on its `interface=`). MAC telnet allowed on
/// `!WAN` with a WAN list naming only `pppoe-out1` answers frames on the uplink's wire: TG112
/// and TG113. A port that also carries a LAN VLAN, or has an address of its own, is not taken
/// for the uplink's (approximated: the wire carries more than the uplink).
#[test]
fn the_port_under_a_pppoe_or_vlan_wan_is_the_wans_layer_2_side() {
    let head = "# 2025-06-02 10:00:00 by RouterOS 7.16.2\n/interface list add name=WAN\n/ip address add address=192.168.88.1/24 interface=ether2\n/tool mac-server set allowed-interface-list=!WAN\n/ip neighbor discovery-settings set discover-interface-list=!WAN\n";
    let pppoe_over_vlan = format!("{head}/interface vlan add interface=ether1 name=vlan35 vlan-id=35\n/interface pppoe-client add disabled=no interface=vlan35 name=pppoe-out1 user=x\n/interface list member add interface=pppoe-out1 list=WAN\n");
    // (MAC winbox stays on `all`, its default: a finding of its own, not counted here.)
    let on = |export: &str, rule: &str, list: &str| {
        rule_messages(export, rule)
            .iter()
            .filter(|m| m.contains(&format!("list `{list}`")))
            .count()
    };
    for rule in ["TG112", "TG113"] {
        assert_eq!(on(&pppoe_over_vlan, rule, "!WAN"), 1, "{rule}");
    }
    let vlan = format!("{head}/interface vlan add interface=ether1 name=vlan100 vlan-id=100\n/interface list member add interface=vlan100 list=WAN\n");
    assert_eq!(on(&vlan, "TG112", "!WAN"), 1);
    // Router on a stick: ether1 also carries the LAN's VLAN.
    let stick = format!("{head}/interface vlan add interface=ether1 name=vlan100 vlan-id=100\n/interface vlan add interface=ether1 name=vlan10 vlan-id=10\n/ip address add address=10.0.10.1/24 interface=vlan10\n/interface list member add interface=vlan100 list=WAN\n");
    assert_eq!(on(&stick, "TG112", "!WAN"), 0);
    // `LAN` holding the LAN side only: no finding either way.
    let lan = format!(
        "{}/interface list add name=LAN\n/interface list member add interface=ether2 list=LAN\n",
        pppoe_over_vlan.replace("=!WAN", "=LAN")
    );
    assert_eq!(on(&lan, "TG112", "LAN"), 0);
}
