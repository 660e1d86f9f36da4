//! `tikguard emu`: a RouterOS API server emulated from an export, for tests and demos where no
//! router can run.
//!
//! The server accepts on the `api` (plain) and `api-ssl` (TLS, rustls) addresses given, runs one
//! task per connection, and keeps the router's state in [`router::Router`] behind one lock.
//! A connection that sends bytes the codec rejects is closed alone; others carry on.
//! Log lines go to `/log print` and, with `--syslog`, to a remote syslog over UDP as a router
//! with a remote logging action would send them.

pub mod clock;
pub mod defaults;
pub mod expiry;
pub mod many;
pub mod query;
pub mod router;
pub mod rules;
pub mod session;
pub mod state;
pub mod syslog;
pub mod tls_on_plain;
pub mod wireguard;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use routeros_api::server::ServerLimits;
use routeros_config::{Config, Version};
use tokio::net::TcpListener;

use router::Router;
use session::Shared;

pub use syslog::syslog_line;

/// Where and how to serve.
pub struct Options {
    pub api: Option<SocketAddr>,
    pub api_ssl: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
    pub syslog: Option<SocketAddr>,
    /// BSD syslog framing (`<PRI>Mmm dd hh:mm:ss host ...`), as `bsd-syslog=yes` up to 7.17.
    pub syslog_bsd: bool,
    /// Limits on each connection ([`session`] states the worst case).
    pub limits: ServerLimits,
    /// Bytes all connections together may buffer.
    pub budget: usize,
    /// Take every client as coming from this address (checks and log lines), as a router
    /// behind a NAT sees them: lets tests on loopback fail logins "from" a routable address.
    pub clients_as: Option<std::net::IpAddr>,
}

/// The default memory budget for connection buffers: 64 MiB.
pub const DEFAULT_BUDGET: usize = 64 << 20;

impl Default for Options {
    fn default() -> Options {
        Options {
            api: None,
            api_ssl: None,
            syslog: None,
            syslog_bsd: false,
            limits: ServerLimits::default(),
            budget: DEFAULT_BUDGET,
            clients_as: None,
        }
    }
}

/// A running emulator: its bound addresses and shared state.
pub struct Emulator {
    pub api: Option<SocketAddr>,
    pub api_ssl: Option<SocketAddr>,
    pub router: Arc<Mutex<Router>>,
}

/// Builds the router from an export and the passwords given.
pub fn router_from(
    config: Config,
    passwords: HashMap<String, String>,
    version: Option<Version>,
) -> Router {
    let version = version
        .or_else(|| config.version.clone())
        .unwrap_or_else(|| Version::new(7, 18, 0));
    Router::new(config, passwords, version)
}

/// A TLS server configuration from PEM certificate chain and key files.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("cannot read {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not fit: {e}"))?;
    Ok(Arc::new(cfg))
}

/// A listener that cannot bind, named with its address ("Address already in use" alone does
/// not say which of the addresses given).
fn bind_error(service: &str, addr: SocketAddr, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("cannot listen on {addr} ({service}): {e}"),
    )
}

/// Binds the listeners and serves until the process ends.
pub async fn start(router: Router, opts: Options) -> std::io::Result<Emulator> {
    let router = Arc::new(Mutex::new(router));
    // Address-list timeouts run out on their own, commands or not ([`expiry`]).
    let ticking = Arc::downgrade(&router);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(r) = ticking.upgrade() else { break };
            r.lock()
                .unwrap_or_else(|p| p.into_inner())
                .expire_at(std::time::Instant::now());
        }
    });
    let shared = Shared::new(router.clone(), opts.limits.clone(), opts.budget);
    if let Some(a) = opts.clients_as {
        let _ = shared.clients_as.set(a);
    }
    let mut api = None;
    let mut api_ssl = None;
    if let Some(addr) = opts.api {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| bind_error("api", addr, e))?;
        api = Some(l.local_addr()?);
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                // Over `max-sessions`: closed at once.
                let Some(admitted) = shared.admit("api") else {
                    continue;
                };
                s.set_nodelay(true).ok();
                let shared = shared.clone();
                tokio::spawn(async move {
                    if !tls_on_plain::close_unserved(&s, shared.limits.login_timeout).await {
                        session::serve(s, peer, shared, "api").await;
                    }
                    drop(admitted);
                });
            }
        });
    }
    if let Some((addr, cfg)) = opts.api_ssl {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| bind_error("api-ssl", addr, e))?;
        api_ssl = Some(l.local_addr()?);
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                let Some(admitted) = shared.admit("api-ssl") else {
                    continue;
                };
                s.set_nodelay(true).ok();
                let (shared, acceptor) = (shared.clone(), acceptor.clone());
                let handshake = shared.limits.login_timeout;
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(handshake, acceptor.accept(s)).await {
                        session::serve(tls, peer, shared, "api-ssl").await;
                    }
                    drop(admitted);
                });
            }
        });
    }
    if let Some(target) = opts.syslog {
        let r = router.clone();
        let bsd = opts.syslog_bsd;
        tokio::spawn(async move { syslog::forward(r, target, bsd).await });
    }
    Ok(Emulator {
        api,
        api_ssl,
        router,
    })
}
