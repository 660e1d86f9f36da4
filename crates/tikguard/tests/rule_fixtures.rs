//! Every rule has `tests/rules/<ID>/bad.rsc`, on which it must fire, and `good.rsc`, on which it
//! must stay silent; the findings on `bad.rsc` are snapshot-tested.

use std::path::Path;

use routeros_config::Config;
use tikguard::audit::{self, rules::ALL, Finding, Selection, WanChoice};

fn findings(path: &Path, id: &str) -> Vec<Finding> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (config, parsed) = Config::load(bytes);
    assert!(
        parsed.diagnostics.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.diagnostics
    );
    let sel = Selection {
        select: vec![id.to_string()],
        ignore: vec![],
    };
    audit::run(&config, &WanChoice::default(), &sel)
        .findings
        .into_iter()
        .filter(|f| f.rule == id)
        .collect()
}

#[test]
fn every_rule_fires_on_its_bad_fixture_and_not_on_its_good_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
    let mut problems = Vec::new();
    for rule in ALL {
        let bad = findings(&dir.join(rule.id).join("bad.rsc"), rule.id);
        let good = findings(&dir.join(rule.id).join("good.rsc"), rule.id);
        if bad.is_empty() {
            problems.push(format!("{}: silent on bad.rsc", rule.id));
        }
        if !good.is_empty() {
            problems.push(format!(
                "{}: fires on good.rsc: {:?}",
                rule.id, good[0].message
            ));
        }
        let mut snap = String::new();
        for f in &bad {
            snap.push_str(&format!(
                "{} {} line={:?} col={:?}\n  {}\n",
                f.rule,
                f.severity.as_str(),
                f.line,
                f.column,
                f.message
            ));
            if let Some(e) = &f.evidence {
                snap.push_str(&format!("  | {e}\n"));
            }
            for fix in &f.fix {
                snap.push_str(&format!("  fix: {fix}\n"));
            }
        }
        insta::with_settings!({snapshot_suffix => rule.id, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("bad", snap);
        });
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rule_has_documentation_with_the_four_sections() {
    for rule in ALL {
        for section in [
            "## What it checks",
            "## Why it matters",
            "## Example",
            "## Fix",
        ] {
            assert!(rule.doc.contains(section), "{} lacks {section}", rule.id);
        }
        assert!(
            rule.id.starts_with("TG") && rule.id.len() == 5,
            "{}",
            rule.id
        );
    }
    let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ALL.len(), "duplicate rule ids");
}
