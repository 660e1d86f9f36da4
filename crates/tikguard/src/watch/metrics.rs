//! watch's Prometheus endpoint (`metrics = "ADDRESS:PORT"` in `[watch]`; `GET /metrics`): lines
//! read and login events per router, datagrams and connections from unknown senders, queue
//! drops, blocks, refusals, unconfirmed blocks, and whether each router is reachable. Text
//! exposition format, as `promtool check metrics` reads it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use super::action::Sync;
use super::input::Counters;

/// Everything watch counts.
pub struct Metrics {
    registry: Registry,
    pub lines: IntCounterVec,
    pub events: IntCounterVec,
    pub blocks: IntCounterVec,
    pub refused: IntCounterVec,
    pub unconfirmed: IntCounterVec,
    unknown_senders: IntCounter,
    kernel_drops: IntCounter,
    queue_drops: IntCounter,
    oversized: IntCounter,
    router_up: IntGaugeVec,
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
}

fn counter(name: &str, help: &str) -> IntCounter {
    IntCounter::new(name, help).expect("valid metric")
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let m = Metrics {
            registry: Registry::new(),
            lines: counter_vec(
                "tikguard_watch_lines_total",
                "Log lines read from each configured router.",
                &["router"],
            ),
            events: counter_vec(
                "tikguard_watch_events_total",
                "Login events read from each router.",
                &["router"],
            ),
            blocks: counter_vec(
                "tikguard_watch_blocks_total",
                "Blocks put into effect, by the router that saw them.",
                &["router"],
            ),
            refused: counter_vec(
                "tikguard_watch_refused_total",
                "Blocks refused past max-entries, by the router that saw them.",
                &["router"],
            ),
            unconfirmed: counter_vec(
                "tikguard_watch_unconfirmed_total",
                "Blocks the router's own log did not confirm (confirm = true).",
                &["router"],
            ),
            unknown_senders: counter(
                "tikguard_watch_unknown_sender_total",
                "Syslog datagrams and connections from addresses that are no router's source, seen by watch (the kernel filter drops most datagrams before: tikguard_watch_udp_kernel_drops_total).",
            ),
            kernel_drops: counter(
                "tikguard_watch_udp_kernel_drops_total",
                "Syslog datagrams the kernel dropped at watch's UDP socket: unknown senders' (its filter), or with the receive buffer full.",
            ),
            queue_drops: counter(
                "tikguard_watch_queue_drops_total",
                "Routers' syslog lines dropped with the queue full.",
            ),
            oversized: counter(
                "tikguard_watch_oversized_total",
                "Syslog datagrams and frames over the line cap.",
            ),
            router_up: IntGaugeVec::new(
                Opts::new(
                    "tikguard_watch_router_up",
                    "1 when the last attempt to reach the router's API succeeded.",
                ),
                &["router"],
            )
            .expect("valid metric"),
        };
        for c in [
            Box::new(m.lines.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.events.clone()),
            Box::new(m.blocks.clone()),
            Box::new(m.refused.clone()),
            Box::new(m.unconfirmed.clone()),
            Box::new(m.unknown_senders.clone()),
            Box::new(m.kernel_drops.clone()),
            Box::new(m.queue_drops.clone()),
            Box::new(m.oversized.clone()),
            Box::new(m.router_up.clone()),
        ] {
            m.registry.register(c).expect("unique metric names");
        }
        Arc::new(m)
    }

    /// A router removed by a reload: its series go.
    pub fn forget_router(&self, name: &str) {
        let _ = self.router_up.remove_label_values(&[name]);
    }

    /// The exposition text, the inputs' counters and routers' reachability read first.
    pub fn render(&self, counters: &Counters, sync: &Sync) -> Vec<u8> {
        let catch_up = |c: &IntCounter, now: u64| {
            let have = c.get();
            if now > have {
                c.inc_by(now - have);
            }
        };
        catch_up(
            &self.unknown_senders,
            counters.unknown_sender.load(Ordering::Relaxed),
        );
        catch_up(&self.kernel_drops, counters.kernel_drops());
        catch_up(
            &self.queue_drops,
            counters.queue_full.load(Ordering::Relaxed),
        );
        catch_up(&self.oversized, counters.oversized.load(Ordering::Relaxed));
        for r in &sync.routers() {
            self.router_up
                .with_label_values(&[&r.name])
                .set(i64::from(r.up.load(Ordering::Relaxed)));
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// Connections served at once from one address (an IPv6 /64 counts as one: a host holds a
/// whole /64), at most; more are closed at accept.
pub const MAX_PER_SOURCE: usize = 8;

/// Whose connection it is, for [`MAX_PER_SOURCE`]: the address, or its IPv6 /64.
pub fn source_key(ip: IpAddr) -> super::detect::Key {
    super::detect::Key::of(ip)
}
/// Connections served at once in all, at most; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 64;
/// A connection's whole life, at most: its request read and its answer written (one request
/// per connection: no keep-alive).
pub const CONNECTION_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `GET /metrics` on `listener` until the task is dropped. Bounded: [`MAX_PER_SOURCE`]
/// connections per address and [`MAX_CONNECTIONS`] in all, each closed after
/// [`CONNECTION_TIME`] whatever it sent, so slow or silent clients hold neither the listener nor
/// memory for long (before these bounds one host could open connections without end, each held
/// 30 s).
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    counters: Arc<Counters>,
    sync: Arc<Sync>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let per_source: Arc<std::sync::Mutex<HashMap<super::detect::Key, usize>>> = Arc::default();
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            // Out of descriptors, say: wait rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let from = source_key(from.ip());
        {
            let mut n = per_source.lock().unwrap_or_else(|p| p.into_inner());
            let c = n.entry(from).or_default();
            if *c >= MAX_PER_SOURCE {
                continue;
            }
            *c += 1;
        }
        let (metrics, counters, sync) = (metrics.clone(), counters.clone(), sync.clone());
        let per_source = per_source.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let body =
                    (req.uri().path() == "/metrics").then(|| metrics.render(&counters, &sync));
                async move {
                    let resp = match body {
                        Some(b) => Response::builder()
                            .header("content-type", TextEncoder::new().format_type())
                            .body(Full::new(Bytes::from(b))),
                        None => Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::from_static(b"see /metrics\n"))),
                    };
                    Ok::<_, Infallible>(resp.expect("valid response"))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(CONNECTION_TIME)
                .keep_alive(false)
                .max_buf_size(16 * 1024)
                .serve_connection(io, service);
            let _ = tokio::time::timeout(CONNECTION_TIME, conn).await;
            let mut n = per_source.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = n.get_mut(&from) {
                *c -= 1;
                if *c == 0 {
                    n.remove(&from);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    /// A host with a /64 cannot take more than one address's share of the metrics listener.
    #[test]
    fn an_ipv6_64_is_one_source() {
        let k = |a: &str| super::source_key(a.parse().unwrap());
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_ne!(k("192.0.2.1"), k("192.0.2.2"));
        assert_eq!(k("::ffff:192.0.2.1"), k("192.0.2.1"));
    }
}
