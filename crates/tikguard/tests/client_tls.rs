//! The client's TLS as routers and guides really make certificates, against the emulator over
//! real sockets: a self-signed CA served as the router's own certificate (what `openssl req
//! -x509` and the guides' `key-usage=key-cert-sign,...` + `sign` make), errors that say what to
//! do, and trust on first use keyed by name and address like OpenSSH's known_hosts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use routeros_api::{Client, Error, Fingerprint, Options, Security, Verify};
use routeros_config::Config;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tikguard::emu;

mod common;

fn server_config(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> Arc<rustls::ServerConfig> {
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap(),
    )
}

/// The emulator on a plain and a TLS port with this certificate chain.
async fn emu_with(cfg: Arc<rustls::ServerConfig>) -> (SocketAddr, SocketAddr) {
    let (config, _) =
        Config::load(b"/ip address\nadd address=10.0.0.1/24 interface=ether1\n".to_vec());
    let pw: HashMap<String, String> = [("admin".to_string(), "tls-pass".to_string())].into();
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            api_ssl: Some(("127.0.0.1:0".parse().unwrap(), cfg)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (e.api.unwrap(), e.api_ssl.unwrap())
}

/// `openssl req -x509` for 127.0.0.1: a self-signed certificate with `CA:TRUE`, as OpenSSL's
/// default configuration makes it.
fn openssl_self_signed_ca(dir: &Path, days: &str, san: &str) -> (CertificateDer<'static>, KeyPair) {
    let (c, k) = (dir.join("router.crt"), dir.join("router.key"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=router",
            "-days",
            days,
            "-addext",
            san,
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
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&c)
        .output()
        .unwrap()
        .stdout;
    assert!(
        String::from_utf8_lossy(&text).contains("CA:TRUE"),
        "openssl req -x509 makes a CA certificate"
    );
    let cert = routeros_api::tls::load_ca(&c).unwrap().remove(0);
    let key = KeyPair::from_pem(&std::fs::read_to_string(&k).unwrap()).unwrap();
    (cert, key)
}

async fn connect(addr: SocketAddr, verify: Verify) -> Result<Client, Error> {
    Client::connect(&Options::new(addr.to_string(), Security::Tls(verify))).await
}

fn tls_message(r: Result<Client, Error>) -> String {
    match r {
        Err(Error::Tls(m)) => m,
        Err(other) => panic!("expected a TLS error, got {other}"),
        Ok(_) => panic!("expected a TLS error, got a connection"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_ca_given_to_ca_is_accepted_as_the_routers_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_self_signed_ca(dir.path(), "30", "subjectAltName=IP:127.0.0.1");
    let (_, ssl) = emu_with(server_config(vec![cert.clone()], &key)).await;
    let c = connect(ssl, Verify::Ca(vec![cert.clone()])).await.unwrap();
    c.login("admin", "tls-pass").await.unwrap();
    assert_eq!(c.call(&["/ip/address/print"]).await.unwrap().len(), 1);

    // The name is still checked: the same kind of certificate for another address is refused.
    let other = tempfile::tempdir().unwrap();
    let (cert2, key2) = openssl_self_signed_ca(other.path(), "30", "subjectAltName=IP:192.0.2.1");
    let (_, ssl2) = emu_with(server_config(vec![cert2.clone()], &key2)).await;
    let m = tls_message(connect(ssl2, Verify::Ca(vec![cert2])).await);
    assert!(m.contains("not valid for `127.0.0.1`"), "{m}");
    assert!(
        !m.contains("Other(") && !m.contains("Error("),
        "debug text: {m}"
    );

    // A CA certificate served as the router's own but not among --ca: said in words.
    let m = tls_message(connect(ssl, Verify::Ca(vec![cert_of_another_ca()])).await);
    assert!(m.contains("presents a CA certificate as its own"), "{m}");
    assert!(!m.contains("CaUsedAsEndEntity"), "debug text: {m}");
}

fn cert_of_another_ca() -> CertificateDer<'static> {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.self_signed(&key).unwrap().der().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinning_the_ca_instead_of_the_router_says_which_to_pin() {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "isp CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let leaf = p.signed_by(&key, &ca, &ca_key).unwrap();
    let (_, ssl) = emu_with(server_config(
        vec![leaf.der().clone(), ca.der().clone()],
        &key,
    ))
    .await;
    let ca_fp = Fingerprint::of(ca.der());
    let leaf_fp = Fingerprint::of(leaf.der());
    let m = tls_message(connect(ssl, Verify::Pin(ca_fp)).await);
    assert!(m.contains("you pinned the CA"), "{m}");
    assert!(
        m.contains(&leaf_fp.to_string()),
        "names the fingerprint to pin: {m}"
    );
    let m = tls_message(connect(ssl, Verify::Pin(Fingerprint([9; 32]))).await);
    assert!(m.contains("does not match the pinned"), "{m}");
    connect(ssl, Verify::Pin(leaf_fp)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_the_plaintext_port_and_plaintext_to_the_tls_port_say_which_port_is_which() {
    let (cfg, fp, _) = common::ca_signed_server_config();
    let (plain, ssl) = emu_with(cfg).await;
    // The emulator's plaintext port closes on a ClientHello (emu::tls_on_plain, an
    // approximation of RouterOS), every time: the client says at once which port this is,
    // never after its timeout (a fleet would otherwise retry it, or not, by chance).
    for _ in 0..20 {
        let mut o = Options::new(plain.to_string(), Security::Tls(Verify::Pin(fp)));
        o.connect_timeout = std::time::Duration::from_secs(5);
        let m = tls_message(Client::connect(&o).await);
        assert!(
            m.contains("did not answer TLS") && m.contains("--plain"),
            "{m}"
        );
        assert!(!m.contains("no answer to the TLS handshake"), "{m}");
    }
    let c = Client::connect(&Options::new(ssl.to_string(), Security::Plain))
        .await
        .unwrap();
    match c.login("admin", "tls-pass").await {
        Err(Error::Protocol(m)) => assert!(m.contains("answered with TLS"), "{m}"),
        other => panic!("expected the TLS port to be recognised, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_on_first_use_is_keyed_by_name_and_address() {
    let (cfg, fp, _) = common::ca_signed_server_config();
    let (_, ssl) = emu_with(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_routers");
    let by_name = format!("localhost:{}", ssl.port());
    let by_ip = format!("127.0.0.1:{}", ssl.port());
    let tofu = |addr: String| {
        let known = known.clone();
        async move {
            Client::connect(&Options::new(
                addr,
                Security::Tls(Verify::TrustOnFirstUse(known)),
            ))
            .await
        }
    };
    let first = tofu(by_name.clone()).await.unwrap();
    let recorded = first.first_use().expect("first use is reported").clone();
    assert_eq!(recorded.fingerprint, fp);
    assert_eq!(recorded.names, format!("{by_name},{by_ip}"));
    assert_eq!(
        std::fs::read_to_string(&known).unwrap().trim(),
        format!("{by_name},{by_ip} {fp}")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&known).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Reached by its address, the router is the same entry: nothing new is recorded.
    let again = tofu(by_ip.clone()).await.unwrap();
    assert!(again.first_use().is_none());
    // An address pinned to another certificate cannot be bypassed by using a name.
    std::fs::write(&known, format!("{by_ip} {}\n", Fingerprint([1; 32]))).unwrap();
    match tofu(by_name.clone()).await {
        Err(Error::KnownRouterMismatch { line, .. }) => assert_eq!(line, 1),
        other => panic!("expected a mismatch, got {:?}", other.err()),
    }
    // A malformed line is an error naming the line.
    std::fs::write(&known, format!("# routers\n{by_name} {fp}\ngarbage\n")).unwrap();
    match tofu(by_name).await {
        Err(Error::Config(m)) => assert!(
            m.contains(":3:") && m.contains("not a known-routers line"),
            "{m}"
        ),
        other => panic!("expected a config error, got {:?}", other.err()),
    }
}
