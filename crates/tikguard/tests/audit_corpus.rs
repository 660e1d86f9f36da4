//! The whole corpus (`testdata/corpus`, and `TIKGUARD_SHARED`'s when set) audits without a panic, and the audit of the real exports gives no
//! finding whose location lies outside the file.

use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

#[path = "../../../testdata/corpus.rs"]
mod corpus;

#[test]
fn every_corpus_file_audits_without_panic() {
    let mut n = 0;
    for e in corpus::corpus() {
        let path = e.path;
        let bytes = std::fs::read(&path).unwrap();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        let (config, _) = Config::load(bytes);
        let a = audit::run(&config, &WanChoice::default(), &Selection::default());
        for f in &a.findings {
            if let Some(l) = f.line {
                assert!(
                    l <= lines,
                    "{}: {} at line {l} of {lines}",
                    path.display(),
                    f.rule
                );
            }
            if let Some(e) = &f.evidence {
                assert_no_visible_password(e);
            }
        }
        n += 1;
    }
    assert!(n >= corpus::carried(), "only {n} files");
}

/// Every `password=` in shown text is followed by `***`, an empty value, or nothing.
fn assert_no_visible_password(text: &str) {
    for (i, _) in text.match_indices("password=") {
        let rest = &text[i + "password=".len()..];
        assert!(
            rest.starts_with("***")
                || rest.starts_with("\"\"")
                || rest.is_empty()
                || rest.starts_with(' '),
            "visible password in: {text}"
        );
    }
}

#[test]
fn the_password_check_itself_catches_a_visible_password() {
    assert!(
        std::panic::catch_unwind(|| assert_no_visible_password("add password=hunter2")).is_err()
    );
    assert_no_visible_password("add password=*** name=x");
}

/// Fix lines are safe to paste: on every corpus file, each fix without a `<placeholder>` parses
/// as RouterOS without a diagnostic, uses only commands and arguments RouterOS 7's command tree
/// has (checked against the export's own version from 7.9, 7.16 for an earlier or unknown v7; a RouterOS 6 export's against the v6 argument set), and the interface lists and interfaces it names exist in that
/// configuration (or are RouterOS' built-in lists).
#[test]
fn fix_lines_parse_exist_in_the_schema_and_name_what_the_config_has() {
    use routeros_config::syntax::StatementKind;
    let target = routeros_config::Version::new(7, 16, 0);
    let mut checked = 0;
    for e in corpus::corpus() {
        let path = e.path;
        if path.extension().is_none_or(|e| e != "rsc") {
            continue;
        }
        let (config, _) = Config::load(std::fs::read(&path).unwrap());
        let (ifaces, lists) = tikguard::audit::exposure::known_interfaces(&config);
        let a = audit::run(&config, &WanChoice::default(), &Selection::default());
        for f in &a.findings {
            for fix in f
                .fix
                .iter()
                .filter(|l| l.starts_with('/') && !l.contains('<'))
            {
                let (_, parsed) = Config::load(fix.as_bytes().to_vec());
                assert!(
                    parsed.diagnostics.is_empty(),
                    "{}: {} fix does not parse: {fix}: {:?}",
                    path.display(),
                    f.rule,
                    parsed.diagnostics
                );
                for s in &parsed.statements {
                    let StatementKind::Command(c) = &s.kind else {
                        continue;
                    };
                    let args: Vec<String> = c
                        .args
                        .iter()
                        .filter_map(|a| {
                            a.key
                                .as_ref()
                                .map(|k| String::from_utf8_lossy(k).into_owned())
                        })
                        .collect();
                    // A RouterOS 6 export's fixes are for RouterOS 6 (the MAC server per
                    // interface before 6.41): checked against the v6 argument set, where a
                    // command outside it is unchecked, not wrong.
                    // A 7.9+ export's fixes are for its own version (TG118's `ciphers=` exists
                    // only from 7.18), checked against the nearest tree at or below it.
                    let target = match &config.version {
                        Some(v) if v.major < 7 => v.clone(),
                        Some(v) if *v >= routeros_config::Version::new(7, 9, 0) => v.clone(),
                        _ => target.clone(),
                    };
                    let problems: Vec<_> =
                        tikguard::schema::check(&target, &c.menu, &c.verb, &args)
                            .into_iter()
                            .filter(|p| !matches!(p, tikguard::schema::Problem::Unchecked { .. }))
                            .collect();
                    assert!(
                        problems.is_empty(),
                        "{}: {} fix: {fix}: {problems:?}",
                        path.display(),
                        f.rule
                    );
                    for a in &c.args {
                        let Some(key) = &a.key else { continue };
                        let v = String::from_utf8_lossy(a.value.as_bytes())
                            .trim_start_matches('!')
                            .to_string();
                        match &key[..] {
                            b"in-interface-list" => assert!(
                                lists.contains(&v),
                                "{}: {} fix names list {v}: {fix}",
                                path.display(),
                                f.rule
                            ),
                            // `all-ppp` and its kin are RouterOS' own interface wildcards.
                            b"in-interface" => assert!(
                                ifaces.contains(&v)
                                    || ["all-ppp", "all-ethernet", "all-wireless", "all-vlan"]
                                        .contains(&v.as_str()),
                                "{}: {} fix names interface {v}: {fix}",
                                path.display(),
                                f.rule
                            ),
                            _ => {}
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} fix commands checked");
}

/// No pasteable fix places a rule with `[:pick [find] 0]` (RouterOS refuses to place before the
/// dynamic rule a hotspot router has first), nor names a `place-before` on a table with no
/// static rule (nothing to place before): placement is harden's ([`tikguard::ros::placement`]).
#[test]
fn fix_lines_place_rules_where_routeros_accepts_them() {
    for e in corpus::corpus() {
        let (config, _) = Config::load(std::fs::read(&e.path).unwrap());
        let a = audit::run(&config, &WanChoice::default(), &Selection::default());
        for f in &a.findings {
            // A table empty in the export, until an earlier line of the same fix adds to it.
            let mut added = [false, false];
            for fix in &f.fix {
                assert!(!fix.contains("[:pick [find] 0]"), "{}: {fix}", e.file);
                let v6 = fix.starts_with("/ipv6 firewall filter");
                let table = if v6 {
                    "/ipv6 firewall filter"
                } else {
                    "/ip firewall filter"
                };
                if !fix.starts_with(&format!("{table} add")) {
                    continue;
                }
                if config.items(table).is_empty() && !added[usize::from(v6)] {
                    assert!(!fix.contains("place-before"), "{}: {fix}", e.file);
                }
                added[usize::from(v6)] = true;
            }
        }
    }
}
