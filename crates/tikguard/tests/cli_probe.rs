//! `tikguard probe` as a user runs it (127.0.0.1 only).

mod common;
use common::{anon_dh_server, tikguard};

#[test]
fn json_shape_and_exit_status_for_an_anonymous_dh_server() {
    let (server, port) = anon_dh_server();
    let out = tikguard()
        .args(["probe", &format!("127.0.0.1:{port}"), "--format", "json"])
        .output()
        .unwrap();
    drop(server);
    assert_eq!(out.status.code(), Some(1), "a high finding exits 1");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    let t = &v["targets"][0];
    assert_eq!(
        (t["host"].as_str(), t["port"].as_u64(), t["state"].as_str()),
        (Some("127.0.0.1"), Some(port as u64), Some("open"))
    );
    assert_eq!(t["api_plaintext"], false);
    assert_eq!(t["tls"]["anonymous_dh"], true);
    assert_eq!(t["tls"]["versions"], serde_json::json!(["1.2"]));
    assert_eq!(t["findings"][0]["rule"], "TG410");
}

#[test]
fn closed_ports_exit_zero_and_cidr_cap_is_a_usage_error() {
    let out = tikguard()
        .args(["probe", "127.0.0.1", "--ports", "1", "--all"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1/tcp closed"), "{text}");
    let out = tikguard().args(["probe", "127.0.0.0/8"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("16777216 addresses, more than --max-hosts 65536"));
}

#[test]
fn probe_rules_are_in_the_catalogue() {
    let out = tikguard().args(["explain", "TG410"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout).unwrap().contains("anonymous"));
    let out = tikguard().arg("rules").output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("TG120"));
}

/// A target that is not an address and does not resolve is a usage error naming it (exit 2),
/// as nmap's `Failed to resolve`; before, each was probed as "filtered, 0 findings", exit 0.
/// No name here is looked up over the network: `.invalid` never resolves (RFC 6761), dotted
/// numbers and names outside host-name syntax are refused before any lookup.
#[test]
fn a_target_that_does_not_resolve_or_is_not_an_address_is_an_error_naming_it() {
    for (target, says) in [
        (
            "nosuchhost.invalid",
            "failed to resolve `nosuchhost.invalid`",
        ),
        ("127.0.0.300", "`127.0.0.300` is not an IP address"),
        ("127.0.0.300:8728", "`127.0.0.300` is not an IP address"),
        (
            "router_1.example",
            "`router_1.example` is neither an IP address nor a host name",
        ),
        ("bad\x1b[31mhost", "`bad\\x1b[31mhost` is neither"),
    ] {
        let out = tikguard()
            .args(["probe", "127.0.0.1", target, "--timeout", "1s"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {err}");
        assert!(err.contains(says), "{target}: {err}");
        assert!(out.stdout.is_empty(), "{target}: nothing probed");
    }
    // An address and a name from /etc/hosts still probe.
    let out = tikguard()
        .args(["probe", "localhost:1", "127.0.0.1:1", "--timeout", "1s"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
