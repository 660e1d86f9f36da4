//! How the client decides to trust a router's certificate. Verification is always on:
//!
//! - a CA bundle (`--ca FILE`): the usual web PKI checks, with the router's name or IP address;
//!   a router certificate that is itself one of the CA certificates is accepted as its own
//!   trust anchor ([`CaVerifier`]), as OpenSSL-based clients accept it;
//! - a pinned SHA-256 of the router's certificate (`--pin`), for self-signed router certificates;
//! - trust on first use (`--known-routers FILE`), like SSH's `known_hosts`: the first connection
//!   records the fingerprint under the name used and the address it resolved to, later ones
//!   must match it, and a mismatch is a hard error that names the file and line.
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

/// The known-routers file, keyed like OpenSSH's `known_hosts`: each line is
/// `NAME:PORT[,ADDRESS:PORT] SHA256-HEX`, the name the router was reached by and the address it
/// resolved to, then the certificate's fingerprint; `#` starts a comment. A router is looked up
/// by both its name and its address, so `localhost:8729` and `127.0.0.1:8729` cannot hold
/// different certificates without an error.
#[derive(Debug)]
pub struct KnownRouters {
    path: PathBuf,
}

/// What the known-routers file says about a router.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Unknown,
    Match,
    /// Matched by address only: the name is new.
    MatchByAddress,
    Mismatch {
        line: usize,
        recorded: String,
    },
}

impl KnownRouters {
    pub fn new(path: impl Into<PathBuf>) -> KnownRouters {
        KnownRouters { path: path.into() }
    }

    /// Looks the router up by the name used and the address it resolved to. A malformed line
    /// is an error naming the file and line.
    pub fn check(
        &self,
        name: &str,
        address: Option<std::net::SocketAddr>,
        fp: &Fingerprint,
    ) -> Result<Known, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::Unknown),
            Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
        };
        let address = address.map(|a| a.to_string());
        let mut found = Known::Unknown;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let parsed = match fields[..] {
                [names, fp] => Fingerprint::parse(fp).map(|f| (names, f)),
                _ => None,
            };
            let Some((names, recorded)) = parsed else {
                return Err(format!(
                    "{}:{}: not a known-routers line: expected `NAME:PORT[,ADDRESS:PORT] SHA256`",
                    self.path.display(),
                    i + 1
                ));
            };
            let by_name = names.split(',').any(|n| n == name);
            let by_address = address
                .as_deref()
                .is_some_and(|a| names.split(',').any(|n| n == a));
            if !by_name && !by_address {
                continue;
            }
            if recorded != *fp {
                return Ok(Known::Mismatch {
                    line: i + 1,
                    recorded: recorded.to_string(),
                });
            }
            if by_name {
                found = Known::Match;
            } else if found == Known::Unknown {
                found = Known::MatchByAddress;
            }
        }
        Ok(found)
    }

    /// Appends `names fingerprint`; the file is created 0600.
    pub fn record(&self, names: &str, fp: &Fingerprint) -> Result<(), String> {
        let mut o = std::fs::OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o
            .open(&self.path)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        // One write(2) of the whole line: `writeln!` on a File writes each piece with its own
        // call, and another process appending at once would land between them.
        f.write_all(format!("{names} {fp}\n").as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Verifies against CA certificates with webpki's checks, except that a presented certificate
/// that is byte for byte one of the CA certificates is accepted as its own trust anchor, as
/// OpenSSL-based clients (Python's `ssl`, Node's `tls`) accept it: `openssl req -x509` and the
/// hardening guides' `key-usage=key-cert-sign,...` then `sign` both make a self-signed CA that
/// routers serve as their own certificate. Its name and validity period are still checked.
#[derive(Debug)]
pub(crate) struct CaVerifier {
    anchors: Vec<CertificateDer<'static>>,
    inner: Arc<rustls::client::WebPkiServerVerifier>,
}

impl CaVerifier {
    pub fn new(anchors: Vec<CertificateDer<'static>>) -> Result<CaVerifier, String> {
        let mut roots = rustls::RootCertStore::empty();
        for c in &anchors {
            roots
                .add(c.clone())
                .map_err(|e| format!("bad CA certificate: {e}"))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("bad CA certificates: {e}"))?;
        Ok(CaVerifier { anchors, inner })
    }
}

/// Whether `der` is valid at `now` (seconds since the epoch).
fn valid_at(der: &[u8], now: UnixTime) -> Result<(), rustls::Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
    let v = cert.validity();
    let now = now.as_secs() as i64;
    if now > v.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Expired,
        ));
    }
    if now < v.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidYet,
        ));
    }
    Ok(())
}

impl ServerCertVerifier for CaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .anchors
            .iter()
            .any(|a| a.as_ref() == end_entity.as_ref())
        {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            valid_at(end_entity, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What a TLS failure means for the user, and what to do; never a debug string.
pub fn describe(e: &rustls::Error, host: &str) -> String {
    use rustls::{AlertDescription, CertificateError};
    match e {
        rustls::Error::General(msg) => msg.clone(),
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => "the router's certificate is not issued by the --ca certificates; give the CA that signed it, or pin the router's certificate with --pin".into(),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => format!(
                "the router's certificate is not valid for `{host}`: connect by a name or address the certificate lists"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the router's certificate has expired; renew it on the router".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the router's certificate is not valid yet: check the router's clock".into()
            }
            CertificateError::BadSignature => "the router's certificate has a bad signature".into(),
            CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                "the router presents a CA certificate as its own, and it is not one of the --ca certificates: give that certificate to --ca, or pin it with --pin".into()
            }
            other => format!("the router's certificate was refused ({other})"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            NOT_TLS.into()
        }
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)
        | rustls::Error::AlertReceived(AlertDescription::InsufficientSecurity)
        | rustls::Error::PeerIncompatible(_) => NO_COMMON_SUITE.into(),
        other => other.to_string(),
    }
}

/// TLS spoken to something that does not answer TLS.
pub const NOT_TLS: &str = "the router did not answer TLS: is this the plaintext `api` port (8728 by default)? api-ssl listens on 8729; for the plaintext API use --plain";

/// No cipher suite in common.
pub const NO_COMMON_SUITE: &str = "the router refused every cipher suite rustls offers (TLS 1.3, or ECDHE in TLS 1.2); RouterOS 6 may offer only DHE suites (`tikguard probe` shows what it negotiates): a build with `--features openssl` reaches such routers with the same verification";

/// Why a presented certificate `fp` fails the pin `expected`, if it does; `chain` are the other
/// certificates the router sent, so that pinning the CA instead of the router is named.
pub(crate) fn pin_mismatch(
    expected: Fingerprint,
    fp: Fingerprint,
    mut chain: impl Iterator<Item = Fingerprint>,
) -> Option<String> {
    if expected == fp {
        return None;
    }
    Some(if chain.any(|c| c == expected) {
        format!(
            "you pinned the CA: the pinned certificate {expected} is the issuer the router sent, not the router's own; pin the router's certificate instead: --pin {fp}"
        )
    } else {
        format!(
            "the router's certificate {fp} does not match the pinned {expected}; if the router's certificate was replaced on purpose, pin the new one"
        )
    })
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
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of(end_entity);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(fp);
        *self.seen_der.lock().unwrap_or_else(|p| p.into_inner()) = Some(end_entity.to_vec());
        match self.expected {
            Some(e) => {
                match pin_mismatch(e, fp, intermediates.iter().map(|c| Fingerprint::of(c))) {
                    Some(m) => Err(rustls::Error::General(m)),
                    None => Ok(ServerCertVerified::assertion()),
                }
            }
            None => Ok(ServerCertVerified::assertion()),
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
