//! What an input is (whole export, one-menu export, edit on the default configuration, script)
//! and what the audit then says: every report names the kind; on a file that is not the whole
//! router, findings that rest on what it does not show are assumed (at most medium, not counted
//! by `--fail-on`), and what the file itself does is still a fact.

use tikguard::audit::kind::{classify, Kind};

#[path = "../../../testdata/corpus.rs"]
mod corpus;

mod common;
use common::tikguard;

const INPUTS: &str = "crates/tikguard/tests/inputs";

/// `testdata/corpus/KINDS.tsv`: each corpus file's kind, decided by reading it.
fn expected_kinds() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus::testdata().join("corpus/KINDS.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (f, k) = l.split_once('\t').expect("filename<TAB>kind");
            (f.to_string(), k.to_string())
        })
        .collect()
}

/// Every corpus export (the repository's, and `TIKGUARD_SHARED`'s when set) is classified as
/// `KINDS.tsv` says; in particular every whole export, with a header or laid out as `/export`
/// writes one, is a whole export, and no one-menu export, defconf edit or script is.
#[test]
fn corpus_files_are_the_kinds_their_reading_found() {
    let kinds = expected_kinds();
    let mut wrong = Vec::new();
    let mut whole = 0;
    let entries = corpus::corpus();
    for e in &entries {
        let want = kinds
            .iter()
            .find(|(f, _)| *f == e.file)
            .map(|(_, k)| k.as_str())
            .unwrap_or_else(|| panic!("{} has no row in KINDS.tsv", e.file));
        let parsed = routeros_config::parse(std::fs::read(&e.path).unwrap());
        let got = classify(&parsed);
        if got.kind.as_str() != want {
            wrong.push(format!(
                "{}: {} ({}), KINDS.tsv says {want}",
                e.file,
                got.kind.as_str(),
                got.why
            ));
        }
        whole += usize::from(got.kind == Kind::WholeExport);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(whole > 0 && entries.len() >= corpus::carried(), "{whole}");
}

fn run(args: &[&str]) -> (i32, String) {
    let out = tikguard().args(args).output().unwrap();
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// A one-menu export, an edit on the default configuration and a provisioning script each say
/// what they are in text (first line), JSON (`input_kind`), SARIF (a run property) and HTML,
/// and exit 0 under `--fail-on critical`: their criticals all rested on the RouterOS defaults
/// the file does not show. Before, each gave "`api` reachable from the internet" as critical.
#[test]
fn fragments_say_what_they_are_in_every_format_and_pass_fail_on_critical() {
    for (file, kind, words) in [
        (
            "one-menu-export.rsc",
            "one-menu-export",
            "(RouterOS 7.16.2; one-menu export)",
        ),
        (
            "../../../examples/defconf-edit.rsc",
            "defconf-edit",
            "(no version header; edit on the default configuration)",
        ),
        (
            "provisioning-script.rsc",
            "script",
            "(no version header; script)",
        ),
    ] {
        let path = match file.strip_prefix("../../../") {
            Some(example) => example.to_string(),
            None => format!("{INPUTS}/{file}"),
        };
        let (code, text) = run(&["audit", "--fail-on", "critical", &path]);
        assert_eq!(code, 0, "{text}");
        let first = text.lines().next().unwrap();
        assert_eq!(first, format!("{path} {words}"));
        assert!(text.contains("Not the whole router"), "{text}");
        assert!(
            text.contains("`/export`") && text.contains("--live"),
            "{text}"
        );

        let (code, json) = run(&["audit", "--format", "json", "--fail-on", "critical", &path]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let f = &v["files"][0];
        assert_eq!(f["input_kind"], kind);
        assert!(f["left_out"].as_u64().unwrap() > 10, "{f}");
        for x in f["findings"].as_array().unwrap() {
            // No finding above medium but the facts; the assumed ones are marked.
            if x["assumed"] == true {
                assert!(["medium", "low", "info"].contains(&x["severity"].as_str().unwrap()));
                assert!(x["severity_if_whole"].is_string());
            }
            assert_ne!(x["severity"], "critical", "{x}");
        }

        let (_, sarif) = run(&["audit", "--format", "sarif", &path]);
        let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        assert_eq!(v["runs"][0]["properties"]["input_kind"][&path], kind);
        for r in v["runs"][0]["results"].as_array().unwrap() {
            if r["properties"]["assumed"] == true {
                assert_eq!(r["level"], "note");
            }
        }

        let (_, html) = run(&["audit", "--format", "html", &path]);
        let section = &html[html.find("<section").unwrap()..];
        let kind_words = words.split("; ").nth(1).unwrap().trim_end_matches(')');
        assert!(
            section.contains(&format!("<span class=\"kind\">{kind_words}</span>")),
            "{kind_words}"
        );
        assert!(section.contains("<p class=\"partial\">"));
    }
}

/// What the fragment itself does is still a fact: a weak password on a user it adds is high
/// (the default `--fail-on high` fails), and an API it turns on and lets in from anywhere ahead
/// of every rule is critical.
#[test]
fn what_a_fragment_itself_does_is_a_fact() {
    let script = format!("{INPUTS}/provisioning-script.rsc");
    let (code, json) = run(&["audit", "--format", "json", &script]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let weak = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "TG305")
        .expect("the weak password");
    assert_eq!(weak["severity"], "high");
    assert!(weak.get("assumed").is_none());

    let opens = format!("{INPUTS}/fragment-opens-api.rsc");
    let (code, json) = run(&["audit", "--format", "json", "--fail-on", "critical", &opens]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let api = &v["files"][0]["findings"][0];
    assert_eq!(
        (api["rule"].as_str(), api["severity"].as_str()),
        (Some("TG201"), Some("critical"))
    );
    assert_eq!(api["line"], 3);
    assert!(api.get("assumed").is_none());
}

/// `--assume defconf` puts MikroTik's default configuration under the edit: its input chain
/// drops what does not come from `LAN`, so winbox, which the edit lets in from `mgmt` ahead of
/// that drop, is reachable from that list alone on the WAN port; nothing is assumed any more.
#[test]
fn assume_defconf_puts_the_default_configuration_under_an_edit() {
    let path = "examples/defconf-edit.rsc";
    let (_, json) = run(&["audit", "--format", "json", "--assume", "defconf", path]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let f = &v["files"][0];
    assert_eq!(f["input_kind"], "defconf-edit");
    assert_eq!(f["assumed"], "defconf");
    assert_eq!(f["wan_interfaces"], serde_json::json!(["ether1"]));
    let rows = f["exposure"].as_array().unwrap();
    let reach = |svc: &str| {
        rows.iter()
            .find(|r| r["service"] == svc && r["family"] == "ipv4")
            .map(|r| r["reachable_from"].clone())
            .unwrap()
    };
    assert_eq!(reach("winbox"), serde_json::json!(["198.51.100.0/24"]));
    assert_eq!(reach("api"), serde_json::json!([]));
    let findings = f["findings"].as_array().unwrap();
    assert!(findings.iter().all(|x| x.get("assumed").is_none()));
    assert!(!findings
        .iter()
        .any(|x| x["rule"] == "TG201" || x["rule"] == "TG112"));
}

/// `--assume blank` audits the file as the whole router: RouterOS' defaults under it are facts
/// (the API reachable from everywhere, as on a router configured by this script alone).
#[test]
fn assume_blank_audits_the_file_as_the_whole_router() {
    let path = format!("{INPUTS}/provisioning-script.rsc");
    let (code, text) = run(&["audit", "--assume", "blank", "--fail-on", "critical", &path]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Audited as the whole router (--assume blank)."));
    assert!(text.contains("CRITICAL TG201 `api`"));
    assert!(!text.contains("ASSUMED"));
}

/// A whole export is told so and nothing in it is assumed, `--assume` or not.
#[test]
fn a_whole_export_is_whole_and_ignores_assume() {
    let (_, text) = run(&["audit", "--assume", "defconf", "examples/home-v7.rsc"]);
    assert_eq!(
        text.lines().next().unwrap(),
        "examples/home-v7.rsc (RouterOS 7.16.1; whole export)"
    );
    assert!(!text.contains("Not the whole router") && !text.contains("ASSUMED"));
}
