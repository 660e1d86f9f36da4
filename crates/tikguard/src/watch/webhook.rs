//! Alerts POSTed to a webhook, one JSON alert per request (the same object as the line on
//! standard output), from a bounded queue of [`QUEUE`]: when it is full the newest alert is
//! dropped and counted (blocks never wait for a webhook). A failed POST (no answer, or not
//! 2xx) is retried [`ATTEMPTS`] times in all, 1 s then doubling; a 4xx other than 408 and 429
//! is not retried (the receiver refused the alert itself).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::Method;
use tokio::sync::mpsc;

use super::http::Http;

pub const QUEUE: usize = 1024;
pub const ATTEMPTS: u32 = 5;

#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

/// A handle to queue alerts.
#[derive(Clone)]
pub struct Webhook {
    tx: mpsc::Sender<serde_json::Value>,
    pub counters: Arc<Counters>,
}

impl Webhook {
    pub fn start(http: Http, url: String, headers: Vec<(String, String)>) -> Webhook {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(sender(http, url, headers, rx, counters.clone()));
        Webhook { tx, counters }
    }

    pub fn send(&self, alert: serde_json::Value) {
        if self.tx.try_send(alert).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn sender(
    http: Http,
    url: String,
    headers: Vec<(String, String)>,
    mut rx: mpsc::Receiver<serde_json::Value>,
    n: Arc<Counters>,
) {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    while let Some(alert) = rx.recv().await {
        let body = alert.to_string().into_bytes();
        let mut delay = Duration::from_secs(1);
        let mut last = String::new();
        let mut ok = false;
        for attempt in 1..=ATTEMPTS {
            match http
                .send(Method::POST, &url, &headers, Some(body.clone()))
                .await
            {
                Ok((s, _)) if (200..300).contains(&s) => {
                    ok = true;
                    break;
                }
                Ok((s, _)) if (400..500).contains(&s) && s != 408 && s != 429 => {
                    last = format!("{url}: HTTP {s}, not retried");
                    break;
                }
                Ok((s, _)) => last = format!("{url}: HTTP {s}"),
                Err(e) => last = e,
            }
            if attempt == 1 {
                crate::warn_line!(
                    "tikguard watch: webhook: {}; retrying",
                    crate::term::printable(&last)
                );
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        if ok {
            n.sent.fetch_add(1, Ordering::Relaxed);
        } else {
            n.failed.fetch_add(1, Ordering::Relaxed);
            crate::warn_line!(
                "tikguard watch: webhook: {}; alert dropped",
                crate::term::printable(&last)
            );
        }
    }
}
