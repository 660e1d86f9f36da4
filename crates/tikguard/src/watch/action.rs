//! Blocks on routers: `/ip/firewall/address-list/add =list=L =address=A =timeout=T
//! =comment=tikguard-watch:...` (`/ipv6/...` for IPv6), and an entry already listed gets its
//! timeout extended (RouterOS refuses a duplicate with `failure: already have such entry`).
//!
//! Each router has one worker with a bounded queue ([`QUEUE`]); a router that cannot be reached
//! keeps its blocks queued and is retried with backoff (1 s doubling to 60 s); a full queue
//! drops the newest block (counted). One API session per router: floods of new sources are
//! sent one after another on it, within any `max-sessions`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use routeros_api::{Client, Error, Options};
use tokio::sync::mpsc;

use super::config::WatchRouter;

pub const QUEUE: usize = 4096;

/// One block to apply.
#[derive(Clone, Debug)]
pub struct Block {
    pub address: String,
    pub v6: bool,
    pub timeout_s: u64,
    pub comment: String,
}

/// RouterOS' duration syntax: `1d2h3m4s`.
pub fn routeros_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (n, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{u}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

async fn connect(r: &WatchRouter) -> Result<Client, Error> {
    let sec = r.verify.security().map_err(Error::Config)?;
    let c = Client::connect(&Options::new(r.address.clone(), sec)).await?;
    let pw = r.password.read().map_err(Error::Config)?;
    c.login(&r.user, &pw).await?;
    Ok(c)
}

async fn apply(c: &Client, list: &str, b: &Block) -> Result<(), Error> {
    let menu = if b.v6 {
        "/ipv6/firewall/address-list"
    } else {
        "/ip/firewall/address-list"
    };
    let timeout = routeros_duration(b.timeout_s);
    let add = c
        .call(&[
            format!("{menu}/add"),
            format!("=list={list}"),
            format!("=address={}", b.address),
            format!("=timeout={timeout}"),
            format!("=comment={}", b.comment),
        ])
        .await;
    match add {
        Ok(_) => Ok(()),
        Err(Error::Trap { message, .. }) if message.contains("already have such entry") => {
            let found = c
                .call(&[
                    format!("{menu}/print"),
                    "=.proplist=.id".to_string(),
                    format!("?list={list}"),
                    format!("?address={}", b.address),
                ])
                .await?;
            for item in found {
                if let Some(id) = item.get(".id") {
                    c.call(&[
                        format!("{menu}/set"),
                        format!("=.id={}", String::from_utf8_lossy(id)),
                        format!("=timeout={timeout}"),
                    ])
                    .await?;
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Removes `address` from `list` on a router (both families' menus as the address says);
/// how many entries went.
pub async fn unblock(r: &WatchRouter, list: &str, address: &str) -> Result<usize, Error> {
    let c = connect(r).await?;
    let menu = if address.contains(':') {
        "/ipv6/firewall/address-list"
    } else {
        "/ip/firewall/address-list"
    };
    let found = c
        .call(&[
            format!("{menu}/print"),
            "=.proplist=.id".to_string(),
            format!("?list={list}"),
            format!("?address={address}"),
        ])
        .await?;
    for item in &found {
        if let Some(id) = item.get(".id") {
            c.call(&[
                format!("{menu}/remove"),
                format!("=.id={}", String::from_utf8_lossy(id)),
            ])
            .await?;
        }
    }
    Ok(found.len())
}

/// Removes watch's own entries (comment `tikguard-watch:...`) that `keep` does not hold, from
/// both families' lists on a router; how many went.
pub async fn remove_stale(
    r: &WatchRouter,
    list: &str,
    keep: &std::collections::HashSet<String>,
) -> Result<usize, Error> {
    let c = connect(r).await?;
    let mut removed = 0;
    for menu in ["/ip/firewall/address-list", "/ipv6/firewall/address-list"] {
        let items = match c
            .call(&[
                format!("{menu}/print"),
                "=.proplist=.id,address,comment".to_string(),
                format!("?list={list}"),
            ])
            .await
        {
            Ok(i) => i,
            // A router without IPv6.
            Err(Error::Trap { .. }) => continue,
            Err(e) => return Err(e),
        };
        for item in items {
            let ours = item
                .get("comment")
                .is_some_and(|c| c.starts_with(b"tikguard-watch:"));
            let address = item
                .get("address")
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default();
            if ours && !keep.contains(&address) {
                if let Some(id) = item.get(".id") {
                    c.call(&[
                        format!("{menu}/remove"),
                        format!("=.id={}", String::from_utf8_lossy(id)),
                    ])
                    .await?;
                    removed += 1;
                }
            }
        }
    }
    Ok(removed)
}

/// Handles to the per-router workers.
pub struct Blockers {
    pub senders: Vec<(String, mpsc::Sender<Block>)>,
    pub dropped: Arc<AtomicU64>,
    pub applied: Arc<AtomicU64>,
}

impl Blockers {
    pub fn start(routers: &[WatchRouter], list: &str) -> Blockers {
        let dropped = Arc::new(AtomicU64::new(0));
        let applied = Arc::new(AtomicU64::new(0));
        let mut senders = Vec::new();
        for r in routers {
            let (tx, mut rx) = mpsc::channel::<Block>(QUEUE);
            senders.push((r.name.clone(), tx));
            let (r, list, applied) = (r.clone(), list.to_string(), applied.clone());
            tokio::spawn(async move {
                let mut client: Option<Client> = None;
                let mut backoff = Duration::from_secs(1);
                while let Some(b) = rx.recv().await {
                    loop {
                        if client.as_ref().is_none_or(Client::is_closed) {
                            match connect(&r).await {
                                Ok(c) => {
                                    client = Some(c);
                                    backoff = Duration::from_secs(1);
                                }
                                Err(e) => {
                                    crate::warn_line!(
                                        "tikguard watch: router {}: {e}; retrying in {} s",
                                        crate::term::printable(&r.name),
                                        backoff.as_secs()
                                    );
                                    tokio::time::sleep(backoff).await;
                                    backoff = (backoff * 2).min(Duration::from_secs(60));
                                    continue;
                                }
                            }
                        }
                        let c = client.as_ref().expect("connected above");
                        match apply(c, &list, &b).await {
                            Ok(()) => {
                                applied.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(Error::Trap { message, .. }) => {
                                // Refused for good (a bad address): not retried.
                                crate::warn_line!(
                                    "tikguard watch: router {} refused blocking {}: {}",
                                    crate::term::printable(&r.name),
                                    b.address,
                                    crate::term::printable(&message)
                                );
                                break;
                            }
                            Err(e) => {
                                crate::warn_line!(
                                    "tikguard watch: router {}: {e}; the block of {} is kept and retried",
                                    crate::term::printable(&r.name),
                                    b.address
                                );
                                client = None;
                            }
                        }
                    }
                }
            });
        }
        Blockers {
            senders,
            dropped,
            applied,
        }
    }

    /// Queues a block on the named routers.
    pub fn block(&self, routers: &[&str], b: &Block) {
        for (name, tx) in &self.senders {
            if routers.contains(&name.as_str()) && tx.try_send(b.clone()).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_in_routeros_syntax() {
        assert_eq!(super::routeros_duration(86_400), "1d");
        assert_eq!(super::routeros_duration(90_061), "1d1h1m1s");
        assert_eq!(super::routeros_duration(0), "0s");
    }
}
