//! The OpenSSL path reaches a server configured like certless RouterOS api-ssl: `openssl
//! s_server -nocert -cipher 'ADH:@SECLEVEL=0'`, a real TLS peer nobody here wrote. The default
//! (rustls) client refuses it, as it must.
#![cfg(feature = "openssl-anon-dh")]

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

#[tokio::test]
async fn anonymous_dh_reaches_a_certless_server_and_rustls_refuses_it() {
    let port = free_port();
    let server = Server(
        Command::new("openssl")
            .args([
                "s_server",
                "-nocert",
                "-cipher",
                "ADH:@SECLEVEL=0",
                "-tls1_2",
                "-quiet",
                "-accept",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl on PATH"),
    );
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..50 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut o = Options::new(addr.clone(), Security::InsecureAnonDh);
    o.connect_timeout = Duration::from_secs(5);
    let c = Client::connect(&o).await.expect("ADH handshake");
    assert!(c.fingerprint().is_none(), "anonymous DH has no certificate");
    drop(c);
    let o = Options::new(addr, Security::Tls(Verify::InsecureSkipVerification));
    assert!(matches!(Client::connect(&o).await, Err(Error::Tls(_))));
    drop(server);
}
