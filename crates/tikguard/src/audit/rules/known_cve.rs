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
    let in_7_24_early = maj == 7 && ge(7, 24, 0) && lt(7, 24, 2);
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
    // The REST API: over www-ssl from 7.1, over www from 7.9. E. Bassetti's disclosure
    // (enricobassetti.it, 2023-11): the REST API let a user in from outside the addresses its
    // `/user ... address=` allows; NVD: 7.1 to 7.11.
    if ge(7, 1, 0) && lt(7, 12, 0) && (on("www-ssl") || (ge(7, 9, 0) && on("www"))) {
        hits.push((
            "CVE-2023-41570",
            "the REST API accepts a user's login from addresses outside its `/user address=`; fixed in 7.12",
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
    // CERT Polska's September 2026 disclosure ("MikroTrick", cert.pl/en/posts/2026/09/
    // mikrotik-routeros-cve; MikroTik advisory mikrotik.com/supportsec/september-2026-vulnerability;
    // CVE records by CERT-PL): fixed in 6.49.21 and 7.23.4 (long-term) and 7.24.2 (stable), so
    // 6.x before 6.49.21, 7.x before 7.23.4, and 7.24 to 7.24.1 are affected.
    let sept_2026 = (maj == 6 && lt(6, 49, 21)) || (maj == 7 && lt(7, 23, 4)) || in_7_24_early;
    if sept_2026 && on("ssh") {
        // CVE-2026-86060 (CVSS 4.0 9.2, CISA KEV 2026-09-10): a crafted user name reaching the
        // login helper from an unauthenticated SSH session changes the session's policy mask.
        hits.push((
            "CVE-2026-86060",
            "SSH privilege escalation from an unauthenticated session through a crafted user name, exploited in the wild; fixed in 6.49.21 / 7.23.4 / 7.24.2",
            Severity::Critical,
        ));
        // CVE-2026-67279: a rekey before authentication lets an unauthenticated client send an
        // exec request that creates and overwrites files.
        hits.push((
            "CVE-2026-67279",
            "SSH runs commands for an unauthenticated client after a rekey; fixed in 6.49.21 / 7.23.4 / 7.24.2",
            Severity::High,
        ));
    }
    // CVE-2026-67276: the RSA exponent of an authorized key is not compared, so anyone who knows
    // an authorized public key logs in as its user. The record (CNA update 2026-09-07) lists
    // 7.9 to 7.23.3 and 7.24 to 7.24.1; no 6.x.
    if ((ge(7, 9, 0) && lt(7, 23, 4)) || in_7_24_early) && on("ssh") {
        hits.push((
            "CVE-2026-67276",
            "SSH public-key login forged from an authorized RSA public key; fixed in 7.23.4 / 7.24.2",
            Severity::High,
        ));
    }
    // CVE-2026-67277: a "related" btest connection is accepted before the primary one has
    // authenticated: kernel memory disclosure and restarts, `authenticate=yes` or not. The
    // server is on unless the export says `enabled=no` (RouterOS' default is on).
    if sept_2026 && cx.config.setting("/tool bandwidth-server", "enabled") != Some(b"no") {
        hits.push((
            "CVE-2026-67277",
            "the bandwidth-test server leaks kernel memory and restarts the router for an unauthenticated client; fixed in 6.49.21 / 7.23.4 / 7.24.2",
            Severity::High,
        ));
    }
    // CVE-2026-67281: WebFig's `/jsproxy` reads root-owned files, the configuration with its
    // credentials included, for an unauthenticated client; 7.20 to 7.23.3 and 7.24 to 7.24.1.
    if ((ge(7, 20, 0) && lt(7, 23, 4)) || in_7_24_early) && web {
        hits.push((
            "CVE-2026-67281",
            "unauthenticated file read through WebFig, credentials included; fixed in 7.23.4 / 7.24.2",
            Severity::Critical,
        ));
    }
    // CVE-2026-84411 (CISA ICSA-26-272-06): an integer underflow in the web server's request
    // body handling, before authentication: code execution as root. The record says "0 to
    // 7.24" and names 7.24 as the fix, with no fix on 6.x or on the 7.23 long-term branch.
    if lt(7, 24, 0) && web {
        hits.push((
            "CVE-2026-84411",
            "unauthenticated code execution as root through the web server; fixed in 7.24 (the record names no 6.x or 7.23.x fix)",
            Severity::Critical,
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
                channel(maj, min, pat)
            ),
            "/system package update install".into(),
        ],
    ));
}

/// The update channel to move to. RouterOS 6.43.7 renamed the channels: "upgrade - release
/// channels renamed - \"bugfix\" to \"long-term\", \"current\" to \"stable\"" (6.43.7
/// changelog, quoted in github.com/massimo-filippi/mikrotik/pull/7); 6.43.2 offers `bugfix
/// current development release-candidate`, 6.43.8 `development long-term stable testing`
/// (github.com/beeyev/Mikrotik-RouterOS-automatic-backup-and-update/issues/1). Before 6.43.7,
/// `channel=long-term` is an error.
fn channel(maj: u16, min: u16, pat: u16) -> &'static str {
    match (maj, (min, pat) < (43, 7)) {
        (6, true) => "bugfix",
        (6, false) => "long-term",
        _ => "stable",
    }
}
