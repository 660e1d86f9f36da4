//! `tikguard watch`: turn login failures in routers' logs into blocks on the routers.

use std::io::Write;

use crate::watch;

/// Turn login failures in RouterOS logs into address-list blocks on the routers.
///
/// Routers send their logs here by remote syslog (UDP or TCP; RouterOS' own format, BSD, RFC
/// 5424 or CEF); the sender's address says which router it is, and only configured routers'
/// `source` addresses are read (others are counted, never believed). Failures are counted per
/// source (IPv6 per /64) and router: `failures` within `window` block it for `block` on the
/// router that saw it (or on every router, `block-everywhere = true`), doubling for repeat
/// offenders. Many user names from one source, or one user from many sources, are alerts.
/// Never blocked: loopback, link-local, unspecified, multicast, broadcast, this host's
/// addresses, the routers' addresses and sources, and `allow`. Every decision is a JSON line
/// on standard output.
///
/// UDP source addresses can be forged by anyone on the path: carry syslog on a management
/// VLAN, let only the routers reach this port (a firewall rule), and set `confirm = true` on a
/// router to block only what its own log (`/log/print` over the API) holds, logged within the
/// detection window by the router's own clock (10 s of slack).
///
/// Example watch.toml:
///   [watch]
///   syslog-udp = "0.0.0.0:5514"
///   list = "tikguard-watch"
///   failures = 5
///   window = "1m"
///   block = "1d"
///   allow = ["10.255.0.0/24", "198.51.100.20"]   # management, CRM, backup tools
///   state = "/var/lib/tikguard-watch/state.jsonl"  # the default under the unit
///
///   [[router]]
///   name = "core-01"
///   address = "10.255.0.1:8729"
///   ca = "/etc/tikguard/core-01-ca.pem"
///   user = "tikguard-watch"          # a router user with api, read, write
///   password-file = "/etc/tikguard/core-01.pass"
///   confirm = true                   # block only what the router's own log holds
///
///   [[router]]                       # a router whose logging may not change:
///   name = "edge-07"                 #   its log is streamed over the API instead
///   address = "10.255.0.7:8729"
///   pin = "sha256:..."
///   user = "tikguard-watch"
///   password-env = "EDGE07_PASS"
///   follow = true
///
///   [crowdsec]                       # optional: the ISP's CrowdSec Local API
///   lapi = "http://127.0.0.1:8080"
///   key-file = "/etc/tikguard/crowdsec-bouncer.key"  # cscli bouncers add tikguard-watch
///   credentials-file = "/etc/tikguard/crowdsec-machine.yaml"
///                      # cscli machines add tikguard-watch --auto -f THAT-FILE
///
/// With a bouncer key, CrowdSec's ban decisions (Ip and Range) go on every router's list for
/// their duration and come off when deleted or expired; with a machine, watch's own blocks
/// go to CrowdSec as alerts, so every bouncer of the installation enforces them. Each
/// router's list is reconciled whenever watch (re)connects to it: what is wanted and missing
/// is added, and this watcher's own entries (comment `tikguard-watch@INSTANCE:`, `instance`
/// the host name by default) nothing wants are removed; no other's. SIGHUP reloads the file
/// (thresholds, allow, routers added, removed or changed; a file with an error, or a new router
/// refusing watch's login, is refused whole and the running configuration stays).
/// `alerts-file = "PATH"` in [watch] also appends every alert there (0600; reopened on SIGHUP,
/// so logrotate's postrotate runs `systemctl reload tikguard-watch`), and `webhook =
/// "https://..."` POSTs it (retried).
///
/// On the router: /system logging action add name=tikguard target=remote remote=WATCHER
/// remote-port=5514; /system logging add topics=critical action=tikguard; /system logging add
/// topics=account action=tikguard
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Receive syslog (and/or follow routers' logs) and block until stopped.
    Run {
        #[arg(long, value_name = "FILE")]
        config: String,
        /// Also stream this router's log over the API (`/log/print follow-only`), for routers
        /// whose logging may not be changed; repeatable. Reconnects with backoff.
        #[arg(long, value_name = "ROUTER")]
        follow: Vec<String>,
        /// Enforce the decisions of this CrowdSec Local API on the routers (a bouncer); the
        /// same as `lapi` in the file's [crowdsec] table.
        #[arg(long, value_name = "URL", requires = "crowdsec_key_file")]
        crowdsec_lapi: Option<String>,
        /// The bouncer's API key (`cscli bouncers add tikguard-watch`), in a file.
        #[arg(long, value_name = "FILE", requires = "crowdsec_lapi")]
        crowdsec_key_file: Option<String>,
        /// Start even when a router's certificate, pin or login is refused, and keep retrying
        /// it in the background (without this, start-up stops with the reason).
        #[arg(long)]
        keep_trying: bool,
    },
    /// Remove an address from watch's list on the routers (all, or --router), and from the
    /// state file, so that a restart does not put it back. With --router, the blocks on the
    /// other routers stay, in the state too.
    Unblock {
        #[arg(long, value_name = "FILE")]
        config: String,
        /// The address or IPv6 /64 as watch listed it (`203.0.113.9`, `2001:db8:1:2::/64`).
        address: String,
        /// Only on this router (a [[router]] name of the configuration).
        #[arg(long, value_name = "NAME")]
        router: Option<String>,
    },
    /// Block an address or prefix by hand on the routers (all, or --router), kept in the state
    /// file so that a running watch keeps it and a restart puts it back. What watch never
    /// blocks (loopback, this host, the routers, `allow`...) is refused.
    Block {
        #[arg(long, value_name = "FILE")]
        config: String,
        address: String,
        #[arg(long, value_name = "NAME")]
        router: Option<String>,
        /// How long (default: the configuration's `block`).
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
        /// Why, in the entry's comment.
        #[arg(long, value_name = "TEXT", default_value = "by hand")]
        reason: String,
    },
    /// The blocks the state file holds: per router, time left, offences.
    Status {
        #[arg(long, value_name = "FILE")]
        config: String,
        /// One JSON object per block.
        #[arg(long)]
        json: bool,
    },
    /// Read a log file with the configuration's thresholds and print the decisions (nothing is
    /// blocked); with --stats, print the counts on standard error.
    Replay {
        #[arg(long, value_name = "FILE")]
        config: String,
        file: String,
        #[arg(long)]
        stats: bool,
    },
}

/// The configuration, or `None` after saying why it cannot be read (file, line, column).
fn load(path: &str) -> Option<watch::config::WatchConfig> {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|text| watch::config::parse(path, &text).map_err(|e| e.to_string()));
    match parsed {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("tikguard: {e}");
            None
        }
    }
}

pub fn run(a: Args) -> std::io::Result<u8> {
    match a.command {
        Sub::Run {
            config,
            follow,
            crowdsec_lapi,
            crowdsec_key_file,
            keep_trying,
        } => {
            let Some(mut cfg) = load(&config) else {
                return Ok(2);
            };
            if let (Some(lapi), Some(key)) = (crowdsec_lapi, crowdsec_key_file) {
                if !(lapi.starts_with("http://") || lapi.starts_with("https://")) {
                    eprintln!("tikguard: --crowdsec-lapi: expected an http:// or https:// URL");
                    return Ok(2);
                }
                let c = cfg.crowdsec.get_or_insert(watch::config::CrowdsecConfig {
                    lapi: lapi.clone(),
                    ca: None,
                    key_file: None,
                    machine: None,
                    poll_ms: 10_000,
                });
                c.lapi = lapi;
                c.key_file = Some(key);
            }
            let follows = !follow.is_empty() || cfg.routers.iter().any(|r| r.follow);
            let bouncer = cfg.crowdsec.as_ref().is_some_and(|c| c.key_file.is_some());
            if cfg.syslog_udp.is_none() && cfg.syslog_tcp.is_none() && !follows && !bouncer {
                eprintln!(
                    "tikguard: {config}: nothing to watch: give syslog-udp and/or syslog-tcp in [watch], follow a router (--follow NAME or `follow = true`), or a CrowdSec bouncer key"
                );
                return Ok(2);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let result = rt.block_on(async {
                let task = tokio::spawn(watch::run::run(
                    cfg,
                    watch::run::Extra {
                        follow,
                        config_path: Some(config.clone()),
                        keep_trying,
                    },
                    Some(tx),
                ));
                if let Ok(addrs) = rx.await {
                    for (what, a) in addrs {
                        crate::warn_line!("{what} {a}");
                    }
                }
                task.await.unwrap_or_else(|e| Err(e.to_string()))
            });
            match result {
                Ok(()) => Ok(0),
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    Ok(2)
                }
            }
        }
        Sub::Unblock {
            config,
            address,
            router,
        } => {
            let Some(cfg) = load(&config) else {
                return Ok(2);
            };
            // One spelling: `203.0.113.9/32` is `203.0.113.9`, an uncompressed IPv6 address
            // its compressed form.
            let Some(address) = watch::blocks::canon(address.trim()) else {
                eprintln!(
                    "tikguard: `{}` is not an address or prefix",
                    crate::term::printable(&address)
                );
                return Ok(2);
            };
            // A host inside a block (an IPv6 /64): say which block holds it.
            if let Some(p) = &cfg.state {
                let s = watch::state::StateFile::new(std::path::Path::new(p));
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                if let Ok(active) = s.active(now) {
                    let on = |r: &str| router.as_ref().is_none_or(|n| n == r);
                    let exact = active.keys().any(|(a, r)| *a == address && on(r));
                    let mut w = watch::blocks::Wanted::default();
                    for a in active.values().filter(|a| on(&a.router)) {
                        w.block_local(&a.address, a.until_ms, std::slice::from_ref(&a.router), "");
                    }
                    if let (false, Some(holder)) = (exact, w.local_holding(&address)) {
                        eprintln!(
                            "tikguard: {address} is not blocked itself; the block of {holder} holds it: `tikguard watch unblock {holder}` lifts that"
                        );
                        return Ok(1);
                    }
                }
            }
            let targets: Vec<_> = cfg
                .routers
                .iter()
                .filter(|r| router.as_ref().is_none_or(|n| &r.name == n))
                .cloned()
                .collect();
            if targets.is_empty() {
                match &router {
                    Some(n) => eprintln!(
                        "tikguard: {config}: no [[router]] named `{}`",
                        crate::term::printable(n)
                    ),
                    None => eprintln!("tikguard: {config}: no router to unblock on"),
                }
                return Ok(2);
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut failed = false;
            for r in &targets {
                match rt.block_on(watch::action::unblock(r, &cfg.list, &address)) {
                    Ok(n) => println!(
                        "{}: removed {n} entr{}",
                        crate::term::printable(&r.name),
                        if n == 1 { "y" } else { "ies" }
                    ),
                    Err(e) => {
                        eprintln!("tikguard: {}: {e}", crate::term::printable(&r.name));
                        failed = true;
                    }
                }
            }
            if let Some(p) = &cfg.state {
                let s = watch::state::StateFile::new(std::path::Path::new(p));
                if let Err(e) = s.append(&watch::state::Record::Unblock {
                    address: address.clone(),
                    routers: router.clone().map(|r| vec![r]),
                }) {
                    eprintln!("tikguard: {e}");
                    failed = true;
                }
            }
            Ok(if failed { 1 } else { 0 })
        }
        Sub::Block {
            config,
            address,
            router,
            duration,
            reason,
        } => {
            let Some(cfg) = load(&config) else {
                return Ok(2);
            };
            let Some(address) = watch::blocks::canon(address.trim()) else {
                eprintln!(
                    "tikguard: `{}` is not an address or prefix",
                    crate::term::printable(&address)
                );
                return Ok(2);
            };
            let never = watch::never::Never::new(&cfg, &watch::never::own_addresses());
            if let Some(why) = never.refuses_range(&address) {
                eprintln!("tikguard: {address} is never blocked: {why}");
                return Ok(1);
            }
            let ms = match duration.as_deref().map(humantime::parse_duration) {
                None => cfg.rules.block_ms,
                Some(Ok(d)) => d.as_millis() as u64,
                Some(Err(e)) => {
                    eprintln!("tikguard: --for: {e} (e.g. 1h, 1d)");
                    return Ok(2);
                }
            };
            let targets: Vec<_> = cfg
                .routers
                .iter()
                .filter(|r| router.as_ref().is_none_or(|n| &r.name == n))
                .cloned()
                .collect();
            if targets.is_empty() {
                match &router {
                    Some(n) => eprintln!(
                        "tikguard: {config}: no [[router]] named `{}`",
                        crate::term::printable(n)
                    ),
                    None => eprintln!("tikguard: {config}: no router to block on"),
                }
                return Ok(2);
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let prefix = watch::blocks::instance_prefix(&cfg.instance);
            let entry = watch::blocks::Entry {
                v6: address.contains(':'),
                until_ms: now + ms,
                comment: format!("{prefix} {}", crate::term::printable(&reason))
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(160)
                    .collect(),
            };
            if let Some(p) = &cfg.state {
                let s = watch::state::StateFile::new(std::path::Path::new(p));
                if let Err(e) = s.append(&watch::state::Record::Block {
                    address: address.clone(),
                    v6: entry.v6,
                    routers: targets.iter().map(|r| r.name.clone()).collect(),
                    until_ms: entry.until_ms,
                    offence: 0,
                }) {
                    eprintln!("tikguard: {e}");
                    return Ok(1);
                }
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut failed = false;
            for r in &targets {
                match rt.block_on(watch::action::block(r, &cfg.list, &address, &entry)) {
                    Ok(()) => println!("{}: listed {address}", crate::term::printable(&r.name)),
                    Err(e) => {
                        eprintln!(
                            "tikguard: {}: {e} (kept in the state: watch lists it when the router is back)",
                            crate::term::printable(&r.name)
                        );
                        failed = true;
                    }
                }
            }
            Ok(if failed { 1 } else { 0 })
        }
        Sub::Status { config, json } => {
            let Some(cfg) = load(&config) else {
                return Ok(2);
            };
            let Some(p) = &cfg.state else {
                eprintln!("tikguard: {config}: `state = \"\"`: no blocks are kept");
                return Ok(2);
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let active = match watch::state::StateFile::new(std::path::Path::new(p)).active(now) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    return Ok(1);
                }
            };
            let mut rows: Vec<_> = active.values().collect();
            rows.sort_by(|a, b| (&a.router, &a.address).cmp(&(&b.router, &b.address)));
            let mut out = std::io::stdout().lock();
            for a in &rows {
                let left_s = a.until_ms.saturating_sub(now) / 1000;
                if json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"router": a.router, "address": a.address,
                            "left_s": left_s, "offence": a.offence})
                    )?;
                } else {
                    writeln!(
                        out,
                        "{}\t{}\t{} left\toffence {}",
                        crate::term::printable(&a.router),
                        a.address,
                        watch::action::routeros_duration(left_s),
                        a.offence
                    )?;
                }
            }
            if !json {
                writeln!(out, "{} block(s)", rows.len())?;
            }
            Ok(0)
        }
        Sub::Replay {
            config,
            file,
            stats,
        } => {
            let Some(cfg) = load(&config) else {
                return Ok(2);
            };
            let bytes = std::fs::read(&file)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{file}: {e}")))?;
            let text = String::from_utf8_lossy(&bytes);
            let started = std::time::Instant::now();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let (lines, events, actions) = watch::replay::replay(&cfg, &text, &mut out)?;
            out.flush()?;
            if stats {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "{lines} lines, {events} login events, {actions} decisions in {:.3} s ({:.0} lines/s)",
                    secs,
                    lines as f64 / secs.max(1e-9)
                );
            }
            Ok(0)
        }
    }
}
