//! `tikguard harden` as a user runs it: files written, JSON shape, exit codes, usage errors.

use std::process::Command;

fn tikguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

#[test]
fn writes_script_and_rollback_and_summarises_with_the_proof() {
    let dir = tempfile::tempdir().unwrap();
    let (script, undo) = (dir.path().join("h.rsc"), dir.path().join("undo.rsc"));
    let out = tikguard()
        .args([
            "harden",
            "examples/isp-core-v7.rsc",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "10.255.0.0/24",
            "-o",
        ])
        .arg(&script)
        .arg("--rollback")
        .arg(&undo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.contains("disable the plaintext API (8728)  [fixes TG101, TG103]"),
        "{summary}"
    );
    assert!(summary.contains("proof: findings"));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains(
        ":if (([:len [/ip firewall filter find where comment=tikguard:ip-mgmt-drop and dynamic=no]] = 0) && "
    ));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&undo).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&undo)
        .unwrap()
        .contains("/ip service set api disabled=no"));
}

#[test]
fn json_lists_changes_with_what_they_fix() {
    let out = tikguard()
        .args([
            "harden",
            "examples/home-v7.rsc",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "192.168.88.0/24",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["refused"], serde_json::Value::Null);
    let changes = v["changes"].as_array().unwrap();
    assert!(changes
        .iter()
        .any(|c| c["id"] == "service-api"
            && c["fixes"].as_array().unwrap().contains(&"TG101".into())));
    assert!(v["script"]
        .as_str()
        .unwrap()
        .contains("/ip service set api disabled=yes"));
}

#[test]
fn no_guards_script_appended_to_the_export_audits_clean_of_the_fixed_rules() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("h.rsc");
    let out = tikguard()
        .args([
            "harden",
            "examples/isp-core-v7.rsc",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "10.255.0.0/24",
            "--no-guards",
            "--syslog",
            "192.0.2.10:5514",
            "-o",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut all = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/isp-core-v7.rsc"
    ))
    .unwrap();
    all.extend(std::fs::read(&script).unwrap());
    let combined = dir.path().join("combined.rsc");
    std::fs::write(&combined, all).unwrap();
    let out = tikguard()
        .args(["audit", "--format", "json"])
        .arg(&combined)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for fixed in [
        "TG101", "TG102", "TG103", "TG104", "TG108", "TG201", "TG202", "TG203", "TG206", "TG501",
        "TG502",
    ] {
        assert!(!rules.contains(&fixed), "{fixed} still in {rules:?}");
    }
}

#[test]
fn mgmt_is_required_and_bad_prefixes_are_usage_errors() {
    let out = tikguard()
        .args([
            "harden",
            "examples/home-v7.rsc",
            "--api-client",
            "198.51.100.20",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mgmt"));
    let out = tikguard()
        .args([
            "harden",
            "examples/home-v7.rsc",
            "--api-client",
            "crm.example",
            "--mgmt",
            "10.0.0.0/8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`crm.example` is not an address or prefix")
    );
}

/// Without --api-client the API must be off: where it is on, the CRM would lose it, so it is a
/// usage error naming the service; where it is off (an access point, a switch) it stays off,
/// with no certificate made and no API port in the plan's rules.
#[test]
fn without_api_client_an_api_that_is_on_is_a_usage_error_and_one_that_is_off_stays_off() {
    let out = tikguard()
        .args([
            "harden",
            "examples/home-v7.rsc",
            "--mgmt",
            "192.168.88.0/24",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is on in") && err.contains("give --api-client"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("ap.rsc");
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/home-v7.rsc"),
    )
    .unwrap();
    text.push_str("\n/ip service\nset api disabled=yes\nset api-ssl disabled=yes\n");
    std::fs::write(&export, text).unwrap();
    let script = dir.path().join("h.rsc");
    let out = tikguard()
        .arg("harden")
        .arg(&export)
        .args(["--mgmt", "192.168.88.0/24", "-o"])
        .arg(&script)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the API (api, api-ssl) is off and stays off"),
        "{err}"
    );
    let s = std::fs::read_to_string(&script).unwrap();
    assert!(!s.contains("/certificate"), "{s}");
    assert!(!s.contains("api-ssl"), "{s}");
    assert!(!s.contains("8729"), "{s}");
    assert!(s.contains("tikguard:ip-mgmt-drop"), "{s}");
    // www-ssl on without a certificate still gets one, made for it, with the API still off.
    text_with(&export, "\n/ip service\nset www-ssl disabled=no\n");
    let out = tikguard()
        .arg("harden")
        .arg(&export)
        .args(["--mgmt", "192.168.88.0/24", "-o"])
        .arg(&script)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(summary.contains("825 days) for www-ssl"), "{summary}");
    let s = std::fs::read_to_string(&script).unwrap();
    assert!(
        s.lines().any(|l| l.starts_with("/ip service set www-ssl ")
            && l.contains(" certificate=tikguard-api")),
        "{s}"
    );
    assert!(s.contains("# api clients: none (the API stays off)"), "{s}");
    assert!(!s.contains("api-ssl"), "{s}");
}

/// Appends `more` to the file at `path`.
fn text_with(path: &std::path::Path, more: &str) {
    let mut t = std::fs::read_to_string(path).unwrap();
    t.push_str(more);
    std::fs::write(path, t).unwrap();
}

/// Without --api-client the API stays off, and nothing the API-only flags ask for is done:
/// `--create-api-user` would create no user, `--api-user` and `--api-group` restrict nobody,
/// `--api-password-file` is read for nothing, `--keep-plain-api` and `--api-port` keep and move
/// nothing. Each is a usage error naming the flag, rather than a plan that quietly leaves it out.
#[test]
fn without_api_client_flags_that_only_shape_the_api_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("ap.rsc");
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/home-v7.rsc"),
    )
    .unwrap();
    text.push_str("\n/ip service\nset api disabled=yes\nset api-ssl disabled=yes\n");
    std::fs::write(&export, text).unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "s3cret-password\n").unwrap();
    let pw = password.to_str().unwrap();
    for (flag, extra) in [
        ("--create-api-user", &["--create-api-user"][..]),
        ("--api-user", &["--api-user", "crm"][..]),
        ("--api-group", &["--api-group", "crm"][..]),
        (
            "--api-password-file",
            &["--create-api-user", "--api-password-file", pw][..],
        ),
        ("--keep-plain-api", &["--keep-plain-api"][..]),
        ("--api-port", &["--api-port", "8730"][..]),
    ] {
        let out = tikguard()
            .arg("harden")
            .arg(&export)
            .args(["--mgmt", "192.168.88.0/24", "-o", "/dev/null"])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains(flag) && err.contains("--api-client"),
            "{flag}: {err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
}

/// An access point (its address by DHCP on its only bridge, no NAT: the LAN side of the
/// network) with the API off: given an --api-client, api-ssl would be reachable from a side where
/// any host can use those addresses, and the refusal says what to change; without it the API
/// stays off and the plan is proven.
#[test]
fn an_access_points_refusal_says_what_to_change_and_without_api_client_it_is_planned() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("ap.rsc");
    std::fs::write(
        &export,
        "# 2024-01-02 12:00:00 by RouterOS 7.16\n\
         /interface bridge\nadd name=bridge1\n\
         /interface bridge port\nadd bridge=bridge1 interface=ether1\nadd bridge=bridge1 interface=ether2\n\
         /ip dhcp-client\nadd interface=bridge1\n\
         /ip service\nset api disabled=yes\nset api-ssl disabled=yes\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        tikguard()
            .arg("harden")
            .arg(&export)
            .args(["--mgmt", "192.168.88.0/24"])
            .args(extra)
            .args(["-o", "/dev/null"])
            .output()
            .unwrap()
    };
    let out = run(&["--api-client", "192.168.88.10"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("new high finding TG201"), "{err}");
    assert!(err.contains("leave out --api-client"), "{err}");
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("proof: findings"), "{summary}");
    // Layer 2 is left on the access point's LAN side, and the note says why in its terms.
    assert!(
        err.contains("looks like an access point or switch (its address by DHCP on `bridge1`"),
        "{err}"
    );
}

#[test]
fn hardening_the_hardened_result_is_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("h.rsc");
    let args = ["--api-client", "198.51.100.20", "--mgmt", "192.168.10.0/24"];
    tikguard()
        .args(["harden", "examples/branch-v6.rsc", "--no-guards", "-o"])
        .arg(&script)
        .args(args)
        .output()
        .unwrap();
    let mut all = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/branch-v6.rsc"
    ))
    .unwrap();
    all.extend(std::fs::read(&script).unwrap());
    let combined = dir.path().join("combined.rsc");
    std::fs::write(&combined, all).unwrap();
    let out = tikguard()
        .arg("harden")
        .arg(&combined)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to do"));
}

#[test]
fn ranges_every_address_and_versions_before_6_are_refused_and_any_ipv6_length_is_taken() {
    let run = |mgmt: &str, extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "examples/home-v7.rsc",
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                mgmt,
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run("192.168.88.10-192.168.88.20", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("use 192.168.88.10/31,192.168.88.12/30,192.168.88.16/30,192.168.88.20"),
        "{err}"
    );
    for all in ["0.0.0.0/0", "::/0"] {
        let (code, err) = run(all, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("no restriction"), "{err}");
    }
    let (code, err) = run("192.168.88.0/24", &["--target-version", "5.0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("6.0 to 7.x"), "{err}");
    let (code, err) = run("192.168.88.0/24,2001:db8::/32", &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_script_holding_a_password_is_0600_and_an_existing_rollback_becomes_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (script, undo, pw) = (
        dir.path().join("h.rsc"),
        dir.path().join("undo.rsc"),
        dir.path().join("pw"),
    );
    std::fs::write(&pw, "s3cret-Password\n").unwrap();
    std::fs::write(&undo, "old").unwrap();
    std::fs::set_permissions(&undo, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tikguard()
        .args([
            "harden",
            "examples/home-v7.rsc",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "192.168.88.0/24",
            "--create-api-user",
            "--api-password-file",
        ])
        .arg(&pw)
        .arg("-o")
        .arg(&script)
        .arg("--rollback")
        .arg(&undo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&script)
        .unwrap()
        .contains("password="));
    for f in [&script, &undo] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    // The summary on the terminal never shows it.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret"));
}

#[test]
fn control_bytes_from_the_router_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("r.rsc");
    std::fs::write(
        &cfg,
        "/system identity\nset name=\"r1\\1B[2J\\n/user add name=evil group=full\"\n",
    )
    .unwrap();
    let out = tikguard()
        .arg("harden")
        .arg(&cfg)
        .args(["--api-client", "198.51.100.20", "--mgmt", "192.168.88.0/24"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'));
    assert!(!text.lines().any(|l| l.starts_with("/user add")), "{text}");
}

/// A hostile `--mgmt-interface` (quotes, `$`, `[`, a line break, control bytes): one the
/// configuration does not have is refused on one escaped line; one it has is written as one
/// quoted value, and the script's statements are those of a plain name.
#[test]
fn a_hostile_mgmt_interface_name_is_refused_or_quoted() {
    let hostile = "lan\"$x[y]\n/user add name=evil\x01\x1b[2J";
    let dir = tempfile::tempdir().unwrap();
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/harden/insecure-guide.rsc"
    ))
    .unwrap();
    let run = |cfg: &std::path::Path, iface: &str| {
        tikguard()
            .arg("harden")
            .arg(cfg)
            .args(["--api-client", "198.51.100.20", "--mgmt", "192.168.88.0/24"])
            .args(["--mgmt-interface", iface])
            .output()
            .unwrap()
    };
    // Not in the configuration: refused, on one line, escaped.
    let plain = dir.path().join("plain.rsc");
    std::fs::write(&plain, &guide).unwrap();
    let out = run(&plain, hostile);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("tikguard: --mgmt-interface "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x01'), "{err:?}");
    // In the configuration (its LAN bridge so named): one quoted value.
    let named = |name: &str| {
        let v = tikguard::harden::script::value(name);
        format!(
            "{}\n/interface bridge\nadd name={v}\n",
            guide.replace("interface=bridge", &format!("interface={v}"))
        )
    };
    let shape = |script: &str| -> Vec<(String, String)> {
        let p = routeros_config::parse(script.as_bytes().to_vec());
        assert!(p.diagnostics.is_empty(), "{:?}\n{script}", p.diagnostics);
        p.statements
            .into_iter()
            .filter_map(|st| match st.kind {
                routeros_config::StatementKind::Command(c) => {
                    Some((c.menu.to_string(), c.verb.to_string()))
                }
                _ => None,
            })
            .collect()
    };
    let mut scripts = Vec::new();
    for name in [hostile, "lan0"] {
        let cfg = dir.path().join("named.rsc");
        std::fs::write(&cfg, named(name)).unwrap();
        let out = run(&cfg, name);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(!script.contains('\x1b') && !script.contains('\x01'));
        assert!(
            !script
                .lines()
                .any(|l| l.trim_start().starts_with("/user add")),
            "{script}"
        );
        if name == hostile {
            // The name reaches the script (the interface list's member), quoted and escaped.
            assert!(
                script.contains("interface=\"lan\\\"\\$x[y]\\n/user add name=evil\\01\\1B[2J\""),
                "{script}"
            );
        }
        scripts.push(shape(&script));
    }
    assert_eq!(scripts[0], scripts[1]);
}

/// The JSON report never carries the new API user's password (`--api-password-file`): the
/// script file written with `-o` (0600) holds it, the report shows `***`.
#[test]
fn the_json_report_never_carries_the_api_users_password() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("api.pass");
    std::fs::write(&pw, "ApiUs3r-pw-99\n").unwrap();
    let script = dir.path().join("h.rsc");
    let out = tikguard()
        .args(["harden", "crates/tikguard/tests/harden/insecure-guide.rsc"])
        .args(["--api-client", "198.51.100.20", "--mgmt", "192.168.88.0/24"])
        .args([
            "--create-api-user",
            "--format",
            "json",
            "--api-password-file",
        ])
        .arg(&pw)
        .arg("-o")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("ApiUs3r-pw-99"), "{stdout}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        j["script"].as_str().unwrap().contains("password=***"),
        "{j}"
    );
    assert!(std::fs::read_to_string(&script)
        .unwrap()
        .contains("ApiUs3r-pw-99"));
}
