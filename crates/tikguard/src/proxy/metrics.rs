//! The proxy's Prometheus endpoint (`metrics = "ADDRESS:PORT"` in `[proxy]`; `GET /metrics`):
//! commands by client, router and decision, command latency, upstream state and reconnects,
//! client connections. Text exposition format, as `promtool check metrics` reads it.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Everything the proxy counts.
pub struct Metrics {
    registry: Registry,
    pub commands: IntCounterVec,
    pub latency: HistogramVec,
    pub logins: IntCounterVec,
    pub connections: IntGauge,
    pub upstream_up: IntGaugeVec,
    pub upstream_connects: IntGaugeVec,
    pub upstream_failures: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new();
        let commands = IntCounterVec::new(
            Opts::new(
                "tikguard_proxy_commands_total",
                "Commands by client, router and decision (allow, deny).",
            ),
            &["client", "router", "decision"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tikguard_proxy_command_seconds",
                "Time from a command's arrival to its final reply, by router.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 17).expect("valid buckets")),
            &["router"],
        )
        .expect("valid metric");
        let logins = IntCounterVec::new(
            Opts::new(
                "tikguard_proxy_logins_total",
                "Client logins by result (ok, failure).",
            ),
            &["result"],
        )
        .expect("valid metric");
        let connections = IntGauge::new(
            "tikguard_proxy_client_connections",
            "Client connections open now.",
        )
        .expect("valid metric");
        let upstream_up = IntGaugeVec::new(
            Opts::new(
                "tikguard_proxy_upstream_up",
                "1 when the last connection attempt to the router succeeded.",
            ),
            &["router"],
        )
        .expect("valid metric");
        let upstream_connects = IntGaugeVec::new(
            Opts::new(
                "tikguard_proxy_upstream_connects",
                "Connections made to the router since start (the first and every reconnect).",
            ),
            &["router"],
        )
        .expect("valid metric");
        let upstream_failures = IntGaugeVec::new(
            Opts::new(
                "tikguard_proxy_upstream_connect_failures",
                "Failed connection attempts to the router since start.",
            ),
            &["router"],
        )
        .expect("valid metric");
        for c in [
            Box::new(commands.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(logins.clone()),
            Box::new(connections.clone()),
            Box::new(upstream_up.clone()),
            Box::new(upstream_connects.clone()),
            Box::new(upstream_failures.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Arc::new(Metrics {
            registry,
            commands,
            latency,
            logins,
            connections,
            upstream_up,
            upstream_connects,
            upstream_failures,
        })
    }

    /// The exposition text, upstream gauges refreshed from the pools first.
    pub fn render(&self, upstreams: &[(String, Arc<super::upstream::Upstream>)]) -> Vec<u8> {
        use std::sync::atomic::Ordering;
        for (name, up) in upstreams {
            self.upstream_up
                .with_label_values(&[name])
                .set(i64::from(!up.is_down()));
            self.upstream_connects
                .with_label_values(&[name])
                .set(up.connects.load(Ordering::Relaxed) as i64);
            self.upstream_failures
                .with_label_values(&[name])
                .set(up.failures.load(Ordering::Relaxed) as i64);
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<super::session::Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
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
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(io, service);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), conn).await;
        });
    }
}
