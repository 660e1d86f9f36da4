//! `confirm = true`: before a block decided on syslog lines takes effect, watch asks the router
//! itself over the API whether it logged those failures. A UDP source address can be forged
//! by anyone on the path between a router and watch; the router's own log cannot.
//!
//! The router's clock is read with `/system/clock/print` and its log with `/log/print
//! =.proplist=time,topics,message` (the memory log, 1,000 lines by default), on one session, and
//! matched here: entries whose topics and message [`super::event`] reads as a login failure (or
//! denied connection) from the blocked source (the same address, or the same IPv6 /64), and
//! that the router logged within the detection window. The block stands when the router holds
//! at least as many such entries as the threshold.
//!
//! Within the window: an entry's age is the router's clock now minus the entry's `time`, both
//! read on the router ([`super::clock::log_entry_ms`]: `hh:mm:ss` today, `mmm/dd hh:mm:ss`,
//! `mmm/dd/yyyy hh:mm:ss`, `yyyy-mm-dd hh:mm:ss`), so the router's time zone and how far its
//! clock is from this host's do not matter; it must be at most the time since watch received
//! the window's first failure, plus [`SLACK`]. A failure the router logged an hour ago does not
//! confirm lines received now. [`SLACK`] (10 s) covers the one-second resolution of both times,
//! the syslog transit and a router that sends its log late; an entry more than [`SLACK`] ahead
//! of the router's clock does not count either. An entry whose `time` does not read does not
//! count. Approximated: a daylight-saving change of the router's clock within the window moves
//! its entries by an hour.
//!
//! One login answers many: each router has one confirmer ([`confirmer`]) that takes every
//! question waiting, logs in once, reads the clock and the log once and answers them all. Lines
//! forged with a router's source (the threat `confirm` is for) therefore cost one login per
//! batch, not one per address, and do not crowd a real attacker's block out of the queue for
//! long.
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

/// How far an entry's time may be from the window and still count (see the module's note).
pub const SLACK: i64 = 10_000;

/// What a router's log holds for some sources: for each, the ages (ms, on the router's clock)
/// of its login failures.
#[derive(Debug, Default)]
pub struct Logged {
    /// This host's clock when the router's clock was read (ms since the epoch).
    pub asked_ms: u64,
    pub ages: HashMap<Key, Vec<i64>>,
}

impl Logged {
    /// The failures of `key` logged since watch received the window's first one at `first_ms`
    /// (this host's clock), [`SLACK`] either way.
    pub fn count_since(&self, key: Key, first_ms: u64) -> usize {
        let window = self.asked_ms.saturating_sub(first_ms) as i64;
        self.ages.get(&key).map_or(0, |ages| {
            ages.iter()
                .filter(|&&a| a >= -SLACK && a <= window + SLACK)
                .count()
        })
    }
}

/// Reads, for each of `keys`, the login failures the router's own log holds and how long ago
/// it logged them: one login, `/system/clock/print` and `/log/print`.
pub async fn logged(r: &WatchRouter, keys: &[Key]) -> Result<Logged, String> {
    let ask = async {
        let c = super::action::connect(r).await.map_err(|e| e.to_string())?;
        let asked_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let clock = c
            .call(&["/system/clock/print"])
            .await
            .map_err(|e| format!("/system/clock/print: {e}"))?;
        let field = |i: &routeros_api::Reply, k: &str| {
            i.get(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        let now = clock
            .first()
            .and_then(|i| super::clock::router_clock_ms(&field(i, "date"), &field(i, "time")))
            .ok_or("the router's clock (/system/clock/print) does not read")?;
        let items = c
            .call(&["/log/print", "=.proplist=time,topics,message"])
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(Logged {
            asked_ms,
            ages: ages_all(
                items
                    .iter()
                    .map(|i| (field(i, "time"), field(i, "topics"), field(i, "message"))),
                now,
                keys,
            ),
        })
    };
    tokio::time::timeout(TIMEOUT, ask)
        .await
        .map_err(|_| format!("no answer in {} s", TIMEOUT.as_secs()))?
}

/// A question for a router's confirmer: the router as configured when it was asked, the source,
/// when watch received the window's first failure (ms since the epoch), and what the answer is
/// for.
pub struct Question<T> {
    pub router: WatchRouter,
    pub key: Key,
    pub first_ms: u64,
    pub then: T,
}

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
        let router = batch
            .last()
            .map(|q| q.router.clone())
            .expect("one at least");
        let mut keys: Vec<Key> = batch.iter().map(|q| q.key).collect();
        keys.sort_unstable();
        keys.dedup();
        let answer = logged(&router, &keys).await;
        for q in batch {
            let one = match &answer {
                Ok(l) => Ok(l.count_since(q.key, q.first_ms)),
                Err(e) => Err(e.clone()),
            };
            if back.send(answer_of(q.then, one)).await.is_err() {
                return;
            }
        }
    }
}

/// For each of `keys`, the ages (ms before `now`, on the router's clock) of the entries (time,
/// topics, message) that are a login failure or a denied connection from it; entries whose
/// time does not read are left out.
pub fn ages_all(
    entries: impl Iterator<Item = (String, String, String)>,
    now: i64,
    keys: &[Key],
) -> HashMap<Key, Vec<i64>> {
    let mut out: HashMap<Key, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (time, topics, message) in entries {
        let Some(e) = parse_message(&message) else {
            continue;
        };
        if !(matches!(e.kind, Kind::LoginFailure | Kind::Denied) && topics_fit(e.kind, &topics)) {
            continue;
        }
        let Source::Ip(ip) = e.source else { continue };
        let Some(ages) = out.get_mut(&Key::of(ip)) else {
            continue;
        };
        if let Some(at) = super::clock::log_entry_ms(&time, now) {
            ages.push(now - at);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ages(log: Vec<(&str, &str, &str)>, key: Key) -> Vec<i64> {
        let now = super::super::clock::router_clock_ms("2026-09-15", "12:00:00").unwrap();
        let log = log
            .into_iter()
            .map(|(t, a, b)| (t.to_string(), a.to_string(), b.to_string()));
        ages_all(log, now, &[key]).remove(&key).unwrap()
    }

    #[test]
    fn only_the_routers_own_failures_from_that_source_count() {
        let key = Key::of("203.0.113.9".parse().unwrap());
        let t = "11:59:59";
        let log = vec![
            (
                t,
                "system,error,critical",
                "login failure for user admin from 203.0.113.9 via ssh",
            ),
            (
                t,
                "system,error,critical",
                "login failure for user root from 203.0.113.9 via api",
            ),
            (
                t,
                "script,error",
                "login failure for user admin from 203.0.113.9 via ssh",
            ),
            (
                t,
                "system,error,critical",
                "login failure for user admin from 203.0.113.10 via ssh",
            ),
            (
                t,
                "system,info,account",
                "user admin logged in from 203.0.113.9 via ssh",
            ),
            (
                "not a time",
                "system,error,critical",
                "login failure for user admin from 203.0.113.9 via ssh",
            ),
        ];
        assert_eq!(ages(log, key), [1000, 1000]);
        let net = Key::of("2001:db8:1:2::7".parse().unwrap());
        let log = vec![(
            t,
            "system,error,critical",
            "login failure for user a from 2001:db8:1:2::99 via ssh",
        )];
        assert_eq!(ages(log, net).len(), 1);
    }

    /// A failure the router logged an hour ago does not confirm lines received now; failures
    /// logged since the window's first line did (within the slack), and one far ahead of the
    /// router's clock does not.
    #[test]
    fn only_failures_logged_within_the_window_confirm() {
        let key = Key::of("203.0.113.9".parse().unwrap());
        let l = Logged {
            asked_ms: 10_000_000,
            ages: [(key, vec![3_600_000, 3_000, 13_000, -5_000, -60_000])].into(),
        };
        // The window's first line came 4 s before the router was asked: 3 s and -5 s count,
        // 13 s too (within 4 s + 10 s slack), an hour and a minute ahead do not.
        assert_eq!(l.count_since(key, 9_996_000), 3);
        // The first line came an hour and a bit before: the hour-old failure counts too.
        assert_eq!(l.count_since(key, 10_000_000 - 3_605_000), 4);
        assert_eq!(
            l.count_since(Key::of("203.0.113.10".parse().unwrap()), 0),
            0
        );
    }
}
