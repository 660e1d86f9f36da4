//! `harden --apply` against the emulator in-process, over a real socket on 127.0.0.1, when the
//! router changes between the plan and its application: nothing is changed, and the error names
//! the `find` that no longer matches.

use std::collections::HashMap;

use routeros_api::{Client, Options, Security};
use routeros_config::Config;
use tikguard::audit::WanChoice;
use tikguard::emu;
use tikguard::harden::{self, CertPlan, Intent, Prefix};

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

async fn router() -> (emu::Emulator, Client) {
    router_of(GUIDE.as_bytes().to_vec()).await
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
    let c = admin(&e).await;
    (e, c)
}

async fn admin(e: &emu::Emulator) -> Client {
    let c = Client::connect(&Options::new(e.api.unwrap().to_string(), Security::Plain))
        .await
        .unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    c
}

fn intent(c: &Config) -> Intent {
    Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").unwrap()],
        // The test connects from 127.0.0.1: kept, or --yes would be refused for it.
        mgmt: ["192.168.88.0/24", "127.0.0.0/8"]
            .iter()
            .map(|p| Prefix::parse(p).unwrap())
            .collect(),
        wan: WanChoice::default(),
        api_port: None,
        cert: CertPlan::Generate,
        syslog: None,
        target: c
            .version
            .clone()
            .unwrap_or_else(|| routeros_config::Version::new(7, 18, 0)),
        api_user: None,
        create_api_user: false,
        password_in_script: None,
        api_group: None,
        replace_allow_lists: false,
        keep_plain_api: false,
        mgmt_interfaces: vec![],
    }
}

/// The plan disables the CRM's open accept by its comment. Another administrator removes that
/// rule after the plan was made: `--apply --yes` changes nothing and names the find.
#[tokio::test]
async fn a_router_changed_after_planning_is_left_unchanged_and_the_error_names_the_find() {
    let (e, c) = router().await;
    let (bytes, config) = tikguard::live::fetch(&c).await.unwrap();
    let i = intent(&config);
    let plan = harden::plan(&config, &i);
    harden::prove(&bytes, &config, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert!(
        plan.changes
            .iter()
            .any(|ch| ch.id.contains("disable-open-api-accept")),
        "{:?}",
        plan.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    // Meanwhile, the rule the plan finds by its comment goes.
    let other = admin(&e).await;
    let rules = other
        .call(&["/ip/firewall/filter/print", "=.proplist=.id,comment"])
        .await
        .unwrap();
    let id = rules
        .iter()
        .find(|r| r.get("comment").map(|c| &c[..]) == Some(b"CRM API"))
        .and_then(|r| r.get(".id"))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap();
    other
        .call(&[
            "/ip/firewall/filter/remove".to_string(),
            format!("=.id={id}"),
        ])
        .await
        .unwrap();
    let (changed, _) = tikguard::live::fetch(&c).await.unwrap();

    let unresolved = harden::apply::unresolved(&c, &plan).await;
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    assert!(
        unresolved[0].contains("[find where comment=\"CRM API\" and dynamic=no]"),
        "{unresolved:?}"
    );
    let code = harden::apply::apply(
        &c,
        &plan,
        true,
        false,
        &i,
        &config,
        None,
        "admin",
        &mut harden::apply::Terminal,
    )
    .await
    .unwrap();
    assert_eq!(code, 1);
    let (after, _) = tikguard::live::fetch(&c).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&after),
        String::from_utf8_lossy(&changed),
        "the router was changed"
    );
}

/// Another administrator adds, after the plan was made, a rule carrying the comment of the
/// rule the plan disables (`disable [find where comment="CRM API"]`), above it: the find still
/// resolves, but would now disable both. `--apply --yes` changes nothing and names the find.
#[tokio::test]
async fn a_rule_added_with_a_find_targets_comment_after_planning_changes_nothing() {
    let (e, c) = router().await;
    let (bytes, config) = tikguard::live::fetch(&c).await.unwrap();
    let i = intent(&config);
    let plan = harden::plan(&config, &i);
    harden::prove(&bytes, &config, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let other = admin(&e).await;
    let rules = other
        .call(&["/ip/firewall/filter/print", "=.proplist=.id,comment"])
        .await
        .unwrap();
    let id = rules
        .iter()
        .find(|r| r.get("comment").map(|c| &c[..]) == Some(b"CRM API"))
        .and_then(|r| r.get(".id"))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap();
    other
        .call(&[
            "/ip/firewall/filter/add".to_string(),
            "=chain=input".into(),
            "=action=accept".into(),
            "=protocol=tcp".into(),
            "=dst-port=8291".into(),
            "=src-address=10.255.0.7".into(),
            "=comment=CRM API".into(),
            format!("=place-before={id}"),
        ])
        .await
        .unwrap();
    let (changed, now) = tikguard::live::fetch(&c).await.unwrap();
    // Every find still resolves: only the comparison with the read sees it.
    assert!(harden::apply::unresolved(&c, &plan).await.is_empty());
    let why = harden::drift::check(&config, &now, &plan);
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].contains("/ip firewall filter")
            && why[0].contains("[find where comment=\"CRM API\" and dynamic=no]"),
        "{why:?}"
    );
    let code = harden::apply::apply(
        &c,
        &plan,
        true,
        false,
        &i,
        &config,
        None,
        "admin",
        &mut harden::apply::Terminal,
    )
    .await
    .unwrap();
    assert_eq!(code, 1);
    let (after, _) = tikguard::live::fetch(&c).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&after),
        String::from_utf8_lossy(&changed),
        "the router was changed"
    );
}

/// Exports do not show users, so `/user set [find where group=crm]` may match none on the
/// router: that is every user of the group, none, not a router that changed. The run applies
/// and the router ends hardened.
#[tokio::test]
async fn a_group_without_users_applies_without_stopping() {
    let (_e, c) = router().await;
    let (_, config) = tikguard::live::fetch(&c).await.unwrap();
    let i = intent(&config);
    let plan = harden::plan(&config, &i);
    assert!(
        plan.changes.iter().any(|ch| ch.id == "users-of-crm"),
        "{:?}",
        plan.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    assert!(harden::apply::unresolved(&c, &plan).await.is_empty());
    let code = harden::apply::apply(
        &c,
        &plan,
        true,
        false,
        &i,
        &config,
        None,
        "admin",
        &mut harden::apply::Terminal,
    )
    .await
    .unwrap();
    assert_eq!(code, 0);
    let (_, after) = tikguard::live::fetch(&c).await.unwrap();
    assert!(harden::plan(&after, &i)
        .changes
        .iter()
        .all(|ch| ch.id != "service-api"));
}

/// A comment that is not UTF-8 (Windows-1251 in real exports) is sent to the router as the
/// bytes it is: the find resolves, and the rule it names is disabled.
#[tokio::test]
async fn a_find_by_a_comment_that_is_not_utf8_resolves_on_the_router() {
    let export = GUIDE
        .replace("comment=\"CRM API\"", "comment=\"CRM-COMMENT\"")
        .into_bytes();
    let at = export
        .windows(11)
        .position(|w| w == b"CRM-COMMENT")
        .unwrap();
    let mut bytes = export[..at].to_vec();
    bytes.extend_from_slice(b"\xcf\xf0\xee\xe2\xe5\xf0\xea\xe0 CRM");
    bytes.extend_from_slice(&export[at + 11..]);
    let (_e, c) = router_of(bytes).await;
    let (_, config) = tikguard::live::fetch(&c).await.unwrap();
    let i = intent(&config);
    let plan = harden::plan(&config, &i);
    assert!(
        plan.changes
            .iter()
            .any(|ch| ch.id.contains("disable-open-api-accept")),
        "{:?}",
        plan.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    let missing = harden::apply::unresolved(&c, &plan).await;
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(
        harden::apply::apply(
            &c,
            &plan,
            true,
            false,
            &i,
            &config,
            None,
            "admin",
            &mut harden::apply::Terminal
        )
        .await
        .unwrap(),
        0
    );
    let rules = c
        .call(&["/ip/firewall/filter/print", "=.proplist=comment,disabled"])
        .await
        .unwrap();
    let crm = rules
        .iter()
        .find(|r| r.get("comment").is_some_and(|c| c.ends_with(b" CRM")))
        .unwrap();
    assert_eq!(crm.get("disabled").map(|d| &d[..]), Some(&b"true"[..]));
}
