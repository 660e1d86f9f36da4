//! A TLS listener's server side: its certificate, key and client CA, read from files and
//! re-read on SIGHUP.
//!
//! Every connection takes the acceptor current when it was accepted, so a reload swaps it
//! for the next connections only; a handshake under way finishes with the certificate it
//! started with. A reload that cannot read the new files, or whose key does not fit the
//! certificate (rustls compares the key's public half with the certificate's, `CertifiedKey::
//! from_der`), is refused with a line saying why, and the listener keeps serving what it
//! served: a certificate renewal that went wrong never leaves the CRMs without a listener.
//!
//! `tikguard proxy check` builds the same acceptor ([`acceptor`]), so what it reports about
//! these files is what `run` would find.

use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::clientcert::CertName;
use super::config::TlsCfg;

/// What a TLS listener serves now.
#[derive(Clone)]
pub struct Serving {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Where client certificates carry the client's name.
    pub cert_name: CertName,
    /// What the reload line says about the certificate.
    pub summary: String,
}

/// A TLS listener's current [`Serving`], replaced by [`Listener::reload`].
pub struct Listener {
    current: RwLock<Serving>,
}

impl Listener {
    pub fn new(t: &TlsCfg) -> Result<Arc<Listener>, String> {
        Ok(Arc::new(Listener {
            current: RwLock::new(acceptor(t)?),
        }))
    }

    /// What a connection accepted now is served with.
    pub fn current(&self) -> Serving {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-reads the files; on an error the current acceptor stays and the error is returned.
    pub fn reload(&self, t: &TlsCfg) -> Result<String, String> {
        let new = acceptor(t)?;
        let summary = new.summary.clone();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = new;
        Ok(summary)
    }
}

fn certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", crate::term::printable(path)))?
        .collect::<Result<_, _>>()
        .map_err(|e| {
            format!(
                "{}: not PEM certificates: {e}",
                crate::term::printable(path)
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate found",
            crate::term::printable(path)
        ));
    }
    Ok(certs)
}

/// The certificate's SHA-256 and end of validity, for the log line of a (re)load.
fn summary(cert: &CertificateDer<'_>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match crate::probe::cert::facts(cert, now) {
        Some(f) if f.days_left < 0 => format!(
            "certificate sha256 {} EXPIRED {} ({} days ago)",
            f.sha256, f.not_after, -f.days_left
        ),
        Some(f) => format!(
            "certificate sha256 {}, valid until {} ({} days)",
            f.sha256, f.not_after, f.days_left
        ),
        None => "certificate (unreadable by the certificate parser)".into(),
    }
}

/// Builds a listener's acceptor from its files, with errors naming the file at fault.
pub fn acceptor(t: &TlsCfg) -> Result<Serving, String> {
    let chain = certs(&t.cert)?;
    let key = PrivateKeyDer::from_pem_file(&t.key).map_err(|e| {
        format!(
            "{}: no readable private key: {e}",
            crate::term::printable(&t.key)
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &t.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in routeros_api::tls::load_ca(std::path::Path::new(ca))? {
                roots
                    .add(c)
                    .map_err(|e| format!("{}: {e}", crate::term::printable(ca)))?;
            }
            // Clients without a certificate still connect; those that require one are refused
            // at login (`require-client-cert`), so one listener serves both.
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("{}: {e}", crate::term::printable(ca)))?;
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    let summary = summary(&chain[0]);
    let cfg = builder.with_single_cert(chain, key).map_err(|e| {
        format!(
            "{} and {} do not fit: {e}",
            crate::term::printable(&t.cert),
            crate::term::printable(&t.key)
        )
    })?;
    Ok(Serving {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
        cert_name: t.cert_name,
        summary,
    })
}
