//! A server that offers only `DHE-RSA-AES256-GCM-SHA384`, as RouterOS 6 api-ssl with a
//! certificate was seen doing: `openssl s_server`, a real TLS peer nobody here wrote. rustls has
//! no suite in common with it; the OpenSSL build reaches it with the same verification (CA, pin,
//! known-routers), and the rustls-only build says which build does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use routeros_api::{Client, Error, Options, Security, Verify};

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl req -x509` with RSA (DHE-RSA needs an RSA key) for the given address.
fn cert(dir: &Path, name: &str, ip: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (c, k) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=IP:{ip}")])
        .arg("-keyout")
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    (c, k)
}

fn dhe_only_server(c: &Path, k: &Path) -> (Server, u16) {
    let port = free_port();
    let server = Server(
        Command::new("openssl")
            .args([
                "s_server",
                "-tls1_2",
                "-cipher",
                "DHE-RSA-AES256-GCM-SHA384",
            ])
            .arg("-cert")
            .arg(c)
            .arg("-key")
            .arg(k)
            .args(["-quiet", "-accept", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl on PATH"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("s_server did not start");
}

async fn connect(port: u16, verify: Verify) -> Result<Client, Error> {
    Client::connect(&Options::new(
        format!("127.0.0.1:{port}"),
        Security::Tls(verify),
    ))
    .await
}

#[cfg(not(feature = "openssl-tls"))]
#[tokio::test]
async fn without_openssl_a_dhe_only_router_is_refused_naming_the_build_that_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = cert(dir.path(), "v6", "127.0.0.1");
    let (_s, port) = dhe_only_server(&c, &k);
    let ca = routeros_api::tls::load_ca(&c).unwrap();
    match connect(port, Verify::Ca(ca)).await {
        Err(Error::Tls(m)) => {
            assert!(m.contains("--features openssl"), "{m}");
            assert!(m.contains("DHE"), "{m}");
        }
        other => panic!("expected a TLS error, got {:?}", other.err()),
    }
}

#[cfg(feature = "openssl-tls")]
#[tokio::test]
async fn with_openssl_a_dhe_only_router_is_reached_with_the_same_verification() {
    use routeros_api::Fingerprint;
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = cert(dir.path(), "v6", "127.0.0.1");
    let (_s, port) = dhe_only_server(&c, &k);
    let ca = routeros_api::tls::load_ca(&c).unwrap();
    let fp = Fingerprint::of(ca[0].as_ref());

    // CA: the router's self-signed CA certificate is its own anchor, as in the rustls path.
    // (s_server serves one connection at a time: each client is dropped before the next.)
    let client = connect(port, Verify::Ca(ca.clone())).await.unwrap();
    assert_eq!(client.fingerprint(), Some(fp));
    drop(client);
    // Pin, right and wrong.
    drop(connect(port, Verify::Pin(fp)).await.unwrap());
    match connect(port, Verify::Pin(Fingerprint([5; 32]))).await {
        Err(Error::Tls(m)) => assert!(m.contains("does not match the pinned"), "{m}"),
        other => panic!("a wrong pin was accepted: {:?}", other.is_ok()),
    }
    // Known routers: recorded on first use, then matched.
    let known = dir.path().join("known");
    let first = connect(port, Verify::TrustOnFirstUse(known.clone()))
        .await
        .unwrap();
    assert_eq!(first.first_use().map(|f| f.fingerprint), Some(fp));
    drop(first);
    let again = connect(port, Verify::TrustOnFirstUse(known)).await.unwrap();
    assert!(again.first_use().is_none());
    drop(again);
    // Another CA, or a certificate for another address: refused.
    let (other, _) = cert(dir.path(), "other", "127.0.0.1");
    let other_ca = routeros_api::tls::load_ca(&other).unwrap();
    match connect(port, Verify::Ca(other_ca)).await {
        Err(Error::Tls(m)) => assert!(m.contains("refused the router's certificate"), "{m}"),
        other => panic!("another CA was accepted: {:?}", other.is_ok()),
    }
    let (c2, k2) = cert(dir.path(), "elsewhere", "192.0.2.1");
    let (_s2, port2) = dhe_only_server(&c2, &k2);
    let ca2 = routeros_api::tls::load_ca(&c2).unwrap();
    match connect(port2, Verify::Ca(ca2)).await {
        Err(Error::Tls(m)) => assert!(m.contains("refused the router's certificate"), "{m}"),
        other => panic!(
            "a certificate for another address was accepted: {:?}",
            other.is_ok()
        ),
    }
}
