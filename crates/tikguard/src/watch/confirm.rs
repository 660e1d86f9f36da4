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
//! Bounds: one question at a time per router, at most [`MAX_PENDING`] waiting; past that a
//! block is not confirmed (said, and counted). A router that cannot be asked confirms nothing.

use std::time::Duration;

use super::config::WatchRouter;
use super::detect::Key;
use super::event::{parse_message, topics_fit, Kind, Source};

/// Questions waiting per router, at most.
pub const MAX_PENDING: usize = 256;
/// How long a question may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Counts the login failures from `key` the router's own log holds.
pub async fn logged(r: &WatchRouter, key: Key) -> Result<usize, String> {
    let ask = async {
        let c = super::action::connect(r).await.map_err(|e| e.to_string())?;
        let items = c
            .call(&["/log/print", "=.proplist=time,topics,message"])
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(count(
            items.iter().map(|i| {
                let get = |k: &str| {
                    i.get(k)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default()
                };
                (get("topics"), get("message"))
            }),
            key,
        ))
    };
    tokio::time::timeout(TIMEOUT, ask)
        .await
        .map_err(|_| format!("no answer in {} s", TIMEOUT.as_secs()))?
}

/// The entries (topics, message) that are a login failure or a denied connection from `key`.
pub fn count(entries: impl Iterator<Item = (String, String)>, key: Key) -> usize {
    entries
        .filter(|(topics, message)| {
            parse_message(message).is_some_and(|e| {
                matches!(e.kind, Kind::LoginFailure | Kind::Denied)
                    && topics_fit(e.kind, topics)
                    && matches!(e.source, Source::Ip(ip) if Key::of(ip) == key)
            })
        })
        .count()
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
