//! What `tikguard harden` tells the operator beside the script: the proof (also without `-o`,
//! on standard error), the "who loses access" table, and both in `--format json`.

use std::process::Command;

fn tikguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

const FIXTURE: &str = "crates/tikguard/tests/harden/allow-lists.rsc";
const ARGS: [&str; 4] = ["--api-client", "198.51.100.20", "--mgmt", "192.168.88.0/24"];

#[test]
fn without_output_the_proof_and_the_losses_go_to_stderr() {
    let out = tikguard()
        .args(["harden", FIXTURE, "--replace-allow-lists"])
        .args(ARGS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("/ip service set winbox"), "{stdout}");
    assert!(stderr.contains("proof: findings"), "{stderr}");
    assert!(
        stderr.contains("who loses access (could reach it before"),
        "{stderr}"
    );
    assert!(stderr.contains("prefix 10.1.0.0/24: winbox"), "{stderr}");
    // Kept lists, no --mgmt-interface: nobody loses anything. Layer 2 stays on every interface
    // but the WAN's, which had it only because it was on everywhere (TG112/TG113's fix).
    let out = tikguard()
        .args(["harden", FIXTURE])
        .args(ARGS)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("  prefix "), "{stderr}");
    assert!(stderr.contains("who loses access: nobody"), "{stderr}");
}

#[test]
fn json_carries_the_proof_and_the_losses() {
    let out = tikguard()
        .args([
            "harden",
            FIXTURE,
            "--replace-allow-lists",
            "--format",
            "json",
        ])
        .args(ARGS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(j["proof"]["prefixes_checked"].as_u64().unwrap() > 0, "{j}");
    let losses = j["proof"]["losses"].as_array().unwrap();
    assert!(
        losses
            .iter()
            .any(|l| l["who"] == "10.1.0.0/24" && l["service"] == "winbox"),
        "{j}"
    );
}

#[test]
fn two_halves_of_the_internet_are_refused_and_the_routers_own_address_warned_about() {
    let out = tikguard()
        .args([
            "harden",
            FIXTURE,
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "0.0.0.0/1,128.0.0.0/1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("cover every IPv4 address together"), "{e}");
    let out = tikguard()
        .args([
            "harden",
            FIXTURE,
            "--api-client",
            "::/1,8000::/1",
            "--mgmt",
            "192.168.88.0/24",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tikguard()
        .args([
            "harden",
            FIXTURE,
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "192.168.88.1",
        ])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("router's own address"), "{e}");
}

/// api-ssl's `address=` and its firewall accept take --mgmt and --api-client together: one half
/// of the internet in each flag is every address for api-ssl, and is refused as no restriction.
#[test]
fn halves_of_the_internet_split_between_mgmt_and_api_client_are_refused() {
    for (mgmt, api) in [
        ("0.0.0.0/1", "128.0.0.0/1"),
        ("::/1", "8000::/1"),
        ("0.0.0.0/1,128.0.0.0/2", "192.0.0.0/2"),
    ] {
        let out = tikguard()
            .args(["harden", FIXTURE, "--api-client", api, "--mgmt", mgmt])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{mgmt} + {api}: {e}");
        assert!(e.contains("--mgmt and --api-client"), "{e}");
        assert!(e.contains("cover every"), "{e}");
    }
}

#[test]
fn api_port_syslog_and_cert_are_checked() {
    for (extra, want) in [
        (&["--api-port", "8291"][..], "`winbox` uses that port"),
        (&["--api-port", "0"][..], "port 0"),
        (&["--syslog", "logs.example.net"][..], "IP address"),
        (&["--syslog", "192.0.2.10:0"][..], "port 0"),
        (&["--cert", "none"][..], "--cert"),
    ] {
        let out = tikguard()
            .args(["harden", FIXTURE])
            .args(ARGS)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
    // A good syslog address with a port is taken.
    let out = tikguard()
        .args(["harden", FIXTURE])
        .args(ARGS)
        .args(["--syslog", "192.0.2.10:5514"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--time-limit` bounds the proof's firewall evaluation; a proof cut short is refused as
/// unproven (exit 1), with the limit to raise, never as a lockout.
#[test]
fn a_proof_past_its_time_limit_is_refused_as_unproven() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.rsc");
    let mut text = String::from(
        "# 2025-06-02 10:00:00 by RouterOS 7.16.2\n/ip address\nadd address=192.168.88.1/24 interface=bridge\nadd address=203.0.113.2/30 interface=ether1\n/ip route\nadd gateway=203.0.113.1\n/ip firewall filter\nadd action=accept chain=input connection-state=established,related\n",
    );
    for n in 0..6000u32 {
        text.push_str(&format!(
            "add action=accept chain=input protocol=tcp dst-port=8291 src-address=10.{}.{}.0/24\n",
            n / 256,
            n % 256
        ));
    }
    text.push_str("add action=drop chain=input in-interface=ether1\n");
    std::fs::write(&big, text).unwrap();
    let out = tikguard()
        .args([
            "harden",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "192.168.88.0/24",
        ])
        .args(["--time-limit", "0", "-o"])
        .arg(dir.path().join("h.rsc"))
        .arg(&big)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not prove the plan within the budget"),
        "{err}"
    );
    assert!(err.contains("raise --time-limit (now 0 s)"), "{err}");
    assert!(!err.contains("would lose"), "{err}");
    assert!(!dir.path().join("h.rsc").exists());
}
