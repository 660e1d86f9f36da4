//! `harden` run again after a service's port changed since an earlier run (`/ip service set ssh
//! port=2222`, api-ssl or winbox moved): the plan's own rules that name the port are moved to the
//! new one, in an order that keeps management in at every prefix of the script, and planning
//! the result again gives nothing.

use routeros_config::Config;
use tikguard::harden;

#[path = "common/intent.rs"]
mod harden_intent;
use harden_intent::guide_intent;

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

/// The guide hardened (the plain script appended to the export), then `moved` appended.
fn hardened_then(moved: &str) -> (String, Config) {
    let c = Config::load(GUIDE.as_bytes().to_vec()).0;
    let i = guide_intent(&c);
    let plan = harden::plan(&c, &i);
    harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let mut text = GUIDE.to_string();
    text.push('\n');
    for l in harden::script::lines(&plan.changes) {
        text.push_str(&l);
        text.push('\n');
    }
    text.push_str(moved);
    text.push('\n');
    let c = Config::load(text.clone().into_bytes()).0;
    (text, c)
}

fn dst_port(c: &Config, comment: &str) -> String {
    c.items("/ip firewall filter")
        .iter()
        .find(|i| i.get_str("comment").as_deref() == Some(comment))
        .and_then(|i| i.get_str("dst-port"))
        .unwrap_or_else(|| panic!("no rule {comment}"))
}

/// The earlier run's ports, and the moves tried: each service harden's rules name.
const MOVES: &[(&str, &str)] = &[
    ("/ip service\nset ssh port=2222", "2222,8291,8729"),
    ("/ip service\nset api-ssl port=8730", "22,8291,8730"),
    ("/ip service\nset winbox port=8300", "22,8300,8729"),
];
const EARLIER: &str = "22,8291,8729";

/// MikroTik's IP Services manual: `port` is the port a service listens on, so after
/// `/ip service set ssh port=2222` an earlier run's drop of 22 no longer keeps ssh from anyone.
/// The re-run moves every rule of the plan that names a management port (the accepts of
/// management, the API clients and link-local addresses, both families, then the drops), the
/// proof holds at every prefix, and planning the result gives nothing.
#[test]
fn a_rerun_after_a_service_port_moved_moves_the_plans_rules_to_the_new_port() {
    for (moved, now) in MOVES {
        let (text, c) = hardened_then(moved);
        let i = guide_intent(&c);
        let again = harden::plan(&c, &i);
        let script = harden::render(&again.changes, true, "");
        assert!(again.foreign.is_empty(), "{moved}: {:?}", again.foreign);
        let (after, proof) = harden::prove(text.as_bytes(), &c, &again.changes, &i)
            .unwrap_or_else(|r| panic!("{moved}: {}\n{script}", r.0));
        assert!(proof.prefixes_checked > 1, "{moved}");
        for fam in ["ip", "ipv6"] {
            let after_fam = |tag: &str| {
                after
                    .items(&format!("/{fam} firewall filter"))
                    .iter()
                    .find(|i| i.get_str("comment").as_deref() == Some(tag))
                    .and_then(|i| i.get_str("dst-port"))
            };
            for rule in ["mgmt-accept", "mgmt-drop"] {
                assert_eq!(
                    after_fam(&format!("tikguard:{fam}-{rule}")).as_deref(),
                    Some(*now),
                    "{moved}: {fam} {rule}\n{script}"
                );
            }
        }
        if moved.contains("api-ssl") {
            assert_eq!(dst_port(&after, "tikguard:ip-api-accept"), "8730");
        }
        // The rules are moved, not added beside the old ones.
        let ours = |c: &Config| {
            c.items("/ip firewall filter")
                .iter()
                .filter(|i| {
                    i.get_str("comment")
                        .is_some_and(|m| m.starts_with("tikguard:"))
                })
                .count()
        };
        assert_eq!(ours(&after), ours(&c), "{moved}\n{script}");
        let third = harden::plan(&after, &i);
        assert!(
            third.is_empty(),
            "{moved}: planned again:\n{}",
            harden::render(&third.changes, true, "")
        );
    }
}

/// The accepts take the new port before any drop does: a drop moved first would drop
/// management's connection to the moved service while its accept still names the old port,
/// and the proof, which checks every prefix of the script, refuses that order.
#[test]
fn the_moved_accepts_run_before_the_moved_drops_and_the_proof_refuses_the_other_order() {
    let (text, c) = hardened_then(MOVES[0].0);
    let i = guide_intent(&c);
    let again = harden::plan(&c, &i);
    let first_drop = again
        .changes
        .iter()
        .position(|ch| ch.id.contains("drop"))
        .expect("a moved drop");
    let last_accept = again
        .changes
        .iter()
        .rposition(|ch| ch.id.contains("accept"))
        .expect("a moved accept");
    assert!(last_accept < first_drop, "{:#?}", again.changes);
    let mut swapped = again.changes.clone();
    let drop = swapped.remove(first_drop);
    swapped.insert(0, drop);
    let Err(r) = harden::prove(text.as_bytes(), &c, &swapped, &i) else {
        panic!("the drop moved first is proven")
    };
    assert!(
        r.0.contains("if the import stops after line 1") && r.0.contains("ssh"),
        "{}",
        r.0
    );
}

/// The rollback sets each moved rule back to the earlier ports, drops first.
#[test]
fn the_rollback_of_a_move_restores_the_earlier_ports() {
    for (moved, _) in MOVES {
        let (text, c) = hardened_then(moved);
        let i = guide_intent(&c);
        let again = harden::plan(&c, &i);
        let undo = harden::rollback(&again.changes);
        let mut all = text.clone();
        for l in harden::script::lines(&again.changes) {
            all.push_str(&l);
            all.push('\n');
        }
        all.push_str(&undo);
        let back = Config::load(all.into_bytes()).0;
        for tag in ["tikguard:ip-mgmt-accept", "tikguard:ip-mgmt-drop"] {
            assert_eq!(dst_port(&back, tag), EARLIER, "{moved}: {tag}\n{undo}");
        }
        // Each statement names its rule by comment (and `dynamic=no`, which every find in the
        // firewall carries).
        let at = |tag: &str| {
            undo.lines()
                .position(|l| l.contains(&format!("comment={tag} and dynamic=no]")))
                .unwrap_or_else(|| panic!("{tag}: {undo}"))
        };
        let drops_first = at("tikguard:ip-mgmt-drop") < at("tikguard:ip-mgmt-accept");
        assert!(drops_first, "{undo}");
    }
}

/// Who loses access: management and the API clients lose nothing; the only row is what the
/// move had opened, the moved service from link-local addresses (granted by the service's
/// `address=` the earlier run wrote) on interfaces where management does not live.
#[test]
fn a_move_takes_access_only_from_what_the_moved_port_had_opened() {
    for (moved, svc) in [
        (MOVES[0].0, "ssh"),
        (MOVES[1].0, "api"),
        (MOVES[2].0, "winbox"),
    ] {
        let (text, c) = hardened_then(moved);
        let i = guide_intent(&c);
        let again = harden::plan(&c, &i);
        let (_, proof) = harden::prove(text.as_bytes(), &c, &again.changes, &i)
            .unwrap_or_else(|r| panic!("{moved}: {}", r.0));
        for l in &proof.losses {
            assert_eq!(
                (l.kind, l.who.as_str()),
                ("prefix", "fe80::/10"),
                "{moved}: {l:?}"
            );
            assert_eq!(l.service, svc, "{moved}: {l:?}");
            assert!(!l.r#where.iter().any(|w| w == "bridge"), "{moved}: {l:?}");
        }
    }
}

/// With `--keep-plain-api` the plaintext API stays open beyond the API clients, and brute-force
/// staging and the block-list drop guard its port. After `/ip service set api port=8730` they
/// are moved to 8730 with the accepts, so staging counts the port the API listens on, the
/// proof holds, and planning the result gives nothing.
#[test]
fn a_rerun_after_the_kept_plain_api_moved_moves_its_staging_and_block_list_drop() {
    let c0 = Config::load(GUIDE.as_bytes().to_vec()).0;
    let mut i = guide_intent(&c0);
    i.keep_plain_api = true;
    let plan = harden::plan(&c0, &i);
    harden::prove(GUIDE.as_bytes(), &c0, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let mut text = GUIDE.to_string();
    text.push('\n');
    for l in harden::script::lines(&plan.changes) {
        text.push_str(&l);
        text.push('\n');
    }
    text.push_str("/ip service\nset api port=8730\n");
    let c = Config::load(text.clone().into_bytes()).0;
    let again = harden::plan(&c, &i);
    let script = harden::render(&again.changes, true, "");
    let (after, _) = harden::prove(text.as_bytes(), &c, &again.changes, &i)
        .unwrap_or_else(|r| panic!("{}\n{script}", r.0));
    for rule in ["stage1", "stage2", "stage3", "blacklist-drop"] {
        assert_eq!(
            dst_port(&after, &format!("tikguard:ip-{rule}")),
            "8730",
            "{script}"
        );
    }
    for rule in ["api-accept", "mgmt-accept"] {
        let ports = dst_port(&after, &format!("tikguard:ip-{rule}"));
        assert!(ports.split(',').any(|p| p == "8730"), "{rule}: {ports}");
    }
    let third = harden::plan(&after, &i);
    assert!(
        third.is_empty(),
        "{}",
        harden::render(&third.changes, true, "")
    );
}

/// An accept limited to an interface that an earlier run repeated above its drop (`accept
/// src-address=10.9.0.0/24 in-interface=ether5`, every port) names the management ports of that
/// run: after `/ip service set ssh port=2222` it is moved with the plan's accepts, so that network
/// keeps ssh on its interface, and planning the result gives nothing.
#[test]
fn an_accept_kept_on_its_interface_by_an_earlier_run_moves_with_the_port() {
    let export = "# 2024-01-02 12:00:00 by RouterOS 7.16\n\
/interface list\nadd name=WAN\n\
/interface list member\nadd interface=ether1 list=WAN\n\
/ip address\nadd address=192.168.88.1/24 interface=ether2\n\
add address=10.9.0.1/24 interface=ether5\n\
/ip firewall filter\n\
add chain=input action=accept connection-state=established,related\n\
add chain=input action=accept src-address=10.9.0.0/24 in-interface=ether5\n\
add chain=input action=accept src-address=192.168.88.0/24\n\
add chain=input action=drop\n";
    let c0 = Config::load(export.as_bytes().to_vec()).0;
    let i = harden_intent::intent(&c0, &["198.51.100.20"], &["192.168.88.0/24"]);
    let plan = harden::plan(&c0, &i);
    harden::prove(export.as_bytes(), &c0, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let mut text = export.to_string();
    for l in harden::script::lines(&plan.changes) {
        text.push_str(&l);
        text.push('\n');
    }
    let keep = |c: &Config| {
        c.items("/ip firewall filter")
            .iter()
            .find(|r| {
                r.get_str("comment")
                    .is_some_and(|t| t.starts_with("tikguard:ip-keep-accept:"))
            })
            .and_then(|r| r.get_str("dst-port"))
            .expect("the kept accept")
    };
    let hardened = Config::load(text.clone().into_bytes()).0;
    assert!(keep(&hardened).split(',').any(|p| p == "22"));
    text.push_str("/ip service\nset ssh port=2222\n");
    let c = Config::load(text.clone().into_bytes()).0;
    let again = harden::plan(&c, &i);
    let script = harden::render(&again.changes, true, "");
    let (after, proof) = harden::prove(text.as_bytes(), &c, &again.changes, &i)
        .unwrap_or_else(|r| panic!("{}\n{script}", r.0));
    let ports = keep(&after);
    assert!(
        ports.split(',').any(|p| p == "2222") && !ports.split(',').any(|p| p == "22"),
        "{ports}\n{script}"
    );
    assert!(
        !proof.losses.iter().any(|l| l.who.starts_with("10.9.0.")),
        "{:#?}",
        proof.losses
    );
    let third = harden::plan(&after, &i);
    assert!(
        third.is_empty(),
        "{}",
        harden::render(&third.changes, true, "")
    );
}
