//! `harden` against a configuration someone hostile wrote to: a comment that imitates the ones
//! harden writes (anyone with `write` can set a comment), and entries in harden's own address
//! lists that do not last (a timeout, `disabled=yes`). Each test is named after what it prevents.

use routeros_config::Config;
use tikguard::harden;

#[path = "common/intent.rs"]
mod harden_intent;
use harden_intent::guide_intent;

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

fn with(extra: &str) -> (String, Config) {
    let text = format!("{GUIDE}\n{extra}\n");
    let c = Config::load(text.clone().into_bytes()).0;
    (text, c)
}

/// The management prefixes after the script: the lasting, enabled entries of `tikguard-mgmt`.
fn lasting(after: &Config, list: &str) -> Vec<String> {
    after
        .items("/ip firewall address-list")
        .iter()
        .filter(|i| i.get_str("list").as_deref() == Some(list))
        .filter(|i| !i.is_disabled() && i.get("timeout").is_none())
        .filter_map(|i| i.get_str("address"))
        .collect()
}

/// An entry of harden's own management list that expires (MikroTik's Address-lists manual:
/// `timeout`, removed once it passes) or is disabled is no lasting source: the plan never takes
/// it for the entry it would add. Either the script leaves a lasting entry for every
/// management prefix, or the plan is refused.
#[test]
fn a_timed_or_disabled_entry_in_the_plans_own_list_is_not_counted_as_lasting_access() {
    for entry in [
        "add list=tikguard-mgmt address=192.168.88.0/24 timeout=1d",
        "add list=tikguard-mgmt address=192.168.88.0/24 disabled=yes",
        "add list=tikguard-api-clients address=198.51.100.20 timeout=1h",
    ] {
        let (text, c) = with(&format!("/ip firewall address-list\n{entry}"));
        let i = guide_intent(&c);
        let plan = harden::plan(&c, &i);
        let res = harden::prove(text.as_bytes(), &c, &plan.changes, &i);
        match res {
            Err(r) => assert!(
                r.0.contains("does not (it"),
                "{entry}: the refusal names the list: {}",
                r.0
            ),
            Ok((after, _)) => {
                assert!(
                    lasting(&after, "tikguard-mgmt").contains(&"192.168.88.0/24".to_string()),
                    "{entry}: {}",
                    harden::render(&plan.changes, false, "")
                );
                assert!(
                    lasting(&after, "tikguard-api-clients")
                        .iter()
                        .any(|a| a.starts_with("198.51.100.20")),
                    "{entry}: {}",
                    harden::render(&plan.changes, false, "")
                );
            }
        }
    }
}

/// A comment proves nothing about who wrote a rule: an accept from anyone under the comment of
/// the plan's management accept, or a disabled rule under its drop's, is not read back as the
/// plan's (skipped, kept out of the allow-lists, removed by the rollback): refused, naming it.
#[test]
fn a_rule_with_a_tikguard_comment_the_plan_did_not_write_is_refused() {
    for rule in [
        // Winbox from anyone, under the plan's own accept's comment.
        "add chain=input action=accept protocol=tcp dst-port=8291 comment=tikguard:ip-mgmt-accept place-before=0",
        // The plan's accept, its source list swapped for another.
        "add chain=input action=accept protocol=tcp dst-port=22,8291,8729 src-address-list=friends connection-state=new comment=tikguard:ip-mgmt-accept",
        // The plan's drop, disabled.
        "add chain=input action=drop protocol=tcp dst-port=22,8291,8729 connection-state=new log=yes log-prefix=tikguard-mgmt-drop comment=tikguard:ip-mgmt-drop disabled=yes",
        // Winbox from anyone under the comment of the WireGuard accept (--api-tunnel).
        "add chain=input action=accept protocol=tcp dst-port=8291 comment=tikguard:api-tunnel-accept place-before=0",
        // An accept under a comment the plan never writes.
        "add chain=input action=accept comment=tikguard:ip-noc-accept place-before=0",
    ] {
        let (text, c) = with(&format!("/ip firewall filter\n{rule}"));
        let i = guide_intent(&c);
        let plan = harden::plan(&c, &i);
        let r = harden::prove(text.as_bytes(), &c, &plan.changes, &i)
            .err()
            .unwrap_or_else(|| panic!("{rule}: proven"));
        assert!(r.0.contains("is not tikguard's"), "{rule}: {}", r.0);
    }
}

/// An address-list entry under the comment the plan writes for another entry (the plan's
/// management entry's comment on 0.0.0.0/0) is not the plan's: refused.
#[test]
fn an_address_list_entry_with_another_entrys_tikguard_comment_is_refused() {
    let (text, c) = with(
        "/ip firewall address-list\nadd list=tikguard-mgmt address=0.0.0.0/0 comment=tikguard:ip-tikguard-mgmt:192.168.88.0/24",
    );
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let r = harden::prove(text.as_bytes(), &c, &plan.changes, &i)
        .err()
        .unwrap_or_else(|| panic!("proven: {}", harden::render(&plan.changes, false, "")));
    assert!(r.0.contains("for another entry"), "{}", r.0);
}

/// What harden wrote itself is its own: the hardened configuration planned again refuses
/// nothing and plans nothing.
#[test]
fn the_plans_own_rules_and_entries_are_not_taken_for_foreign() {
    let c = Config::load(GUIDE.as_bytes().to_vec()).0;
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let (after, _) = harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    let again = harden::plan(&after, &i);
    assert!(again.foreign.is_empty(), "{:#?}", again.foreign);
}

/// MAC winbox, MAC telnet and discovery kept on "the LAN" never reach the WAN's layer 2: a
/// PPPoE client's frames arrive on the Ethernet port it dials over, and a WAN bridge's on its
/// ports (MikroTik's PPPoE manual: the client runs on `interface=`; Bridging manual: frames
/// enter on bridge ports). With a WAN list naming only `pppoe-out1`, `include=all
/// exclude=WAN` would keep them on ether1, the uplink: the plan lists the LAN side one by one,
/// and an existing list holding ether1 is not taken for the LAN.
#[test]
fn layer2_kept_on_the_lan_never_includes_the_port_a_pppoe_wan_dials_over() {
    const PPPOE: &str = "# 2025-06-02 10:00:00 by RouterOS 7.16.2
/interface bridge
add name=bridge
/interface pppoe-client
add interface=ether1 name=pppoe-out1 user=isp
/interface list
add name=WAN
add name=LANISH
/interface list member
add interface=pppoe-out1 list=WAN
add interface=ether1 list=LANISH
add interface=bridge list=LANISH
/interface bridge port
add bridge=bridge interface=ether2
/ip address
add address=192.168.88.1/24 interface=bridge
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input in-interface=bridge
add action=drop chain=input
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
/tool mac-server
set allowed-interface-list=all
/tool mac-server mac-winbox
set allowed-interface-list=all
/ip neighbor discovery-settings
set discover-interface-list=all
";
    let c = Config::load(PPPOE.as_bytes().to_vec()).0;
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("include=all"), "{script}");
    assert!(
        !script.contains("allowed-interface-list=LANISH"),
        "{script}"
    );
    assert!(!script.contains("interface=ether1"), "{script}");
    assert!(
        script.contains("mac-winbox set allowed-interface-list=tikguard-lan"),
        "{script}"
    );
    assert!(script.contains("interface=bridge"), "{script}");
}

/// The same under a VLAN WAN: the port a WAN VLAN runs on, carrying nothing else, is the
/// uplink's wire, and the audit says so (TG112); the plan keeps layer 2 off it, so the audit
/// of the hardened configuration has no TG112 left.
#[test]
fn layer2_kept_on_the_lan_never_includes_the_port_under_a_vlan_wan() {
    const VLAN: &str = "# 2025-06-02 10:00:00 by RouterOS 7.16.2
/interface bridge
add name=bridge
/interface vlan
add interface=ether1 name=vlan100 vlan-id=100
/interface list
add name=WAN
/interface list member
add interface=vlan100 list=WAN
/interface bridge port
add bridge=bridge interface=ether2
/ip address
add address=192.168.88.1/24 interface=bridge
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input in-interface=bridge
add action=drop chain=input
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
/tool mac-server
set allowed-interface-list=all
/tool mac-server mac-winbox
set allowed-interface-list=all
/ip neighbor discovery-settings
set discover-interface-list=all
";
    let c = Config::load(VLAN.as_bytes().to_vec()).0;
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("include=all"), "{script}");
    assert!(!script.contains("interface=ether1"), "{script}");
    let (after, _) =
        harden::prove(VLAN.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let left: Vec<String> = tikguard::audit::run(
        &after,
        &tikguard::audit::WanChoice::default(),
        &tikguard::audit::Selection::default(),
    )
    .findings
    .iter()
    .filter(|f| f.rule == "TG112" || f.rule == "TG113")
    .map(|f| f.message.clone())
    .collect();
    assert!(left.is_empty(), "{left:?}\n{script}");
}

/// `--api-group G` tightens a group the export shows without its users (exports do not hold
/// users): the "who loses access" table lists what G's users lose, the policies taken from
/// the group and the address restriction put on its users.
#[test]
fn the_loss_table_lists_what_an_api_groups_users_lose() {
    let (text, c) =
        with("/user group\nadd name=integrations policy=read,write,api,winbox,ssh,ftp,test");
    let mut i = guide_intent(&c);
    i.api_group = Some("integrations".into());
    let plan = harden::plan(&c, &i);
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let rows: Vec<&harden::losses::Loss> = proof
        .losses
        .iter()
        .filter(|l| l.kind == "group" && l.who.contains("integrations"))
        .collect();
    let said = format!("{rows:#?}");
    assert!(
        rows.iter().any(|l| l
            .r#where
            .iter()
            .any(|w| w.contains("winbox") && w.contains("ssh"))),
        "{said}\n{:#?}",
        proof.losses
    );
    assert!(
        rows.iter()
            .any(|l| l.r#where.iter().any(|w| w.contains("198.51.100.20"))),
        "{said}"
    );
}

/// An earlier run's rule whose ports are not what the plan could have written (a range) or
/// that is not alone under its comment cannot be told to be the plan's: after a port moved
/// (ssh to 2222) it is not moved (a range may be someone's; one `set [find ...]` would give
/// every rule under the comment the same ports), and the plan is refused, naming it.
#[test]
fn a_rule_of_an_earlier_run_that_cannot_be_told_to_be_the_plans_is_refused_after_a_port_moved() {
    let c = Config::load(GUIDE.as_bytes().to_vec()).0;
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let (_, _) = harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    let mut hardened = GUIDE.to_string();
    hardened.push('\n');
    for l in harden::script::lines(&plan.changes) {
        hardened.push_str(&l);
        hardened.push('\n');
    }
    for (edit, said) in [
        (
            "/ip firewall filter\nset [find where comment=tikguard:ip-mgmt-drop] dst-port=1-1024,8291,8729",
            "dst-port=1-1024,8291,8729",
        ),
        (
            "/ip firewall filter\nadd chain=input action=drop protocol=tcp dst-port=22,8291,8729 connection-state=new log=yes log-prefix=tikguard-mgmt-drop comment=tikguard:ip-mgmt-drop",
            "2 rules carrying the comment `tikguard:ip-mgmt-drop`",
        ),
    ] {
        let text = format!("{hardened}{edit}\n/ip service\nset ssh port=2222\n");
        let moved = Config::load(text.clone().into_bytes()).0;
        let again = harden::plan(&moved, &i);
        let r = harden::prove(text.as_bytes(), &moved, &again.changes, &i)
            .err()
            .unwrap_or_else(|| panic!("proven: {}", harden::render(&again.changes, false, "")));
        assert!(
            r.0.contains("tikguard:ip-mgmt-drop") && r.0.contains(said),
            "{edit}: {}",
            r.0
        );
    }
}

/// A rule that puts sources on the plan's own trusted lists (`action=add-src-to-address-list
/// address-list=tikguard-mgmt`, a port knock on the WAN) makes whoever matches it management
/// at run time, past every accept the plan writes: refused, naming the rule, not planned
/// around.
#[test]
fn a_rule_that_adds_sources_to_the_plans_own_list_is_refused_naming_it() {
    for (menu, rule) in [
        ("/ip firewall mangle", "add chain=prerouting action=add-src-to-address-list address-list=tikguard-mgmt address-list-timeout=1h protocol=tcp dst-port=4444 comment=knock"),
        ("/ip firewall filter", "add chain=input action=add-dst-to-address-list address-list=tikguard-api-clients protocol=udp dst-port=4445 comment=knock"),
        ("/ip firewall raw", "add chain=prerouting action=add-src-to-address-list address-list=tikguard-mgmt comment=knock"),
    ] {
        let (text, c) = with(&format!("{menu}\n{rule}"));
        let i = guide_intent(&c);
        let plan = harden::plan(&c, &i);
        let r = harden::prove(text.as_bytes(), &c, &plan.changes, &i)
            .err()
            .unwrap_or_else(|| panic!("{rule}: proven"));
        assert!(
            r.0.contains(menu) && r.0.contains("adds sources to list tikguard-"),
            "{rule}: {}",
            r.0
        );
    }
    // Disabled, it adds nothing: no refusal of its own.
    let (_, c) = with("/ip firewall mangle\nadd chain=prerouting action=add-src-to-address-list address-list=tikguard-mgmt disabled=yes comment=knock");
    assert!(
        harden::plan(&c, &guide_intent(&c)).foreign.is_empty(),
        "a disabled rule refused"
    );
}

/// An entry of the plan's own trusted list that is there only for a while (a `timeout=`, or
/// added by RouterOS and read live with `dynamic=yes`), for an address the plan does not
/// write: the plan's accepts would trust it while it lasts and nothing can count on it.
/// Refused, naming the entry, not as a lockout of management.
#[test]
fn a_passing_entry_of_the_plans_trusted_list_for_another_address_is_refused_naming_it() {
    for entry in [
        "add list=tikguard-mgmt address=0.0.0.0/0 timeout=1d",
        "add list=tikguard-api-clients address=203.0.113.99 dynamic=yes",
    ] {
        let (text, c) = with(&format!("/ip firewall address-list\n{entry}"));
        let i = guide_intent(&c);
        let plan = harden::plan(&c, &i);
        let r = harden::prove(text.as_bytes(), &c, &plan.changes, &i)
            .err()
            .unwrap_or_else(|| panic!("{entry}: proven"));
        let address = entry
            .split("address=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        assert!(
            r.0.contains(&format!("entry {address} of list tikguard-")),
            "{entry}: {}",
            r.0
        );
    }
    // Disabled, it matches nothing: no refusal of its own.
    let (_, c) =
        with("/ip firewall address-list\nadd list=tikguard-mgmt address=0.0.0.0/0 disabled=yes");
    assert!(
        harden::plan(&c, &guide_intent(&c)).foreign.is_empty(),
        "a disabled entry refused"
    );
}

/// A lasting entry of a list the plan trusts that admits the internet (`0.0.0.0/0` added by
/// hand, or by anyone with `write`) and that the command line did not give: the plan's accepts
/// would open every management port to it while the plan says they are open only to
/// management. Refused, naming it; a narrow entry an administrator added is kept.
#[test]
fn a_lasting_entry_that_admits_the_internet_in_a_trusted_list_is_refused_naming_it() {
    for entry in [
        "add list=tikguard-mgmt address=0.0.0.0/0",
        "add list=tikguard-api-clients address=0.0.0.0/1",
        "add list=tikguard-mgmt address=100.0.0.0/6",
    ] {
        let (text, c) = with(&format!("/ip firewall address-list\n{entry}"));
        let i = guide_intent(&c);
        let plan = harden::plan(&c, &i);
        let r = harden::prove(text.as_bytes(), &c, &plan.changes, &i)
            .err()
            .unwrap_or_else(|| panic!("{entry}: proven"));
        assert!(r.0.contains("admits the internet"), "{entry}: {}", r.0);
    }
    let (text, c) = with("/ip firewall address-list\nadd list=tikguard-mgmt address=10.1.2.0/24");
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    assert!(plan.foreign.is_empty(), "{:?}", plan.foreign);
    harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}
