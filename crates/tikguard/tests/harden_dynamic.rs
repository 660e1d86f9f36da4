//! Items RouterOS adds itself are never harden's target: firewall rules "dynamically added by
//! services" (hotspot, UPnP, v7's fasttrack counter rule), address-list entries added by
//! `add-src-to-address-list` or written with `timeout=`, interface-list members a PPP profile
//! adds. Every `find` that changes, removes or guards in those menus carries `dynamic=no`, and
//! `--apply` stops with the router unchanged when a target's only match is dynamic.

use std::collections::HashMap;
use std::path::Path;

use routeros_api::{Client, Options, Security};
use routeros_config::{Config, Version};
use tikguard::audit::WanChoice;
use tikguard::emu;
use tikguard::harden::script::{Cond, Line, Target, Val};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

/// The menus whose items RouterOS may add itself (MikroTik's Firewall Filter, Address-lists
/// and PPP AAA manuals), written out here rather than taken from the module under test.
const ADDED_BY_ROUTEROS: &[&str] = &[
    "/ip firewall filter",
    "/ip firewall nat",
    "/ip firewall mangle",
    "/ip firewall raw",
    "/ipv6 firewall filter",
    "/ipv6 firewall nat",
    "/ipv6 firewall mangle",
    "/ipv6 firewall raw",
    "/ip firewall address-list",
    "/ipv6 firewall address-list",
    "/interface list member",
];

fn intent(c: &Config, mgmt: &[&str]) -> Intent {
    Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").unwrap()],
        mgmt: mgmt.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
        wan: WanChoice::default(),
        api_port: None,
        cert: CertPlan::Generate,
        syslog: Some(("192.0.2.10".into(), 514)),
        target: c.version.clone().unwrap_or_else(|| Version::new(7, 18, 0)),
        api_user: None,
        create_api_user: false,
        password_in_script: None,
        api_group: None,
        replace_allow_lists: false,
        keep_plain_api: false,
        mgmt_interfaces: vec![],
    }
}

fn static_only(conds: &[Cond]) -> bool {
    conds
        .iter()
        .any(|c| c.key == "dynamic" && !c.negated && c.value.as_deref() == Some("no"))
}

/// Every `find` of `changes` (commands, undo, guards, placements) in a menu RouterOS adds to
/// that lacks `dynamic=no`, rendered.
fn finds_without_static_only(changes: &[harden::Change]) -> Vec<String> {
    let mut out = Vec::new();
    for ch in changes {
        for line in ch.lines.iter().chain(&ch.undo) {
            let Line::Cmd(stmt) = line else { continue };
            if !ADDED_BY_ROUTEROS.contains(&stmt.menu.as_str()) {
                continue;
            }
            let mut conds: Vec<&Vec<Cond>> = Vec::new();
            if let Target::Find(c) | Target::Every(c) = &stmt.target {
                conds.push(c);
            }
            conds.extend(stmt.args.iter().filter_map(|(_, v)| match v {
                Val::Pick(c) => Some(c),
                _ => None,
            }));
            if conds.iter().any(|c| !static_only(c)) {
                out.push(format!("{}: {}", ch.id, stmt.render()));
            }
        }
        if let Some(g) = &ch.guard {
            for (menu, conds) in g.absent.iter().chain(&g.present) {
                if ADDED_BY_ROUTEROS.contains(&menu.as_str()) && !static_only(conds) {
                    out.push(format!("{}: guard on {menu} {conds:?}", ch.id));
                }
            }
        }
    }
    out
}

/// The shipped examples and the guide's insecure router: every find the plan (and its
/// rollback and guards) uses in a menu RouterOS adds items to skips the items it added.
#[test]
fn every_find_in_a_menu_routeros_adds_to_skips_dynamic_items() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut exports: Vec<(String, Vec<u8>)> = ["isp-core-v7.rsc", "home-v7.rsc", "branch-v6.rsc"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(root.join(f)).unwrap()))
        .collect();
    exports.push(("insecure-guide".into(), GUIDE.as_bytes().to_vec()));
    let mut checked = 0;
    for (name, bytes) in exports {
        let (config, _) = Config::load(bytes.clone());
        let i = intent(&config, &["192.0.2.0/24", "2001:db8:aa::/48"]);
        let plan = harden::plan(&config, &i);
        harden::prove(&bytes, &config, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{name}: {}", r.0));
        checked += plan
            .changes
            .iter()
            .filter(|c| {
                c.lines.iter().chain(&c.undo).any(|l| {
                    matches!(l, Line::Cmd(s) if ADDED_BY_ROUTEROS.contains(&s.menu.as_str())
                        && matches!(s.target, Target::Find(_) | Target::Every(_)))
                })
            })
            .count();
        let missing = finds_without_static_only(&plan.changes);
        assert!(missing.is_empty(), "{name}:\n{}", missing.join("\n"));
    }
    assert!(checked > 0, "no find in those menus was checked");
}

async fn router_of(export: Vec<u8>) -> (emu::Emulator, Client) {
    let (config, _) = Config::load(export);
    let passwords: HashMap<String, String> = [("admin".to_string(), "admin-pass".to_string())]
        .into_iter()
        .collect();
    let e = emu::start(
        emu::router_from(config, passwords, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = Client::connect(&Options::new(e.api.unwrap().to_string(), Security::Plain))
        .await
        .unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    (e, c)
}

/// The filter rules as the router holds them, dynamic ones included: `live` leaves those out.
async fn filter_rules(c: &Client) -> Vec<String> {
    c.call(&["/ip/firewall/filter/print"])
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{:?}", r.attrs))
        .collect()
}

/// The plan disables the CRM's open accept by its comment (`disable [find where comment="CRM
/// API" ...]`). On the router the only rule with that comment is one RouterOS added itself:
/// `--apply --yes` resolves every find first, finds none it may change, and stops with every
/// rule, the dynamic one included, as it was.
#[tokio::test]
async fn a_target_whose_only_match_is_dynamic_stops_apply_with_the_router_unchanged() {
    let (planned_from, _) = Config::load(GUIDE.as_bytes().to_vec());
    let on_router = GUIDE.replace("comment=\"CRM API\"", "comment=\"CRM API\" dynamic=yes");
    assert_ne!(on_router, GUIDE, "the fixture has no CRM API rule");
    let (_e, c) = router_of(on_router.into_bytes()).await;
    let i = intent(&planned_from, &["192.168.88.0/24", "127.0.0.0/8"]);
    let plan = harden::plan(&planned_from, &i);
    assert!(
        plan.changes
            .iter()
            .any(|ch| ch.id.contains("disable-open-api-accept")),
        "{:?}",
        plan.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    // What the run compares against for drift: the router as `live` reads it.
    let (_, live) = tikguard::live::fetch(&c).await.unwrap();
    let before = filter_rules(&c).await;
    let unresolved = harden::apply::unresolved(&c, &plan).await;
    assert!(
        unresolved
            .iter()
            .any(|e| e.contains("comment=\"CRM API\"") && e.contains("dynamic=no")),
        "{unresolved:?}"
    );
    let mut log = harden::apply::Buffer::default();
    let code = harden::apply::apply(&c, &plan, true, false, &i, &live, None, "admin", &mut log)
        .await
        .unwrap();
    assert_eq!(code, 1, "{:?}", log.lines);
    assert!(
        log.errors.iter().any(|l| l.contains("nothing was changed")),
        "{:?}",
        log.errors
    );
    assert_eq!(filter_rules(&c).await, before, "the router was changed");
}

/// Every address list the plan writes entries to is one whose dynamic entries the live read
/// keeps: a timed entry there takes the list and address on the router, and a plan that did
/// not see it would stop at its own add.
#[test]
fn the_live_read_keeps_the_dynamic_entries_of_every_list_the_plan_writes() {
    let (config, _) = Config::load(GUIDE.as_bytes().to_vec());
    let i = intent(&config, &["192.168.88.0/24", "2001:db8:aa::/48"]);
    let mut lists = Vec::new();
    for ch in harden::plan(&config, &i).changes {
        for line in &ch.lines {
            let Line::Cmd(stmt) = line else { continue };
            if stmt.menu.ends_with("firewall address-list") && stmt.verb == "add" {
                lists.extend(stmt.args.iter().filter_map(|(k, v)| match v {
                    Val::Text(t) if k == "list" => Some(t.clone()),
                    _ => None,
                }));
            }
        }
    }
    assert!(!lists.is_empty(), "the plan writes no address-list entry");
    for l in lists {
        assert!(
            tikguard::live::DYNAMIC_KEPT_LISTS.contains(&l.as_str()),
            "{l} is not read live with its dynamic entries"
        );
    }
}
