//! The running watcher: syslog lines → events → decisions → JSON alert lines on stdout and
//! blocks on the routers.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use super::action::Sync;
use super::alerts::AlertsFile;
use super::blocks::{self, Wanted};
use super::config::{WatchConfig, WatchRouter};
use super::crowdsec;
use super::detect::{Action, Detector, Key};
use super::event::{parse_line, Source};
use super::fleet::Fleet;
use super::input::{self, Counters};
use super::never::Never;
use super::webhook::Webhook;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The JSON alert line for an action.
pub fn alert_line(router: &str, a: &Action) -> serde_json::Value {
    let time = crate::proxy::auditlog::now_rfc3339();
    match a {
        Action::Block {
            key,
            duration_ms,
            failures,
            offence,
            ..
        } => json!({"time": time, "type": "block", "router": router, "address": key.address(),
                    "duration_s": duration_ms / 1000, "failures": failures, "offence": offence}),
        Action::Enumeration { key, users } => json!({"time": time, "type": "enumeration",
                    "router": router, "address": key.address(), "users": users}),
        Action::Spray { user, sources } => json!({"time": time, "type": "spray",
                    "router": router, "user": user, "sources": sources}),
    }
}

/// What `run` needs besides the configuration file.
#[derive(Default)]
pub struct Extra {
    /// Routers whose log is streamed over the API, besides those with `follow = true`.
    pub follow: Vec<String>,
    /// The configuration file, read again on SIGHUP.
    pub config_path: Option<String>,
    /// A router whose certificate or login is refused at start is retried in the background
    /// rather than stopping start-up.
    pub keep_trying: bool,
}

/// The parts of the configuration a SIGHUP replaces.
struct Live {
    cfg: WatchConfig,
    never: Never,
    by_source: HashMap<IpAddr, String>,
}

impl Live {
    fn new(cfg: WatchConfig, own: &[IpAddr]) -> Live {
        let never = Never::new(&cfg, own);
        let by_source = cfg
            .routers
            .iter()
            .map(|r| (r.source, r.name.clone()))
            .collect();
        Live {
            cfg,
            never,
            by_source,
        }
    }

    fn router(&self, name: &str) -> Option<&WatchRouter> {
        self.cfg.routers.iter().find(|r| r.name == name)
    }
}

/// What a block decided on a line needs to take effect.
struct Pending {
    router: String,
    key: Key,
    duration_ms: u64,
    failures: u32,
    offence: u32,
    first_ms: u64,
    via: String,
}

/// A router's answer to `confirm`.
struct Confirmation {
    block: Pending,
    /// How many of these failures the router's own log holds; `Err` when it could not say.
    logged: Result<usize, String>,
}

/// Alert lines waiting for standard output, at most.
pub const STDOUT_QUEUE: usize = 4096;

/// Alert lines dropped because standard output did not take them.
static STDOUT_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Alert lines queued and not yet written.
static STDOUT_WAITING: AtomicU64 = AtomicU64::new(0);

/// Standard output is written by a thread of its own from a queue of [`STDOUT_QUEUE`] lines:
/// a pipe nobody reads (a stuck consumer, a stalled journal) fills, and then lines are dropped
/// and counted, while watch goes on reading and blocking. (Written in line before, a full pipe
/// stopped the whole loop: no line read, no block made.)
fn stdout_line(line: String) {
    static OUT: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<String>>> =
        std::sync::OnceLock::new();
    let tx = OUT.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(STDOUT_QUEUE);
        std::thread::Builder::new()
            .name("watch-stdout".into())
            .spawn(move || {
                for l in rx {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{l}");
                    let _ = out.flush();
                    STDOUT_WAITING.fetch_sub(1, Ordering::Relaxed);
                }
            })
            .ok()
            .map(|_| tx)
    });
    STDOUT_WAITING.fetch_add(1, Ordering::Relaxed);
    if tx.as_ref().is_none_or(|tx| tx.try_send(line).is_err()) {
        STDOUT_WAITING.fetch_sub(1, Ordering::Relaxed);
        STDOUT_DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

fn say(line: &serde_json::Value, alerts: Option<&AlertsFile>, webhook: Option<&Webhook>) {
    stdout_line(line.to_string());
    if let Some(f) = alerts {
        f.line(line.to_string());
    }
    if let Some(w) = webhook {
        w.send(line.clone());
    }
}

/// Serves until the process ends. `ready` gets the bound syslog addresses.
pub async fn run(
    cfg: WatchConfig,
    extra: Extra,
    ready: Option<tokio::sync::oneshot::Sender<Vec<(&'static str, std::net::SocketAddr)>>>,
) -> Result<(), String> {
    // Taken first: a SIGHUP while the routers are checked (up to 10 s; logrotate's postrotate
    // does not wait for start-up) is a reload asked, read once the loop runs, not the end of
    // watch (the default action of SIGHUP).
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("SIGHUP: {e}"))?;
    for name in &extra.follow {
        if !cfg.routers.iter().any(|r| &r.name == name) {
            return Err(format!(
                "--follow {}: no [[router]] of that name in the configuration",
                crate::term::printable(name)
            ));
        }
    }
    if !extra.keep_trying {
        super::reload::check_routers(&cfg.routers).await?;
    }
    let (tx, mut rx) = mpsc::channel::<input::Line>(input::QUEUE);
    let counters = Arc::new(Counters::default());
    let sources: input::Sources = Arc::new(std::sync::RwLock::new(
        cfg.routers.iter().map(|r| r.source).collect(),
    ));
    let mut bound = Vec::new();
    // Kept for reloads: its kernel filter follows the routers' sources.
    let mut udp_sock: Option<Arc<tokio::net::UdpSocket>> = None;
    if let Some(a) = &cfg.syslog_udp {
        let sock = Arc::new(input::bind_udp(a).map_err(|e| format!("syslog-udp {a}: {e}"))?);
        bound.push(("syslog-udp", sock.local_addr().map_err(|e| e.to_string())?));
        if !input::filter_udp(&sock, &sources) {
            crate::warn_line!(
                "tikguard watch: syslog-udp: no kernel filter on the socket (too many routers, or not Linux): unknown senders are dropped by watch, after the kernel queued them"
            );
        }
        if let Ok(st) = rustix::fs::fstat(&*sock) {
            counters.udp_inode.store(st.st_ino, Ordering::Relaxed);
        }
        tokio::spawn(input::udp(
            sock.clone(),
            tx.clone(),
            counters.clone(),
            sources.clone(),
        ));
        udp_sock = Some(sock);
    }
    if let Some(a) = &cfg.syslog_tcp {
        let l = tokio::net::TcpListener::bind(a)
            .await
            .map_err(|e| format!("syslog-tcp {a}: {e}"))?;
        bound.push(("syslog-tcp", l.local_addr().map_err(|e| e.to_string())?));
        tokio::spawn(input::tcp(l, tx.clone(), counters.clone(), sources.clone()));
    }
    // Held to the end (the followed routers' streams are started from it, on reloads too):
    // with only a CrowdSec bouncer there is no input, and the loop below must still wait
    // rather than end.
    let inputs = tx;
    let mut all: Vec<String> = cfg.routers.iter().map(|r| r.name.clone()).collect();
    let own = super::never::own_addresses();
    let mut live = Live::new(cfg.clone(), &own);
    let mut detector = Detector::new(cfg.rules.clone());

    // What the routers should list: the state file's running blocks first. Each router's
    // worker reconciles its list with it as soon as it connects.
    let state = cfg
        .state
        .as_deref()
        .map(|p| super::state::StateFile::new(std::path::Path::new(p)));
    if let Some(dir) = cfg
        .state
        .as_deref()
        .and_then(|p| std::path::Path::new(p).parent())
    {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("state {}: {e}", dir.display()))?;
        }
    }
    // Held to the end: a second watch on this state file is refused.
    let _run_lock = match &state {
        Some(s) => Some(super::state::RunLock::take(s.path())?),
        None => None,
    };
    let mut wanted = Wanted::for_instance(&cfg.instance);
    let mut state_len = 0;
    if let Some(s) = &state {
        let (active, len) = s.lock()?.compact(now_ms())?;
        state_len = len;
        for a in active.values() {
            wanted.block_local(
                &a.address,
                a.until_ms,
                std::slice::from_ref(&a.router),
                "restored from the state file",
            );
            if let Some(key) = key_of(&a.address) {
                detector.restore(&a.router, key, a.offence, a.until_ms);
            }
        }
    }
    let needs_crowdsec = cfg.crowdsec.as_ref().is_some_and(|c| c.key_file.is_some());
    // Without a bouncer, nothing enforces CrowdSec decisions: reconcile treats none as wanted.
    wanted.crowdsec_known = !needs_crowdsec;
    // The state file from now on: written, read back and compacted by a thread of its own.
    let (keeper, mut from_others) = match &state {
        Some(s) => {
            let (k, rx) =
                super::keeper::Keeper::start(super::state::StateFile::new(s.path()), state_len);
            (Some(k), Some(rx))
        }
        None => (None, None),
    };
    let state_tx = keeper.as_ref().map(|k| k.tx.clone());
    let sync = Sync::new(&all, wanted, None);
    let metrics = super::metrics::Metrics::new();
    if let Some(m) = &cfg.metrics {
        let l = tokio::net::TcpListener::bind(m)
            .await
            .map_err(|e| format!("metrics {m}: {e}"))?;
        bound.push(("metrics", l.local_addr().map_err(|e| e.to_string())?));
        tokio::spawn(super::metrics::serve(
            l,
            metrics.clone(),
            counters.clone(),
            sync.clone(),
        ));
    }

    // The CrowdSec bouncer's filter, replaced on SIGHUP.
    let (never_tx, never_rx) = tokio::sync::watch::channel(Arc::new(live.never.clone()));
    let http_for = |ca: Option<&str>| super::http::Http::new(ca);
    let mut push: Option<mpsc::Sender<crowdsec::Detection>> = None;
    if let Some(c) = &cfg.crowdsec {
        let http = http_for(c.ca.as_deref())?;
        let n = Arc::new(crowdsec::Counters::default());
        if let Some(f) = &c.key_file {
            let key = read_secret(f)?;
            tokio::spawn(crowdsec::bouncer(
                http.clone(),
                c.lapi.clone(),
                key,
                std::time::Duration::from_millis(c.poll_ms),
                sync.clone(),
                n.clone(),
                never_rx.clone(),
            ));
        }
        if let Some(m) = &c.machine {
            let (id, password) = m.read()?;
            let (ptx, prx) = mpsc::channel(crowdsec::ALERT_QUEUE);
            tokio::spawn(crowdsec::machine(
                http,
                c.lapi.clone(),
                id,
                password,
                prx,
                n,
            ));
            push = Some(ptx);
        }
    }
    let webhook = match &cfg.webhook {
        Some(url) => Some(Webhook::start(
            http_for(cfg.webhook_ca.as_deref())?,
            url.clone(),
            Vec::new(),
        )),
        None => None,
    };
    if let Some(r) = ready {
        let _ = r.send(bound);
    }

    // Alert lines also go to a file, written by a thread of its own, reopened on SIGHUP.
    let alerts = match &cfg.alerts_file {
        Some(p) => Some(AlertsFile::start(p)?),
        None => None,
    };
    let (confirm_tx, mut confirm_rx) = mpsc::channel::<Confirmation>(64);
    // Each router's worker, log stream and confirmer (one login answers every question
    // waiting), started now and changed by reloads.
    let new_confirmer = Box::new(move || {
        let (q_tx, q_rx) = mpsc::channel(super::confirm::MAX_PENDING);
        tokio::spawn(super::confirm::confirmer(
            q_rx,
            confirm_tx.clone(),
            |block, logged| Confirmation { block, logged },
        ));
        q_tx
    });
    let mut fleet: Fleet<Pending> = Fleet::start(
        &cfg.routers,
        sync.clone(),
        &cfg.list,
        extra.follow.clone(),
        inputs.clone(),
        new_confirmer,
    );
    // Reloads are read and checked off the loop (a new router's login takes up to 10 s);
    // the newest one asked wins.
    let (reload_tx, mut reload_rx) = mpsc::channel::<(u64, Result<WatchConfig, String>)>(8);
    let (mut reloads_asked, mut reload_applied) = (0u64, 0u64);
    let (mut lines, mut unknown_lines, mut blocks, mut never_seen, mut unconfirmed, mut over) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    // watch's own blocks per router, counted once a second and kept up between.
    let mut entries: HashMap<String, usize> = HashMap::new();
    // SIGTERM keeps its default action until here: a stop asked during start-up is at once.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("SIGTERM: {e}"))?;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        let got = tokio::select! {
            got = rx.recv() => match got {
                Some(l) => Some(l),
                None => break,
            },
            c = confirm_rx.recv() => {
                let Some(c) = c else { continue };
                // A router removed by a reload while its answer was on the way: nothing to do.
                if live.router(&c.block.router).is_none() {
                    continue;
                }
                let need = live.cfg.rules.failures as usize;
                match c.logged {
                    Ok(n) if n >= need => {
                        let p = c.block;
                        let ctx = Ctx { live: &live, all: &all, sync: &sync, state_tx: state_tx.as_ref(), push: push.as_ref(), metrics: &metrics };
                        if ctx.apply(&p, &mut entries, alerts.as_ref(), webhook.as_ref()) {
                            blocks += 1;
                        } else {
                            over += 1;
                            detector.undo_block(&p.router, p.key);
                        }
                    }
                    other => {
                        unconfirmed += 1;
                        let p = c.block;
                        metrics.unconfirmed.with_label_values(&[&p.router]).inc();
                        detector.undo_block(&p.router, p.key);
                        let why = match other {
                            Ok(n) => format!("the router's log holds {n} of these failures, not {need}"),
                            Err(e) => format!("the router could not be asked: {e}"),
                        };
                        let line = json!({"time": crate::proxy::auditlog::now_rfc3339(), "type": "unconfirmed",
                            "router": p.router, "address": p.key.address(), "reason": why});
                        say(&line, alerts.as_ref(), webhook.as_ref());
                    }
                }
                None
            },
            _ = tick.tick() => {
                entries.clear();
                None
            },
            // Records `watch unblock` and `watch block` appended to the state file.
            Some(records) = async {
                match from_others.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                let now = now_ms();
                let mut w = sync.wanted();
                for rec in records {
                    match rec {
                        super::state::Record::Unblock { address, routers } => {
                            let Some(a) = blocks::canon(&address) else { continue };
                            w.unblock_local(&a, routers.as_deref());
                            if let Some(k) = key_of(&a) {
                                detector.forget_on(routers.as_deref(), k);
                            }
                            sync.mark(&a, routers.as_deref());
                        }
                        super::state::Record::Block { address, routers, until_ms, .. } => {
                            let Some(a) = blocks::canon(&address) else { continue };
                            let new: Vec<String> = routers
                                .into_iter()
                                .filter(|r| all.contains(r))
                                .filter(|r| w.get(r, &a, now).is_none_or(|e| e.until_ms < until_ms))
                                .collect();
                            if until_ms <= now || new.is_empty() || live.never.refuses(&a).is_some() {
                                continue;
                            }
                            w.block_local(&a, until_ms, &new, "by hand");
                            sync.mark(&a, Some(&new));
                        }
                    }
                }
                None
            },
            _ = hup.recv() => {
                // After logrotate moved it away, whatever the configuration file says now.
                if let Some(a) = &alerts {
                    a.reopen();
                }
                if let Some(path) = &extra.config_path {
                    reloads_asked += 1;
                    let (seq, tx) = (reloads_asked, reload_tx.clone());
                    let (path, running, keep) = (path.clone(), live.cfg.clone(), extra.keep_trying);
                    tokio::spawn(async move {
                        let _ = tx.send((seq, super::reload::reload(&path, &running, keep).await)).await;
                    });
                }
                None
            },
            Some((seq, got)) = reload_rx.recv() => {
                match got {
                    // Older than the reload applied last: its file is not the newest.
                    _ if seq < reload_applied => {}
                    Ok(new) => {
                        reload_applied = seq;
                        *sources.write().unwrap_or_else(|p| p.into_inner()) =
                            new.routers.iter().map(|r| r.source).collect();
                        if let Some(s) = &udp_sock {
                            if !input::filter_udp(s, &sources) {
                                crate::warn_line!("tikguard watch: syslog-udp: no kernel filter on the socket (too many routers)");
                            }
                        }
                        detector.set_rules(new.rules.clone());
                        for name in &extra.follow {
                            if !new.routers.iter().any(|r| &r.name == name) {
                                crate::warn_line!(
                                    "tikguard watch: --follow {}: no [[router]] of that name any more",
                                    crate::term::printable(name)
                                );
                            }
                        }
                        let changes = fleet.apply(&new.routers);
                        for r in &changes.removed {
                            metrics.forget_router(r);
                        }
                        all = new.routers.iter().map(|r| r.name.clone()).collect();
                        live = Live::new(new, &own);
                        never_tx.send_replace(Arc::new(live.never.clone()));
                        if changes.is_empty() {
                            crate::warn_line!("tikguard watch: configuration reloaded");
                        } else {
                            let names = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.iter().map(|n| crate::term::printable(n)).collect::<Vec<_>>().join(", ") };
                            crate::warn_line!(
                                "tikguard watch: configuration reloaded; routers added: {}; removed: {}; changed: {}",
                                names(&changes.added),
                                names(&changes.removed),
                                names(&changes.changed)
                            );
                        }
                    }
                    Err(e) => crate::warn_line!(
                        "tikguard watch: reload refused, the running configuration stays: {e}"
                    ),
                }
                None
            },
            _ = term.recv() => break,
        };
        let Some(input::Line {
            from,
            text,
            via_api,
        }) = got
        else {
            continue;
        };
        // Inputs read only routers' lines; a router removed by a reload is no longer one.
        let Some(router) = live.by_source.get(&from).cloned() else {
            continue;
        };
        lines += 1;
        metrics.lines.with_label_values(&[&router]).inc();
        let Some(ev) = parse_line(&text) else {
            unknown_lines += 1;
            continue;
        };
        metrics.events.with_label_values(&[&router]).inc();
        if let Source::Ip(ip) = ev.source {
            if live.never.refuses(&Key::of(ip).address()).is_some()
                || live.never.refuses(&ip.to_string()).is_some()
            {
                never_seen += 1;
                continue;
            }
        }
        let now = now_ms();
        for a in detector.feed(now, &router, &ev) {
            let Action::Block {
                key,
                duration_ms,
                failures,
                offence,
                first_ms,
                ..
            } = &a
            else {
                say(&alert_line(&router, &a), alerts.as_ref(), webhook.as_ref());
                continue;
            };
            let p = Pending {
                router: router.clone(),
                key: *key,
                duration_ms: *duration_ms,
                failures: *failures,
                offence: *offence,
                first_ms: *first_ms,
                via: ev.via.clone(),
            };
            let confirm = !via_api && live.router(&router).is_some_and(|r| r.confirm);
            if confirm {
                let r = live.router(&router).cloned().expect("checked");
                let Some(q) = fleet.confirmer(&router) else {
                    continue;
                };
                let question = super::confirm::Question {
                    router: r,
                    key: p.key,
                    first_ms: p.first_ms,
                    then: p,
                };
                if let Err(e) = q.try_send(question) {
                    let p = match e {
                        mpsc::error::TrySendError::Full(q)
                        | mpsc::error::TrySendError::Closed(q) => q.then,
                    };
                    unconfirmed += 1;
                    metrics.unconfirmed.with_label_values(&[&router]).inc();
                    detector.undo_block(&router, p.key);
                    crate::warn_line!(
                        "tikguard watch: router {}: {} confirmations waiting; {} not blocked",
                        crate::term::printable(&router),
                        super::confirm::MAX_PENDING,
                        p.key.address()
                    );
                }
                continue;
            }
            let ctx = Ctx {
                live: &live,
                all: &all,
                sync: &sync,
                state_tx: state_tx.as_ref(),
                push: push.as_ref(),
                metrics: &metrics,
            };
            if ctx.apply(&p, &mut entries, alerts.as_ref(), webhook.as_ref()) {
                blocks += 1;
            } else {
                over += 1;
                detector.undo_block(&router, *key);
            }
        }
    }
    // The records queued go to the state file before watch exits (2 s at most).
    drop(state_tx);
    let alerts_dropped = alerts
        .as_ref()
        .map_or(0, |a| a.dropped.load(Ordering::Relaxed));
    if let Some(a) = alerts {
        a.finish(std::time::Duration::from_secs(2)).await;
    }
    if let Some(k) = keeper {
        k.finish(std::time::Duration::from_secs(2)).await;
    }
    // Stopping (SIGTERM): what was read and done, for the operator's log.
    crate::warn_line!(
        "tikguard watch: stopping: {lines} lines read ({} login events, {unknown_lines} other), {} from unknown senders, {} UDP datagrams dropped by the kernel (unknown senders filtered, or the receive buffer full), {} dropped with the queue full, {} oversized; {never_seen} events naming addresses never blocked; {blocks} blocks, {unconfirmed} not confirmed, {over} refused past max-entries; {} changes not yet applied to routers; {} alert lines not written to standard output (not read), {alerts_dropped} not to the alerts file",
        lines - unknown_lines,
        counters.unknown_sender.load(Ordering::Relaxed),
        counters.kernel_drops(),
        counters.queue_full.load(Ordering::Relaxed),
        counters.oversized.load(Ordering::Relaxed),
        sync.pending(),
        STDOUT_DROPPED.load(Ordering::Relaxed)
    );
    // The alert lines still queued are written before watch exits (2 s at most: an output
    // nobody reads does not hold the exit either).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while STDOUT_WAITING.load(Ordering::Relaxed) > 0 && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(())
}

/// What applying a block needs.
struct Ctx<'a> {
    live: &'a Live,
    all: &'a [String],
    sync: &'a Arc<Sync>,
    state_tx: Option<&'a std::sync::mpsc::SyncSender<super::state::Record>>,
    push: Option<&'a mpsc::Sender<crowdsec::Detection>>,
    metrics: &'a super::metrics::Metrics,
}

impl Ctx<'_> {
    /// Puts a block into effect: alert, state, routers' lists, CrowdSec. False when a router's
    /// `max-entries` is reached (refused, alerted).
    fn apply(
        &self,
        p: &Pending,
        entries: &mut HashMap<String, usize>,
        alerts: Option<&AlertsFile>,
        webhook: Option<&Webhook>,
    ) -> bool {
        let cfg = &self.live.cfg;
        let address = p.key.address();
        let now = now_ms();
        let mut targets: Vec<String> = if cfg.block_everywhere {
            self.all.to_vec()
        } else {
            vec![p.router.clone()]
        };
        // A router at its max-entries takes no new block.
        let full: Vec<String> = targets
            .iter()
            .filter(|r| {
                let n = *entries
                    .entry((*r).clone())
                    .or_insert_with(|| self.sync.wanted().local_count(r, now));
                n >= cfg.max_entries
            })
            .cloned()
            .collect();
        if !full.is_empty() {
            let line = json!({"time": crate::proxy::auditlog::now_rfc3339(), "type": "refused",
                "router": p.router, "address": address,
                "reason": format!("max-entries ({}) reached on {}", cfg.max_entries, full.join(", "))});
            say(&line, alerts, webhook);
            targets.retain(|r| !full.contains(r));
            if targets.is_empty() {
                self.metrics.refused.with_label_values(&[&p.router]).inc();
                return false;
            }
        }
        for r in &targets {
            *entries.entry(r.clone()).or_default() += 1;
        }
        let a = Action::Block {
            key: p.key,
            duration_ms: p.duration_ms,
            failures: p.failures,
            offence: p.offence,
            router: p.router.clone(),
            first_ms: p.first_ms,
        };
        say(&alert_line(&p.router, &a), alerts, webhook);
        self.metrics.blocks.with_label_values(&[&p.router]).inc();
        let until_ms = now + p.duration_ms;
        if let Some(s) = self.state_tx {
            let rec = super::state::Record::Block {
                address: address.clone(),
                v6: p.key.is_v6(),
                routers: targets.clone(),
                until_ms,
                offence: p.offence,
            };
            if s.try_send(rec).is_err() {
                crate::warn_line!("tikguard watch: state file queue full; {address} not kept");
            }
        }
        let comment = format!("{} failures via {}", p.failures, p.via);
        self.sync
            .wanted()
            .block_local(&address, until_ms, &targets, &comment);
        if let Some(c) = blocks::canon(&address) {
            self.sync.mark(&c, Some(&targets));
        }
        if let Some(push) = self.push {
            let d = crowdsec::Detection {
                address: address.clone(),
                router: p.router.clone(),
                failures: p.failures,
                duration_s: p.duration_ms / 1000,
                window_s: cfg.rules.window_ms / 1000,
                first_ms: p.first_ms,
                last_ms: now,
            };
            if push.try_send(d).is_err() {
                crate::warn_line!(
                    "tikguard watch: crowdsec: alert queue full; {address} not pushed"
                );
            }
        }
        true
    }
}

/// The detector's key for a canonical address of watch's own blocks (`203.0.113.9`,
/// `2001:db8:1:2::/64`).
pub fn key_of(address: &str) -> Option<Key> {
    let (v6, start, _, len) = super::never::range_of(address)?;
    match (v6, len) {
        (false, 32) => Some(Key::V4(start as u32)),
        (true, 64) => Some(Key::V6Net((start >> 64) as u64)),
        _ => None,
    }
}

pub(crate) fn read_secret(path: &str) -> Result<String, String> {
    let s = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let s = s.trim().to_string();
    if s.is_empty() {
        return Err(format!("{path}: empty"));
    }
    Ok(s)
}
