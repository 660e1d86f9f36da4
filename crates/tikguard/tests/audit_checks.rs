//! Checks named after the RouterOS facts they rely on (the rules' docs cite the sources).

use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

fn rules(export: &str) -> Vec<String> {
    let (c, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .iter()
        .filter(|f| f.rule == "TG601")
        .map(|f| {
            let cve = f.message.split(" by ").nth(1).unwrap_or("");
            cve.split(':').next().unwrap_or("").to_string()
        })
        .collect()
}

fn v(version: &str, rest: &str) -> String {
    format!("# 2024-01-01 00:00:00 by RouterOS {version}\n{rest}")
}

/// A CVE reached through a service is reported only while that service is enabled (TG601).
#[test]
fn cves_that_need_a_service_count_only_while_it_is_enabled() {
    // CVE-2017-20149 ("Chimay-Red", www, before 6.38.5).
    assert!(rules(&v("6.38.4", "")).contains(&"CVE-2017-20149".to_string()));
    assert!(!rules(&v("6.38.4", "/ip service set www disabled=yes\n"))
        .contains(&"CVE-2017-20149".to_string()));
    assert!(!rules(&v("6.38.5", "")).contains(&"CVE-2017-20149".to_string()));
    // CVE-2018-14847 needs Winbox.
    assert!(rules(&v("6.40.5", "")).contains(&"CVE-2018-14847".to_string()));
    assert!(
        !rules(&v("6.40.5", "/ip service set winbox disabled=yes\n"))
            .contains(&"CVE-2018-14847".to_string())
    );
    // CVE-2023-41570: the REST API over www-ssl (7.1+, off by default) or www (7.9+).
    assert!(!rules(&v("7.5", "")).contains(&"CVE-2023-41570".to_string()));
    assert!(rules(&v("7.5", "/ip service set www-ssl disabled=no\n"))
        .contains(&"CVE-2023-41570".to_string()));
    assert!(rules(&v("7.10", "")).contains(&"CVE-2023-41570".to_string()));
    assert!(!rules(&v("7.10", "/ip service set www disabled=yes\n"))
        .contains(&"CVE-2023-41570".to_string()));
}

/// CVE-2019-3943 (Winbox, stable ≤ 6.43.12, long-term ≤ 6.42.12); CVE-2019-3976..3979 (stable
/// ≤ 6.45.6, long-term ≤ 6.44.5); CVE-2023-30800 (www, every v6 before 6.49.10).
#[test]
fn cve_boundaries_from_the_advisories() {
    let has = |ver: &str, cve: &str| rules(&v(ver, "")).contains(&cve.to_string());
    assert!(has("6.43.12", "CVE-2019-3943") && !has("6.43.13", "CVE-2019-3943"));
    assert!(has("6.42.12", "CVE-2019-3943") && !has("6.42.13", "CVE-2019-3943"));
    assert!(has("6.45.6", "CVE-2019-3976..3979") && !has("6.45.7", "CVE-2019-3976..3979"));
    assert!(has("6.44.5", "CVE-2019-3976..3979") && !has("6.44.6", "CVE-2019-3976..3979"));
    assert!(has("6.49.9", "CVE-2023-30800") && !has("6.49.10", "CVE-2023-30800"));
    assert!(!has("7.1", "CVE-2023-30800"));
}

/// Beta and rc builds compare as the release they precede: 6.45beta is 6.45.
#[test]
fn beta_builds_count_as_the_release_they_precede() {
    let r = rules(&v("6.45beta54", ""));
    assert!(r.contains(&"CVE-2019-3976..3979".to_string()), "{r:?}");
    assert!(!r.contains(&"CVE-2019-3943".to_string()), "{r:?}");
}
