//! How the client decides to trust a router's certificate. Verification is always on:
//!
//! - a CA bundle (`--ca FILE`): the usual web PKI checks, with the router's name or IP address;
//! - a pinned SHA-256 of the router's certificate (`--pin`), for self-signed router certificates;
//! - trust on first use (`--known-routers FILE`), like SSH's `known_hosts`: the first connection
//!   records the fingerprint, later ones must match it, and a mismatch is a hard error that names
//!   the file and line.
//!
//! Turning verification off is possible only through [`Verify::InsecureSkipVerification`], whose
//! name says what it is. Handshake signatures are verified in every mode, so a pin also proves the
//! peer holds the pinned certificate's key.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

/// A certificate's SHA-256 fingerprint, the value `--pin` takes (64 hex digits, colons allowed).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(cert_der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(cert_der).into())
    }

    /// Parses hex with optional `:` separators and an optional `sha256:` prefix.
    pub fn parse(s: &str) -> Option<Fingerprint> {
        let s = s.trim();
        let s = s
            .strip_prefix("sha256:")
            .or_else(|| s.strip_prefix("SHA256:"))
            .unwrap_or(s);
        let hex: String = s.chars().filter(|c| *c != ':').collect();
        let bytes = hex::decode(hex).ok()?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// How to verify the router.
#[derive(Clone, Debug)]
pub enum Verify {
    /// PEM CA certificates.
    Ca(Vec<CertificateDer<'static>>),
    /// The router's certificate must have this fingerprint.
    Pin(Fingerprint),
    /// Record on first use in this file, require a match afterwards.
    TrustOnFirstUse(PathBuf),
    /// No verification at all: the connection is encrypted but the router is not authenticated.
    InsecureSkipVerification,
}

/// Reads PEM certificates from a file.
pub fn load_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", path.display()));
    }
    Ok(certs)
}

/// The known-routers file: `host:port sha256-hex`, one per line, `#` comments.
#[derive(Debug)]
pub struct KnownRouters {
    path: PathBuf,
}

/// What the known-routers file says about a router.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Unknown,
    Match,
    Mismatch { line: usize, recorded: String },
}

impl KnownRouters {
    pub fn new(path: impl Into<PathBuf>) -> KnownRouters {
        KnownRouters { path: path.into() }
    }

    pub fn check(&self, router: &str, fp: &Fingerprint) -> Result<Known, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::Unknown),
            Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            if parts.next() != Some(router) {
                continue;
            }
            let recorded = parts.next().unwrap_or("").to_string();
            return Ok(match Fingerprint::parse(&recorded) {
                Some(r) if r == *fp => Known::Match,
                _ => Known::Mismatch {
                    line: i + 1,
                    recorded,
                },
            });
        }
        Ok(Known::Unknown)
    }

    pub fn record(&self, router: &str, fp: &Fingerprint) -> Result<(), String> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        writeln!(f, "{router} {fp}")
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Verifies by fingerprint (pin or trust on first use), and records what it saw.
#[derive(Debug)]
pub(crate) struct FingerprintVerifier {
    pub expected: Option<Fingerprint>,
    pub seen: Mutex<Option<Fingerprint>>,
    pub seen_der: Mutex<Option<Vec<u8>>>,
    provider: Arc<CryptoProvider>,
}

impl FingerprintVerifier {
    pub fn new(expected: Option<Fingerprint>) -> FingerprintVerifier {
        FingerprintVerifier {
            expected,
            seen: Mutex::new(None),
            seen_der: Mutex::new(None),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of(end_entity);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(fp);
        *self.seen_der.lock().unwrap_or_else(|p| p.into_inner()) = Some(end_entity.to_vec());
        match self.expected {
            Some(e) if e != fp => Err(rustls::Error::General(format!(
                "certificate fingerprint {fp} does not match the pinned {e}"
            ))),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The certificate a TLS server presents (for inspection, not trust): a TLS 1.2/1.3 handshake
/// that accepts any certificate and returns the end-entity one as DER.
pub async fn fetch_certificate(
    addr: &str,
    server_name: &str,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, String> {
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| "timed out connecting".to_string())?
        .map_err(|e| e.to_string())?;
    let v = Arc::new(FingerprintVerifier::new(None));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(v.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_string()).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let _ = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let der = v.seen_der.lock().unwrap_or_else(|p| p.into_inner()).take();
    der.ok_or_else(|| "no certificate presented".to_string())
}
