//! The running proxy: one task per listener, one per client connection.
//!
//! - SIGHUP re-reads the configuration. A file with an error leaves the running configuration
//!   in place and says why on stderr; a good one replaces clients, policies and routers
//!   atomically for every command after it (a changed listener address needs a restart, and
//!   the reload says so).
//! - SIGTERM stops accepting; each session finishes the commands it has running (new ones get
//!   a trap) and closes; after at most [`DRAIN`] the process exits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use routeros_api::server::{Budget, ServerLimits};
use tokio::net::TcpListener;

use super::auditlog::AuditLog;
use super::config::{self, ListenerCfg, ProxyConfig};
use super::session::{self, Arrival, Shared};
use super::upstream::Upstream;

/// How long SIGTERM waits for sessions to end.
pub const DRAIN: Duration = Duration::from_secs(30);
/// Client connections at most, over all listeners; more are closed at accept.
pub const MAX_CONNECTIONS: u32 = 10_000;
const HANDSHAKE: Duration = Duration::from_secs(10);

fn upstreams(cfg: &ProxyConfig) -> Result<HashMap<String, Arc<Upstream>>, String> {
    cfg.routers
        .iter()
        .map(|r| Ok((r.name.clone(), Upstream::new(r.clone())?)))
        .collect()
}

fn tls_acceptor(l: &ListenerCfg) -> Result<Option<tokio_rustls::TlsAcceptor>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let Some(t) = &l.tls else {
        return Ok(None);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.cert)
        .map_err(|e| format!("cannot read {}: {e}", t.cert))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", t.cert))?;
    let key = PrivateKeyDer::from_pem_file(&t.key).map_err(|e| format!("{}: {e}", t.key))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &t.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in routeros_api::tls::load_ca(std::path::Path::new(ca))? {
                roots.add(c).map_err(|e| format!("{ca}: {e}"))?;
            }
            // Clients without a certificate still connect; those that require one are refused
            // at login (`require-client-cert`), so one listener serves both.
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("{ca}: {e}"))?;
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    let cfg = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("{} and {} do not fit: {e}", t.cert, t.key))?;
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(cfg))))
}

/// Binds every listener and serves until SIGTERM. `ready` gets the bound addresses.
pub async fn run(
    path: String,
    cfg: ProxyConfig,
    ready: Option<tokio::sync::oneshot::Sender<Vec<(&'static str, SocketAddr)>>>,
) -> Result<(), String> {
    let log = AuditLog::from_config(&cfg)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared {
        stopping: stop_rx.clone(),
        upstreams: RwLock::new(upstreams(&cfg)?),
        log,
        limits: ServerLimits::default(),
        budget: Budget::new(cfg.memory_budget),
        metrics: super::metrics::Metrics::new(),
        config: RwLock::new(Arc::new(cfg.clone())),
        buckets: std::sync::Mutex::new(Default::default()),
        failures: Default::default(),
        seats: Default::default(),
        unauthenticated: Default::default(),
    });
    let mut bound = Vec::new();
    let mut tasks = Vec::new();
    let sessions = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS as usize));
    for l in &cfg.listeners {
        let tcp = TcpListener::bind(&l.address)
            .await
            .map_err(|e| format!("listener {}: {e}", l.address))?;
        bound.push(("listening", tcp.local_addr().map_err(|e| e.to_string())?));
        let acceptor = tls_acceptor(l)?;
        let (shared, l, sessions, mut stop) =
            (shared.clone(), l.clone(), sessions.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let (s, peer) = tokio::select! {
                    _ = stop.changed() => break,
                    a = tcp.accept() => match a {
                        Ok(a) => a,
                        Err(_) => continue,
                    },
                };
                let _ = s.set_nodelay(true);
                let Ok(permit) = sessions.clone().try_acquire_owned() else {
                    continue;
                };
                let (shared, acceptor, router) =
                    (shared.clone(), acceptor.clone(), l.router.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    match acceptor {
                        None => {
                            let a = Arrival {
                                peer,
                                router,
                                service: "api",
                                client_cert: false,
                            };
                            session::serve(s, a, shared).await;
                        }
                        Some(acc) => {
                            if let Ok(Ok(tls)) =
                                tokio::time::timeout(HANDSHAKE, acc.accept(s)).await
                            {
                                let client_cert = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .is_some_and(|c| !c.is_empty());
                                let a = Arrival {
                                    peer,
                                    router,
                                    service: "api-ssl",
                                    client_cert,
                                };
                                session::serve(tls, a, shared).await;
                            }
                        }
                    }
                });
            }
        }));
    }
    if let Some(m) = &cfg.metrics {
        let tcp = TcpListener::bind(m)
            .await
            .map_err(|e| format!("metrics {m}: {e}"))?;
        bound.push(("metrics", tcp.local_addr().map_err(|e| e.to_string())?));
        tasks_metrics(tcp, shared.clone());
    }
    if let Some(r) = ready {
        let _ = r.send(bound);
    }
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| e.to_string())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                reload(&path, &shared);
                // After logrotate moved the log away: a new file, continuing the chain.
                if let Err(e) = shared.log.reopen().await {
                    crate::warn_line!("tikguard proxy: audit log not reopened: {e}");
                }
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    crate::warn_line!(
        "tikguard proxy: stopping: no new connections; waiting up to {} s for sessions",
        DRAIN.as_secs()
    );
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let _ = tokio::time::timeout(DRAIN, sessions.acquire_many(MAX_CONNECTIONS)).await;
    let synced = shared.log.sync().await;
    // The chain's head, for whoever checks the log's tail later (the journal keeps it).
    match shared.log.checkpoint() {
        Ok(Some(_)) => {}
        Ok(None) => {
            let (lines, head) = shared.log.head();
            crate::warn_line!(
                "tikguard proxy: audit log {} head: lines {lines}, hash {head}",
                cfg.audit_log
            );
        }
        Err(e) => crate::warn_line!("tikguard proxy: audit log checkpoint: {e}"),
    }
    synced
}

fn tasks_metrics(tcp: TcpListener, shared: Arc<Shared>) {
    tokio::spawn(super::metrics::serve(tcp, shared));
}

fn reload(path: &str, shared: &Shared) {
    let new = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            crate::warn_line!(
                "tikguard proxy: reload refused, the running configuration stays: {e}"
            );
            return;
        }
    };
    let old = shared.config();
    let listeners = |c: &ProxyConfig| -> Vec<String> {
        c.listeners.iter().map(|l| l.address.clone()).collect()
    };
    if listeners(&old) != listeners(&new) {
        crate::warn_line!("tikguard proxy: listener changes take effect after a restart");
    }
    let mut ups = match upstreams(&new) {
        Ok(u) => u,
        Err(e) => {
            crate::warn_line!(
                "tikguard proxy: reload refused, the running configuration stays: {e}"
            );
            return;
        }
    };
    // Routers whose settings did not change keep their pooled connections.
    {
        let current = shared.upstreams.read().unwrap_or_else(|p| p.into_inner());
        for (name, up) in ups.iter_mut() {
            if let Some(cur) = current.get(name) {
                if format!("{:?}", cur.cfg) == format!("{:?}", up.cfg) {
                    *up = cur.clone();
                }
            }
        }
    }
    *shared.upstreams.write().unwrap_or_else(|p| p.into_inner()) = ups;
    *shared.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
    crate::warn_line!("tikguard proxy: configuration reloaded from {path}");
}
