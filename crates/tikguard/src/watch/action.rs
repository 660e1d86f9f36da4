//! Keeps each router's address list as [`super::blocks::Wanted`] says:
//! `/ip/firewall/address-list/add =list=L =address=A =timeout=T =comment=tikguard-watch:...`
//! (`/ipv6/...` for IPv6), the timeout extended when the address is listed already (RouterOS
//! refuses a duplicate with `failure: already have such entry`), and removed when nothing wants
//! it any more.
//!
//! Each router has one worker and one API session (within any `max-sessions`). Changes mark
//! addresses dirty; the worker applies them in pipelined batches of [`BATCH`] commands on that
//! session, so a flood of new sources costs round trips per batch, not per source. A router
//! that cannot be reached keeps its marks and is retried with backoff (1 s doubling to 60 s);
//! whenever a worker (re)connects, and every [`RESYNC`] while connected, it reconciles the
//! whole list: what is wanted and missing is added (with the time left), and watch's own
//! entries (comment `tikguard-watch:`) that nothing wants are removed. No entry of anyone
//! else is touched. Nothing is dropped: marks are a set per router, bounded by what is wanted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use routeros_api::{Client, Error, Options};
use tokio::sync::Notify;

use super::blocks::{canon, Entry, Wanted};
use super::config::WatchRouter;

/// Commands in flight at once on a router's session.
pub const BATCH: usize = 32;
/// A connected worker reconciles the whole list this often (a router restored from a backup,
/// or an admin who removed entries by hand).
pub const RESYNC: Duration = Duration::from_secs(600);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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

pub async fn connect(r: &WatchRouter) -> Result<Client, Error> {
    let sec = r.verify.security().map_err(Error::Config)?;
    let c = Client::connect(&Options::new(r.address.clone(), sec)).await?;
    let pw = r.password.read().map_err(Error::Config)?;
    c.login(&r.user, &pw).await?;
    Ok(c)
}

fn menu(v6: bool) -> &'static str {
    if v6 {
        "/ipv6/firewall/address-list"
    } else {
        "/ip/firewall/address-list"
    }
}

/// Lists `address` until `e.until_ms`, or extends the entry already there.
async fn add(c: &Client, list: &str, address: &str, e: &Entry) -> Result<(), Error> {
    let menu = menu(e.v6);
    let timeout = routeros_duration(e.until_ms.saturating_sub(now_ms()).div_ceil(1000));
    let add = c
        .call(&[
            format!("{menu}/add"),
            format!("=list={list}"),
            format!("=address={address}"),
            format!("=timeout={timeout}"),
            format!("=comment={}", e.comment),
        ])
        .await;
    match add {
        Ok(_) => Ok(()),
        Err(Error::Trap { message, .. }) if message.contains("already have such entry") => {
            for id in find(c, list, address, e.v6, None).await? {
                c.call(&[
                    format!("{menu}/set"),
                    format!("=.id={id}"),
                    format!("=timeout={timeout}"),
                ])
                .await?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The ids of `address`'s entries on `list` (only this watcher's own with `ours`, their
/// comment's prefix).
async fn find(
    c: &Client,
    list: &str,
    address: &str,
    v6: bool,
    ours: Option<&str>,
) -> Result<Vec<String>, Error> {
    // The entry as written asked for first (one item, not the whole list: a list holding the
    // CrowdSec community blocklist has tens of thousands); the whole list compared in canonical
    // form only when that finds nothing (the router may print `2001:db8::1` with `/128`).
    let ask = |by_address: bool| {
        let mut words = vec![
            format!("{}/print", menu(v6)),
            "=.proplist=.id,address,comment".to_string(),
            format!("?list={list}"),
        ];
        if by_address {
            words.push(format!("?address={address}"));
        }
        words
    };
    let mut items = c.call(&ask(true)).await?;
    if items.is_empty() {
        items = c.call(&ask(false)).await?;
    }
    let want = canon(address);
    Ok(items
        .iter()
        .filter(|i| {
            i.get("address")
                .and_then(|a| canon(&String::from_utf8_lossy(a)))
                == want
        })
        .filter(|i| {
            ours.is_none_or(|p| {
                i.get("comment")
                    .is_some_and(|c| c.starts_with(p.as_bytes()))
            })
        })
        .filter_map(|i| {
            i.get(".id")
                .map(|id| String::from_utf8_lossy(id).into_owned())
        })
        .collect())
}

/// Removes this watcher's own entries for `address`.
async fn remove(c: &Client, list: &str, address: &str, prefix: &str) -> Result<(), Error> {
    let v6 = address.contains(':');
    for id in find(c, list, address, v6, Some(prefix)).await? {
        c.call(&[format!("{}/remove", menu(v6)), format!("=.id={id}")])
            .await?;
    }
    Ok(())
}

/// Whether a firewall rule of `v6`'s family drops (or rejects, tarpits) traffic from `list`:
/// an enabled rule with `src-address-list=LIST` in `/ip firewall filter` or `raw` (`/ipv6/...`).
/// `None` when the family cannot be read (a router without IPv6). Approximated: the rule's
/// place in its chain (an accept before it) is not weighed.
pub async fn drops_list(c: &Client, list: &str, v6: bool) -> Option<bool> {
    let family = if v6 { "/ipv6" } else { "/ip" };
    for table in ["filter", "raw"] {
        let items = c
            .call(&[
                format!("{family}/firewall/{table}/print"),
                "=.proplist=action,disabled".to_string(),
                format!("?src-address-list={list}"),
            ])
            .await
            .ok()?;
        let drops = items.iter().any(|i| {
            let action = i.get("action").map(|a| &a[..]).unwrap_or(b"");
            let disabled = i.get("disabled").is_some_and(|d| &d[..] == b"true");
            !disabled && matches!(action, b"drop" | b"reject" | b"tarpit")
        });
        if drops {
            return Some(true);
        }
    }
    Some(false)
}

/// Says, once per connection, when a router has no rule dropping the list (IPv4, IPv6): its
/// blocks would be listed and change nothing.
async fn warn_undropped(c: &Client, router: &str, list: &str) {
    for v6 in [false, true] {
        if drops_list(c, list, v6).await == Some(false) {
            let family = if v6 { "ipv6" } else { "ip" };
            crate::warn_line!(
                "tikguard watch: router {}: no {} firewall filter or raw rule drops src-address-list={}: its blocks change nothing; e.g. /{family} firewall filter add chain=input src-address-list={} action=drop place-before=0",
                crate::term::printable(router),
                if v6 { "IPv6" } else { "IPv4" },
                crate::term::printable(list),
                crate::term::printable(list)
            );
        }
    }
}

/// Lists `address` on a router by hand (`watch block`), or extends its entry.
pub async fn block(r: &WatchRouter, list: &str, address: &str, e: &Entry) -> Result<(), Error> {
    let c = connect(r).await?;
    add(&c, list, address, e).await
}

/// Removes `address` from `list` on a router, whoever listed it; how many entries went.
pub async fn unblock(r: &WatchRouter, list: &str, address: &str) -> Result<usize, Error> {
    let c = connect(r).await?;
    let v6 = address.contains(':');
    let ids = find(&c, list, address, v6, None).await?;
    for id in &ids {
        c.call(&[format!("{}/remove", menu(v6)), format!("=.id={id}")])
            .await?;
    }
    Ok(ids.len())
}

/// Makes a router's list match `wanted`: adds what is missing, extends entries listed with a
/// shorter timeout than wanted (anyone's: RouterOS allows one entry per list and address),
/// removes watch's own entries nothing wants (entries enforcing CrowdSec decisions stay while
/// `crowdsec_known` is false). Entries without a timeout are permanent and left as they are.
/// Returns (added or extended, removed).
pub async fn reconcile(
    c: &Arc<Client>,
    list: &str,
    wanted: &HashMap<String, Entry>,
    crowdsec_known: bool,
    prefix: &str,
) -> Result<(usize, usize), Error> {
    let crowdsec_prefix = format!("{prefix} crowdsec");
    let mut present = HashSet::new();
    let mut stale = Vec::new();
    for v6 in [false, true] {
        let items = match c
            .call(&[
                format!("{}/print", menu(v6)),
                "=.proplist=.id,address,comment,timeout".to_string(),
                format!("?list={list}"),
            ])
            .await
        {
            Ok(i) => i,
            // A router without IPv6.
            Err(Error::Trap { .. }) if v6 => continue,
            Err(e) => return Err(e),
        };
        for item in items {
            let Some(address) = item
                .get("address")
                .and_then(|a| canon(&String::from_utf8_lossy(a)))
            else {
                continue;
            };
            let comment = item.get("comment").map(|c| &c[..]).unwrap_or(b"");
            let ours = comment.starts_with(prefix.as_bytes());
            let unknown = !crowdsec_known && comment.starts_with(crowdsec_prefix.as_bytes());
            if ours && !unknown && !wanted.contains_key(&address) {
                if let Some(id) = item.get(".id") {
                    stale.push((v6, String::from_utf8_lossy(id).into_owned()));
                }
                continue;
            }
            // Listed for less time than wanted (by hand, by an older run, or restored from a
            // backup): extended below, as a new block of a listed address is. The time left is
            // read with the export's duration parser (`1d23h59m50s`, `1d23:59:50`); the exact
            // form the API prints is not documented, so one that does not parse leaves the
            // entry as it is (approximated: never shortened, possibly not extended).
            let left_ms = item
                .get("timeout")
                .and_then(|t| routeros_config::value::parse_duration(t))
                .map(|d| d.as_millis() as u64);
            if let (Some(left), Some(e)) = (left_ms, wanted.get(&address)) {
                let want = e.until_ms.saturating_sub(now_ms());
                if left + 60_000 < want {
                    // Not `present`: treated as missing, and `add` extends it.
                    continue;
                }
            }
            present.insert(address);
        }
    }
    let removed = stale.len();
    for chunk in stale.chunks(BATCH) {
        let mut set = tokio::task::JoinSet::new();
        for (v6, id) in chunk {
            let (c, v6, id) = (c.clone(), *v6, id.clone());
            set.spawn(async move {
                c.call(&[format!("{}/remove", menu(v6)), format!("=.id={id}")])
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            match r.map_err(|e| Error::Config(e.to_string()))? {
                Ok(_) | Err(Error::Trap { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    // Missing and short entries alike: `add` extends an entry that is already there.
    let missing: Vec<(String, Entry)> = wanted
        .iter()
        .filter(|(a, _)| !present.contains(*a))
        .map(|(a, e)| (a.clone(), e.clone()))
        .collect();
    for chunk in missing.chunks(BATCH) {
        let mut set = tokio::task::JoinSet::new();
        for (a, e) in chunk {
            let (c, list, a, e) = (c.clone(), list.to_string(), a.clone(), e.clone());
            set.spawn(async move { add(&c, &list, &a, &e).await });
        }
        while let Some(r) = set.join_next().await {
            match r.map_err(|e| Error::Config(e.to_string()))? {
                Ok(()) | Err(Error::Trap { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok((missing.len(), removed))
}

/// One router's marks.
pub struct RouterSync {
    pub name: String,
    dirty: Mutex<HashSet<String>>,
    full: AtomicBool,
    wake: Notify,
    /// Whether the last attempt to reach it succeeded.
    pub up: AtomicBool,
}

impl RouterSync {
    fn new(name: &str) -> Arc<RouterSync> {
        Arc::new(RouterSync {
            name: name.to_string(),
            dirty: Mutex::new(HashSet::new()),
            full: AtomicBool::new(true),
            wake: Notify::new(),
            up: AtomicBool::new(false),
        })
    }
}

/// What every router should list, and each router's pending changes.
pub struct Sync {
    pub wanted: Mutex<Wanted>,
    /// One per configured router; a reload adds and removes them ([`Sync::router`],
    /// [`Sync::drop_router`]).
    routers: std::sync::RwLock<Vec<Arc<RouterSync>>>,
    /// Entries added, extended or removed on routers.
    pub applied: AtomicU64,
    /// Commands a router refused (a bad address): not retried.
    pub refused: AtomicU64,
    /// The state file, read again before each full reconcile so that a `tikguard watch
    /// unblock` run while watch runs is not undone.
    pub state: Option<super::state::StateFile>,
    /// This watcher's comment prefix: reconciling touches only entries it starts.
    pub prefix: String,
}

impl Sync {
    pub fn new(
        names: &[String],
        wanted: Wanted,
        state: Option<super::state::StateFile>,
    ) -> Arc<Sync> {
        Arc::new(Sync {
            prefix: wanted.prefix().to_string(),
            wanted: Mutex::new(wanted),
            routers: std::sync::RwLock::new(names.iter().map(|n| RouterSync::new(n)).collect()),
            applied: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            state,
        })
    }

    pub fn wanted(&self) -> std::sync::MutexGuard<'_, Wanted> {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The routers now.
    pub fn routers(&self) -> Vec<Arc<RouterSync>> {
        self.routers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The router named `name`, added when it is new (a reload); its next worker reconciles
    /// its whole list.
    pub fn router(&self, name: &str) -> Arc<RouterSync> {
        let mut all = self.routers.write().unwrap_or_else(|p| p.into_inner());
        let r = match all.iter().find(|r| r.name == name) {
            Some(r) => r.clone(),
            None => {
                let r = RouterSync::new(name);
                all.push(r.clone());
                r
            }
        };
        r.full.store(true, Ordering::Relaxed);
        r
    }

    /// A router removed by a reload: its marks go with it.
    pub fn drop_router(&self, name: &str) {
        self.routers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|r| r.name != name);
    }

    /// `address` (canonical) changed for `routers` (every router with `None`).
    pub fn mark(&self, address: &str, routers: Option<&[String]>) {
        for r in &self.routers() {
            if routers.is_none_or(|names| names.contains(&r.name)) {
                r.dirty
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(address.to_string());
                r.wake.notify_one();
            }
        }
    }

    /// Forgets watch's own blocks that the state file no longer holds (unblocked meanwhile).
    fn refresh_from_state(&self) {
        let Some(s) = &self.state else { return };
        match s.active(now_ms()) {
            Ok(active) => {
                // Per (address, router): an unblock on one router (`watch unblock --router`)
                // leaves the others' blocks. One set, not a scan of the state per block
                // (quadratic at 100,000 blocks).
                let held: HashSet<(String, String)> = active.into_keys().collect();
                let mut w = self.wanted();
                for a in w.local_addresses() {
                    let gone: Vec<String> = w
                        .local_routers(&a)
                        .into_iter()
                        .filter(|r| !held.contains(&(a.clone(), r.clone())))
                        .collect();
                    if !gone.is_empty() {
                        w.unblock_local(&a, Some(&gone));
                    }
                }
            }
            Err(e) => crate::warn_line!("tikguard watch: {e}"),
        }
    }

    /// Every router reconciles its whole list.
    pub fn resync_all(&self) {
        for r in &self.routers() {
            r.full.store(true, Ordering::Relaxed);
            r.wake.notify_one();
        }
    }

    /// Addresses waiting to be applied, over all routers.
    pub fn pending(&self) -> usize {
        self.routers()
            .iter()
            .map(|r| r.dirty.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

/// Starts `r`'s worker, which keeps its list until the task is aborted (the router removed or
/// changed by a reload).
pub fn spawn_worker(sync: &Arc<Sync>, r: &WatchRouter, list: &str) -> tokio::task::JoinHandle<()> {
    let rs = sync.router(&r.name);
    tokio::spawn(worker(sync.clone(), rs, r.clone(), list.to_string()))
}

async fn worker(sync: Arc<Sync>, rs: Arc<RouterSync>, r: WatchRouter, list: String) {
    let mut client: Option<Arc<Client>> = None;
    let mut backoff = Duration::from_secs(1);
    let mut last_full = tokio::time::Instant::now();
    let mut warned = false;
    loop {
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            match connect(&r).await {
                Ok(c) => {
                    // The backoff is reset only once the list has been read and reconciled: a
                    // router that lets watch in but refuses the list (a user without `read`)
                    // is retried with backoff, not in a loop of logins.
                    if !warned {
                        warned = true;
                        warn_undropped(&c, &r.name, &list).await;
                    }
                    client = Some(Arc::new(c));
                    rs.full.store(true, Ordering::Relaxed);
                    rs.up.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    if rs.up.swap(false, Ordering::Relaxed) || backoff == Duration::from_secs(1) {
                        crate::warn_line!(
                            "tikguard watch: router {}: {e}; retrying with backoff, changes kept",
                            crate::term::printable(&r.name)
                        );
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            }
        }
        let c = client.clone().expect("connected above");
        if last_full.elapsed() >= RESYNC {
            rs.full.store(true, Ordering::Relaxed);
        }
        if rs.full.swap(false, Ordering::Relaxed) {
            sync.refresh_from_state();
            let (wanted, known) = {
                let mut w = sync.wanted();
                w.prune(now_ms());
                (w.for_router(&r.name, now_ms()), w.crowdsec_known)
            };
            // Marks made before now are covered by the full pass.
            rs.dirty.lock().unwrap_or_else(|p| p.into_inner()).clear();
            match reconcile(&c, &list, &wanted, known, &sync.prefix).await {
                Ok((added, removed)) => {
                    last_full = tokio::time::Instant::now();
                    backoff = Duration::from_secs(1);
                    sync.applied
                        .fetch_add((added + removed) as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    crate::warn_line!(
                        "tikguard watch: router {}: reconcile: {e}; retrying in {} s",
                        crate::term::printable(&r.name),
                        backoff.as_secs()
                    );
                    rs.full.store(true, Ordering::Relaxed);
                    client = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            }
        }
        let batch: Vec<String> =
            std::mem::take(&mut *rs.dirty.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        if batch.is_empty() {
            // Wake on a mark, or each second to notice a session the router closed (a
            // reboot): the worker then reconnects and reconciles the list it comes back with.
            let _ = tokio::time::timeout(Duration::from_secs(1), rs.wake.notified()).await;
            continue;
        }
        let mut failed: Option<Error> = None;
        let mut undone = Vec::new();
        for chunk in batch.chunks(BATCH) {
            if failed.is_some() {
                undone.extend(chunk.iter().cloned());
                continue;
            }
            let mut set = tokio::task::JoinSet::new();
            for a in chunk.iter().cloned() {
                let want = sync.wanted().get(&r.name, &a, now_ms());
                let (c, list, prefix) = (c.clone(), list.clone(), sync.prefix.clone());
                set.spawn(async move {
                    let r = match &want {
                        Some(e) => add(&c, &list, &a, e).await,
                        None => remove(&c, &list, &a, &prefix).await,
                    };
                    (a, r)
                });
            }
            while let Some(j) = set.join_next().await {
                let Ok((a, res)) = j else { continue };
                match res {
                    Ok(()) => {
                        sync.applied.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(Error::Trap { message, .. }) => {
                        sync.refused.fetch_add(1, Ordering::Relaxed);
                        crate::warn_line!(
                            "tikguard watch: router {} refused listing {}: {}",
                            crate::term::printable(&r.name),
                            crate::term::printable(&a),
                            crate::term::printable(&message)
                        );
                    }
                    Err(e) => {
                        undone.push(a);
                        failed.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(e) = failed {
            crate::warn_line!(
                "tikguard watch: router {}: {e}; {} change(s) kept and retried",
                crate::term::printable(&r.name),
                undone.len()
            );
            rs.dirty
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(undone);
            client = None;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        } else {
            backoff = Duration::from_secs(1);
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
