//! Interop with a client nobody here wrote: Python `librouteros` (PyPI) logs in to the emulator
//! over plain and TLS, prints, adds, updates, removes and gets RouterOS' traps. `.ci/run`
//! installs it into a venv and sets `LIBROUTEROS_PYTHON`; without it the test is not run here
//! (and fails in CI, where it must run).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use routeros_config::Config;
use tikguard::emu;

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.16\n/ip address\nadd address=192.168.88.1/24 interface=bridge\n";

fn python() -> Option<PathBuf> {
    match std::env::var_os("LIBROUTEROS_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set LIBROUTEROS_PYTHON (see .ci/run)"
            );
            eprintln!("LIBROUTEROS_PYTHON not set: interop test not run here");
            None
        }
    }
}

fn tls() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType,
    };
    let dn = |cn: &str| {
        let mut d = DistinguishedName::new();
        d.push(DnType::CommonName, cn);
        d
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    // Distinct subject names: OpenSSL takes a leaf whose issuer equals its subject for self-signed.
    ca_params.distinguished_name = dn("tikguard test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = dn("router.test");
    params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    (Arc::new(cfg), ca.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_talks_to_the_emulator_over_plain_and_tls() {
    let Some(py) = python() else { return };
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let mut pw = HashMap::new();
    pw.insert("admin".to_string(), "interop-pass".to_string());
    let (cfg, ca_pem) = tls();
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            api_ssl: Some(("127.0.0.1:0".parse().unwrap(), cfg)),
            syslog: None,
            syslog_bsd: false,
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, "interop-pass\n").unwrap();
    let cafile = dir.path().join("ca.pem");
    std::fs::write(&cafile, ca_pem).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/librouteros_client.py"
    );
    for (port, ca) in [
        (e.api.unwrap().port(), None),
        (e.api_ssl.unwrap().port(), Some(&cafile)),
    ] {
        let mut cmd = tokio::process::Command::new(&py);
        cmd.arg(script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .arg("admin")
            .arg(&pwfile);
        if let Some(ca) = ca {
            cmd.arg(ca);
        }
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "librouteros on port {port}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
