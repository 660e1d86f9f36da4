//! Where the proof must model what RouterOS does, each test named after the fact it pins and
//! failing on a plan that RouterOS would turn into a lockout.

use routeros_config::Config;
use tikguard::audit::WanChoice;
use tikguard::harden;

#[path = "common/intent.rs"]
mod harden_intent;
use harden_intent::intent;

const NO_ESTABLISHED: &str = include_str!("harden/no-established-accept.rsc");
const CONNTRACK_OFF: &str = include_str!("harden/conntrack-off.rsc");

fn load(s: &str) -> Config {
    Config::load(s.as_bytes().to_vec()).0
}

/// ROUTEROS.md, "Connection tracking": a `connection-state=new` accept takes a connection's first
/// packet only; the rest are `established` and meet whatever follows. The management accept the
/// plan disables (TG203) took every packet; the plan's own accepts take the first one. Without
/// an `established` accept above the drop the admin's SYN gets in and the rest is dropped.
#[test]
fn connection_state_new_accepts_need_an_established_accept_above_the_drops() {
    let c = load(NO_ESTABLISHED);
    let i = intent(&c, &["198.51.100.20"], &["192.0.2.0/24"]);
    let plan = harden::plan(&c, &i);
    let lines = harden::script::lines(&plan.changes);
    let est = lines
        .iter()
        .position(|l| {
            l.contains("connection-state=established,related") && l.contains("action=accept")
        })
        .unwrap_or_else(|| panic!("no established accept planned:\n{}", lines.join("\n")));
    // First of the firewall lines, and placed above every rule of the chain.
    let first_fw = lines
        .iter()
        .position(|l| l.starts_with("/ip firewall filter"))
        .unwrap();
    assert_eq!(est, first_fw, "{}", lines.join("\n"));
    assert!(
        lines[est].contains("place-before=[:pick [find where dynamic=no] 0]"),
        "{}",
        lines[est]
    );
    let (after, _) = harden::prove(NO_ESTABLISHED.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    // The established accept is the chain's first rule.
    let first = &after.items("/ip firewall filter")[0];
    assert_eq!(
        first.get_str("connection-state").as_deref(),
        Some("established,related")
    );
}

/// The same plan without its established accept leaves the admin a SYN and nothing more: the
/// proof, which follows the whole connection, refuses it.
#[test]
fn the_proof_follows_the_whole_connection_not_only_its_first_packet() {
    let c = load(NO_ESTABLISHED);
    let i = intent(&c, &["198.51.100.20"], &["192.0.2.0/24"]);
    let changes: Vec<_> = harden::plan(&c, &i)
        .changes
        .into_iter()
        .filter(|ch| {
            !harden::script::lines(std::slice::from_ref(ch))
                .iter()
                .any(|l| l.contains("connection-state=established"))
        })
        .collect();
    let refused = harden::prove(NO_ESTABLISHED.as_bytes(), &c, &changes, &i)
        .expect_err("a plan whose accepts take only the first packet was proven");
    assert!(
        refused.0.contains("192.0.2.0/24") || refused.0.contains("198.51.100.20"),
        "{}",
        refused.0
    );
}

/// Under a raw `notrack` every packet of the connection is `untracked` (ROUTEROS.md; MikroTik's
/// Firewall manual, Raw): `connection-state=new` accepts never see it.
#[test]
fn under_raw_notrack_new_accepts_do_not_count_and_the_proof_says_so() {
    let cfg = format!(
        "{NO_ESTABLISHED}\n/ip firewall raw\nadd action=notrack chain=prerouting src-address=192.0.2.0/24\n"
    );
    let c = load(&cfg);
    let i = intent(&c, &["198.51.100.20"], &["192.0.2.0/24"]);
    let plan = harden::plan(&c, &i);
    match harden::prove(cfg.as_bytes(), &c, &plan.changes, &i) {
        // Either refused, naming management...
        Err(r) => assert!(r.0.contains("192.0.2.0/24"), "{}", r.0),
        // ... or the accepts management relies on take untracked packets too.
        Ok(_) => {
            let s = harden::render(&plan.changes, false, "");
            assert!(s.contains("untracked"), "{s}");
        }
    }
}

/// ROUTEROS.md, "Connection tracking": with `/ip firewall connection tracking enabled=no`
/// `connection-state=` rules match nothing useful (a packet without a connection entry is
/// `invalid` to the state matcher: Linux net/netfilter/xt_state.c). A block built from
/// `connection-state=new` rules would be inert: the plan uses none, adds no staging (which
/// counts connections), and claims neither TG206 nor TG207.
#[test]
fn with_connection_tracking_off_no_rule_relies_on_connection_state_and_tg206_tg207_are_not_claimed()
{
    let c = load(CONNTRACK_OFF);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    assert!(!s.contains("connection-state="), "{s}");
    assert!(!s.contains("add-src-to-address-list"), "{s}");
    for ch in &plan.changes {
        assert!(
            !ch.fixes.contains(&"TG206") && !ch.fixes.contains(&"TG207"),
            "{}: {:?}",
            ch.id,
            ch.fixes
        );
    }
    assert!(
        plan.notes.iter().any(|n| n.contains("connection tracking")),
        "{:?}",
        plan.notes
    );
    harden::prove(CONNTRACK_OFF.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
}

/// With tracking off, a `connection-state=new` accept may match nothing: the proof does not count
/// on one.
#[test]
fn with_connection_tracking_off_the_proof_does_not_count_on_a_new_state_accept() {
    let c = load(CONNTRACK_OFF);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let mut plan = harden::plan(&c, &i);
    // The block as it would be with tracking on.
    let on = CONNTRACK_OFF.replace("set enabled=no", "set enabled=yes");
    let c_on = load(&on);
    plan.changes = harden::plan(&c_on, &i).changes;
    let s = harden::render(&plan.changes, false, "");
    assert!(s.contains("connection-state=new"), "{s}");
    assert!(
        harden::prove(CONNTRACK_OFF.as_bytes(), &c, &plan.changes, &i).is_err(),
        "{s}"
    );
}

/// The IPv6 drop of new TCP connections covers the management ports only: an SSTP server on
/// 443 and a BGP peer opening its session to 179 work today and keep working.
#[test]
fn the_ipv6_drop_covers_the_management_ports_only() {
    let cfg = format!(
        "{NO_ESTABLISHED}\n/ipv6 address\nadd address=2001:db8:1::1/64 interface=ether1\n/interface sstp-server server\nset enabled=yes\n"
    );
    let c = load(&cfg);
    let i = intent(&c, &["198.51.100.20"], &["192.0.2.0/24"]);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    let drops: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("/ipv6 firewall filter add") && l.contains("action=drop"))
        .collect();
    assert!(
        drops
            .iter()
            .any(|l| l.contains("dst-port=22,8291,8729") && !l.contains("src-address-list")),
        "{s}"
    );
    for d in drops {
        assert!(!d.contains("443") && !d.contains("179"), "{d}");
    }
}

/// Every rule the plan adds can match something once it is in place: a rule behind another
/// that takes all its traffic (TG204 on the hardened configuration) is dead weight that reads
/// like protection. The per-WAN IPv6 drop of the management ports sat behind the drop of the
/// same ports from everyone.
#[test]
fn no_rule_the_plan_adds_is_shadowed_once_in_place() {
    let v6 =
        format!("{NO_ESTABLISHED}\n/ipv6 address\nadd address=2001:db8:1::1/64 interface=ether1\n");
    let isp = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/isp-core-v7.rsc"),
    )
    .unwrap();
    for cfg in [v6, isp] {
        let c = load(&cfg);
        let i = intent(&c, &["198.51.100.20"], &["192.0.2.0/24"]);
        let plan = harden::plan(&c, &i);
        let (after, _) = harden::prove(cfg.as_bytes(), &c, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{}", r.0));
        let a = tikguard::audit::run(
            &after,
            &WanChoice::default(),
            &tikguard::audit::Selection::default(),
        );
        let dead: Vec<_> = a
            .findings
            .iter()
            .filter(|f| {
                f.rule == "TG204"
                    && f.evidence
                        .as_deref()
                        .is_some_and(|e| e.contains("comment=tikguard:"))
            })
            .collect();
        assert!(dead.is_empty(), "{dead:#?}");
    }
}

/// ROUTEROS.md, "IPv6 addresses": an address exported without a length is a /64. IPv6
/// management derived from the LAN's address is its /64, not the router's own address.
#[test]
fn an_ipv6_address_without_a_length_is_a_64() {
    let cfg =
        format!("{NO_ESTABLISHED}\n/ipv6 address\nadd address=2001:db8:1::1 interface=ether2\n");
    let c = load(&cfg);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let s = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(s.contains("address=2001:db8:1::/64"), "{s}");
    assert!(!s.contains("2001:db8:1::1"), "{s}");
}

/// An export with no firewall rule at all, management allowed by `/ip service address=` alone:
/// connection tracking `auto` (the default) is off until the plan's first rule turns it on.
const NO_RULES: &str = "# 2025-06-02 10:00:00 by RouterOS 7.16.2
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=ether2
/ip route
add gateway=203.0.113.1
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set api-ssl certificate=none
/system identity
set name=edge-04
";

/// MikroTik's Connection tracking manual, `enabled`: "Starting from v6.0rc2 default value is
/// auto. This means that connection tracing is disabled until at least one firewall rule is
/// added." The plan's own rules are firewall rules: once the first is in, tracking is on and
/// its `connection-state=` rules act, so with `auto` written out (as with it left at its
/// default) the plan relies on them and claims TG206/TG207 like with `enabled=yes`.
#[test]
fn with_connection_tracking_auto_the_plans_own_rules_turn_it_on_so_connection_state_rules_act() {
    for cfg in [
        format!("{NO_ESTABLISHED}/ip firewall connection tracking\nset enabled=auto\n"),
        format!("{NO_RULES}/ip firewall connection tracking\nset enabled=auto\n"),
    ] {
        let c = load(&cfg);
        let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
        let plan = harden::plan(&c, &i);
        let s = harden::render(&plan.changes, false, "");
        assert!(s.contains("connection-state="), "{s}");
        assert!(
            !plan
                .notes
                .iter()
                .any(|n| n.contains("connection tracking is off")),
            "{:?}",
            plan.notes
        );
        harden::prove(cfg.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    }
}

/// Linux' `nf_conntrack_tcp_loose` (what RouterOS' `loose-tcp-tracking` sets; MikroTik's
/// Connection tracking manual: "Disable picking up already established connections"): with it
/// off, a TCP packet tracking sees without having seen the connection open is `invalid`. The
/// connection the script is pasted (or `--apply`d) over was opened while tracking was off
/// (`auto` with no firewall rule); the first rule the script adds turns tracking on, and from
/// then on every packet of that connection is `invalid`. The plan's own drops take `new`
/// packets only, so that connection passes them: proven. A drop of `invalid` packets (the
/// default configuration's) would cut it half way through the import: the proof follows that
/// connection too, refuses, and says what to do.
#[test]
fn with_loose_tcp_tracking_off_the_session_open_when_tracking_turns_on_is_invalid() {
    let cfg = format!("{NO_RULES}/ip firewall connection tracking\nset loose-tcp-tracking=no\n");
    let c = load(&cfg);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let mut plan = harden::plan(&c, &i);
    harden::prove(cfg.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    // New connections and established ones pass a drop of `invalid`: only the open session
    // does not.
    plan.changes.push(harden::Change {
        id: "drop-invalid".into(),
        description: "drop invalid".into(),
        fixes: vec![],
        phase: harden::Phase::Last,
        lines: vec![harden::script::Line::Script(
            "/ip firewall filter add chain=input action=drop connection-state=invalid".into(),
        )],
        guard: None,
        undo: vec![],
    });
    let refused = harden::prove(cfg.as_bytes(), &c, &plan.changes, &i)
        .expect_err("a script that cuts the connection it is pasted over was proven");
    assert!(refused.0.contains("loose-tcp-tracking"), "{}", refused.0);
    assert!(refused.0.contains("192.168.88.0/24"), "{}", refused.0);
    assert!(
        refused.0.contains("connection-state=invalid"),
        "{}",
        refused.0
    );
    // With loose tracking the same script keeps the session: picked up as `new`, then
    // `established`.
    harden::prove(NO_RULES.as_bytes(), &load(NO_RULES), &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
}

/// With loose tracking (the default) the same session is picked up mid-stream: its first packet
/// seen is `new`, the rest `established` (Linux nf_conntrack_proto_tcp.c, `tcp_new`), which is
/// what the proof already follows for every connection: proven.
#[test]
fn with_loose_tcp_tracking_a_session_picked_up_mid_stream_is_new_then_established() {
    let c = load(NO_RULES);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    harden::prove(NO_RULES.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// With tracking already on (a firewall rule exists, or `enabled=yes`) the session was seen
/// opening and is `established`; `loose-tcp-tracking=no` changes nothing for it. Connections
/// opened to the router itself do not outlive a reboot (its end of them is gone), so no
/// management connection is ever picked up mid-stream that way either.
#[test]
fn loose_tcp_tracking_off_does_not_matter_when_tracking_is_already_on() {
    for cfg in [
        format!("{NO_ESTABLISHED}/ip firewall connection tracking\nset loose-tcp-tracking=no\n"),
        format!(
            "{NO_RULES}/ip firewall connection tracking\nset enabled=yes loose-tcp-tracking=no\n"
        ),
    ] {
        let c = load(&cfg);
        let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
        let plan = harden::plan(&c, &i);
        harden::prove(cfg.as_bytes(), &c, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{cfg}\n{}", r.0));
    }
}

/// The note that asks for `set enabled=auto` with tracking off: with `loose-tcp-tracking=no`
/// the connection that turns tracking on is then `invalid` to it (it was not seen opening), so
/// a rule dropping `invalid` packets cuts it; the note says to reconnect.
#[test]
fn the_note_turning_tracking_on_warns_that_without_loose_tracking_the_session_is_invalid() {
    let cfg = CONNTRACK_OFF.replace("set enabled=no", "set enabled=no loose-tcp-tracking=no");
    let c = load(&cfg);
    let i = intent(&c, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c, &i);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("enabled=auto") && n.contains("loose-tcp-tracking=no")),
        "{:?}",
        plan.notes
    );
}
