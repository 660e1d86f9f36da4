//! `audit --live` sees what the export shows: every export of the corpus (and the shipped
//! examples, and `testdata/live/`: small exports that each make a rule depend on a menu the
//! real exports do not exercise on their WAN side) is served by the
//! emulator over a real socket on 127.0.0.1, read back with `live::fetch` (what `audit --live`
//! and `harden --live` run), and audited; the findings and the exposure must be those of the
//! file. A menu a rule or the exposure reads that `live` forgets fails here.
//!
//! What the two sides cannot share, by design, and how the test deals with it:
//! - the router must let the reader in: the test adds a group `parity` with `api,read` (what an
//!   audit account has, no `sensitive`) and a user in it, and when the export's `api` service is
//!   disabled or limited to other addresses, sets it open, on both sides (the file audited is
//!   the export plus those lines, so both sides audit the same router);
//! - a router always knows its version: an export without one gets the emulator's (7.18) as
//!   its header, on both sides;
//! - secrets: user passwords never come over the API ([`NEVER_LIVE`]); without `sensitive` the
//!   API leaves other secrets out (and `/ppp/secret` is read without passwords on purpose), so
//!   rules that look at a secret's value are compared by rule only ([`SECRET_VALUE`]); what
//!   they say of a secret they cannot see is pinned by the two tests at the end (they say they
//!   cannot tell, never "no secret" or "the default `public`");
//! - defaults: an export leaves them out and a router prints them; the emulator prints them as
//!   RouterOS does (`emu::defaults`), so the live side reads values the file never wrote;
//! - line numbers and evidence: a live router has no export lines, so findings are compared by
//!   rule, severity and message.

use std::collections::HashMap;

use routeros_api::{Client, Options, Security};
use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};
use tikguard::emu;

#[path = "../../../testdata/corpus.rs"]
mod corpus;

/// Rules that look at a user's password: RouterOS never returns `/user` passwords over the API
/// (`print` has no `password` property, whatever the policy), so a live audit cannot find these.
const NEVER_LIVE: &[&str] = &["TG305"];

/// Rules whose finding depends on a secret's value, which the API leaves out for a reader
/// without the `sensitive` policy (the emulator as RouterOS: `is_secret_in`): the SNMP
/// community's name, the RoMON secret, Wi-Fi keys. Compared by rule only (how many findings),
/// not by message or severity, which name or weigh the secret.
const SECRET_VALUE: &[&str] = &["TG119", "TG121", "TG124"];

/// What a file's finding says of a RouterOS default the export leaves out; a live router
/// shows every setting, so its finding does not say it.
const DEFAULT_NOTE: &str = " (RouterOS default; the export does not mention it)";

const PASSWORD: &str = "parity-pass";

/// The export as the test serves it: a version header when it has none, a reader account,
/// and the `api` service open to 127.0.0.1 when it is not.
fn servable(bytes: &[u8]) -> Vec<u8> {
    let (config, _) = Config::load(bytes.to_vec());
    let mut out = Vec::new();
    if config.version.is_none() {
        out.extend_from_slice(b"# 2025-01-01 00:00:00 by RouterOS 7.18\n");
    }
    out.extend_from_slice(bytes);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(
        b"/user group add name=parity policy=api,read\n/user add name=parity group=parity\n",
    );
    let api = config.menu("/ip service").and_then(|m| m.by_name("api"));
    let open =
        api.is_some_and(|s| !s.is_disabled() && s.get("address").is_none_or(|a| a.is_empty()));
    if !open {
        out.extend_from_slice(b"/ip service set api disabled=no address=\"\"\n");
    }
    out
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    findings: Vec<(String, String, String)>,
    exposure: Vec<String>,
}

fn seen(config: &Config) -> Seen {
    let a = audit::run(config, &WanChoice::default(), &Selection::default());
    let mut findings: Vec<_> = a
        .findings
        .iter()
        .filter(|f| !NEVER_LIVE.contains(&f.rule))
        .map(|f| {
            if SECRET_VALUE.contains(&f.rule) {
                return (f.rule.to_string(), String::new(), String::new());
            }
            (
                f.rule.to_string(),
                format!("{:?}", f.severity),
                f.message.replace(DEFAULT_NOTE, ""),
            )
        })
        .collect();
    findings.sort();
    let mut exposure: Vec<String> = a
        .exposure
        .rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    exposure.sort();
    Seen { findings, exposure }
}

#[tokio::test(flavor = "current_thread")]
async fn every_corpus_export_audits_the_same_live_as_from_the_file() {
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut files: Vec<std::path::PathBuf> = corpus::corpus().into_iter().map(|e| e.path).collect();
    for dir in [
        corpus::testdata().join("live"),
        corpus::testdata().join("../examples"),
    ] {
        let mut more: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|d| d.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rsc"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let bytes = servable(&std::fs::read(path).unwrap());
        let (file_config, _) = Config::load(bytes.clone());
        let want = seen(&file_config);

        let passwords = HashMap::from([("parity".to_string(), PASSWORD.to_string())]);
        let router = emu::router_from(file_config.clone(), passwords, None);
        let emulator = emu::start(
            router,
            emu::Options {
                api: Some("127.0.0.1:0".parse().unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let addr = emulator.api.unwrap().to_string();
        let client = Client::connect(&Options::new(addr, Security::Plain))
            .await
            .unwrap();
        if let Err(err) = client.login("parity", PASSWORD).await {
            failures.push(format!("{}: login: {err}", name));
            continue;
        }
        let (live_bytes, _) = tikguard::live::fetch(&client)
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", name));
        let (live_config, _) = Config::load(live_bytes.clone());
        let got = seen(&live_config);
        compared += 1;
        if got != want {
            let only = |a: &[(String, String, String)], b: &[(String, String, String)]| {
                a.iter()
                    .filter(|x| !b.contains(x))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let only_e = |a: &[String], b: &[String]| {
                a.iter()
                    .filter(|x| !b.contains(x))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            failures.push(format!(
                "{}:\n  findings only from the file: {:?}\n  findings only live: {:?}\n  exposure only from the file: {:?}\n  exposure only live: {:?}",
                name,
                only(&want.findings, &got.findings),
                only(&got.findings, &want.findings),
                only_e(&want.exposure, &got.exposure),
                only_e(&got.exposure, &want.exposure),
            ));
        }
    }
    eprintln!("{compared} exports compared, {} differ", failures.len());
    assert!(
        compared >= corpus::carried() - 1,
        "only {compared} compared"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Audits `export` live through the emulator, read by a user of a group with `policy`.
async fn live_findings(export: &str, policy: &str) -> Vec<(String, String, String)> {
    let text = format!(
        "{export}/user group add name=reader policy={policy}\n/user add name=reader group=reader\n"
    );
    let (config, p) = Config::load(text.into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let passwords = HashMap::from([("reader".to_string(), PASSWORD.to_string())]);
    let emulator = emu::start(
        emu::router_from(config, passwords, None),
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
    client.login("reader", PASSWORD).await.unwrap();
    let (_, live) = tikguard::live::fetch(&client).await.unwrap();
    let a = audit::run(&live, &WanChoice::default(), &Selection::default());
    a.findings
        .iter()
        .map(|f| {
            (
                f.rule.to_string(),
                format!("{:?}", f.severity),
                f.message.clone(),
            )
        })
        .collect()
}

const SECRETS_EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/ip dhcp-client
add interface=ether1
/tool romon
set enabled=yes secrets=short
/snmp
set enabled=yes
/snmp community
add addresses=0.0.0.0/0 name=s3cret-community
";

fn of<'a>(f: &'a [(String, String, String)], rule: &str) -> Vec<&'a (String, String, String)> {
    f.iter().filter(|(r, _, _)| r == rule).collect()
}

/// RouterOS shows RoMON's secrets only to a reader with the `sensitive` policy: read without
/// it, the live audit says it cannot tell, never "without a secret".
#[tokio::test(flavor = "current_thread")]
async fn romon_secrets_hidden_from_the_reader_are_not_reported_missing() {
    let without = live_findings(SECRETS_EXPORT, "api,read").await;
    let tg121 = of(&without, "TG121");
    assert_eq!(tg121.len(), 1, "{without:?}");
    assert!(tg121[0].2.contains("cannot tell"), "{tg121:?}");
    assert!(!tg121[0].2.contains("without a secret"), "{tg121:?}");
    // With `sensitive` the live audit says what the file says: the secret is short.
    let with = live_findings(SECRETS_EXPORT, "api,read,sensitive").await;
    let tg121 = of(&with, "TG121");
    assert_eq!(tg121.len(), 1, "{with:?}");
    assert!(tg121[0].2.contains("shorter than 12"), "{tg121:?}");
    assert_eq!(tg121[0].1, "Medium");
}

/// The SNMP community's name is the community itself, hidden without `sensitive`: read
/// without it, the live audit does not call it the default `public`.
#[tokio::test(flavor = "current_thread")]
async fn an_snmp_community_hidden_from_the_reader_is_not_called_public() {
    let without = live_findings(SECRETS_EXPORT, "api,read").await;
    let tg119 = of(&without, "TG119");
    assert_eq!(tg119.len(), 1, "{without:?}");
    assert!(!tg119[0].2.contains("the default community"), "{tg119:?}");
    assert!(tg119[0].2.contains("cannot tell"), "{tg119:?}");
    let with = live_findings(SECRETS_EXPORT, "api,read,sensitive").await;
    let tg119 = of(&with, "TG119");
    assert_eq!(tg119.len(), 1, "{with:?}");
    assert!(tg119[0].2.contains("community #1"), "{tg119:?}");
    assert!(!tg119[0].2.contains("cannot tell"), "{tg119:?}");
    assert_eq!(tg119[0].1, "Medium");
}

const GRE_EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/interface gre
add name=gre-noc remote-address=198.51.100.9 ipsec-secret=a-long-shared-secret
add name=gre-bare remote-address=198.51.100.10
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=10.255.0.1/30 interface=gre-noc
add address=10.255.1.1/30 interface=gre-bare
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input in-interface=gre-noc
add action=accept chain=input in-interface=gre-bare
add action=drop chain=input
";

/// RouterOS shows a GRE tunnel's `ipsec-secret` only to a reader with `sensitive` (MikroTik's
/// User manual: the `sensitive` policy grants seeing passwords and other sensitive
/// information): read without it, a tunnel that encrypts is not called plain encapsulation
/// with certainty; TG220 says it is approximated and stays at medium.
#[tokio::test(flavor = "current_thread")]
async fn a_tunnel_secret_hidden_from_the_reader_is_not_reported_missing() {
    let without = live_findings(GRE_EXPORT, "api,read").await;
    let tg220 = of(&without, "TG220");
    assert_eq!(tg220.len(), 2, "{without:?}");
    for f in &tg220 {
        assert!(f.2.contains("approximated"), "{f:?}");
        assert!(!f.2.contains("does not encrypt"), "{f:?}");
        assert_eq!(f.1, "Medium", "{f:?}");
    }
    // With `sensitive`: the tunnel with a secret encrypts, the bare one is certain.
    let with = live_findings(GRE_EXPORT, "api,read,sensitive").await;
    let tg220 = of(&with, "TG220");
    assert_eq!(tg220.len(), 1, "{with:?}");
    assert!(tg220[0].2.contains("`gre-bare`"), "{tg220:?}");
    assert!(tg220[0].2.contains("does not encrypt"), "{tg220:?}");
    assert_eq!(tg220[0].1, "High");
}
