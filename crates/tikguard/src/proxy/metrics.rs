//! The proxy's Prometheus endpoint (`metrics = "ADDRESS:PORT"` in `[proxy]`; `GET /metrics`):
//! commands by client, router and decision, command latency, rate-limit denials, logins,
//! client connections; per router whether it answers (`upstream_up`), connections made and
//! failed, sessions in use; the audit log's write-and-sync latency and its failures. Text
//! exposition format, as `promtool check metrics` reads it: counters end in `_total`.
//!
//! `upstream_up` follows what the router last did: 1 once a connection to it was made or it
//! answered a command, 0 once a connection attempt failed, a connection to it broke, or a
//! command got no reply within `command-timeout`. It is absent for a router the proxy has not
//! tried yet (nothing is known of it).
//!
//! The HTTP listener is bounded: [`MAX_SCRAPERS_PER_SOURCE`] connections from one address and
//! [`MAX_SCRAPERS`] in all (more are closed at once and counted), a request's head must arrive
//! within [`READ_TIMEOUT`] and a connection lasts at most [`CONNECTION_TIME`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Connections to the metrics listener from one source address at once.
pub const MAX_SCRAPERS_PER_SOURCE: usize = 8;
/// Connections to the metrics listener at once.
pub const MAX_SCRAPERS: usize = 64;
/// A request's head must arrive within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A metrics connection (keep-alive included) is closed after this.
pub const CONNECTION_TIME: Duration = Duration::from_secs(30);

/// Everything the proxy counts.
pub struct Metrics {
    registry: Registry,
    pub commands: IntCounterVec,
    pub latency: HistogramVec,
    pub logins: IntCounterVec,
    pub connections: IntGauge,
    pub rate_limited: IntCounterVec,
    pub upstream_up: IntGaugeVec,
    pub upstream_connects: IntCounterVec,
    pub upstream_connect_failures: IntCounterVec,
    upstream_sessions_in_use: IntGaugeVec,
    upstream_sessions_max: IntGaugeVec,
    pub log_write: Histogram,
    pub log_write_failures: IntCounter,
    pub scrapers_refused: IntCounter,
}

fn counters(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
}

fn gauges(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new();
        let commands = counters(
            "tikguard_proxy_commands_total",
            "Commands by client, router and decision (allow, deny).",
            &["client", "router", "decision"],
        );
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tikguard_proxy_command_seconds",
                "Time from a command's arrival to its final reply, by router.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 17).expect("valid buckets")),
            &["router"],
        )
        .expect("valid metric");
        let logins = counters(
            "tikguard_proxy_logins_total",
            "Client logins by result (ok, failure).",
            &["result"],
        );
        let connections = IntGauge::new(
            "tikguard_proxy_client_connections",
            "Client connections open now.",
        )
        .expect("valid metric");
        let rate_limited = counters(
            "tikguard_proxy_rate_limited_total",
            "Commands refused by the client's rate limit, by client (also counted as denied in tikguard_proxy_commands_total).",
            &["client"],
        );
        let upstream_up = gauges(
            "tikguard_proxy_upstream_up",
            "1 while the router answers (a connection made, a command answered); 0 after a failed connection attempt, a broken connection or a command timeout.",
            &["router"],
        );
        let upstream_connects = counters(
            "tikguard_proxy_upstream_connects_total",
            "Connections made to the router and logged in (the first and every reconnect).",
            &["router"],
        );
        let upstream_connect_failures = counters(
            "tikguard_proxy_upstream_connect_failures_total",
            "Failed connection attempts to the router (TLS, verification or login).",
            &["router"],
        );
        let upstream_sessions_in_use = gauges(
            "tikguard_proxy_upstream_sessions_in_use",
            "Upstream sessions of the router leased to clients now.",
            &["router"],
        );
        let upstream_sessions_max = gauges(
            "tikguard_proxy_upstream_sessions_max",
            "Upstream sessions the router may have at once (max-sessions).",
            &["router"],
        );
        let log_write = Histogram::with_opts(
            HistogramOpts::new(
                "tikguard_proxy_log_write_seconds",
                "Time to write and fsync one group of audit log lines.",
            )
            .buckets(prometheus::exponential_buckets(0.00005, 2.0, 16).expect("valid buckets")),
        )
        .expect("valid metric");
        let log_write_failures = IntCounter::new(
            "tikguard_proxy_log_write_failures_total",
            "Audit log writes or fsyncs that failed (after one, the proxy forwards nothing).",
        )
        .expect("valid metric");
        let scrapers_refused = IntCounter::new(
            "tikguard_proxy_metrics_connections_refused_total",
            "Connections to this endpoint closed at once: over the per-source or total limit.",
        )
        .expect("valid metric");
        for c in [
            Box::new(commands.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(logins.clone()),
            Box::new(connections.clone()),
            Box::new(rate_limited.clone()),
            Box::new(upstream_up.clone()),
            Box::new(upstream_connects.clone()),
            Box::new(upstream_connect_failures.clone()),
            Box::new(upstream_sessions_in_use.clone()),
            Box::new(upstream_sessions_max.clone()),
            Box::new(log_write.clone()),
            Box::new(log_write_failures.clone()),
            Box::new(scrapers_refused.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Arc::new(Metrics {
            registry,
            commands,
            latency,
            logins,
            connections,
            rate_limited,
            upstream_up,
            upstream_connects,
            upstream_connect_failures,
            upstream_sessions_in_use,
            upstream_sessions_max,
            log_write,
            log_write_failures,
            scrapers_refused,
        })
    }

    /// A write and sync of the audit log took `took`, and failed or not.
    pub fn log_written(&self, took: Duration, failed: bool) {
        self.log_write.observe(took.as_secs_f64());
        if failed {
            self.log_write_failures.inc();
        }
    }

    /// A router no longer configured: its per-router series go.
    pub fn forget_router(&self, name: &str) {
        for g in [
            &self.upstream_up,
            &self.upstream_sessions_in_use,
            &self.upstream_sessions_max,
        ] {
            let _ = g.remove_label_values(&[name]);
        }
    }

    /// The exposition text, the pools' session gauges refreshed first.
    pub fn render(&self, upstreams: &[(String, Arc<super::upstream::Upstream>)]) -> Vec<u8> {
        for (name, up) in upstreams {
            self.upstream_sessions_in_use
                .with_label_values(&[name])
                .set(up.sessions_in_use() as i64);
            self.upstream_sessions_max
                .with_label_values(&[name])
                .set(up.cfg.max_sessions as i64);
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// A metrics connection's place among its source's, given back on drop.
struct Scraper {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Scraper {
    fn admit(open: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr) -> Option<Scraper> {
        let mut all = open.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = all.values().sum();
        let mine = all.entry(ip).or_insert(0);
        if *mine >= MAX_SCRAPERS_PER_SOURCE || total >= MAX_SCRAPERS {
            if *mine == 0 {
                all.remove(&ip);
            }
            return None;
        }
        *mine += 1;
        Some(Scraper {
            open: open.clone(),
            ip,
        })
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        let mut all = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = all.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                all.remove(&self.ip);
            }
        }
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<super::session::Shared>) {
    let open: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => {
                tokio::time::sleep(super::server::ACCEPT_PAUSE).await;
                continue;
            }
        };
        let Some(place) = Scraper::admit(&open, peer.ip()) else {
            shared.metrics.scrapers_refused.inc();
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _place = place;
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let shared = shared.clone();
                async move {
                    let resp = if req.uri().path() == "/metrics" {
                        let ups: Vec<(String, Arc<super::upstream::Upstream>)> = shared
                            .upstreams
                            .read()
                            .unwrap_or_else(|p| p.into_inner())
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        Response::builder()
                            .header("content-type", TextEncoder::new().format_type())
                            .body(Full::new(Bytes::from(shared.metrics.render(&ups))))
                    } else {
                        Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::from_static(b"see /metrics\n")))
                    };
                    Ok::<_, Infallible>(resp.expect("valid response"))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .max_buf_size(16 << 10)
                .serve_connection(io, service);
            let _ = tokio::time::timeout(CONNECTION_TIME, conn).await;
        });
    }
}
