//! `harden` on the shipped examples and a dozen real exports: the plan is proven (claimed fixes
//! gone, no new high finding, management and API clients keep access, every command in RouterOS'
//! tree), planning the hardened result again gives nothing, the rollback restores the services,
//! and a plan that would cut management off is refused.

use std::path::Path;

use routeros_config::{Config, Version};
use tikguard::audit::WanChoice;
use tikguard::harden::script::{Line, Stmt, Target};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

fn intent(c: &Config) -> Intent {
    Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").unwrap()],
        mgmt: vec![
            Prefix::parse("192.0.2.0/24").unwrap(),
            Prefix::parse("2001:db8:aa::/48").unwrap(),
        ],
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

#[path = "../../../testdata/corpus.rs"]
mod corpus;

/// Plans, proves, re-plans the result; returns the guarded script.
fn harden_ok(name: &str, bytes: Vec<u8>) -> String {
    let (config, _) = Config::load(bytes.clone());
    let i = intent(&config);
    let changes = harden::plan(&config, &i).changes;
    assert!(!changes.is_empty(), "{name}: nothing planned");
    let (after, proof) =
        harden::prove(&bytes, &config, &changes, &i).unwrap_or_else(|r| panic!("{name}: {}", r.0));
    assert!(
        proof.findings_after < proof.findings_before,
        "{name}: {proof:?}"
    );
    // Idempotent: the hardened configuration needs nothing more.
    let again = harden::plan(&after, &i).changes;
    assert!(
        again.is_empty(),
        "{name}: second plan not empty: {:?}",
        again.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    // The guarded script parses cleanly.
    let script = harden::render(&changes, true, "test");
    let p = routeros_config::parse(script.clone().into_bytes());
    assert!(p.diagnostics.is_empty(), "{name}: {:?}", p.diagnostics);
    script
}

#[test]
fn examples_harden_with_proof_and_idempotence() {
    for f in ["isp-core-v7.rsc", "home-v7.rsc", "branch-v6.rsc"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(f);
        let script = harden_ok(f, std::fs::read(path).unwrap());
        insta::with_settings!({snapshot_suffix => f, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("script", script);
        });
    }
}

/// Every export the repository carries that parses cleanly (`prove` refuses a file with a syntax
/// error, rightly: the script is proven on what RouterOS would load), and a dozen more when the
/// larger corpus gives them.
#[test]
fn real_exports_harden_with_proof_and_idempotence() {
    let carried = corpus::corpus()
        .into_iter()
        .take(corpus::carried())
        .filter(|e| e.file.ends_with(".rsc"))
        .map(|e| e.path)
        .filter(|p| {
            let (_, parsed) = Config::load(std::fs::read(p).unwrap());
            parsed.diagnostics.is_empty()
        });
    let larger = [
        "03Andras__iszsnz_siet__config.rsc",
        "Defm__mikrobackups__rawconf_CHR_latest.rsc",
        "FoxDenHome__router__router.rsc",
        "likwrk__mikrotik__config.rsc",
        "Pancho-uy__MK__MK_LUNARSA_EXPORT.rsc",
        "memhamwan__routeros-config-audit__r1.leb.memhamwan.net.rsc",
        "romanborodin1__MikroTik__Lab2_-_Protecting_Mikrotik_from_external_threats__SW1_backup_14-05-2020_21-26.rsc",
        "rotkonetworks__networking__backup__mikrotik__bkk50.rsc",
        "mm1rza__mikrotik__backup__backup__export__MNET-CHR.rsc",
        "TMaskpl__Mikrotik7-2WANs__MT_R1.rsc",
        "micaelaman__Mikrotik__fig.cfg.rsc",
        "hogg101__MikroTik-base-config__3_firewall.rsc",
        "alwaldend__src__infra__mikrotik__router1.rsc",
    ];
    let mut n = 0;
    for path in carried.chain(larger.iter().filter_map(|f| corpus::find(f))) {
        let bytes = std::fs::read(&path).unwrap();
        harden_ok(&path.display().to_string(), bytes);
        n += 1;
    }
    assert!(n >= 12, "only {n} exports hardened");
}

#[test]
fn rollback_restores_the_services_and_removes_what_was_added() {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/isp-core-v7.rsc"))
            .unwrap();
    let (config, _) = Config::load(bytes.clone());
    let changes = harden::plan(&config, &intent(&config)).changes;
    let mut all = bytes.clone();
    all.extend(harden::render(&changes, false, "").into_bytes());
    all.extend(harden::rollback(&changes).into_bytes());
    let (restored, p) = Config::load(all);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let svc = |c: &Config| {
        c.items("/ip service")
            .iter()
            .map(|i| {
                (
                    i.get_str("name"),
                    i.get_str("address").unwrap_or_default(),
                    i.is_disabled(),
                    i.get_str("certificate").unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    let norm = |v: Vec<(Option<String>, String, bool, String)>| {
        v.into_iter()
            .map(|(n, a, d, c)| (n, a, d, if c.is_empty() { "none".to_string() } else { c }))
            .collect::<Vec<_>>()
    };
    assert_eq!(norm(svc(&restored)), norm(svc(&config)));
    for menu in [
        "/ip firewall filter",
        "/ip firewall address-list",
        "/ipv6 firewall filter",
        "/user",
    ] {
        assert!(
            restored.items(menu).iter().all(|i| !i
                .get_str("comment")
                .unwrap_or_default()
                .starts_with("tikguard:")),
            "{menu} keeps tikguard items"
        );
    }
    let policy = |c: &Config| {
        c.menu("/user group")
            .unwrap()
            .by_name("billing")
            .unwrap()
            .get_str("policy")
    };
    assert_eq!(policy(&restored), policy(&config));
}

#[test]
fn a_plan_that_would_cut_off_management_is_refused_with_the_reason() {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/isp-core-v7.rsc"))
            .unwrap();
    let (config, _) = Config::load(bytes.clone());
    let i = intent(&config);
    let mut changes = harden::plan(&config, &i).changes;
    // Restrict winbox to a prefix that is not management.
    let ch = changes
        .iter_mut()
        .find(|c| c.id == "service-winbox")
        .unwrap();
    ch.lines = vec![Line::Script(
        "/ip service set winbox address=203.0.113.0/24".into(),
    )];
    let refused = harden::prove(&bytes, &config, &changes, &i).unwrap_err();
    assert!(
        refused.0.contains("192.0.2.0/24 would lose `winbox`"),
        "{}",
        refused.0
    );
    assert!(refused.0.contains("address="), "{}", refused.0);
    // And a firewall rule that drops management is named.
    let mut changes = harden::plan(&config, &i).changes;
    changes.retain(|c| !c.id.ends_with("mgmt-accept"));
    let refused = harden::prove(&bytes, &config, &changes, &i).unwrap_err();
    assert!(refused.0.contains("would drop it"), "{}", refused.0);
}

#[test]
fn a_command_missing_from_the_target_version_is_refused() {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/home-v7.rsc"))
            .unwrap();
    let (config, _) = Config::load(bytes.clone());
    let i = intent(&config);
    let mut changes = harden::plan(&config, &i).changes;
    changes[0].lines.push(
        Stmt::set("/ip service", Target::Name("api-ssl".into()))
            .arg("max-sessions", "5")
            .into(),
    );
    let mut old = i.clone();
    old.target = Version::parse("7.12.1").unwrap();
    let refused = harden::prove(&bytes, &config, &changes, &old).unwrap_err();
    assert!(
        refused.0.contains("has no argument `max-sessions`"),
        "{}",
        refused.0
    );
}
