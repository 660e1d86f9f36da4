//! Reachable sets too large to write out (issue 23): past 64 prefixes every report writes a
//! summary, "0.0.0.0/0 except list `blocklist`" where the address lists say so exactly; sets of
//! at most 64 prefixes are written as before; `--full-sets` writes every prefix in JSON.

use std::fmt::Write as _;

use routeros_config::Config;
use tikguard::audit::addrset::AddrSet;
use tikguard::audit::exposure::{analyse, WanChoice};
use tikguard::audit::summary::LIMIT;

mod common;
use common::{multitool_complaints, tikguard};

const HEAD: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n";

/// `n` scattered public addresses, deterministic, none adjacent to another.
fn scattered(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            let x = i.wrapping_mul(2_654_435_761) % (1 << 22);
            // 11.0.0.0 upwards, every other address: never adjacent, always public.
            format!(
                "{}.{}.{}.{}",
                11 + (x >> 16),
                (x >> 8) & 255,
                x & 254,
                1 + (i % 2)
            )
        })
        .collect()
}

/// An export whose input chain drops the sources of a `blocklist` of `n` entries and ends with
/// the default accept, as a router leaning on a block list does.
fn blocklist_export(n: u32, list: &str) -> String {
    let mut s = String::from(HEAD);
    s.push_str("/ip firewall address-list\n");
    for a in scattered(n) {
        let _ = writeln!(s, "add address={a} list={list}");
    }
    let _ = writeln!(
        s,
        "/ip firewall filter\nadd action=drop chain=input src-address-list={list}"
    );
    s
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = tikguard().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn api_v4(v: &serde_json::Value) -> &serde_json::Value {
    v["files"][0]["exposure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "api" && r["family"] == "ipv4")
        .unwrap()
}

/// The set a list of prefixes covers.
fn union_of(prefixes: &[serde_json::Value]) -> AddrSet {
    let ranges = prefixes
        .iter()
        .map(|p| {
            let a = routeros_config::value::parse_addr(p.as_str().unwrap().as_bytes()).unwrap();
            (a.range.start, a.range.end)
        })
        .collect();
    AddrSet::from_ranges(false, ranges)
}

#[test]
fn everything_but_a_5000_entry_block_list_is_written_as_that_in_json_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "bl.rsc", &blocklist_export(5000, "blocklist"));
    let (code, out, err) = run(&["audit", "--format", "json", &f]);
    assert!(code < 2, "{err}");
    // Unsummarised this JSON is over 10 MB (five rows of about 89,000 prefixes).
    assert!(out.len() < 100_000, "JSON of {} bytes", out.len());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api = api_v4(&v);
    let s = &api["reachable_summary"];
    assert_eq!(s["truncated"], true);
    assert_eq!(s["base"], serde_json::json!(["0.0.0.0/0"]));
    assert_eq!(
        s["except_lists"],
        serde_json::json!([{"name": "blocklist", "entries": 5000}])
    );
    assert_eq!(s["plus_lists"], serde_json::json!([]));
    assert_eq!(s["address_count"], ((1u64 << 32) - 5000).to_string());
    let full = {
        let (c, _) = Config::load(blocklist_export(5000, "blocklist").into_bytes());
        let e = analyse(&c, &WanChoice::default());
        e.rows
            .iter()
            .find(|r| r.service == "api" && r.family == "ipv4")
            .unwrap()
            .set
            .to_prefixes()
    };
    assert!(full.len() > 80_000);
    assert_eq!(s["prefix_count"], full.len());
    assert_eq!(api["reachable_from"], serde_json::json!(full[..LIMIT]));
    // Severity comes from the set, not from how it is written.
    let tg201 = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "TG201")
        .unwrap();
    assert_eq!(tg201["severity"], "critical");
    assert!(tg201["message"]
        .as_str()
        .unwrap()
        .contains("over ipv4 from 0.0.0.0/0 except list `blocklist` (5,000 entries)"));

    let (_, text, _) = run(&["audit", &f]);
    assert!(text.len() < 20_000, "text of {} bytes", text.len());
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("api ") && l.contains(" v4 "))
        .unwrap();
    assert!(
        row.ends_with("ether1           0.0.0.0/0 except list `blocklist` (5,000 entries)"),
        "{row}"
    );
}

#[test]
fn full_sets_writes_every_prefix_and_they_are_the_summary_s_form() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "bl.rsc", &blocklist_export(5000, "blocklist"));
    let (code, out, err) = run(&["audit", "--format", "json", "--full-sets", &f]);
    assert!(code < 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api = api_v4(&v);
    let s = &api["reachable_summary"];
    assert_eq!(s["truncated"], false);
    let all = api["reachable_from"].as_array().unwrap();
    assert_eq!(all.len() as u64, s["prefix_count"].as_u64().unwrap());
    // The prefixes are exactly the base minus the list's entries.
    let listed = union_of(
        &scattered(5000)
            .iter()
            .map(|a| serde_json::json!(format!("{a}/32")))
            .collect::<Vec<_>>(),
    );
    let base = union_of(s["base"].as_array().unwrap());
    assert_eq!(union_of(all), base.minus(&listed));
    assert_eq!(union_of(all).prefix_count(), all.len());

    // JSON only: the other formats refuse it rather than ignore it.
    let (code, out, err) = run(&["audit", "--full-sets", &f]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("--full-sets applies to --format json only"),
        "{err}"
    );
}

/// A service open to exactly `n` separate addresses (its `address=`): `n` prefixes.
fn n_addresses(n: u32) -> String {
    let addrs: Vec<String> = (0..n)
        .map(|i| format!("198.18.{}.{}", i / 100, 2 * (i % 100) + 1))
        .collect();
    format!("{HEAD}/ip service set api address={}\n", addrs.join(","))
}

#[test]
fn a_set_of_at_most_64_prefixes_is_written_as_before_and_65_is_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let at = write(&dir, "64.rsc", &n_addresses(64));
    let (_, out, _) = run(&["audit", "--format", "json", &at]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api = api_v4(&v);
    // The row has the keys it always had (in name order here), and every prefix.
    let keys: Vec<&str> = api
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "by_default",
            "family",
            "interface",
            "port",
            "reachable_from",
            "service",
            "zone"
        ]
    );
    let prefixes: Vec<String> = (0..64)
        .map(|i| format!("198.18.0.{}/32", 2 * i + 1))
        .collect();
    assert_eq!(api["reachable_from"], serde_json::json!(prefixes));
    let (_, text, _) = run(&["audit", &at]);
    assert!(
        text.contains("198.18.0.1/32, 198.18.0.3/32, 198.18.0.5/32, 198.18.0.7/32 (+60 more)"),
        "{text}"
    );

    let over = write(&dir, "65.rsc", &n_addresses(65));
    let (_, out, _) = run(&["audit", "--format", "json", &over]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api = api_v4(&v);
    assert_eq!(api["reachable_from"].as_array().unwrap().len(), LIMIT);
    let s = &api["reachable_summary"];
    assert_eq!(s["prefix_count"], 65);
    assert_eq!(s["address_count"], "65");
    // No address list says what it is: no form, only counts.
    assert!(s.get("base").is_none());
    let (_, text, _) = run(&["audit", &over]);
    assert!(
        text.contains(
            "65 prefixes (65 addresses), the widest 198.18.0.1/32, 198.18.0.3/32, 198.18.0.5/32, 198.18.0.7/32"
        ),
        "{text}"
    );
}

#[test]
fn an_accepted_list_is_written_as_that_list() {
    let mut s = String::from(HEAD);
    s.push_str("/ip firewall address-list\n");
    for a in scattered(500) {
        let _ = writeln!(s, "add address={a} list=customers");
    }
    s.push_str("/ip firewall filter\nadd action=accept chain=input src-address-list=customers\nadd action=accept chain=input src-address=203.0.113.0/24\nadd action=drop chain=input\n");
    let (c, _) = Config::load(s.into_bytes());
    let e = analyse(&c, &WanChoice::default());
    let api = e
        .rows
        .iter()
        .find(|r| r.service == "api" && r.family == "ipv4")
        .unwrap();
    let sum = api.summary.as_ref().unwrap();
    assert_eq!(sum.base, Some(vec!["203.0.113.0/24".to_string()]));
    assert_eq!(sum.plus_lists[0].name, "customers");
    assert_eq!(
        api.brief(),
        "list `customers` (500 entries) plus 203.0.113.0/24"
    );
}

#[test]
fn a_hostile_list_name_is_escaped_in_text_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir,
        "bl.rsc",
        &blocklist_export(200, "\"<b>x</b>\\1B[31m\""),
    );
    let (_, text, _) = run(&["audit", &f]);
    assert!(
        text.contains("except list `<b>x</b>\\x1b[31m` (200 entries)"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
    let (_, html, _) = run(&["audit", "--format", "html", &f]);
    assert!(html.contains("except list `&lt;b&gt;x&lt;/b&gt;\\x1b[31m` (200 entries)"));
    assert!(!html.contains("<b>x"));
    // Bounded too: the cell is one line, not 3,600 prefixes.
    assert!(html.len() < 200_000, "HTML of {} bytes", html.len());
}

#[test]
fn sarif_for_a_5000_entry_block_list_is_bounded_names_the_list_and_passes_the_validator() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "bl.rsc", &blocklist_export(5000, "blocklist"));
    let (code, out, err) = run(&["audit", "--format", "sarif", &f]);
    assert!(code < 2, "{err}");
    // The rule catalogue (`tool.driver.rules`) is most of the file and grows with every rule;
    // what the 5,000 entries could inflate is the results: no message lists prefixes past three.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let results_len = serde_json::to_string(results).unwrap().len();
    assert!(results_len < 60_000, "SARIF results of {results_len} bytes");
    assert!(out.len() < 400_000, "SARIF of {} bytes", out.len());
    let tg201 = results.iter().find(|r| r["ruleId"] == "TG201").unwrap();
    assert!(tg201["message"]["text"]
        .as_str()
        .unwrap()
        .contains("0.0.0.0/0 except list `blocklist` (5,000 entries)"));
    assert_eq!(tg201["level"], "error");
    let Some(tool) = std::env::var_os("SARIF_MULTITOOL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set SARIF_MULTITOOL (see .ci/run)"
        );
        eprintln!("SARIF_MULTITOOL not set: validator check not run here");
        return;
    };
    let sarif = dir.path().join("bl.sarif");
    std::fs::write(&sarif, &out).unwrap();
    let complaints = multitool_complaints(tool.to_str().unwrap(), &sarif);
    assert!(complaints.is_empty(), "{complaints:#?}");
}
