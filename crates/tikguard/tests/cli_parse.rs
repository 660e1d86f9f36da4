//! `tikguard parse` as a user runs it: exit codes, JSON shape, standard input, error messages.

use std::io::Write;
use std::process::{Command, Stdio};

fn tikguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn clean_example_exits_zero_with_version_statements_and_menus() {
    let out = tikguard()
        .args(["parse", "--format", "json", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["path"], "examples/isp-core-v7.rsc");
    assert_eq!(v["routeros_version"], "7.12.1");
    assert!(v["statements"].as_u64().unwrap() > 50);
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0);
    assert_eq!(v["menus"]["/ip service"], 8);
    assert_eq!(v["menus"]["/ip firewall filter"], 7);
    // Two groups and users beyond the built-ins: the CRM's.
    assert_eq!(v["menus"]["/user group"], 4);
}

#[test]
fn diagnostics_exit_one_and_carry_line_and_column() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"/ip service set api disabled=yes\n// not a comment\n")
        .unwrap();
    let out = tikguard()
        .args(["parse", "--format", "json"])
        .arg(f.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out.stdout)[0];
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(d["message"].as_str().unwrap().contains("//"));
    assert_eq!(v["routeros_version"], serde_json::Value::Null);
}

#[test]
fn text_output_quotes_the_offending_line_with_a_caret() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"/ip firewall filter\nadd comment=\"a\" b\" chain=input\n")
        .unwrap();
    let out = tikguard().arg("parse").arg(f.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(":2:18: error: unterminated string"), "{text}");
    assert!(
        text.contains("    2 | add comment=\"a\" b\" chain=input"),
        "{text}"
    );
    assert!(text.contains("|                  ^"), "{text}");
}

#[test]
fn unreadable_file_exits_two_naming_it_and_other_files_still_report() {
    let out = tikguard()
        .args([
            "parse",
            "--format",
            "json",
            "no/such/file.rsc",
            "examples/home-v7.rsc",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.rsc: no such file")
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["routeros_version"], "7.16.1");
}

#[test]
fn dash_reads_standard_input() {
    let mut child = tikguard()
        .args(["parse", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"# 2024-01-01 00:00:00 by RouterOS 7.15\n/ip service set api disabled=yes\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["path"], "<stdin>");
    assert_eq!(v["routeros_version"], "7.15");
}

#[test]
fn every_example_parses_cleanly() {
    for f in [
        "examples/home-v7.rsc",
        "examples/isp-core-v7.rsc",
        "examples/branch-v6.rsc",
    ] {
        let out = tikguard()
            .args(["parse", "--format", "json", f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{f}");
        let v = &json_lines(&out.stdout)[0];
        assert_eq!(v["warnings"].as_array().unwrap().len(), 0, "{f}: {v}");
    }
}

#[test]
fn dump_hides_secrets() {
    let out = tikguard()
        .args(["parse", "--dump", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("/user [1] *2 added group=billing name=crm password=***"),
        "{text}"
    );
    assert!(!text.contains("password=crm"));
}

#[test]
fn help_teaches_with_examples() {
    let out = tikguard().args(["parse", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Exit status"));
    assert!(text.contains("tikguard parse --format json"));
}

/// A line holding terminal escape sequences is shown with them escaped (`\x1b`), the caret
/// still under the byte the diagnostic points at; before, the bytes reached the terminal.
#[test]
fn control_bytes_in_a_diagnostic_line_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctl.rsc");
    std::fs::write(
        &path,
        "/ip address\nadd address=1.2.3.4/24 interface=e\x1b]0;pwn\x07x foo=\n",
    )
    .unwrap();
    let out = tikguard().arg("parse").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("interface=e\\x1b]0;pwn\\x07x"))
        .unwrap_or_else(|| panic!("{text}"));
    let caret = lines[at + 1].find('^').unwrap();
    assert_eq!(&lines[at][caret..caret + 1], "]", "{text}");
}

/// What Windows PowerShell's `>` writes (UTF-16LE with a byte order mark) parses as the
/// export it holds; before, it was refused as "binary data".
#[test]
fn a_utf16_export_as_powershell_writes_it_parses_like_the_utf8_one() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/isp-core-v7.rsc"),
    )
    .unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for u in utf8.replace('\n', "\r\n").encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let path = dir.path().join("router.rsc");
    std::fs::write(&path, utf16).unwrap();
    let out = tikguard()
        .args(["parse", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["routeros_version"], "7.12.1");
    assert_eq!(v["menus"]["/ip firewall filter"], 7);
}
