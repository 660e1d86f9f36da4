//! Plans at the edges of what a configuration may hold: rules the plan names by their comment,
//! brute-force staging that could not act, a device whose management and WAN share one bridge,
//! RouterOS before 6.41, and who loses layer-2 access. Each test is named after what it pins.

use routeros_config::Config;
use tikguard::harden;

#[path = "common/intent.rs"]
mod harden_intent;
use harden_intent::{guide_intent, intent};

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

fn load(s: &str) -> Config {
    Config::load(s.as_bytes().to_vec()).0
}

fn ids(plan: &harden::Plan) -> Vec<&str> {
    plan.changes.iter().map(|c| c.id.as_str()).collect()
}

/// A source an `input` accept lets in only when the router's address is in a list filled at
/// run time (`dst-address-list=` with no entries: a hotspot or PPP profile fills it) had access
/// before only in the attacker's view: the loss table still lists it, marked approximated,
/// while a source a plain accept let in is listed as certain.
#[test]
fn a_loss_that_depended_on_a_run_time_list_is_marked_approximated() {
    let text = "# 2024-01-02 12:00:00 by RouterOS 7.16\n\
         /interface list\nadd name=WAN\n\
         /interface list member\nadd interface=ether1 list=WAN\n\
         /ip address\nadd address=192.168.88.1/24 interface=ether2\n\
         /ip firewall filter\n\
         add chain=input action=accept connection-state=established,related\n\
         add chain=input action=accept protocol=tcp dst-port=22 src-address=203.0.113.0/24 dst-address-list=clients\n\
         add chain=input action=accept protocol=tcp dst-port=22 src-address=198.18.7.0/24\n\
         add chain=input action=drop\n";
    let c = load(text);
    // Narrowing asked: the plain accept's source is not kept either, a certain loss.
    let mut i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    i.replace_allow_lists = true;
    let plan = harden::plan(&c, &i);
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let row = |who: &str| {
        proof
            .losses
            .iter()
            .find(|l| l.who == who && l.service == "ssh")
            .unwrap_or_else(|| panic!("{who}: {:?}", proof.losses))
    };
    assert!(row("203.0.113.0/24").approximated);
    assert!(!row("198.18.7.0/24").approximated);
}

/// RouterOS' `find where comment=""` matches every rule without a comment: a rule whose comment
/// is empty cannot be named by it, and is left as it is (TG203 not claimed).
#[test]
fn an_open_api_accept_with_an_empty_comment_is_not_disabled_by_it() {
    let text = GUIDE.replace("comment=\"CRM API\"", "comment=\"\"");
    let c = load(&text);
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("comment=\"\""), "{script}");
    assert!(
        !script
            .lines()
            .any(|l| l.contains("firewall filter disable")),
        "{script}"
    );
    assert!(
        !plan.changes.iter().any(|c| c.fixes.contains(&"TG203")),
        "{:?}",
        ids(&plan)
    );
    harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// Two open API accepts, each with its own comment, are two changes with two ids.
#[test]
fn two_open_api_accepts_are_two_changes_with_distinct_ids() {
    let text = format!(
        "{GUIDE}\n/ip firewall filter\nadd action=accept chain=input comment=\"Billing API\" dst-port=8728 protocol=tcp place-before=1\n"
    );
    let c = load(&text);
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let disables: Vec<&str> = ids(&plan)
        .into_iter()
        .filter(|id| id.contains("disable-open-api-accept"))
        .collect();
    assert_eq!(disables.len(), 2, "{:?}", ids(&plan));
    let mut all = ids(&plan);
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "{:?}", ids(&plan));
    harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// The final drop takes every source the accepts above it do not, before a login: staging
/// between them would count only sources that are dropped anyway. It is left out, TG206 is not
/// claimed for it, and the plan says why.
#[test]
fn staging_the_final_drop_makes_moot_is_left_out_and_the_plan_says_why() {
    let c = load(GUIDE);
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("add-src-to-address-list"), "{script}");
    assert!(!script.contains("tikguard-blacklist"), "{script}");
    assert!(
        !plan.changes.iter().any(|c| c.fixes.contains(&"TG206")),
        "{:?}",
        ids(&plan)
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("staging") && n.contains("final drop")),
        "{:?}",
        plan.notes
    );
    let (after, _) = harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    // And the audit agrees: the API is open to the CRM alone, no staging is asked for.
    let left = tikguard::audit::run(&after, &i.wan, &Default::default());
    assert!(!left.findings.iter().any(|f| f.rule == "TG206"));
}

/// With `--keep-plain-api` the plaintext API and the CRM's accept from anyone stay on: there
/// staging acts. It guards that port, never counts the API clients or management (accepted
/// above it), and fixes TG206, which the proof checks.
#[test]
fn with_the_plain_api_kept_open_to_anyone_staging_guards_its_port() {
    let c = load(GUIDE);
    let mut i = guide_intent(&c);
    i.keep_plain_api = true;
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    let stage1 = script
        .lines()
        .find(|l| l.contains("comment=tikguard:ip-stage1"))
        .unwrap_or_else(|| panic!("{script}"));
    assert!(stage1.contains("dst-port=8728 "), "{stage1}");
    assert!(
        stage1.contains("src-address-list=!tikguard-api-clients"),
        "{stage1}"
    );
    let bl = script
        .lines()
        .find(|l| l.contains("comment=tikguard:ip-blacklist-drop"))
        .unwrap();
    assert!(bl.contains("dst-port=8728 "), "{bl}");
    // Management and the CRM are accepted on 8728 above the staging.
    for tag in ["ip-mgmt-accept", "ip-api-accept"] {
        let l = script
            .lines()
            .find(|l| l.contains(&format!("comment=tikguard:{tag}")))
            .unwrap();
        assert!(l.contains("8728"), "{l}");
    }
    // The final drop still leaves the plaintext API to the CRM's accept.
    let drop = script
        .lines()
        .find(|l| l.contains("comment=tikguard:ip-mgmt-drop"))
        .unwrap();
    assert!(!drop.contains("8728"), "{drop}");
    assert!(
        plan.changes.iter().any(|c| c.fixes.contains(&"TG206")),
        "{:?}",
        ids(&plan)
    );
    harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// The firewall engine's budget running out is not a lockout: an evaluation cut short has lost
/// (defender) or granted (attacker) what it did not finish, so nothing is known either way. The
/// proof refuses as unproven and says how to give it more.
#[test]
fn a_proof_that_runs_out_of_budget_is_refused_as_unproven_not_as_a_lockout() {
    let c = load(GUIDE);
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let tight = tikguard::audit::firewall::Limits {
        work: 20,
        ..Default::default()
    };
    let r = harden::prove_within(GUIDE.as_bytes(), &c, &plan.changes, &i, tight).unwrap_err();
    assert!(
        r.0.contains("could not prove the plan within the budget") && r.0.contains("--time-limit"),
        "{}",
        r.0
    );
    assert!(!r.0.contains("would lose"), "{}", r.0);
    // Within the default budget the same plan is proven.
    harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

const AP: &str = include_str!("harden/single-bridge-ap.rsc");

/// A single-bridge device whose management and WAN are the same bridge: the firewall is
/// planned with the --mgmt sources alone (no rule by interface that would drop the admin), and
/// layer 2, which only an interface can limit, is left as it is with the reason.
#[test]
fn a_single_bridge_device_is_planned_with_mgmt_sources_only() {
    let c = load(AP);
    let i = intent(&c, &["10.0.0.5"], &["10.0.0.0/24"]);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    for l in script.lines().filter(|l| l.contains("action=drop")) {
        assert!(!l.contains("in-interface"), "{l}");
    }
    assert!(
        script.contains("src-address-list=tikguard-mgmt"),
        "{script}"
    );
    assert!(!script.contains("mac-server"), "{script}");
    assert!(!script.contains("discover-interface-list"), "{script}");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("`bridge`, which is also the WAN side")),
        "{:?}",
        plan.notes
    );
    let (after, proof) =
        harden::prove(AP.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(proof.losses.is_empty(), "{:?}", proof.losses);
    assert!(harden::plan(&after, &i).is_empty());
    // Named with --mgmt-interface, layer 2 is limited as asked, and TG112 is not claimed.
    let mut named = i.clone();
    named.mgmt_interfaces = vec!["bridge".into()];
    let plan = harden::plan(&c, &named);
    assert!(
        plan.changes
            .iter()
            .any(|c| c.id == "mac-winbox" && c.fixes.is_empty()),
        "{:?}",
        ids(&plan)
    );
    harden::prove(AP.as_bytes(), &c, &plan.changes, &named).unwrap_or_else(|r| panic!("{}", r.0));
}

const V640: &str = "# jan/02/2018 10:00:00 by RouterOS 6.40.9\n/interface list\nadd name=WAN\n/interface list member\nadd interface=ether1 list=WAN\n/ip address\nadd address=192.168.88.1/24 interface=ether2\nadd address=203.0.113.2/30 interface=ether1\n/ip route\nadd gateway=203.0.113.1\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\nadd action=drop chain=input in-interface=ether1\n";

/// Applies lines to an export and loads the result.
fn with_lines(base: &str, lines: &[String]) -> Config {
    let mut s = base.to_string();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    load(&s)
}

/// RouterOS before 6.41 has no `allowed-interface-list`: the MAC server is set per interface.
/// The plan passes its own proof there (TG112 read in the same form is gone after it), and the
/// undo removes the entries it added and turns the default entry back on.
#[test]
fn before_6_41_the_mac_server_plan_passes_its_own_proof_and_its_undo_removes_what_it_added() {
    use tikguard::audit::macserver::{access, MacAccess};
    let c = load(V640);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("allowed-interface-list"), "{script}");
    let (after, _) =
        harden::prove(V640.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    for menu in ["/tool mac-server", "/tool mac-server mac-winbox"] {
        assert_eq!(
            access(&after, menu),
            MacAccess::PerInterface {
                all: false,
                interfaces: vec!["ether2".into()]
            },
            "{menu}"
        );
        assert_eq!(
            access(&c, menu),
            MacAccess::PerInterface {
                all: true,
                interfaces: vec![]
            }
        );
    }
    assert!(harden::plan(&after, &i).is_empty());
    // The undo, applied after the script, leaves the MAC server as it was.
    let undo = harden::rollback(&plan.changes);
    assert!(
        undo.contains("/tool mac-server remove [find where interface=ether2]"),
        "{undo}"
    );
    let mut lines = harden::script::lines(&plan.changes);
    lines.extend(
        undo.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string),
    );
    let undone = with_lines(&format!("{V640}\n"), &lines);
    for menu in ["/tool mac-server", "/tool mac-server mac-winbox"] {
        assert_eq!(access(&undone, menu), access(&c, menu), "{menu}");
    }
}

/// An entry of its own on a WAN interface was put there by someone: kept, with a note, and
/// TG112 not claimed; narrowed with `--mgmt-interface`, it is turned off (and back on by the
/// undo).
#[test]
fn before_6_41_a_mac_server_entry_of_its_own_on_the_wan_is_kept_unless_narrowing_is_asked() {
    let text = format!("{V640}/tool mac-server\nset [ find default=yes ] disabled=yes\nadd interface=ether1\nadd interface=ether2\n/tool mac-server mac-winbox\nset [ find default=yes ] disabled=yes\nadd interface=ether2\n");
    let c = load(&text);
    let mut i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("/tool mac-server"), "{script}");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("own entries on `ether1` left as they are")),
        "{:#?}",
        plan.notes
    );
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(proof.losses.is_empty(), "{:#?}", proof.losses);
    i.mgmt_interfaces = vec!["ether2".into()];
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        script.contains("/tool mac-server set [find where interface=ether1] disabled=yes"),
        "{script}"
    );
    assert!(!script.contains("mac-winbox"), "{script}");
    assert!(harden::rollback(&plan.changes)
        .contains("/tool mac-server set [find where interface=ether1] disabled=no"));
    let (after, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(
        proof.losses.iter().any(|l| l.who == "ether1"),
        "{:#?}",
        proof.losses
    );
    assert!(harden::plan(&after, &i).is_empty());
}

/// Without `--mgmt-interface`, layer 2 stays on every interface that is not WAN-facing (a LAN
/// port outside the LAN list included, through `include=all exclude=WAN`: MikroTik's Interface
/// Lists manual), and the WAN, which had it only because it was on everywhere, is not a loss:
/// the table is empty. Narrowed with `--mgmt-interface`, the table names the interfaces that
/// lose MAC telnet, MAC winbox or neighbour discovery; interfaces that keep it are not listed.
#[test]
fn the_losses_table_names_interfaces_that_lose_layer2_access() {
    let text = format!("{GUIDE}\n/ip address\nadd address=10.9.9.1/24 interface=ether5\n");
    let c = load(&text);
    let mut i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        script.contains("/interface list add name=tikguard-lan include=all exclude=WAN"),
        "{script}"
    );
    assert!(
        script.contains("/tool mac-server mac-winbox set allowed-interface-list=tikguard-lan"),
        "{script}"
    );
    let (after, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    // The CRM group's tightening is listed as what its users lose; nothing else is.
    assert!(
        proof
            .losses
            .iter()
            .all(|l| l.kind == "group" && l.who == "users of group crm"),
        "{:#?}",
        proof.losses
    );
    assert!(harden::plan(&after, &i).is_empty());
    i.mgmt_interfaces = vec!["bridge".into()];
    let plan = harden::plan(&c, &i);
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let ether5 = proof
        .losses
        .iter()
        .find(|l| l.kind == "interface" && l.who == "ether5")
        .unwrap_or_else(|| panic!("{:#?}", proof.losses));
    assert_eq!(
        ether5.service,
        "MAC telnet, MAC winbox, neighbour discovery"
    );
    assert_eq!(
        ether5.r#where,
        vec!["interface list all -> interface list LAN"]
    );
    assert!(
        !proof
            .losses
            .iter()
            .any(|l| l.who == "bridge" || l.who == "ether1"),
        "{:#?}",
        proof.losses
    );
    // Before 6.41, per interface.
    let text = format!("{V640}/ip address\nadd address=10.9.9.1/24 interface=ether3\n");
    let c = load(&text);
    let mut i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(proof.losses.is_empty(), "{:#?}", proof.losses);
    i.mgmt_interfaces = vec!["ether2".into()];
    let plan = harden::plan(&c, &i);
    let (_, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let ether3 = proof
        .losses
        .iter()
        .find(|l| l.who == "ether3")
        .unwrap_or_else(|| panic!("{:#?}", proof.losses));
    assert!(
        ether3.service.starts_with("MAC telnet, MAC winbox"),
        "{ether3:?}"
    );
    assert!(
        ether3
            .r#where
            .contains(&"every interface -> ether2".to_string()),
        "{ether3:?}"
    );
}

/// A hotspot's access interface is not where MAC winbox belongs (a subscriber on it would
/// reach it): without `--mgmt-interface`, layer 2 stays on the LAN port and comes off the WAN
/// and the hotspot's interface, member by member; nobody who administers the router loses it.
#[test]
fn layer2_comes_off_a_hotspots_access_interface_too() {
    let text = "# 2026-01-07 07:31:30 by RouterOS 7.20.6\n/ip hotspot profile\nadd hotspot-address=10.5.50.1 name=hsprof1\n/ip pool\nadd name=hs-pool ranges=10.5.50.2-10.5.50.254\n/ip hotspot\nadd address-pool=hs-pool disabled=no interface=ether2 name=hotspot1 profile=hsprof1\n/ip address\nadd address=10.5.50.1/24 interface=ether2\nadd address=192.168.88.1/24 interface=ether3\n/ip dhcp-client\nadd interface=ether1\n";
    let c = load(text);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        script.contains("/interface list member add list=tikguard-lan interface=ether3"),
        "{script}"
    );
    for hostile in ["ether1", "ether2"] {
        assert!(
            !script.contains(&format!("list=tikguard-lan interface={hostile} ")),
            "{hostile}: {script}"
        );
    }
    let (after, proof) =
        harden::prove(text.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(proof.losses.is_empty(), "{:#?}", proof.losses);
    assert!(harden::plan(&after, &i).is_empty());
}

/// With `--keep-plain-api` the plaintext API stays as it is: open to every address, TG103
/// stays with it and is not claimed; on a hotspot router whose management is the subscribers'
/// network, api-ssl stays reached by subscribers and TG206 is not claimed either. Both plans
/// are proven.
#[test]
fn the_plain_api_kept_leaves_tg103_and_a_subscriber_reached_api_leaves_tg206_unclaimed() {
    let hotspot = "# 2026-01-07 07:31:30 by RouterOS 7.20.6\n/ip hotspot profile\nadd hotspot-address=10.5.50.1 name=hsprof1\n/ip pool\nadd name=hs-pool ranges=10.5.50.2-10.5.50.254\n/ip hotspot\nadd address-pool=hs-pool disabled=no interface=ether2 name=hotspot1 profile=hsprof1\n/ip address\nadd address=10.5.50.1/24 interface=ether2\n/ip dhcp-client\nadd interface=ether1\n";
    let c = load(hotspot);
    let mut i = intent(&c, &["10.5.50.0/24"], &["10.5.50.0/24"]);
    i.keep_plain_api = true;
    let plan = harden::plan(&c, &i);
    for rule in ["TG103", "TG206"] {
        assert!(
            !plan.changes.iter().any(|ch| ch.fixes.contains(&rule)),
            "{rule}: {:?}",
            plan.changes
                .iter()
                .map(|c| (&c.id, &c.fixes))
                .collect::<Vec<_>>()
        );
    }
    harden::prove(hotspot.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// A list RouterOS fills at run time is not where layer 2 stays: Detect Internet puts every
/// monitored layer-2 interface in its `lan-interface-list` until it is found WAN, and puts it
/// back there whenever its link changes (MikroTik's Detect Internet manual: "All layer 2
/// interfaces initially have this state", "Interfaces with state Lan will be dynamically
/// added to this list"), so the uplink's port is in `LAN` after every link flap; a PPP
/// profile's `interface-list` adds each session's interface. Even when the list's static
/// members are exactly the LAN side, the plan keeps layer 2 on a list of its own.
#[test]
fn layer2_never_rests_on_a_list_routeros_fills_at_run_time() {
    let base = "# 2025-06-02 10:00:00 by RouterOS 7.16.2\n/interface bridge\nadd name=bridge-lan\n/interface list\nadd name=WAN\nadd name=LAN\n/interface bridge port\nadd bridge=bridge-lan interface=ether2\n/interface list member\nadd interface=ether1 list=WAN\nadd interface=bridge-lan list=LAN\nadd interface=ether2 list=LAN\n/ip address\nadd address=203.0.113.2/30 interface=ether1\nadd address=192.168.88.1/24 interface=bridge-lan\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\nadd action=accept chain=input in-interface=bridge-lan\nadd action=drop chain=input\n/ip route\nadd gateway=203.0.113.1\n";
    // Without anything filling it, `LAN` is the LAN side: layer 2 goes there.
    let c = load(base);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let script = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(
        script.contains("/ip neighbor discovery-settings set discover-interface-list=LAN"),
        "{script}"
    );
    for filler in [
        "/interface detect-internet\nset detect-interface-list=all lan-interface-list=LAN wan-interface-list=WAN\n",
        "/ppp profile\nadd name=subs interface-list=LAN\n",
    ] {
        let text = format!("{base}{filler}");
        let c = load(&text);
        let plan = harden::plan(&c, &i);
        let script = harden::render(&plan.changes, false, "");
        assert!(
            !script.contains("-interface-list=LAN"),
            "{filler}: {script}"
        );
        assert!(
            script.contains("/ip neighbor discovery-settings set discover-interface-list=tikguard-lan")
                && script.contains("/tool mac-server mac-winbox set allowed-interface-list=tikguard-lan"),
            "{filler}: {script}"
        );
        // Detect Internet fills `WAN` too: `include=all exclude=WAN` would take in the uplink
        // whenever it falls back to LAN; the LAN side goes in member by member.
        if filler.contains("detect-internet") {
            assert!(!script.contains("exclude=WAN"), "{script}");
            assert!(
                script.contains("/interface list member add list=tikguard-lan interface=ether2")
                    && !script.contains("list=tikguard-lan interface=ether1 "),
                "{script}"
            );
        }
        harden::prove(text.as_bytes(), &c, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{filler}: {}", r.0));
    }
}

/// A configuration shown in part names its LAN bridge only in a DHCP server and firewall
/// rules: layer 2 is kept there (the bridge joins the plan's LAN list), never restricted to an
/// empty list, which would take MAC winbox from every interface. Where no LAN-side interface is
/// named at all, layer 2 is left as it is, and the plan says so.
#[test]
fn layer2_is_kept_on_a_lan_named_only_by_its_dhcp_server_and_never_put_on_an_empty_list() {
    // RouterOS 6 (from 6.41): the list is built member by member (no `include=all
    // exclude=WAN` before 7).
    let base = "# 2024-01-02 12:00:00 by RouterOS 6.49.10\n\
        /interface list\nadd name=WAN\n\
        /interface list member\nadd interface=ether1 list=WAN\n\
        /ip dhcp-client\nadd interface=ether1\n";
    let lan = format!(
        "{base}/ip dhcp-server\nadd name=d interface=bridge-LAN address-pool=p\n\
         /ip firewall filter\nadd chain=input action=accept protocol=tcp dst-port=8291 in-interface=bridge-LAN\n\
         add chain=input action=drop in-interface-list=WAN\n"
    );
    let c = load(&lan);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        script.contains("/interface list member add list=tikguard-lan interface=bridge-LAN"),
        "{script}"
    );
    let c = load(base);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        !script.contains("allowed-interface-list=tikguard-lan"),
        "{script}"
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("names no interface on the LAN side")),
        "{:?}",
        plan.notes
    );
}
