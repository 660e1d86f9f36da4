//! `probe` against real peers nobody here wrote, on 127.0.0.1 only: `openssl s_server` set up
//! like certless RouterOS api-ssl and with various certificates and versions, cross-checked
//! with `sslscan`; the plaintext API against the emulator; no false positive against a real
//! HTTP server (Python's) or SSH server (OpenSSH's sshd). `.ci/run` installs openssl, sslscan
//! and openssh-server.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{free_port, s_server, wait_listening, Proc};
use std::time::Duration;

use tikguard::probe::{self, PortResult, State};

fn openssl_cert(dir: &Path, name: &str, bits: u32) -> (String, String) {
    let (c, k) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            &format!("rsa:{bits}"),
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-days",
            "200",
            "-keyout",
        ])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    (c.display().to_string(), k.display().to_string())
}

fn expired_cert(dir: &Path) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["old.example".to_string()]).unwrap();
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    let (c, k) = (dir.join("old.crt"), dir.join("old.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c.display().to_string(), k.display().to_string())
}

async fn probe(port: u16) -> PortResult {
    probe::probe_port("127.0.0.1".into(), port, Duration::from_secs(3)).await
}

fn rules(r: &PortResult) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule).collect()
}

/// sslscan's verdicts: protocol -> enabled, and whether an anonymous suite was accepted.
fn sslscan(port: u16) -> Option<(HashMap<String, bool>, bool)> {
    let out = Command::new("sslscan")
        .args(["--no-colour", &format!("127.0.0.1:{port}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut versions = HashMap::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if let (Some(p), Some(state)) = (w.next(), w.next()) {
            if p.starts_with("TLSv1.") && (state == "enabled" || state == "disabled") {
                versions.insert(p.trim_start_matches("TLSv").to_string(), state == "enabled");
            }
        }
    }
    let anon = text.lines().any(|l| {
        (l.starts_with("Accepted") || l.starts_with("Preferred"))
            && (l.contains(" ADH-") || l.contains(" AECDH-"))
    });
    Some((versions, anon))
}

fn cross_check(port: u16, r: &PortResult) {
    let Some((versions, anon)) = sslscan(port) else {
        assert!(std::env::var_os("CI").is_none(), "CI must have sslscan");
        return;
    };
    let ours = &r.tls.as_ref().unwrap().versions;
    for (v, enabled) in versions {
        assert_eq!(
            ours.contains(&v.as_str()),
            enabled,
            "TLS {v} on {port}: sslscan says {enabled}, we say {ours:?}"
        );
    }
    assert_eq!(
        r.tls.as_ref().unwrap().anonymous_dh,
        anon,
        "anonymous DH on {port}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certless_routeros_like_server_is_anonymous_dh() {
    // RouterOS api-ssl without a certificate: anonymous DH only.
    let (_s, port) = s_server(&["-nocert", "-cipher", "ADH:@SECLEVEL=0", "-tls1_2"]);
    let r = probe(port).await;
    let t = r.tls.as_ref().expect("speaks TLS");
    assert!(t.anonymous_dh);
    assert!(t.certificate.is_none());
    assert_eq!(rules(&r), ["TG410"]);
    cross_check(port, &r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_self_signed_expired_and_weak() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = openssl_cert(dir.path(), "router", 2048);
    let (_s, port) = s_server(&["-cert", &c, "-key", &k]);
    let r = probe(port).await;
    let cert = r.tls.as_ref().unwrap().certificate.as_ref().unwrap();
    assert!(cert.self_signed);
    assert_eq!((cert.key_type.as_str(), cert.key_bits), ("RSA", 2048));
    assert_eq!(cert.signature, "sha256WithRSAEncryption");
    assert!((198..=200).contains(&cert.days_left), "{}", cert.days_left);
    assert_eq!(cert.subject, "CN=router");
    assert_eq!(cert.sha256.len(), 64);
    assert_eq!(rules(&r), ["TG412"]);
    cross_check(port, &r);

    let (c, k) = expired_cert(dir.path());
    let (_s2, port) = s_server(&["-cert", &c, "-key", &k]);
    let r = probe(port).await;
    let cert = r.tls.as_ref().unwrap().certificate.as_ref().unwrap();
    assert!(cert.days_left < 0);
    assert_eq!(cert.key_type, "EC");
    assert!(cert.san.contains(&"DNS:old.example".to_string()));
    assert!(rules(&r).contains(&"TG413"));

    let (c, k) = openssl_cert(dir.path(), "weak", 1024);
    let (_s3, port) = s_server(&["-cert", &c, "-key", &k, "-cipher", "ALL:@SECLEVEL=0"]);
    let r = probe(port).await;
    assert_eq!(
        r.tls
            .as_ref()
            .unwrap()
            .certificate
            .as_ref()
            .unwrap()
            .key_bits,
        1024
    );
    assert!(rules(&r).contains(&"TG414"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_tls12_only_tls13_only_and_tls10() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = openssl_cert(dir.path(), "v", 2048);
    let (_a, p12) = s_server(&["-cert", &c, "-key", &k, "-tls1_2"]);
    let (_b, p13) = s_server(&["-cert", &c, "-key", &k, "-tls1_3"]);
    let (_c, p10) = s_server(&[
        "-cert",
        &c,
        "-key",
        &k,
        "-tls1",
        "-cipher",
        "DEFAULT:@SECLEVEL=0",
    ]);
    let r12 = probe(p12).await;
    assert_eq!(r12.tls.as_ref().unwrap().versions, ["1.2"]);
    cross_check(p12, &r12);
    let r13 = probe(p13).await;
    assert_eq!(r13.tls.as_ref().unwrap().versions, ["1.3"]);
    // TLS 1.3 hides the certificate: it comes from a full handshake instead.
    assert!(r13.tls.as_ref().unwrap().certificate.is_some());
    cross_check(p13, &r13);
    let r10 = probe(p10).await;
    assert_eq!(r10.tls.as_ref().unwrap().versions, ["1.0"]);
    assert!(rules(&r10).contains(&"TG411"));
    cross_check(p10, &r10);
}

/// RouterOS 6 with a certificate was seen negotiating `DHE-RSA-AES256-GCM-SHA384`, which rustls
/// does not implement; probe names the suite and says whether tikguard's rustls client can
/// connect at all (TLS 1.3, or an ECDHE suite in TLS 1.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_names_the_negotiated_suite_and_whether_rustls_can_connect() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = openssl_cert(dir.path(), "v6like", 2048);
    let (_a, dhe) = s_server(&[
        "-cert",
        &c,
        "-key",
        &k,
        "-tls1_2",
        "-cipher",
        "DHE-RSA-AES256-GCM-SHA384",
    ]);
    let (_b, ecdhe) = s_server(&[
        "-cert",
        &c,
        "-key",
        &k,
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ]);
    let r = probe(dhe).await;
    let t = r.tls.as_ref().unwrap();
    assert_eq!(t.negotiated.as_deref(), Some("DHE-RSA-AES256-GCM-SHA384"));
    assert!(!t.rustls_compatible);
    let r = probe(ecdhe).await;
    let t = r.tls.as_ref().unwrap();
    assert_eq!(t.negotiated.as_deref(), Some("ECDHE-RSA-AES256-GCM-SHA384"));
    assert!(t.rustls_compatible);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_api_on_the_emulator_and_no_false_positive_on_http_or_ssh() {
    let (config, _) = routeros_config::Config::load(
        &b"/ip address add address=10.0.0.1/24 interface=ether1\n"[..],
    );
    let e = tikguard::emu::start(
        tikguard::emu::router_from(config, HashMap::new(), None),
        tikguard::emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            api_ssl: None,
            syslog: None,
            syslog_bsd: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = probe(e.api.unwrap().port()).await;
    assert!(r.api_plaintext);
    assert_eq!(rules(&r), ["TG120"]);
    // No login was attempted, so no failure was logged.
    assert!(e.router.lock().unwrap().log.is_empty());

    let http_port = free_port();
    let _http = Proc(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &http_port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_listening(http_port);
    let r = probe(http_port).await;
    assert_eq!(r.state, State::Open);
    assert!(!r.api_plaintext && r.tls.is_none() && r.findings.is_empty());

    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have openssh-server"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hostkey");
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    let _ = std::fs::create_dir_all("/run/sshd");
    let ssh_port = free_port();
    let _ssh = Proc(
        Command::new(sshd)
            .args([
                "-D",
                "-e",
                "-f",
                "/dev/null",
                "-p",
                &ssh_port.to_string(),
                "-o",
                "ListenAddress=127.0.0.1",
                "-o",
                "PidFile=none",
                "-h",
            ])
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_listening(ssh_port);
    let r = probe(ssh_port).await;
    assert_eq!(r.state, State::Open);
    assert!(
        !r.api_plaintext && r.tls.is_none() && r.findings.is_empty(),
        "{r:?}"
    );
}

#[tokio::test]
async fn closed_ports_are_closed_and_loopback_only() {
    let port = free_port();
    let r = probe(port).await;
    assert_eq!(r.state, State::Closed);
    assert!(r.findings.is_empty());
}
