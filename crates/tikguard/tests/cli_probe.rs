//! `tikguard probe` as a user runs it (127.0.0.1 only).

use std::process::{Command, Stdio};

fn tikguard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tikguard"))
}

#[test]
fn json_shape_and_exit_status_for_an_anonymous_dh_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = Command::new("openssl")
        .args([
            "s_server",
            "-nocert",
            "-cipher",
            "ADH:@SECLEVEL=0",
            "-tls1_2",
            "-quiet",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = tikguard()
        .args(["probe", &format!("127.0.0.1:{port}"), "--format", "json"])
        .output()
        .unwrap();
    let _ = s.kill();
    let _ = s.wait();
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
