//! Verified TLS through OpenSSL, for api-ssl that offers only finite-field DHE suites, which
//! rustls does not implement: RouterOS 6 with a certificate was seen choosing
//! `DHE-RSA-AES256-GCM-SHA384` (whether any 6.x offers ECDHE is unconfirmed). The client tries
//! rustls first and comes here only when no suite is in common.
//!
//! The verification is the rustls path's: with CA certificates, OpenSSL's chain and name checks
//! (which accept a self-signed CA that is itself a trust anchor, as routers make them); with a
//! pin or known-routers, the presented certificate's SHA-256 after the handshake, before any API
//! byte is sent. OpenSSL's default security level applies: a DH group under 2048 bits is
//! refused ("dh key too small").

use std::net::IpAddr;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::client::{check_known, host_of, Error, FirstUse};
use crate::tls::{pin_mismatch, Fingerprint, Verify};

/// Handshakes and verifies; returns the stream, the router's certificate fingerprint, and the
/// first-use record when one was made.
pub(crate) async fn connect(
    tcp: TcpStream,
    addr: &str,
    verify: &Verify,
) -> Result<(SslStream<TcpStream>, Fingerprint, Option<FirstUse>), Error> {
    let tls = |e: openssl::error::ErrorStack| Error::Tls(format!("OpenSSL: {e}"));
    let host = host_of(addr);
    let peer = tcp.peer_addr().ok();
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(tls)?;
    let by_ca = matches!(verify, Verify::Ca(_));
    match verify {
        Verify::Ca(certs) => {
            let store = b.cert_store_mut();
            for c in certs {
                let x = X509::from_der(c.as_ref()).map_err(tls)?;
                store.add_cert(x).map_err(tls)?;
            }
            b.set_verify(SslVerifyMode::PEER);
        }
        _ => b.set_verify(SslVerifyMode::NONE),
    }
    let cfg = b
        .build()
        .configure()
        .map_err(tls)?
        .verify_hostname(by_ca)
        .use_server_name_indication(host.parse::<IpAddr>().is_err());
    // `into_ssl` checks the host name, or the IP address when `host` is one.
    let ssl = cfg.into_ssl(host).map_err(tls)?;
    let mut s = SslStream::new(ssl, tcp).map_err(tls)?;
    if let Err(e) = std::pin::Pin::new(&mut s).connect().await {
        let verdict = s.ssl().verify_result();
        return Err(Error::Tls(
            if verdict != openssl::x509::X509VerifyResult::OK {
                format!(
                    "OpenSSL refused the router's certificate: {}",
                    verdict.error_string()
                )
            } else {
                let text = e.to_string();
                if text.contains("dh key too small") {
                    "OpenSSL refused the router's Diffie-Hellman group as too small (under 2048 bits): the router needs a larger DH group or ECDHE".into()
                } else {
                    format!("OpenSSL handshake failed: {text}")
                }
            },
        ));
    }
    let der = s
        .ssl()
        .peer_certificate()
        .ok_or_else(|| Error::Tls("the router presented no certificate".into()))?
        .to_der()
        .map_err(tls)?;
    let fp = Fingerprint::of(&der);
    if let Verify::Pin(expected) = verify {
        let chain: Vec<Fingerprint> = s
            .ssl()
            .peer_cert_chain()
            .map(|c| {
                c.iter()
                    .filter_map(|x| x.to_der().ok())
                    .map(|d| Fingerprint::of(&d))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(m) = pin_mismatch(*expected, fp, chain.into_iter()) {
            return Err(Error::Tls(m));
        }
    }
    let first_use = check_known(verify, addr, peer, fp)?;
    Ok((s, fp, first_use))
}
