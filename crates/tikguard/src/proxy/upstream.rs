//! Connections to the routers: verified API-SSL, logged in with the router credential from the
//! configuration (never seen by clients), at most `max-sessions` per router.
//!
//! A client session leases one upstream connection for as long as it has commands in flight
//! and gives it back afterwards, so a slow client slows only its own connection (replies are
//! read from the router only as fast as the client takes them). A connection that broke is
//! dropped, not given back. After a failed connection attempt the router is retried with
//! exponential backoff (0.5 s doubling to 30 s); meanwhile leases fail at once with a message
//! saying when the next attempt is.
//!
//! A client holds at most its share of a router's sessions (`upstream-sessions`, by default
//! `max-sessions - 1`, at least 1): one CRM streaming or pipelining on every connection it can
//! open would otherwise take them all, and every other CRM would wait for a session and be
//! refused. Past its share, a client's lease waits as one past `max-sessions` does, and is
//! refused after the same wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use routeros_api::{Client, Error, Options, Security};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::RouterCfg;

/// How long a lease waits for a free upstream session before the command is refused.
const LEASE_WAIT: Duration = Duration::from_secs(10);
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Health {
    /// Earliest next connection attempt after a failure.
    retry_at: Option<Instant>,
    backoff: Duration,
    last_error: Option<String>,
}

/// One router's pool.
pub struct Upstream {
    pub cfg: RouterCfg,
    security: Security,
    slots: Arc<Semaphore>,
    /// Each client's share of `slots`, by name (configured names only: bounded by the
    /// configuration), with the share it was made for.
    shares: Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
    idle: Mutex<Vec<Client>>,
    health: Mutex<Health>,
    metrics: Arc<super::metrics::Metrics>,
    /// What `upstream_up` says: -1 before anything is known, then 0 or 1.
    answering: AtomicI8,
}

impl Upstream {
    pub fn new(
        cfg: RouterCfg,
        metrics: Arc<super::metrics::Metrics>,
    ) -> Result<Arc<Upstream>, String> {
        let security = cfg
            .verify
            .security()
            .map_err(|e| format!("router {}: {e}", cfg.name))?;
        // The router's counters exist from the start at 0 (`rate()` sees their first step).
        metrics.upstream_connects.with_label_values(&[&cfg.name]);
        metrics
            .upstream_connect_failures
            .with_label_values(&[&cfg.name]);
        Ok(Arc::new(Upstream {
            slots: Arc::new(Semaphore::new(cfg.max_sessions)),
            shares: Mutex::new(HashMap::new()),
            cfg,
            security,
            idle: Mutex::new(Vec::new()),
            health: Mutex::new(Health::default()),
            metrics,
            answering: AtomicI8::new(-1),
        }))
    }

    /// The router answered (a connection made, a command's reply) or failed (a connection
    /// attempt failed, a connection broke, a command timed out): `upstream_up` says so. The
    /// gauge is touched only when the state changes (a reply costs an atomic swap).
    pub fn answering(&self, yes: bool) {
        let now = i8::from(yes);
        if self.answering.swap(now, Ordering::Relaxed) != now {
            self.metrics
                .upstream_up
                .with_label_values(&[&self.cfg.name])
                .set(i64::from(now));
        }
    }

    /// Upstream sessions leased now.
    pub fn sessions_in_use(&self) -> usize {
        self.cfg
            .max_sessions
            .saturating_sub(self.slots.available_permits())
    }

    async fn connect(&self) -> Result<Client, Error> {
        {
            let h = self.health.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = h.retry_at {
                let now = Instant::now();
                if at > now {
                    return Err(Error::Io(format!(
                        "router {} unreachable ({}); next attempt in {:.1} s",
                        self.cfg.name,
                        h.last_error.as_deref().unwrap_or("connection failed"),
                        (at - now).as_secs_f64()
                    )));
                }
            }
        }
        let attempt = async {
            let opts = Options::new(self.cfg.address.clone(), self.security.clone());
            let client = Client::connect(&opts).await?;
            let password = self.cfg.password.read().map_err(Error::Config)?;
            client.login(&self.cfg.user, &password).await?;
            Ok::<Client, Error>(client)
        };
        let result = attempt.await;
        self.answering(result.is_ok());
        let name = [self.cfg.name.as_str()];
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) => {
                self.metrics
                    .upstream_connects
                    .with_label_values(&name)
                    .inc();
                *h = Health::default();
            }
            Err(e) => {
                self.metrics
                    .upstream_connect_failures
                    .with_label_values(&name)
                    .inc();
                h.backoff = (h.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                h.retry_at = Some(Instant::now() + h.backoff);
                h.last_error = Some(e.to_string());
            }
        }
        result
    }

    /// A client's share of this router's sessions when its configuration names none.
    pub fn default_share(&self) -> usize {
        self.cfg.max_sessions.saturating_sub(1).max(1)
    }

    /// A connection for one command (or a stream) of `client`: an idle one, else a new one,
    /// within the client's `share` and `max-sessions`.
    pub async fn lease(self: &Arc<Self>, client: &str, share: usize) -> Result<Lease, Error> {
        let share = share.clamp(1, self.cfg.max_sessions);
        let mine = {
            let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
            let entry = shares
                .entry(client.to_string())
                .or_insert_with(|| (share, Arc::new(Semaphore::new(share))));
            // A reload changed the share: leases under the old one end as they do.
            if entry.0 != share {
                *entry = (share, Arc::new(Semaphore::new(share)));
            }
            entry.1.clone()
        };
        let deadline = tokio::time::Instant::now() + LEASE_WAIT;
        let client_permit = tokio::time::timeout_at(deadline, mine.acquire_owned())
            .await
            .map_err(|_| {
                Error::Timeout("waiting for a session within the client's share of the router")
            })?
            .map_err(|_| Error::Closed)?;
        let permit = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Error::Timeout("waiting for a free upstream session"))?
            .map_err(|_| Error::Closed)?;
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            let mut found = None;
            while let Some(c) = idle.pop() {
                if !c.is_closed() {
                    found = Some(c);
                    break;
                }
            }
            found
        };
        let client = match reused {
            Some(c) => c,
            None => self.connect().await?,
        };
        Ok(Lease {
            client: Some(client),
            up: self.clone(),
            _permit: permit,
            _client_permit: client_permit,
            broken: false,
        })
    }
}

/// A leased upstream connection; given back on drop unless marked broken.
pub struct Lease {
    client: Option<Client>,
    up: Arc<Upstream>,
    _permit: OwnedSemaphorePermit,
    _client_permit: OwnedSemaphorePermit,
    broken: bool,
}

impl Lease {
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("present until dropped")
    }

    /// The router's pool this connection belongs to.
    pub fn upstream(&self) -> &Upstream {
        &self.up
    }

    /// The connection failed or is in an unknown state: do not reuse it.
    pub fn discard(&mut self) {
        self.broken = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !self.broken && !c.is_closed() {
                self.up
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(c);
            }
        }
    }
}
