//! The running watcher: syslog lines → events → decisions → JSON alert lines on stdout and
//! blocks on the routers.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use super::action::{Block, Blockers};
use super::config::WatchConfig;
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

/// Serves until the process ends. `ready` gets the bound syslog addresses.
pub async fn run(
    cfg: WatchConfig,
    ready: Option<tokio::sync::oneshot::Sender<Vec<(&'static str, std::net::SocketAddr)>>>,
) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<input::Line>(input::QUEUE);
    let counters = Arc::new(Counters::default());
    let mut bound = Vec::new();
    if let Some(a) = &cfg.syslog_udp {
        let sock = tokio::net::UdpSocket::bind(a)
            .await
            .map_err(|e| format!("syslog-udp {a}: {e}"))?;
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
    drop(tx);
    if let Some(r) = ready {
        let _ = r.send(bound);
    }
    let by_source: HashMap<IpAddr, String> = cfg
        .routers
        .iter()
        .map(|r| (r.source, r.name.clone()))
        .collect();
    let all: Vec<String> = cfg.routers.iter().map(|r| r.name.clone()).collect();
    let blockers = Blockers::start(&cfg.routers, &cfg.list);
    let state = cfg
        .state
        .as_deref()
        .map(|p| super::state::StateFile::new(std::path::Path::new(p)));
    // Reconcile: blocks still running go back on their routers (with the time left), and
    // watch's own entries the state does not hold come off.
    if let Some(s) = &state {
        let active = s.active(now_ms())?;
        let keep: std::collections::HashSet<String> = active.keys().cloned().collect();
        for r in &cfg.routers {
            let (r, list, keep) = (r.clone(), cfg.list.clone(), keep.clone());
            tokio::spawn(async move {
                if let Err(e) = super::action::remove_stale(&r, &list, &keep).await {
                    crate::warn_line!(
                        "tikguard watch: router {}: reconcile: {e}",
                        crate::term::printable(&r.name)
                    );
                }
            });
        }
        for rec in active.values() {
            if let super::state::Record::Block {
                address,
                v6,
                routers,
                until_ms,
            } = rec
            {
                let names: Vec<&str> = routers.iter().map(String::as_str).collect();
                blockers.block(
                    &names,
                    &Block {
                        address: address.clone(),
                        v6: *v6,
                        timeout_s: until_ms.saturating_sub(now_ms()) / 1000,
                        comment: "tikguard-watch: restored from the state file".into(),
                    },
                );
            }
        }
    }
    let mut detector = Detector::new(cfg.rules.clone());
    let mut unknown_lines = 0u64;
    while let Some((from, line)) = rx.recv().await {
        let Some(ev) = parse_line(&line) else {
            unknown_lines += 1;
            continue;
        };
        let router = by_source
            .get(&from)
            .cloned()
            .unwrap_or_else(|| from.to_string());
        for a in detector.feed(now_ms(), &router, &ev) {
            let line = alert_line(&router, &a);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
            if let Action::Block {
                key, duration_ms, ..
            } = &a
            {
                let targets: Vec<&str> = if cfg.block_everywhere {
                    all.iter().map(String::as_str).collect()
                } else {
                    by_source
                        .get(&from)
                        .map(String::as_str)
                        .into_iter()
                        .collect()
                };
                if let Some(s) = &state {
                    let rec = super::state::Record::Block {
                        address: key.address(),
                        v6: key.is_v6(),
                        routers: targets.iter().map(|t| t.to_string()).collect(),
                        until_ms: now_ms() + duration_ms,
                    };
                    if let Err(e) = s.append(&rec) {
                        crate::warn_line!("tikguard watch: {e}");
                    }
                }
                blockers.block(
                    &targets,
                    &Block {
                        address: key.address(),
                        v6: key.is_v6(),
                        timeout_s: duration_ms / 1000,
                        comment: format!(
                            "tikguard-watch: {} failures via {}",
                            cfg.rules.failures, ev.via
                        ),
                    },
                );
            }
        }
    }
    let _ = unknown_lines;
    Ok(())
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
