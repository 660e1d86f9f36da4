//! The running watcher: syslog lines → events → decisions → JSON alert lines on stdout and
//! blocks on the routers.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use super::action::{self, Sync};
use super::blocks::{self, Wanted};
use super::config::WatchConfig;
use super::crowdsec;
use super::detect::{Action, Detector};
use super::event::parse_line;
use super::input::{self, Counters};

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
}

/// Serves until the process ends. `ready` gets the bound syslog addresses.
pub async fn run(
    cfg: WatchConfig,
    extra: Extra,
    ready: Option<tokio::sync::oneshot::Sender<Vec<(&'static str, std::net::SocketAddr)>>>,
) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<input::Line>(input::QUEUE);
    let counters = Arc::new(Counters::default());
    let mut bound = Vec::new();
    if let Some(a) = &cfg.syslog_udp {
        let sock = input::bind_udp(a).map_err(|e| format!("syslog-udp {a}: {e}"))?;
        bound.push(("syslog-udp", sock.local_addr().map_err(|e| e.to_string())?));
        tokio::spawn(input::udp(sock, tx.clone(), counters.clone()));
    }
    if let Some(a) = &cfg.syslog_tcp {
        let l = tokio::net::TcpListener::bind(a)
            .await
            .map_err(|e| format!("syslog-tcp {a}: {e}"))?;
        bound.push(("syslog-tcp", l.local_addr().map_err(|e| e.to_string())?));
        tokio::spawn(input::tcp(l, tx.clone(), counters.clone()));
    }
    for name in &extra.follow {
        if !cfg.routers.iter().any(|r| &r.name == name) {
            return Err(format!(
                "--follow {}: no [[router]] of that name in the configuration",
                crate::term::printable(name)
            ));
        }
    }
    for r in &cfg.routers {
        if r.follow || extra.follow.contains(&r.name) {
            tokio::spawn(super::follow::follow(r.clone(), tx.clone()));
        }
    }
    // Held to the end: with only a CrowdSec bouncer there is no input, and the loop below
    // must still wait rather than end.
    let _inputs = tx;
    let by_source: HashMap<IpAddr, String> = cfg
        .routers
        .iter()
        .map(|r| (r.source, r.name.clone()))
        .collect();
    let all: Vec<String> = cfg.routers.iter().map(|r| r.name.clone()).collect();

    // What the routers should list: the state file's running blocks first. Each router's
    // worker reconciles its list with it as soon as it connects.
    let state = cfg
        .state
        .as_deref()
        .map(|p| super::state::StateFile::new(std::path::Path::new(p)));
    let mut wanted = Wanted::default();
    if let Some(s) = &state {
        let active = s.compact(now_ms())?;
        for rec in active.values() {
            if let super::state::Record::Block {
                address,
                routers,
                until_ms,
                ..
            } = rec
            {
                wanted.block_local(
                    address,
                    *until_ms,
                    routers,
                    "tikguard-watch: restored from the state file",
                );
            }
        }
    }
    let needs_crowdsec = cfg.crowdsec.as_ref().is_some_and(|c| c.key_file.is_some());
    // Without a bouncer, nothing enforces CrowdSec decisions: reconcile treats none as wanted.
    wanted.crowdsec_known = !needs_crowdsec;
    let sync = Sync::new(&all, wanted, state);
    action::start(&sync, &cfg.routers, &cfg.list);

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
        Some(url) => Some(super::webhook::Webhook::start(
            http_for(cfg.webhook_ca.as_deref())?,
            url.clone(),
            Vec::new(),
        )),
        None => None,
    };
    if let Some(r) = ready {
        let _ = r.send(bound);
    }

    // Alert lines also go to a file, appended (it may be rotated: reopened on each start).
    let mut alerts = match &cfg.alerts_file {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("alerts-file {p}: {e}"))?,
        ),
        None => None,
    };
    let mut detector = Detector::new(cfg.rules.clone());
    let (mut lines, mut unknown_lines, mut blocks) = (0u64, 0u64, 0u64);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("SIGTERM: {e}"))?;
    loop {
        let (from, line) = tokio::select! {
            got = rx.recv() => match got {
                Some(l) => l,
                None => break,
            },
            _ = term.recv() => break,
        };
        lines += 1;
        let Some(ev) = parse_line(&line) else {
            unknown_lines += 1;
            continue;
        };
        let router = by_source
            .get(&from)
            .cloned()
            .unwrap_or_else(|| from.to_string());
        let now = now_ms();
        for a in detector.feed(now, &router, &ev) {
            let line = alert_line(&router, &a);
            {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            if let Some(f) = alerts.as_mut() {
                if let Err(e) = writeln!(f, "{line}").and_then(|()| f.flush()) {
                    crate::warn_line!("tikguard watch: alerts file: {e}");
                }
            }
            if let Some(w) = &webhook {
                w.send(line);
            }
            let Action::Block {
                key,
                duration_ms,
                failures,
                first_ms,
                ..
            } = &a
            else {
                continue;
            };
            blocks += 1;
            let targets: Vec<String> = if cfg.block_everywhere {
                all.clone()
            } else {
                by_source.get(&from).cloned().into_iter().collect()
            };
            let address = key.address();
            let until_ms = now + duration_ms;
            if let Some(s) = &sync.state {
                let rec = super::state::Record::Block {
                    address: address.clone(),
                    v6: key.is_v6(),
                    routers: targets.clone(),
                    until_ms,
                };
                if let Err(e) = s.append(&rec) {
                    crate::warn_line!("tikguard watch: {e}");
                }
            }
            let comment = format!("tikguard-watch: {failures} failures via {}", ev.via);
            sync.wanted()
                .block_local(&address, until_ms, &targets, &comment);
            if let Some(c) = blocks::canon(&address) {
                sync.mark(&c, Some(&targets));
            }
            if let Some(p) = &push {
                let d = crowdsec::Detection {
                    address: address.clone(),
                    router: router.clone(),
                    failures: *failures,
                    duration_s: duration_ms / 1000,
                    window_s: cfg.rules.window_ms / 1000,
                    first_ms: *first_ms,
                    last_ms: now,
                };
                if p.try_send(d).is_err() {
                    crate::warn_line!(
                        "tikguard watch: crowdsec: alert queue full; {address} not pushed"
                    );
                }
            }
        }
    }
    // Stopping (SIGTERM): what was read and done, for the operator's log.
    crate::warn_line!(
        "tikguard watch: stopping: {lines} lines read ({} login events, {unknown_lines} other), {} dropped with the queue full, {} oversized; {blocks} blocks; {} changes not yet applied to routers",
        lines - unknown_lines,
        counters.queue_full.load(std::sync::atomic::Ordering::Relaxed),
        counters.oversized.load(std::sync::atomic::Ordering::Relaxed),
        sync.pending()
    );
    Ok(())
}

pub(crate) fn read_secret(path: &str) -> Result<String, String> {
    let s = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let s = s.trim().to_string();
    if s.is_empty() {
        return Err(format!("{path}: empty"));
    }
    Ok(s)
}

/// Reads a log file as if it arrived now, one line after another (no blocking): the parse and
/// decide rate, for benchmarks and for trying thresholds on old logs. Returns (lines, events,
/// actions).
pub fn replay(
    cfg: &WatchConfig,
    text: &str,
    out: &mut dyn Write,
) -> std::io::Result<(u64, u64, u64)> {
    let mut detector = Detector::new(cfg.rules.clone());
    let (mut lines, mut events, mut actions) = (0, 0, 0);
    let start = now_ms();
    for line in text.lines() {
        lines += 1;
        let Some(ev) = parse_line(line) else { continue };
        events += 1;
        // One millisecond per line: a replay compresses time, so windows still apply.
        for a in detector.feed(start + lines, "replay", &ev) {
            actions += 1;
            writeln!(out, "{}", alert_line("replay", &a))?;
        }
    }
    Ok((lines, events, actions))
}
