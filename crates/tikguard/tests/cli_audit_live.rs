//! `audit --live` against `tikguard emu --state` as processes: what reaches the terminal, the
//! HTML page and the JSON report from a router's hostile text, and what a file audit says of
//! the checks it cannot run.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

mod common;
use common::{tikguard, Proc};

const EXPORT: &str = "# 2026-12-01 10:00:00 by RouterOS 7.18.2
/user group add name=audit policy=api,read
/user add name=auditor group=audit
";

/// A user name and a log message carrying quotes, a newline, an ANSI escape and a bell.
const STATE: &str = r#"{
  "users": [{"name": "auditor", "group": "audit", "last-logged-in": "now"},
            {"name": "admin", "group": "full", "last-logged-in": "now"},
            {"name": "ev\"il\n\u001b[2J<b>x</b>\u0007", "group": "full"}],
  "log": [{"at": "now-1h", "topics": "system,error,critical",
           "message": "login failure for user \u001b[31m<script>\u0007 from 198.51.100.7 via ssh"}]
}"#;

struct Emu {
    _p: Proc,
    api: String,
    pw: std::path::PathBuf,
}

fn emu(dir: &std::path::Path) -> Emu {
    let (export, state, pw) = (dir.join("r.rsc"), dir.join("s.json"), dir.join("pw"));
    std::fs::write(&export, EXPORT).unwrap();
    std::fs::write(&state, STATE).unwrap();
    std::fs::write(&pw, "pass\n").unwrap();
    let mut child = tikguard()
        .args(["emu", "--api", "127.0.0.1:0", "--state"])
        .arg(&state)
        .arg("--password-file")
        .arg(format!("auditor={}", pw.display()))
        .arg(&export)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let api = lines.next().unwrap().unwrap()["api ".len()..].to_string();
    Emu {
        _p: Proc(child),
        api,
        pw,
    }
}

fn audit(e: &Emu, format: &str) -> (String, String) {
    let out = tikguard()
        .args([
            "audit", "--live", &e.api, "--plain", "--user", "auditor", "--format", format,
        ])
        .arg("--password-file")
        .arg(&e.pw)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hostile_router_text_is_escaped_on_the_terminal_and_in_html() {
    let dir = tempfile::tempdir().unwrap();
    let e = emu(dir.path());
    let (text, err) = audit(&e, "text");
    assert!(
        text.contains("TG701") && text.contains("TG707"),
        "{text}\n{err}"
    );
    assert!(text.contains("(read live)"), "{text}");
    for bad in ['\u{1b}', '\u{7}'] {
        assert!(!text.contains(bad), "{text:?}");
    }
    // The name's newline stays inside its finding's line.
    let line = text
        .lines()
        .find(|l| l.contains("TG701") && l.contains("ev"))
        .unwrap();
    assert!(line.contains("never logged in"), "{line}");
    let (html, _) = audit(&e, "html");
    assert!(html.contains("TG707"));
    assert!(!html.contains("<script>") && !html.contains("<b>x</b>"));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{7}'));
    let (json, _) = audit(&e, "json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rules: Vec<&str> = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"TG707"), "{rules:?}");
    assert!(v["files"][0].get("need_live").is_none());
    // SARIF: each live finding indexes its own rule in the driver's list.
    let (sarif, _) = audit(&e, "sarif");
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let run = &v["runs"][0];
    let live: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("TG7"))
        .collect();
    assert!(!live.is_empty());
    for r in live {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][i]["id"], r["ruleId"]);
        assert!(r["message"]["text"].as_str().unwrap().contains("read live"));
    }
}

#[test]
fn a_file_audit_says_how_many_checks_need_live_and_rules_marks_them() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.rsc");
    std::fs::write(&f, EXPORT).unwrap();
    let out = tikguard().arg("audit").arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10 checks need --live"), "{text}");
    let out = tikguard()
        .args(["audit", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["need_live"], 10);
    let out = tikguard()
        .args(["audit", "--format", "html"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("10 checks need --live"));
    let out = tikguard().args(["explain", "TG704"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("invalid-after"));
    let out = tikguard().arg("rules").output().unwrap();
    let rules = String::from_utf8_lossy(&out.stdout);
    let live: Vec<&str> = rules.lines().filter(|l| l.ends_with("(live)")).collect();
    assert_eq!(live.len(), 10, "{rules}");
    assert!(live.iter().all(|l| l.starts_with("TG7")));
}

#[test]
fn emu_help_documents_the_state_file_and_a_bad_one_is_refused_by_name() {
    let out = tikguard().args(["emu", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for key in [
        "ssh-keys",
        "certificates",
        "last-logged-in",
        "check-for-updates",
        "log-repeat",
    ] {
        assert!(help.contains(key), "{key}: {help}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (export, state) = (dir.path().join("r.rsc"), dir.path().join("bad.json"));
    std::fs::write(&export, EXPORT).unwrap();
    std::fs::write(
        &state,
        "{\"certificates\": [{\"name\": \"c\", \"invalid-after\": \"soon\"}]}",
    )
    .unwrap();
    let out = tikguard()
        .args(["emu", "--api", "127.0.0.1:0", "--state"])
        .arg(&state)
        .arg(&export)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("`soon` is not a time"),
        "{err}"
    );
}
