//! The live-only rules (TG7xx) end to end: the emulator serves an export plus a `--state`
//! (users, SSH keys, certificates, update status, firmware, active sessions, the log) over a
//! real socket on 127.0.0.1; `live::fetch` and `running::read` read it as `audit --live` does,
//! and each rule must fire on its bad state and stay silent on its good one.

use std::collections::HashMap;

use routeros_api::{Client, Options, Security};
use routeros_config::Config;
use tikguard::audit::{self, running, Finding, Selection, WanChoice};
use tikguard::emu;

const PASSWORD: &str = "audit-pass";

/// A router with api and api-ssl on, api-ssl serving `api-cert`, a raw rule dropping the list
/// `blocked`, and an audit account (`api,read`, no `sensitive`).
const EXPORT: &str = "# 2026-12-01 10:00:00 by RouterOS 7.18.2
/ip service set api address=10.0.0.0/24,127.0.0.0/8
/ip service set api-ssl certificate=api-cert address=10.0.0.0/24,127.0.0.0/8
/ip firewall address-list add list=blocked address=192.0.2.0/24
/ip firewall raw add chain=prerouting src-address-list=blocked action=drop
/user group add name=audit policy=api,read
/user add name=auditor group=audit address=127.0.0.0/8
";

struct Run {
    findings: Vec<Finding>,
    facts: running::Facts,
    checks: u32,
}

async fn audit_live(export: &str, state: &str, check_updates: bool) -> Run {
    let state: emu::state::State = serde_json::from_str(state).unwrap();
    let (config, _) = Config::load(export.as_bytes().to_vec());
    let passwords = HashMap::from([("auditor".to_string(), PASSWORD.to_string())]);
    let mut router = emu::router_from(config, passwords, None);
    emu::state::apply(&state, &mut router);
    let emulator = emu::start(
        router,
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let client = Client::connect(&Options::new(
        emulator.api.unwrap().to_string(),
        Security::Plain,
    ))
    .await
    .unwrap();
    client.login("auditor", PASSWORD).await.unwrap();
    let (bytes, _) = tikguard::live::fetch(&client).await.unwrap();
    let facts = running::read(&client, check_updates).await;
    let (config, parsed) = Config::load(bytes);
    let input = audit::assume::Input::new(audit::kind::live(), None);
    let a = audit::try_run_input_live(
        &parsed,
        &config,
        input,
        &WanChoice::default(),
        &Selection::default(),
        audit::firewall::Limits::default(),
        Some(&facts),
    )
    .unwrap();
    let checks = emulator.router.lock().unwrap().update_checks;
    Run {
        findings: a.findings,
        facts,
        checks,
    }
}

fn of<'a>(r: &'a Run, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.rule == id).collect()
}

/// The auditor's own login (so the version shows `last-logged-in`), and `admin` in use.
const ME: &str = r#"{"name": "auditor", "group": "audit", "address": "127.0.0.0/8", "last-logged-in": "now"},
    {"name": "admin", "group": "full", "last-logged-in": "now-1d"}"#;

#[tokio::test(flavor = "current_thread")]
async fn tg701_dormant_users_never_or_long_ago_and_not_on_a_version_without_the_field() {
    let bad = format!(
        r#"{{"users": [{ME},
            {{"name": "old", "group": "full", "last-logged-in": "now-400d"}},
            {{"name": "never", "group": "read"}},
            {{"name": "gone", "group": "full", "disabled": true}}]}}"#
    );
    let r = audit_live(EXPORT, &bad, false).await;
    let msgs: Vec<&str> = of(&r, "TG701").iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("old") && m.contains("400 days ago")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("never") && m.contains("never logged in")),
        "{msgs:?}"
    );
    let good = format!(
        r#"{{"users": [{ME}, {{"name": "noc", "group": "full", "last-logged-in": "now-3d"}}]}}"#
    );
    assert!(of(&audit_live(EXPORT, &good, false).await, "TG701").is_empty());
    // RouterOS 6 prints no `last-logged-in` for anyone: nothing can be said.
    let v6 = r#"{"users": [{"name": "noc", "group": "full"}]}"#;
    assert!(of(&audit_live(EXPORT, v6, false).await, "TG701").is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn tg702_tg703_ssh_keys_of_missing_users_and_weak_keys() {
    let bad = format!(
        r#"{{"users": [{ME}, {{"name": "noc", "group": "full", "last-logged-in": "now"}}],
            "ssh-keys": [{{"user": "alice", "key-type": "ed25519", "info": "alice@laptop"}},
                         {{"user": "noc", "key-type": "rsa", "bits": 1024}},
                         {{"user": "noc", "bits": 1024, "key-owner": "noc@old"}}]}}"#
    );
    let r = audit_live(EXPORT, &bad, false).await;
    let orphan = of(&r, "TG702");
    assert_eq!(orphan.len(), 1);
    assert!(orphan[0].message.contains("alice"), "{}", orphan[0].message);
    // Both the 7 spelling and the 6 one (no `key-type`: RSA or DSA, weak under 2048 bits).
    assert_eq!(of(&r, "TG703").len(), 2);
    let good = format!(
        r#"{{"users": [{ME}, {{"name": "noc", "group": "full", "last-logged-in": "now"}}],
            "ssh-keys": [{{"user": "noc", "key-type": "rsa", "bits": 4096}},
                         {{"user": "noc", "key-type": "ed25519"}}]}}"#
    );
    let r = audit_live(EXPORT, &good, false).await;
    assert!(of(&r, "TG702").is_empty() && of(&r, "TG703").is_empty());
}

fn cert(after: &str, extra: &str) -> String {
    format!(
        r#"{{"certificates": [{{"name": "api-cert", "invalid-before": "now-300d",
            "invalid-after": "{after}", "key-type": "rsa", "key-size": "2048",
            "private-key": true, "trusted": true{extra}}}]}}"#
    )
}

#[tokio::test(flavor = "current_thread")]
async fn tg704_certificate_expiry_thresholds_ca_weak_key_and_trust() {
    let sev = |r: &Run| {
        of(r, "TG704")
            .iter()
            .map(|f| f.severity.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sev(&audit_live(EXPORT, &cert("now+400d", ""), false).await),
        Vec::<&str>::new()
    );
    assert_eq!(
        sev(&audit_live(EXPORT, &cert("now+20d", ""), false).await),
        ["medium"]
    );
    assert_eq!(
        sev(&audit_live(EXPORT, &cert("now+3d", ""), false).await),
        ["high"]
    );
    let expired = audit_live(EXPORT, &cert("now-1d", ""), false).await;
    assert_eq!(sev(&expired), ["high"]);
    assert!(of(&expired, "TG704")[0].message.contains("expired"));
    let ca = audit_live(EXPORT, &cert("now+400d", r#", "authority": true"#), false).await;
    assert!(of(&ca, "TG704")[0].message.contains("CA certificate"));
    let weak = cert("now+400d", "").replace(r#""key-size": "2048""#, r#""key-size": "1024""#);
    assert!(of(&audit_live(EXPORT, &weak, false).await, "TG704")[0]
        .message
        .contains("1024 bits"));
    let untrusted = cert("now+400d", "").replace(r#""trusted": true"#, r#""trusted": false"#);
    assert_eq!(sev(&audit_live(EXPORT, &untrusted, false).await), ["low"]);
    // A certificate no service uses is not this rule's business.
    let other = cert("now-1d", "").replace("api-cert", "spare");
    assert!(sev(&audit_live(EXPORT, &other, false).await).is_empty());
}

/// The router never contacts MikroTik unless asked: without `--check-updates` the audit sends
/// no `check-for-updates` and TG705 judges only a check the router already made.
#[tokio::test(flavor = "current_thread")]
async fn tg705_update_only_from_a_check_and_the_check_only_when_asked() {
    let unchecked = r#"{"update": {"channel": "stable", "installed-version": "7.18.2",
        "latest-version": "7.19.4", "checked": false}}"#;
    let r = audit_live(EXPORT, unchecked, false).await;
    assert_eq!(r.checks, 0);
    assert!(of(&r, "TG705").is_empty());
    // A reader without `write` cannot make the router check (approximated policy).
    let r = audit_live(EXPORT, unchecked, true).await;
    assert_eq!(r.checks, 0);
    assert!(matches!(r.facts.update_check, Some(Err(_))));
    let writer = EXPORT.replace("policy=api,read", "policy=api,read,write");
    let r = audit_live(&writer, unchecked, true).await;
    assert_eq!(r.checks, 1);
    let f = of(&r, "TG705");
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("7.19.4"), "{}", f[0].message);
    let checked = unchecked.replace(r#""checked": false"#, r#""checked": true"#);
    assert_eq!(
        of(&audit_live(EXPORT, &checked, false).await, "TG705").len(),
        1
    );
    let current = checked.replace("7.19.4", "7.18.2");
    assert!(of(&audit_live(EXPORT, &current, false).await, "TG705").is_empty());
}

/// The CVE rule reads the version the router runs (`/system resource`), not the export's
/// header: the export says 7.18.2, the emulator runs 6.42.
#[tokio::test(flavor = "current_thread")]
async fn tg601_uses_the_running_version_not_the_export_header() {
    let export = EXPORT.replace("/ip service set api address=10.0.0.0/24,127.0.0.0/8\n", "");
    let (config, _) = Config::load(export.as_bytes().to_vec());
    let passwords = HashMap::from([("auditor".to_string(), PASSWORD.to_string())]);
    let router = emu::router_from(config, passwords, routeros_config::Version::parse("6.45.9"));
    let emulator = emu::start(
        router,
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let client = Client::connect(&Options::new(
        emulator.api.unwrap().to_string(),
        Security::Plain,
    ))
    .await
    .unwrap();
    client.login("auditor", PASSWORD).await.unwrap();
    let (_, live) = tikguard::live::fetch(&client).await.unwrap();
    assert_eq!(
        live.version.as_ref().map(|v| v.to_string()).as_deref(),
        Some("6.45.9")
    );
    let a = audit::run(&live, &WanChoice::default(), &Selection::default());
    assert!(
        a.findings.iter().any(|f| f.rule == "TG601"),
        "{:?}",
        a.findings
    );
}

#[tokio::test(flavor = "current_thread")]
async fn tg706_firmware_behind() {
    let bad = r#"{"routerboard": {"current-firmware": "7.15", "upgrade-firmware": "7.18.2"}}"#;
    assert_eq!(of(&audit_live(EXPORT, bad, false).await, "TG706").len(), 1);
    let good = bad.replace("7.15", "7.18.2");
    assert!(of(&audit_live(EXPORT, &good, false).await, "TG706").is_empty());
}

fn log(lines: &[(&str, &str)]) -> String {
    let l: Vec<String> = lines
        .iter()
        .map(|(at, m)| {
            format!(r#"{{"at": "{at}", "topics": "system,error,critical", "message": {m:?}}}"#)
        })
        .collect();
    format!(r#"{{"log": [{}]}}"#, l.join(","))
}

#[tokio::test(flavor = "current_thread")]
async fn tg707_sources_counted_within_a_day_blocked_ones_apart() {
    let bad = log(&[
        (
            "now-1h",
            "login failure for user admin from 198.51.100.7 via ssh",
        ),
        (
            "now-2h",
            "login failure for user root from 198.51.100.7 via api",
        ),
        (
            "now-3h",
            "login failure for user admin from 192.0.2.9 via winbox",
        ),
        (
            "now-3d",
            "login failure for user admin from 203.0.113.1 via ssh",
        ),
    ]);
    let r = audit_live(EXPORT, &bad, false).await;
    let f = of(&r, "TG707");
    assert_eq!(f.len(), 1);
    let m = &f[0].message;
    assert!(
        m.contains("198.51.100.7 x2 via api,ssh as admin,root"),
        "{m}"
    );
    // In the `blocked` list a drop rule matches: not listed as free.
    assert!(!m.contains("192.0.2.9"), "{m}");
    // Older than 24 h.
    assert!(!m.contains("203.0.113.1"), "{m}");
    assert_eq!(f[0].severity.as_str(), "medium");
    let all_blocked = log(&[(
        "now-1h",
        "login failure for user admin from 192.0.2.9 via ssh",
    )]);
    let r = audit_live(EXPORT, &all_blocked, false).await;
    assert_eq!(of(&r, "TG707")[0].severity.as_str(), "info");
    assert!(of(&audit_live(EXPORT, r#"{"log": []}"#, false).await, "TG707").is_empty());
}

/// 100,000 log lines: read as a stream, cut at the cap, said to be cut.
#[tokio::test(flavor = "current_thread")]
async fn a_huge_log_is_streamed_capped_and_said_to_be() {
    let mut state = log(&[(
        "now-1h",
        "login failure for user admin from 198.51.100.7 via ssh",
    )]);
    state.insert_str(state.len() - 1, r#", "log-repeat": 100000"#);
    let r = audit_live(EXPORT, &state, false).await;
    assert!(r.facts.knocks.capped);
    assert_eq!(r.facts.knocks.lines_read, running::LOG_LINES_MAX);
    let f = of(&r, "TG707");
    assert!(
        f[0].message.contains("read up to 50000 lines"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("x50000"), "{}", f[0].message);
}

#[tokio::test(flavor = "current_thread")]
async fn tg708_api_session_from_outside_the_clients_prefixes() {
    let bad = r#"{"active": [{"name": "billing", "address": "203.0.113.9", "via": "api", "when": "now-1h"},
                             {"name": "billing", "address": "10.0.0.5", "via": "api"},
                             {"name": "noc", "address": "203.0.113.10", "via": "winbox"}]}"#;
    let f = of(&audit_live(EXPORT, bad, false).await, "TG708")
        .into_iter()
        .map(|f| f.message.clone())
        .collect::<Vec<_>>();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("203.0.113.9"));
    // The fix uses the command the version has: `request-logout` up to 7.19, `remove` from 7.20.
    let fix = |r: &Run| of(r, "TG708")[0].fix[0].clone();
    assert!(fix(&audit_live(EXPORT, bad, false).await).starts_with("/user active request-logout"));
    let v720 = EXPORT.replace("RouterOS 7.18.2", "RouterOS 7.20.8");
    let r = audit_live(&v720, bad, false).await;
    assert!(fix(&r).starts_with("/user active remove"), "{}", fix(&r));
    // With nothing restricting the API, only a public source is reported.
    let open = "# 2026-12-01 10:00:00 by RouterOS 7.18.2
/user group add name=audit policy=api,read
/user add name=auditor group=audit
";
    let mixed = r#"{"active": [{"name": "b", "address": "203.0.113.9", "via": "api"},
                               {"name": "b", "address": "10.1.2.3", "via": "api"}]}"#;
    let f = audit_live(open, mixed, false).await;
    let f = of(&f, "TG708");
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("public address"));
}

/// Names and messages from the router are hostile: a user name with quotes, a newline, an
/// ANSI escape and a control byte reaches the finding only quoted and escaped.
#[tokio::test(flavor = "current_thread")]
async fn hostile_names_reach_findings_escaped() {
    let evil = "x\\\"\\n\\u001b[31mred\\u0007";
    let state = format!(
        r#"{{"users": [{ME}, {{"name": "{evil}", "group": "full"}}],
            "ssh-keys": [{{"user": "{evil}", "key-type": "rsa", "bits": 512}}]}}"#
    );
    let r = audit_live(EXPORT, &state, false).await;
    let msgs: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("TG70"))
        .map(|f| f.message.as_str())
        .collect();
    assert!(msgs.len() >= 2, "{msgs:?}");
    for m in msgs {
        assert!(
            !m.contains('\u{1b}') && !m.contains('\n') && !m.contains('\u{7}'),
            "{m:?}"
        );
    }
}

#[test]
fn a_file_audit_counts_the_live_only_rules_it_cannot_run() {
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let a = audit::run(&config, &WanChoice::default(), &Selection::default());
    assert_eq!(a.need_live, audit::rules::LIVE.len());
    assert!(a.findings.iter().all(|f| !f.rule.starts_with("TG7")));
    let one = Selection {
        select: vec!["TG704".into()],
        ignore: vec![],
    };
    assert_eq!(
        audit::run(&config, &WanChoice::default(), &one).need_live,
        1
    );
}

#[tokio::test(flavor = "current_thread")]
async fn tg709_api_users_reachable_from_wan_narrowed_by_their_address() {
    // Nothing restricts the API: every interface counts as WAN, the internet reaches it.
    let open = "# 2026-12-01 10:00:00 by RouterOS 7.18.2
/user group add name=audit policy=api,read
/user add name=auditor group=audit address=127.0.0.0/8
/user add name=billing group=full
/user add name=crm group=full address=10.0.0.5/32
/user add name=viewer group=read address=
";
    let r = audit_live(open, "{}", false).await;
    let f = of(&r, "TG709");
    let names: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    // `admin` (RouterOS' own, full), `billing`, and `viewer` (RouterOS' `read` group has
    // `api`); not `crm` (one address), not the auditor (loopback).
    assert!(
        names.iter().any(|m| m.contains("user billing ")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|m| m.contains("user viewer ")),
        "{names:?}"
    );
    assert!(names.iter().any(|m| m.contains("user admin ")), "{names:?}");
    assert!(!names.iter().any(|m| m.contains("user crm ")), "{names:?}");
    assert!(
        !names.iter().any(|m| m.contains("user auditor ")),
        "{names:?}"
    );
    assert!(
        f.iter().all(|f| f.severity.as_str() == "critical"),
        "{names:?}"
    );
    // The service limited to explicit prefixes: nobody is reachable from the WAN.
    assert!(of(&audit_live(EXPORT, "{}", false).await, "TG709").is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn tg710_full_or_policy_users_without_address_and_tg301_admin_read_live() {
    let export = format!(
        "{EXPORT}/user group add name=admins policy=api,read,write,policy
/user add name=noc group=full
/user add name=boss group=admins
/user add name=ops group=full address=10.0.0.0/24
/user add name=viewer group=read
"
    );
    let r = audit_live(&export, "{}", false).await;
    let msgs: Vec<&str> = of(&r, "TG710").iter().map(|f| f.message.as_str()).collect();
    for who in ["user admin ", "user noc ", "user boss "] {
        assert!(msgs.iter().any(|m| m.starts_with(who)), "{who}: {msgs:?}");
    }
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    // RouterOS' own `admin`, which no export shows, is seen live.
    assert_eq!(of(&r, "TG301").len(), 1);
    let safe = "# 2026-12-01 10:00:00 by RouterOS 7.18.2
/user group add name=audit policy=api,read
/user add name=auditor group=audit address=127.0.0.0/8
/user remove admin
/user add name=ops group=full address=10.0.0.0/24
";
    let r = audit_live(safe, "{}", false).await;
    assert!(of(&r, "TG710").is_empty() && of(&r, "TG301").is_empty());
}

/// A reader the router refuses (no `read` policy) learns nothing, and the facts say which
/// menus could not be read instead of passing for a router with no users, keys or log.
#[tokio::test(flavor = "current_thread")]
async fn menus_the_reader_may_not_read_are_named() {
    let blind = EXPORT.replace("policy=api,read", "policy=api");
    let r = audit_live(&blind, &cert("now-1d", ""), false).await;
    let unread: Vec<&str> = r.facts.unread.iter().map(|(m, _)| m.as_str()).collect();
    for m in ["/user", "/user/ssh-keys", "/certificate", "/log"] {
        assert!(unread.contains(&m), "{m}: {unread:?}");
    }
    assert!(r
        .facts
        .unread
        .iter()
        .all(|(_, e)| e.contains("not enough permissions")));
    assert!(!unread.contains(&"/system/routerboard"));
    assert!(of(&r, "TG704").is_empty());
}
