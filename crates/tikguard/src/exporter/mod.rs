//! `tikguard exporter`: a Prometheus exporter in the multi-target pattern of blackbox_exporter
//! and snmp_exporter (https://prometheus.io/docs/guides/multi-target-exporter/): Prometheus
//! lists the routers as targets, relabels `__address__` into `__param_target` (the `target`
//! query parameter) and `instance`, and scrapes `/probe?target=NAME` on the exporter; each
//! scrape runs a live audit of that router ([`probe`]) and answers with `probe_success`,
//! `probe_duration_seconds` (blackbox_exporter's names) and the audit's series. `/metrics` is
//! the exporter's own ([`own`]).
//!
//! Bounds, so that the exporter stays up whatever Prometheus or anyone else sends:
//! - one probe of a router runs at a time: scrapes of the same router that arrive while it
//!   runs wait for it and take its answer (Prometheus' HA pairs, a flood of one name), so a
//!   router gets at most one exporter connection at a time;
//! - a target must be a router of the inventory: an unknown name is a 404 at once, and no
//!   address or host name from a request is ever connected to;
//! - at most `concurrency` probes run at once and `queue` more wait; past that a request is
//!   answered 503 at once;
//! - each probe has a deadline: Prometheus' `X-Prometheus-Scrape-Timeout-Seconds` header less
//!   [`Settings::offset`] (as blackbox_exporter's `--timeout-offset`, 0.5 s by default), never
//!   more than [`Settings::max_timeout`]; a slow router uses its own slot until its deadline and
//!   no other;
//! - at most [`MAX_CONNECTIONS`] HTTP connections, a request head within [`READ_TIMEOUT`] (idle
//!   keep-alive connections included) of at most [`MAX_HEAD`] bytes and [`MAX_HEADERS`] headers,
//!   and a connection lasts at most the longest probe plus [`READ_TIMEOUT`].

pub mod own;
pub mod probe;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use routeros_api::{Fingerprint, Security, Verify};

use crate::fleet::inventory::{Credential, Router, Tls};

/// HTTP connections open at once; more are closed as they come.
pub const MAX_CONNECTIONS: usize = 256;
/// A request's head (or the next one on a kept-alive connection) must arrive within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of a request head.
pub const MAX_HEAD: usize = 16 << 10;
/// Headers in a request.
pub const MAX_HEADERS: usize = 32;
/// Prometheus' header with the scrape's timeout in seconds (set on every scrape since 2.x).
pub const TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// A router the exporter may probe: an inventory router with its TLS verification resolved.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    /// `host:port` of its API service.
    pub address: String,
    pub security: Security,
    pub user: String,
    /// Read at every probe, so a rotated password file is used without a restart.
    pub password: Credential,
}

impl Target {
    /// The inventory's router as a target. A router without a credential is an error: a live
    /// audit logs in.
    pub fn of(r: &Router) -> Result<Target, String> {
        if r.credential == Credential::None {
            return Err(format!(
                "router {}: no password_env or password_file (a live audit logs in)",
                crate::term::printable(&r.name)
            ));
        }
        let security = match &r.tls {
            Tls::Plain => Security::Plain,
            Tls::InsecureSkipVerify => Security::Tls(Verify::InsecureSkipVerification),
            Tls::Ca(path) => Security::Tls(Verify::Ca(routeros_api::tls::load_ca(path)?)),
            Tls::Pin(hex) => {
                Security::Tls(Verify::Pin(Fingerprint::parse(hex).ok_or_else(|| {
                    format!(
                        "router {}: pin `{hex}` is not a SHA-256 fingerprint",
                        crate::term::printable(&r.name)
                    )
                })?))
            }
            Tls::KnownRouters(Some(file)) => Security::Tls(Verify::TrustOnFirstUse(file.clone())),
            Tls::KnownRouters(None) => {
                let home = std::env::var_os("HOME").ok_or("HOME is not set; give known_routers")?;
                let dir = PathBuf::from(home).join(".config/tikguard");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Security::Tls(Verify::TrustOnFirstUse(dir.join("known_routers")))
            }
        };
        Ok(Target {
            name: r.name.clone(),
            address: r.address(),
            security,
            user: r.user.clone(),
            password: r.credential.clone(),
        })
    }
}

/// The server's limits.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Probes running at once.
    pub concurrency: usize,
    /// Probes waiting for a slot; past `concurrency + queue` a request gets 503.
    pub queue: usize,
    /// A probe's deadline when the request has no timeout header, and the most it may have.
    pub max_timeout: Duration,
    /// Taken off the scrape timeout, so the answer reaches Prometheus in time.
    pub offset: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            concurrency: 16,
            queue: 64,
            max_timeout: Duration::from_secs(60),
            offset: Duration::from_millis(500),
        }
    }
}

/// A target and its last probe: one probe of a router runs at a time, and a scrape that waited
/// for another's probe of the same router takes its result instead of probing again.
struct Slot {
    target: Target,
    /// When the last probe finished, and its answer.
    last: tokio::sync::Mutex<Option<(Instant, Arc<Vec<u8>>)>>,
}

/// The exporter's state: its targets, its slots, its own metrics.
pub struct Exporter {
    targets: HashMap<String, Arc<Slot>>,
    settings: Settings,
    slots: Arc<tokio::sync::Semaphore>,
    admitted: AtomicUsize,
    pub own: own::Own,
}

impl Exporter {
    pub fn new(targets: Vec<Target>, settings: Settings) -> Arc<Exporter> {
        let own = own::Own::new();
        own.targets.set(targets.len() as i64);
        Arc::new(Exporter {
            targets: targets
                .into_iter()
                .map(|t| {
                    let slot = Slot {
                        target: t,
                        last: tokio::sync::Mutex::new(None),
                    };
                    (slot.target.name.clone(), Arc::new(slot))
                })
                .collect(),
            slots: Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1))),
            settings,
            admitted: AtomicUsize::new(0),
            own,
        })
    }

    /// A probe's deadline from the scrape timeout header (seconds, as Prometheus sends it).
    pub fn deadline(&self, header: Option<&str>) -> Duration {
        let max = self.settings.max_timeout;
        match header.and_then(|h| h.trim().parse::<f64>().ok()) {
            Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s.min(86_400.0))
                .saturating_sub(self.settings.offset)
                .max(Duration::from_millis(100))
                .min(max),
            _ => max,
        }
    }

    async fn probe(&self, name: &str, header: Option<&str>) -> Response<Full<Bytes>> {
        let Some(slot) = self.targets.get(name).cloned() else {
            self.own
                .refused
                .with_label_values(&["unknown_target"])
                .inc();
            return text(
                StatusCode::NOT_FOUND,
                "unknown target: not in the inventory\n",
            );
        };
        let limit = self.settings.concurrency.max(1) + self.settings.queue;
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= limit {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            self.own.refused.with_label_values(&["busy"]).inc();
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy: too many probes running and waiting\n",
            );
        }
        let _admitted = Admitted(&self.admitted);
        let deadline = self.deadline(header);
        let start = Instant::now();
        let body = match self.probe_once(&slot, start, deadline).await {
            Ok(body) => body,
            Err(outcome) => Arc::new(probe::render(&outcome)),
        };
        Response::builder()
            .header("content-type", prometheus::TEXT_FORMAT)
            .body(Full::new(Bytes::from(body.to_vec())))
            .expect("valid response")
    }

    /// Probes the slot's router, or takes the answer of a probe of it that finished while this
    /// scrape waited. `Err`: the deadline passed before a probe could start.
    async fn probe_once(
        &self,
        slot: &Slot,
        start: Instant,
        deadline: Duration,
    ) -> Result<Arc<Vec<u8>>, probe::Outcome> {
        let queued = |what: &str| probe::Outcome {
            failed: Some((probe::Stage::Queue, what.to_string())),
            duration: start.elapsed(),
            ..Default::default()
        };
        let Ok(mut last) = tokio::time::timeout(deadline, slot.last.lock()).await else {
            let o = queued("another probe of this router ran until the deadline");
            self.own.record(&o);
            return Err(o);
        };
        if let Some((finished, body)) = &*last {
            if *finished >= start {
                self.own.probes.with_label_values(&["coalesced"]).inc();
                return Ok(body.clone());
            }
        }
        let left = deadline.saturating_sub(start.elapsed());
        let Ok(Ok(_running)) = tokio::time::timeout(left, self.slots.clone().acquire_owned()).await
        else {
            let o = queued("no free probe slot before the deadline");
            self.own.record(&o);
            return Err(o);
        };
        self.own.in_flight.inc();
        let mut outcome = probe::run(&slot.target, deadline.saturating_sub(start.elapsed())).await;
        self.own.in_flight.dec();
        outcome.duration = start.elapsed();
        self.own.record(&outcome);
        if let Some((stage, why)) = &outcome.failed {
            eprintln!(
                "tikguard: exporter: {}: {}: {}",
                crate::term::printable(&slot.target.name),
                stage.as_str(),
                crate::term::printable(why)
            );
        }
        let body = Arc::new(probe::render(&outcome));
        *last = Some((Instant::now(), body.clone()));
        Ok(body)
    }

    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
        }
        match req.uri().path() {
            "/probe" => {
                let Some(name) = query_param(req.uri().query().unwrap_or(""), "target") else {
                    self.own.refused.with_label_values(&["bad_request"]).inc();
                    return text(
                        StatusCode::BAD_REQUEST,
                        "give the router's inventory name: /probe?target=NAME\n",
                    );
                };
                let header = req
                    .headers()
                    .get(TIMEOUT_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                self.probe(&name, header.as_deref()).await
            }
            "/metrics" => Response::builder()
                .header("content-type", prometheus::TEXT_FORMAT)
                .body(Full::new(Bytes::from(self.own.render())))
                .expect("valid response"),
            "/" => text(
                StatusCode::OK,
                "tikguard exporter: /probe?target=NAME audits one router of the inventory; /metrics is the exporter's own\n",
            ),
            _ => text(StatusCode::NOT_FOUND, "see /probe?target=NAME and /metrics\n"),
        }
    }
}

/// Gives the admission back however the probe ends (the request dropped included).
struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid response")
}

/// A query parameter, percent-decoded (`+` is a space, as in forms); the first one.
pub fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        };
        (decode(k)? == key).then(|| decode(v)).flatten()
    })
}

/// Serves until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, exporter: Arc<Exporter>) {
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let lifetime = exporter.settings.max_timeout + READ_TIMEOUT;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => {
                // Out of file descriptors, most likely: wait for some to close.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(place) = connections.clone().try_acquire_owned() else {
            exporter
                .own
                .refused
                .with_label_values(&["connections"])
                .inc();
            continue;
        };
        let exporter = exporter.clone();
        tokio::spawn(async move {
            let _place = place;
            let service = hyper::service::service_fn(move |req| {
                let exporter = exporter.clone();
                async move { Ok::<_, Infallible>(exporter.handle(req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .max_headers(MAX_HEADERS)
                .serve_connection(io, service);
            let _ = tokio::time::timeout(lifetime, conn).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_parameter_is_percent_decoded() {
        assert_eq!(
            query_param("module=x&target=pop%2D1+a", "target").as_deref(),
            Some("pop-1 a")
        );
        assert_eq!(query_param("targets=x", "target"), None);
        assert_eq!(query_param("", "target"), None);
    }

    #[test]
    fn the_scrape_timeout_header_less_the_offset_is_the_deadline() {
        let e = Exporter::new(Vec::new(), Settings::default());
        assert_eq!(e.deadline(Some("10")), Duration::from_millis(9500));
        assert_eq!(e.deadline(Some("0.2")), Duration::from_millis(100));
        // Never longer than the configured maximum; no header or a bad one is the maximum.
        assert_eq!(e.deadline(Some("3600")), Duration::from_secs(60));
        assert_eq!(e.deadline(None), Duration::from_secs(60));
        assert_eq!(e.deadline(Some("NaN")), Duration::from_secs(60));
        assert_eq!(e.deadline(Some("-5")), Duration::from_secs(60));
    }
}
