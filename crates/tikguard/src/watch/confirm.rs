//! `confirm = true`: before a block decided on syslog lines takes effect, watch asks the router
//! itself over the API whether it logged those failures. A UDP source address can be forged
//! by anyone on the path between a router and watch; the router's own log cannot.
//!
//! The router's log is read with `/log/print =.proplist=time,topics,message` (the memory log,
//! 1,000 lines by default) and matched here: entries whose topics and message
//! [`super::event`] reads as a login failure (or denied connection) from the blocked source
//! (the same address, or the same IPv6 /64). The block stands when the router holds at least
//! as many such entries as the threshold. Approximated: the entries' times are not compared
//! with the window (the router's clock and its `time` format vary), so failures it logged
//! earlier that are still in its memory count too; they are still the router's own.
//!
//! One login answers many: each router has one confirmer ([`confirmer`]) that takes every
//! question waiting, logs in once, reads the log once and answers them all. Lines forged with a
//! router's source (the threat `confirm` is for) therefore cost one login per batch, not one
//! per address, and do not crowd a real attacker's block out of the queue for long.
//!
//! Bounds: one login at a time per router, at most [`MAX_PENDING`] questions waiting; past
//! that a block is not confirmed (said, and counted; the detector forgets it, so the source's
//! next failures ask again). A router that cannot be asked confirms nothing.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;

use super::config::WatchRouter;
use super::detect::Key;
use super::event::{parse_message, topics_fit, Kind, Source};

/// Questions waiting per router, at most.
pub const MAX_PENDING: usize = 4096;
/// How long a question may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Counts, for each of `keys`, the login failures the router's own log holds: one login, one
/// `/log/print`.
pub async fn logged(r: &WatchRouter, keys: &[Key]) -> Result<HashMap<Key, usize>, String> {
    let ask = async {
        let c = super::action::connect(r).await.map_err(|e| e.to_string())?;
        let items = c
            .call(&["/log/print", "=.proplist=time,topics,message"])
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(count_all(
            items.iter().map(|i| {
                let get = |k: &str| {
                    i.get(k)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default()
                };
                (get("topics"), get("message"))
            }),
            keys,
        ))
    };
    tokio::time::timeout(TIMEOUT, ask)
        .await
        .map_err(|_| format!("no answer in {} s", TIMEOUT.as_secs()))?
}

/// A question for a router's confirmer: the router as configured when it was asked, and what
/// the answer is for.
pub type Question<T> = (WatchRouter, Key, T);

/// Serves one router's questions until every sender is gone: waits for one, takes every other
/// one waiting, asks the router once, and sends each its answer (`Err` when the router could
/// not be asked).
pub async fn confirmer<T: Send + 'static, R: Send + 'static>(
    mut rx: mpsc::Receiver<Question<T>>,
    back: mpsc::Sender<R>,
    answer_of: fn(T, Result<usize, String>) -> R,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_PENDING {
            match rx.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        let router = batch.last().map(|q| q.0.clone()).expect("one at least");
        let mut keys: Vec<Key> = batch.iter().map(|q| q.1).collect();
        keys.sort_unstable();
        keys.dedup();
        let answer = logged(&router, &keys).await;
        for (_, key, t) in batch {
            let one = match &answer {
                Ok(n) => Ok(n.get(&key).copied().unwrap_or(0)),
                Err(e) => Err(e.clone()),
            };
            if back.send(answer_of(t, one)).await.is_err() {
                return;
            }
        }
    }
}

/// For each of `keys`, the entries (topics, message) that are a login failure or a denied
/// connection from it.
pub fn count_all(
    entries: impl Iterator<Item = (String, String)>,
    keys: &[Key],
) -> HashMap<Key, usize> {
    let mut out: HashMap<Key, usize> = keys.iter().map(|k| (*k, 0)).collect();
    for (topics, message) in entries {
        let Some(e) = parse_message(&message) else {
            continue;
        };
        if !(matches!(e.kind, Kind::LoginFailure | Kind::Denied) && topics_fit(e.kind, &topics)) {
            continue;
        }
        if let Source::Ip(ip) = e.source {
            if let Some(n) = out.get_mut(&Key::of(ip)) {
                *n += 1;
            }
        }
    }
    out
}

/// The entries (topics, message) that are a login failure or a denied connection from `key`.
pub fn count(entries: impl Iterator<Item = (String, String)>, key: Key) -> usize {
    count_all(entries, &[key]).get(&key).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_routers_own_failures_from_that_source_count() {
        let key = Key::of("203.0.113.9".parse().unwrap());
        let e = |t: &str, m: &str| (t.to_string(), m.to_string());
        let log = vec![
            e(
                "system,error,critical",
                "login failure for user admin from 203.0.113.9 via ssh",
            ),
            e(
                "system,error,critical",
                "login failure for user root from 203.0.113.9 via api",
            ),
            e(
                "script,error",
                "login failure for user admin from 203.0.113.9 via ssh",
            ),
            e(
                "system,error,critical",
                "login failure for user admin from 203.0.113.10 via ssh",
            ),
            e(
                "system,info,account",
                "user admin logged in from 203.0.113.9 via ssh",
            ),
        ];
        assert_eq!(count(log.into_iter(), key), 2);
        let net = Key::of("2001:db8:1:2::7".parse().unwrap());
        let log = vec![e(
            "system,error,critical",
            "login failure for user a from 2001:db8:1:2::99 via ssh",
        )];
        assert_eq!(count(log.into_iter(), net), 1);
    }
}
