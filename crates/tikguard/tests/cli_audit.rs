//! `tikguard audit`, `rules` and `explain` as a user runs them.

use std::process::Command;

fn tikguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = tikguard().args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), v)
}

#[test]
fn isp_example_fails_on_high_and_names_the_open_api_rule() {
    let (code, v) = json(&["audit", "--format", "json", "examples/isp-core-v7.rsc"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["schema_version"], 1);
    let f = &v["files"][0];
    assert_eq!(f["path"], "examples/isp-core-v7.rsc");
    assert_eq!(f["routeros_version"], "7.12.1");
    let findings = f["findings"].as_array().unwrap();
    let tg201 = findings
        .iter()
        .find(|x| x["rule"] == "TG201" && x["message"].as_str().unwrap().contains("ipv4"))
        .expect("TG201 for IPv4");
    assert_eq!(tg201["severity"], "critical");
    // Located at the "billing API" accept rule.
    assert_eq!(tg201["line"], 41);
    assert!(tg201["fix"].as_array().unwrap().len() >= 2);
    let api = f["exposure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "api" && r["family"] == "ipv4")
        .unwrap();
    assert_eq!(api["reachable_from"], serde_json::json!(["0.0.0.0/0"]));
    assert_eq!(api["interface"], "vlan100-uplink");
    assert_eq!(api["port"], 8728);
    // The CRM password never appears.
    assert!(!serde_json::to_string(&v).unwrap().contains("password=crm"));
}

#[test]
fn fail_on_and_select_control_the_exit_status() {
    let (code, _) = json(&[
        "audit",
        "--format",
        "json",
        "--fail-on",
        "critical",
        "--select",
        "TG101",
        "examples/isp-core-v7.rsc",
    ]);
    assert_eq!(code, Some(0), "TG101 is high, below --fail-on critical");
    let (code, v) = json(&[
        "audit",
        "--format",
        "json",
        "--select",
        "TG1",
        "--ignore",
        "TG101",
        "examples/isp-core-v7.rsc",
    ]);
    assert_eq!(code, Some(1));
    let rules: Vec<&str> = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.iter().all(|r| r.starts_with("TG1") && *r != "TG101"),
        "{rules:?}"
    );
}

#[test]
fn unknown_rule_id_is_a_usage_error() {
    let out = tikguard()
        .args(["audit", "--select", "TG999", "examples/home-v7.rsc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule matches `TG999`"));
}

#[test]
fn wan_override_changes_the_exposure_rows() {
    let (_, v) = json(&[
        "audit",
        "--format",
        "json",
        "--wan",
        "bridge",
        "examples/home-v7.rsc",
    ]);
    let rows = v["files"][0]["exposure"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["interface"] == "bridge"));
    // From the LAN bridge the default configuration lets everyone in.
    let api = rows
        .iter()
        .find(|r| r["service"] == "api" && r["family"] == "ipv4")
        .unwrap();
    assert_eq!(api["reachable_from"], serde_json::json!(["0.0.0.0/0"]));
    let (_, v) = json(&["audit", "--format", "json", "examples/home-v7.rsc"]);
    let rows = v["files"][0]["exposure"].as_array().unwrap();
    assert!(rows
        .iter()
        .all(|r| r["interface"] == "ether1" && r["reachable_from"].as_array().unwrap().is_empty()));
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.json");
    let out = tikguard()
        .args(["audit", "--format", "json", "-o"])
        .arg(&out_path)
        .arg("examples/branch-v6.rsc")
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(v["files"][0]["routeros_version"], "6.49.2");
}

#[test]
fn text_report_has_findings_fixes_and_the_exposure_table() {
    let out = tikguard()
        .args(["audit", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CRITICAL TG201"), "{text}");
    assert!(text.contains("examples/isp-core-v7.rsc:41:1"));
    assert!(text.contains(
        "| add action=accept chain=input comment=\"billing API\" dst-port=8728 protocol=tcp"
    ));
    assert!(text.contains("fix /ip service set api disabled=yes"));
    assert!(text.contains("Exposure (WAN: vlan100-uplink; from interface list WAN)"));
    assert!(
        text.contains("api-ssl   8729  v4    wan        vlan100-uplink   10.255.0.0/24"),
        "{text}"
    );
    // PPPoE subscribers are their own zone: the filter drops only the WAN list.
    assert!(text.contains("subscribers: <pppoe-*> (PPPoE server on vlan200-access)"));
    assert!(text.contains("api       8728  v4    subscriber <pppoe-*>        100.64.0.10/31"));
}

#[test]
fn rules_lists_and_explain_teaches() {
    let out = tikguard().arg("rules").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 34);
    assert!(text.contains("TG201  critical  api-reachable-from-wan"));
    let out = tikguard().args(["explain", "tg302"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# TG302 api-group-too-powerful (high)"));
    assert!(text.contains("CVE-2023-30799"));
    let out = tikguard().args(["explain", "TG000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// An empty file, text that is not RouterOS, and a binary `.backup` (magic `0xB1A1AC88`,
/// little-endian) are refused with a message that says how to make an export; none gets a
/// plausible "router with defaults" report. Every command that reads an export refuses them.
#[test]
fn empty_non_routeros_and_backup_files_are_refused_with_how_to_export() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.rsc");
    std::fs::write(&empty, "\n  \n").unwrap();
    let ssh = dir.path().join("ssh.rsc");
    std::fs::write(&ssh, "Permission denied (publickey).\n").unwrap();
    let backup = dir.path().join("router.backup");
    let mut b = 0xB1A1_AC88u32.to_le_bytes().to_vec();
    b.extend_from_slice(&[0x10, 0, 0, 0, 1, 2, 3, 4, 0, 0, 5]);
    std::fs::write(&backup, b).unwrap();
    for (file, says) in [
        (&empty, "is empty"),
        (&ssh, "does not look like a RouterOS export"),
        (&backup, "binary backup"),
    ] {
        for cmd in [
            &["audit"][..],
            &["parse"][..],
            &[
                "harden",
                "--api-client",
                "192.0.2.0/24",
                "--mgmt",
                "192.0.2.0/24",
            ][..],
        ] {
            let out = tikguard().args(cmd).arg(file).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(says) && err.contains("/export"),
                "{cmd:?} {}: {err}",
                file.display()
            );
            assert_ne!(out.status.code(), Some(0), "{cmd:?}");
            assert!(
                out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("finding")
            );
        }
    }
}

/// Control bytes from a router's text (an interface name, a comment) never reach the terminal
/// raw: the text report shows them as `\xNN`.
#[test]
fn control_characters_in_the_export_are_escaped_in_the_text_report() {
    let dir = tempfile::tempdir().unwrap();
    let rsc = dir.path().join("evil.rsc");
    std::fs::write(
        &rsc,
        "# 2025-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=\"ether1\\1B]0;pwned\\07\" list=WAN\n/ip firewall filter add chain=input action=accept comment=\"ok\\1B[2J\"\n",
    )
    .unwrap();
    let out = tikguard().args(["audit"]).arg(&rsc).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.stdout.contains(&0x1b), "raw ESC in: {text}");
    assert!(!out.stdout.contains(&0x07), "raw BEL in: {text}");
    assert!(text.contains("\\x1b"), "{text}");
}

/// SNMP v1/v2c community names are secrets: never in any report format.
#[test]
fn snmp_community_names_never_reach_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let rsc = dir.path().join("snmp.rsc");
    std::fs::write(
        &rsc,
        "# 2025-01-01 00:00:00 by RouterOS 7.16\n/snmp community\nset [ find default=yes ] name=s3cretcommunity addresses=0.0.0.0/0\nadd name=an0thersecret addresses=0.0.0.0/0\n/snmp set enabled=yes\n/tool e-mail set password=mailpass99 server=192.0.2.5\n/routing bgp connection add name=up remote.address=192.0.2.1 local.role=ebgp tcp-md5-key=md5secret7\n",
    )
    .unwrap();
    for format in ["text", "json", "sarif", "html"] {
        let out = tikguard()
            .args(["audit", "--format", format])
            .arg(&rsc)
            .output()
            .unwrap();
        let all = String::from_utf8_lossy(&out.stdout);
        for secret in [
            "s3cretcommunity",
            "an0thersecret",
            "mailpass99",
            "md5secret7",
        ] {
            assert!(!all.contains(secret), "{format} shows {secret}");
        }
    }
    let out = tikguard()
        .args(["parse", "--dump"])
        .arg(&rsc)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "s3cretcommunity",
        "an0thersecret",
        "mailpass99",
        "md5secret7",
    ] {
        assert!(!dump.contains(secret), "parse --dump shows {secret}");
    }
}

/// `--wan`/`--wan-list` naming what the configuration does not have is a usage error listing
/// what it has.
#[test]
fn wan_naming_an_unknown_interface_or_list_is_a_usage_error_listing_what_exists() {
    let out = tikguard()
        .args(["audit", "--wan", "ether99", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--wan ether99") && err.contains("it has:"),
        "{err}"
    );
    let out = tikguard()
        .args(["audit", "--wan-list", "NOPE", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--wan-list NOPE") && err.contains("WAN"),
        "{err}"
    );
    let out = tikguard()
        .args([
            "harden",
            "--api-client",
            "192.0.2.0/24",
            "--mgmt",
            "192.0.2.0/24",
            "--wan",
            "ether99",
            "examples/isp-core-v7.rsc",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The report opens with the few changes that remove the most risk, each naming the findings
/// it addresses (text and HTML).
#[test]
fn reports_open_with_a_fix_first_block() {
    let out = tikguard()
        .args(["audit", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let block = text.split("FIX FIRST").nth(1).expect("a fix-first block");
    let first = block.lines().nth(1).unwrap_or("");
    assert!(
        first.trim_start().starts_with("1. ") && first.contains("TG201"),
        "{block}"
    );
    // Each fix whole: the address list is filled and then used by the filter and the service
    // (a lone `address-list add` changes nothing).
    let item: Vec<&str> = block
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("2. "))
        .map(str::trim)
        .collect();
    assert_eq!(
        item,
        [
            "1. /ip firewall address-list add address=<api client> list=api-clients  (TG201)",
            "/ip firewall filter set [ find comment=\"billing API\" ] src-address-list=api-clients",
            "/ip firewall filter add chain=input protocol=tcp dst-port=8728 src-address-list=!api-clients action=drop place-before=[:pick [find where dynamic=no] 0]",
            "/ip service set api address=<api client>/32",
        ],
        "{block}"
    );
    assert!(text.find("FIX FIRST") < text.find("CRITICAL"), "{text}");
    let out = tikguard()
        .args(["audit", "--format", "html", "examples/isp-core-v7.rsc"])
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("<h3>Fix first</h3><ol class=\"fixfirst\"><li><pre><code>/ip firewall address-list add address=&lt;api client&gt; list=api-clients\n/ip firewall filter set"),
        "no fix-first list with whole fixes"
    );
}

/// What `tikguard parse` warns about (a statement read but left out of the model) is in the
/// audit's diagnostics too, in every format, at its line: the audit did not see what it does.
#[test]
fn parse_warnings_of_the_input_are_in_the_audit_diagnostics() {
    let dir = std::env::temp_dir().join(format!("tikguard-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("warn.rsc");
    std::fs::write(
        &file,
        "# 2024-01-01 00:00:00 by RouterOS 7.16\n/ip firewall filter\nadd chain=input action=drop place-before=[find comment=nowhere]\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (_, v) = json(&["audit", "--format", "json", path]);
    let d = v["files"][0]["diagnostics"].as_array().unwrap();
    assert!(
        d.iter().any(|x| x["level"] == "warning"
            && x["line"] == 3
            && x["message"].as_str().unwrap().contains("place-before")),
        "{d:?}"
    );
    let (_, s) = json(&["audit", "--format", "sarif", path]);
    let n = s["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        n.iter().any(|x| x["level"] == "warning"
            && x["locations"][0]["physicalLocation"]["region"]["startLine"] == 3),
        "{n:?}"
    );
    let out = tikguard().args(["audit", path]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warn.rsc:3:1: parse warning: place-before="),
        "{text}"
    );
    let out = tikguard()
        .args(["audit", "--format", "html", path])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("parse warning"));
    std::fs::remove_dir_all(&dir).unwrap();
}
