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
    let mut hits: Vec<(&str, &str, Severity)> = Vec::new();
    if ge(6, 29, 0) && lt(6, 42, 1) && !(min == 40 && pat >= 8 && maj == 6) {
        hits.push((
            "CVE-2018-14847",
            "Winbox unauthenticated file read; fixed in 6.42.1 / 6.40.8",
            Severity::Critical,
        ));
    }
    if maj == 6 && lt(6, 42, 7) && !(min == 40 && pat >= 9) {
        hits.push((
            "CVE-2018-1156..1159",
            "www authenticated code execution; fixed in 6.42.7 / 6.40.9",
            Severity::High,
        ));
    }
    if maj == 6 && lt(6, 43, 12) && !(min == 42 && pat >= 12) {
        hits.push((
            "CVE-2019-3924",
            "Winbox forwards requests for unauthenticated users; fixed in 6.43.12 / 6.42.12",
            Severity::High,
        ));
    }
    if maj == 6 && lt(6, 49, 7) {
        hits.push(("CVE-2023-30799", "admin to super-admin over Winbox or HTTP; fixed in 6.49.7 (stable) / 6.49.8 (long-term)", Severity::High));
    }
    if ge(7, 1, 0) && lt(7, 12, 0) {
        hits.push((
            "CVE-2023-41570",
            "the REST API ignores `/ip service address`; fixed in 7.12",
            Severity::High,
        ));
    }
    if (ge(6, 43, 0) && lt(6, 49, 18)) || (ge(7, 0, 0) && lt(7, 17, 3)) {
        hits.push((
            "CVE-2024-54772",
            "Winbox user-name enumeration; fixed in 6.49.18 / 7.18",
            Severity::Medium,
        ));
    }
    for (cve, what, severity) in hits {
        out.push(cx.finding_at(
            &RULE,
            severity,
            None,
            format!("RouterOS {v} is affected by {cve}: {what}"),
            vec![
                format!(
                    "/system package update set channel={}",
                    if maj == 6 { "long-term" } else { "stable" }
                ),
                "/system package update install".into(),
            ],
        ));
    }
}
