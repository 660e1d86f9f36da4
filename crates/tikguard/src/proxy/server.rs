//! The running proxy: one task per listener, one per client connection.
//!
//! - SIGHUP re-reads the configuration. A file with an error leaves the running configuration
//!   in place and says why on stderr; a good one replaces clients, policies and routers
//!   atomically for every command after it (a changed listener address, and the log's and the
//!   metrics listener's settings, need a restart, and the reload says so).
//! - SIGTERM stops accepting; each session finishes the commands it has running (new ones get
//!   a trap) and closes; after at most [`DRAIN`] the process exits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use routeros_api::server::{Budget, ServerLimits};
use tokio::net::TcpListener;

use super::auditlog::AuditLog;
use super::clientcert::ClientCert;
use super::config::{self, ProxyConfig};
use super::session::{self, Arrival, Shared};
use super::upstream::Upstream;

/// How long SIGTERM waits for sessions to end.
pub const DRAIN: Duration = Duration::from_secs(30);
/// Client connections at most, over all listeners; more are closed at accept.
pub const MAX_CONNECTIONS: u32 = 10_000;
const HANDSHAKE: Duration = Duration::from_secs(10);
/// How long a listener waits after a failed accept (out of file descriptors) before the next.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

fn upstreams(
    cfg: &ProxyConfig,
    metrics: &Arc<super::metrics::Metrics>,
) -> Result<HashMap<String, Arc<Upstream>>, String> {
    cfg.routers
        .iter()
        .map(|r| Ok((r.name.clone(), Upstream::new(r.clone(), metrics.clone())?)))
        .collect()
}

/// `tikguard proxy record`'s additions to serving: a session file, and optionally one
/// permissive policy for every client.
#[derive(Default)]
pub struct Trial {
    pub record: Option<super::record::Recorder>,
    pub permissive: bool,
}

/// Binds every listener and serves until SIGTERM. `ready` gets the bound addresses.
pub async fn run(
    path: String,
    cfg: ProxyConfig,
    trial: Trial,
    ready: Option<tokio::sync::oneshot::Sender<Vec<(&'static str, SocketAddr)>>>,
) -> Result<(), String> {
    // The handlers first: a SIGTERM while the log is opened and the listeners bound (a service
    // manager stopping a proxy just started) stops it the same orderly way, never by the
    // signal's default action, which would leave the log without its closing checkpoint.
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| e.to_string())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    let log = AuditLog::from_config(&cfg)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let metrics = super::metrics::Metrics::new();
    {
        let metrics = metrics.clone();
        log.observe_writes(Box::new(move |took, failed| {
            metrics.log_written(took, failed)
        }));
    }
    let shared = Arc::new(Shared {
        stopping: stop_rx.clone(),
        upstreams: RwLock::new(upstreams(&cfg, &metrics)?),
        log,
        limits: ServerLimits::default(),
        budget: Budget::new(cfg.memory_budget),
        metrics,
        config: RwLock::new(Arc::new(cfg.clone())),
        buckets: std::sync::Mutex::new(Default::default()),
        failures: Default::default(),
        seats: Default::default(),
        unauthenticated: Default::default(),
        recorder: trial.record,
        permissive: trial.permissive.then(super::policy::Policy::permissive),
    });
    let mut bound = Vec::new();
    let mut tasks = Vec::new();
    // Each TLS listener's certificate, with its place in the configuration, re-read on SIGHUP.
    let mut tls_listeners: Vec<(usize, String, Arc<super::tls::Listener>)> = Vec::new();
    let sessions = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS as usize));
    for (i, l) in cfg.listeners.iter().enumerate() {
        let tcp = TcpListener::bind(&l.address)
            .await
            .map_err(|e| format!("listener {}: {e}", l.address))?;
        bound.push(("listening", tcp.local_addr().map_err(|e| e.to_string())?));
        let tls = match &l.tls {
            Some(t) => {
                let listener = super::tls::Listener::new(t)
                    .map_err(|e| format!("listener {}: {e}", l.address))?;
                crate::warn_line!(
                    "tikguard proxy: listener {}: {}",
                    l.address,
                    listener.current().summary
                );
                tls_listeners.push((i, l.address.clone(), listener.clone()));
                Some(listener)
            }
            None => None,
        };
        let (shared, l, sessions, mut stop) =
            (shared.clone(), l.clone(), sessions.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let (s, peer) = tokio::select! {
                    _ = stop.changed() => break,
                    a = tcp.accept() => match a {
                        Ok(a) => a,
                        Err(_) => {
                            // Out of file descriptors (EMFILE) fails every accept until a
                            // connection closes: a pause, not a loop spinning a core.
                            tokio::time::sleep(ACCEPT_PAUSE).await;
                            continue;
                        }
                    },
                };
                let _ = s.set_nodelay(true);
                let Ok(permit) = sessions.clone().try_acquire_owned() else {
                    continue;
                };
                // The certificate as it is now: a SIGHUP after this does not change what this
                // connection's handshake is served.
                let serving = tls.as_ref().map(|t| t.current());
                let (shared, router) = (shared.clone(), l.router.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    match serving {
                        None => {
                            let a = Arrival {
                                peer,
                                router,
                                service: "api",
                                client_cert: None,
                            };
                            session::serve(s, a, shared).await;
                        }
                        Some(serving) => {
                            if let Ok(Ok(tls)) =
                                tokio::time::timeout(HANDSHAKE, serving.acceptor.accept(s)).await
                            {
                                let client_cert = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|c| c.first())
                                    .map(|c| ClientCert::read(c, serving.cert_name));
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
    loop {
        tokio::select! {
            _ = hup.recv() => {
                reload(&path, &shared);
                reload_certificates(&shared.config(), &tls_listeners);
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

/// SIGHUP: each TLS listener re-reads its certificate, key and client CA, from the files the
/// configuration in effect names (the new one if it loaded, else the running one): a renewed
/// certificate is served to the next connections. Files that do not load leave the listener
/// serving what it served, and say why.
///
/// A listener is the one at the same place in the file with the same address (several may
/// have the same, `127.0.0.1:0`); listeners moved around need a restart, as [`reload`] says.
fn reload_certificates(
    cfg: &ProxyConfig,
    listeners: &[(usize, String, Arc<super::tls::Listener>)],
) {
    for (i, address, listener) in listeners {
        let Some(t) = cfg
            .listeners
            .get(*i)
            .filter(|l| &l.address == address)
            .and_then(|l| l.tls.as_ref())
        else {
            crate::warn_line!(
                "tikguard proxy: listener {address}: TLS settings removed; the listener keeps its certificate until a restart"
            );
            continue;
        };
        match listener.reload(t) {
            Ok(summary) => {
                crate::warn_line!("tikguard proxy: listener {address}: {summary}")
            }
            Err(e) => crate::warn_line!(
                "tikguard proxy: listener {address}: certificate reload refused, the listener keeps the certificate it had: {e}"
            ),
        }
    }
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
    let listeners = |c: &ProxyConfig| -> Vec<(String, bool)> {
        c.listeners
            .iter()
            .map(|l| (l.address.clone(), l.tls.is_some()))
            .collect()
    };
    if listeners(&old) != listeners(&new) {
        crate::warn_line!(
            "tikguard proxy: listener changes (addresses, TLS on or off) take effect after a restart"
        );
    }
    // The log (its file, mode, checkpoints and key) and the metrics listener are opened once,
    // at start: a reload that changes them must say that it did not apply them, or an operator
    // who moved the log would believe the new path is written.
    let restart_only: Vec<&str> = [
        ("audit-log", old.audit_log != new.audit_log),
        ("audit-log-mode", old.audit_log_mode != new.audit_log_mode),
        ("checkpoint", old.checkpoint != new.checkpoint),
        ("checkpoint-key", old.checkpoint_key != new.checkpoint_key),
        (
            "checkpoint-lines",
            old.checkpoint_lines != new.checkpoint_lines,
        ),
        (
            "checkpoint-seconds",
            old.checkpoint_seconds != new.checkpoint_seconds,
        ),
        ("metrics", old.metrics != new.metrics),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    if !restart_only.is_empty() {
        crate::warn_line!(
            "tikguard proxy: {} changed: these take effect after a restart; until then the log, its checkpoints and the metrics listener stay as they were",
            restart_only.join(", ")
        );
    }
    let mut ups = match upstreams(&new, &shared.metrics) {
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
    let gone: Vec<String> = {
        let mut current = shared.upstreams.write().unwrap_or_else(|p| p.into_inner());
        let gone = current
            .keys()
            .filter(|k| !ups.contains_key(*k))
            .cloned()
            .collect();
        *current = ups;
        gone
    };
    for name in gone {
        shared.metrics.forget_router(&name);
    }
    *shared.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
    crate::warn_line!("tikguard proxy: configuration reloaded from {path}");
}
