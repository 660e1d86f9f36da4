#![doc = include_str!("docs/TG601.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG601",
    name: "vulnerable-routeros-version",
    severity: Severity::High,
    summary: "the RouterOS version has a known management-plane vulnerability",
    doc: include_str!("docs/TG601.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(v) = cx.config.version.as_ref() else {
        return;
    };
    let (maj, min, pat) = (v.major, v.minor, v.patch.unwrap_or(0));
    let lt = |a: u16, b: u16, c: u16| (maj, min, pat) < (a, b, c);
    let ge = |a: u16, b: u16, c: u16| (maj, min, pat) >= (a, b, c);
    // A CVE reached through a service counts only while that service is enabled; beta and rc
    // builds compare as the release they precede (`6.44beta75` as 6.44).
    let on = |svc: &str| enabled_service(cx.config, svc).is_some();
    let web = on("www") || on("www-ssl");
    let mut hits: Vec<(&str, &str, Severity)> = Vec::new();
    if maj == 6 && lt(6, 38, 5) && on("www") {
        // NVD CVE-2017-20149 ("Chimay-Red"): unauthenticated code execution through the www
        // server's stack clash; fixed in 6.38.5.
        hits.push((
            "CVE-2017-20149",
            "unauthenticated code execution through the www server; fixed in 6.38.5",
            Severity::Critical,
        ));
    }
    if ge(6, 29, 0) && lt(6, 42, 1) && !(min == 40 && pat >= 8 && maj == 6) && on("winbox") {
        hits.push((
            "CVE-2018-14847",
            "Winbox unauthenticated file read; fixed in 6.42.1 / 6.40.8",
            Severity::Critical,
        ));
    }
    if maj == 6 && lt(6, 42, 7) && !(min == 40 && pat >= 9) && on("www") {
        hits.push((
            "CVE-2018-1156..1159",
            "www authenticated code execution; fixed in 6.42.7 / 6.40.9",
            Severity::High,
        ));
    }
    if maj == 6 && lt(6, 43, 12) && !(min == 42 && pat >= 12) && on("winbox") {
        hits.push((
            "CVE-2019-3924",
            "Winbox forwards requests for unauthenticated users; fixed in 6.43.12 / 6.42.12",
            Severity::High,
        ));
    }
    if maj == 6 && lt(6, 43, 13) && !(min == 42 && pat >= 13) && on("winbox") {
        // NVD CVE-2019-3943 (Tenable TRA-2019-16): authenticated directory traversal through
        // Winbox in stable 6.43.12 and below, long-term 6.42.12 and below.
        hits.push((
            "CVE-2019-3943",
            "authenticated directory traversal through Winbox; fixed in 6.43.13 / 6.42.13",
            Severity::High,
        ));
    }
    if maj == 6 && lt(6, 45, 7) && !(min == 44 && pat >= 6) {
        // NVD CVE-2019-3976..3979 (Tenable TRA-2019-46): 6.45.6 stable, 6.44.5 long-term and
        // below; 3978 (DNS cache poisoning through Winbox) needs no authentication.
        hits.push((
            "CVE-2019-3976..3979",
            "path traversal, package downgrade and DNS cache poisoning (CVE-2019-3978 unauthenticated through Winbox); fixed in 6.45.7 / 6.44.6",
            if on("winbox") { Severity::High } else { Severity::Medium },
        ));
    }
    if maj == 6 && lt(6, 49, 7) && (on("winbox") || web) {
        hits.push(("CVE-2023-30799", "admin to super-admin over Winbox or HTTP; fixed in 6.49.7 (stable) / 6.49.8 (long-term)", Severity::High));
    }
    if maj == 6 && lt(6, 49, 10) && on("www") {
        // NVD CVE-2023-30800: memory corruption in the www server of every v6 before 6.49.10,
        // unauthenticated.
        hits.push((
            "CVE-2023-30800",
            "unauthenticated memory corruption in the www server; fixed in 6.49.10",
            Severity::High,
        ));
    }
    // The REST API: over www-ssl from 7.1, over www from 7.9.
    if ge(7, 1, 0) && lt(7, 12, 0) && (on("www-ssl") || (ge(7, 9, 0) && on("www"))) {
        hits.push((
            "CVE-2023-41570",
            "the REST API ignores `/ip service address`; fixed in 7.12",
            Severity::High,
        ));
    }
    if ((ge(6, 43, 0) && lt(6, 49, 18)) || (ge(7, 0, 0) && lt(7, 17, 3))) && on("winbox") {
        hits.push((
            "CVE-2024-54772",
            "Winbox user-name enumeration; fixed in 6.49.18 / 7.18",
            Severity::Medium,
        ));
    }
    // One finding per version: one upgrade fixes them all (issue: "one version with 8 CVEs is
    // one TG601 listing them"), at the severity of the worst.
    let Some(severity) = hits.iter().map(|h| h.2).max() else {
        return;
    };
    let message = match &hits[..] {
        [(cve, what, _)] => format!("RouterOS {v} is affected by {cve}: {what}"),
        _ => format!(
            "RouterOS {v} is affected by {} known vulnerabilities: {}",
            hits.len(),
            hits.iter()
                .map(|(cve, what, sev)| format!("{cve} ({}: {what})", sev.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    out.push(cx.finding_at(
        &RULE,
        severity,
        None,
        message,
        vec![
            format!(
                "/system package update set channel={}",
                if maj == 6 { "long-term" } else { "stable" }
            ),
            "/system package update install".into(),
        ],
    ));
}
