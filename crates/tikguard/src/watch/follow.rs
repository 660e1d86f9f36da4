//! `--follow ROUTER`: a router's log streamed over the API, for routers whose logging nobody may
//! change. `/log/print =follow-only=` sends each new entry as a `!re` with `time`, `topics` and
//! `message` (RouterOS' command tree lists `follow` and `follow-only` for `/log/print` in every
//! 7.x release; log-tailing clients send exactly these words). Each entry becomes the line
//! `topics message`, RouterOS' own remote-logging format, and goes through the same parser and
//! detector as syslog, tagged with the router's `source` address.
//!
//! A session that went quiet is checked every [`CHECK`] with a cheap command; a failure, or
//! the stream ending, reconnects with backoff (1 s doubling to 60 s). Entries logged while
//! disconnected are not read back (the router's memory log is small, and a replay would count
//! old failures as new).

use std::time::Duration;

use tokio::sync::mpsc;

use super::config::WatchRouter;
use super::input::Line;

/// How often a quiet stream's session is checked.
pub const CHECK: Duration = Duration::from_secs(60);

/// Streams `r`'s log into `tx` until the process ends.
pub async fn follow(r: WatchRouter, tx: mpsc::Sender<Line>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match session(&r, &tx, &mut backoff).await {
            Ok(()) => return, // The detector has gone: the process is ending.
            Err(e) => {
                crate::warn_line!(
                    "tikguard watch: follow {}: {e}; reconnecting in {} s",
                    crate::term::printable(&r.name),
                    backoff.as_secs()
                );
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

async fn session(
    r: &WatchRouter,
    tx: &mpsc::Sender<Line>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let c = super::action::connect(r).await.map_err(|e| e.to_string())?;
    let mut stream = c
        .stream(&["/log/print", "=follow-only="])
        .await
        .map_err(|e| e.to_string())?;
    let mut ticker = tokio::time::interval(CHECK);
    ticker.tick().await;
    loop {
        tokio::select! {
            item = stream.next() => {
                let reply = match item {
                    None => return Err("the router ended the log stream".into()),
                    Some(Err(e)) => return Err(e.to_string()),
                    Some(Ok(r)) => r,
                };
                *backoff = Duration::from_secs(1);
                let get = |k: &str| reply.get(k).map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
                let line = format!("{} {}", get("topics"), get("message"));
                // Backpressure: a busy detector slows the stream, and the router's API
                // session with it, rather than losing lines.
                let line = Line { from: r.source, text: line, via_api: true };
                if tx.send(line).await.is_err() {
                    return Ok(());
                }
            }
            _ = ticker.tick() => {
                tokio::time::timeout(Duration::from_secs(10), c.call(&["/system/identity/print"]))
                    .await
                    .map_err(|_| "no answer in 10 s".to_string())?
                    .map_err(|e| e.to_string())?;
            }
        }
    }
}
