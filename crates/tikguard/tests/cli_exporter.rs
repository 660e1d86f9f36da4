//! `tikguard exporter` as a process: the inventory (TOML) names an emulated router (`tikguard
//! emu` on api-ssl, pinned), Prometheus' request for it gets a live audit, and an inventory
//! that cannot be used is refused at start with its file and line.

use std::io::{Read, Write};
use std::time::Duration;

mod common;
use common::*;

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 20\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        body.to_string(),
    )
}

#[test]
fn exporter_probes_an_inventory_router_by_name() {
    use rustls_pki_types::pem::PemObject;
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let cert =
        rustls_pki_types::CertificateDer::from_pem_file(dir.path().join("cert.pem")).unwrap();
    let pin = routeros_api::Fingerprint::of(&cert)
        .to_string()
        .replace(':', "")
        .to_lowercase();
    let (host, port) = emu.ssl.rsplit_once(':').unwrap();
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        format!(
            "[[router]]\nname = \"edge-1\"\naddress = \"{host}\"\nport = {port}\npin = \"{pin}\"\npassword_file = \"{}\"\n",
            emu.password_file.display()
        ),
    )
    .unwrap();
    let listen = free_port();
    let _exporter = Proc(
        tikguard()
            .args(["exporter", "--config"])
            .arg(&inventory)
            .args(["--listen", &format!("127.0.0.1:{listen}")])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_listening(listen);
    let (status, body) = http_get(listen, "/probe?target=edge-1");
    assert_eq!(status, 200);
    assert!(body.contains("\nprobe_success 1\n"), "{body}");
    assert!(
        body.contains("tikguard_routeros_info{version=\"7.12.1\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("tikguard_api_ssl_certificate_expiry_timestamp_seconds"),
        "{body}"
    );
    let (status, _) = http_get(listen, "/probe?target=core-9");
    assert_eq!(status, 404);
}

#[test]
fn an_inventory_with_a_password_in_it_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        "[[router]]\nname = \"r\"\naddress = \"192.0.2.1\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let out = tikguard()
        .args(["exporter", "--config"])
        .arg(&inventory)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fleet.toml:1:1: router `r`"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
