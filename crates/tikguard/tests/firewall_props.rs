//! Random firewalls (`common/random_firewall.rs`: jumps and loops, returns, duplicates, lists,
//! negations, undecided matchers, both families) through the whole path: parse, model, every
//! audit rule, the harden plan and its proof. Nothing panics, and everything a finding or an
//! exposure row refers to exists: its line holds the statement it quotes, rule numbers are
//! rules of the table, the rules named as shadowing one come before it.

#[path = "common/random_firewall.rs"]
mod random_firewall;

use proptest::prelude::*;
use routeros_config::Config;
use tikguard::audit::firewall::{Action, Limits};
use tikguard::audit::{self, Selection, WanChoice};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

fn intent(c: &Config) -> Intent {
    Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").unwrap()],
        mgmt: vec![Prefix::parse("192.168.88.0/24").unwrap()],
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

fn check(text: &str) -> Result<(), TestCaseError> {
    let (c, _) = Config::load(text.as_bytes().to_vec());
    let a = audit::try_run(
        &c,
        &WanChoice::default(),
        &Selection::default(),
        Limits::default(),
    )
    .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let lines: Vec<&str> = text.lines().collect();
    for f in &a.findings {
        if let Some(line) = f.line {
            prop_assert!(line >= 1 && line <= lines.len(), "{f:?}");
            let ev = f.evidence.as_deref().unwrap_or_default();
            let shown = ev.strip_suffix("...").unwrap_or(ev);
            prop_assert!(
                lines[line - 1].trim_end().starts_with(shown),
                "{} quotes {ev:?} at line {line}: {:?}",
                f.rule,
                lines[line - 1]
            );
        }
    }
    for fw in [&a.exposure.v4, &a.exposure.v6] {
        let n = fw.rules.len();
        for row in a
            .exposure
            .rows
            .iter()
            .filter(|r| (r.family == "ipv6") == fw.v6)
        {
            for &r in row.accepted_by.iter().chain(&row.approximated_by) {
                prop_assert!(r < n, "{row:?}");
            }
            for &r in &row.raw_approximated_by {
                prop_assert!(r < fw.raw.len(), "{row:?}");
            }
        }
        for s in fw.shadowed() {
            prop_assert!(s.rule < n && !s.by.is_empty(), "{s:?}");
            prop_assert!(s.by.iter().all(|&b| b < s.rule), "{s:?}");
        }
        for &l in fw.loops() {
            prop_assert!(l < n && fw.rules[l].action == Action::Jump, "{l}");
        }
    }
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let _ = harden::prove(text.as_bytes(), &c, &plan.changes, &i);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]
    #[test]
    fn random_firewalls_audit_and_harden_without_panic_and_refer_to_real_rules(
        bytes in prop::collection::vec(any::<u8>(), 0..3000)
    ) {
        let text = random_firewall::export(&mut random_firewall::Choices::new(&bytes));
        check(&text)?;
    }
}

/// Many rules at once: hundreds of duplicates and jumps among the chains.
#[test]
fn a_large_random_firewall_is_audited() {
    let bytes: Vec<u8> = (0..60_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut c = random_firewall::Choices::new(&bytes);
    let mut text = String::new();
    while !c.is_done() {
        text = random_firewall::export(&mut c);
        check(&text).unwrap();
    }
    assert!(text.contains("/ip firewall filter"));
}
