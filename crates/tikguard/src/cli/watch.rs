//! `tikguard watch`: turn login failures in routers' logs into blocks on the routers.

use std::io::Write;

use crate::watch;

/// Turn login failures in RouterOS logs into address-list blocks on the routers.
///
/// Routers send their logs here by remote syslog (UDP or TCP; RouterOS' own format, BSD, RFC
/// 5424 or CEF); the sender's address says which router it is. Failures are counted per source
/// (IPv6 per /64): `failures` within `window` block it for `block` on the router that saw it
/// (or on every router, `block-everywhere = true`), doubling for repeat offenders. Many user
/// names from one source, or one user from many sources, are alerts. Addresses in `allow` are
/// never blocked. Every decision is a JSON line on standard output.
///
/// Example watch.toml:
///   [watch]
///   syslog-udp = "0.0.0.0:5514"
///   list = "tikguard-watch"
///   failures = 5
///   window = "1m"
///   block = "1d"
///   allow = ["10.255.0.0/24", "198.51.100.20"]   # management, CRM, backup tools
///
///   [[router]]
///   name = "core-01"
///   address = "10.255.0.1:8729"
///   ca = "/etc/tikguard/core-01-ca.pem"
///   user = "tikguard-watch"          # a router user with api, read, write
///   password-file = "/etc/tikguard/core-01.pass"
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
    /// Receive syslog and block until stopped.
    Run {
        #[arg(long, value_name = "FILE")]
        config: String,
    },
    /// Remove an address from watch's list on the routers (all, or --router), and from the
    /// state file, so that a restart does not put it back.
    Unblock {
        #[arg(long, value_name = "FILE")]
        config: String,
        /// The address or IPv6 /64 as watch listed it (`203.0.113.9`, `2001:db8:1:2::/64`).
        address: String,
        #[arg(long, value_name = "NAME")]
        router: Option<String>,
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

fn load(path: &str) -> Result<watch::config::WatchConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    watch::config::parse(path, &text).map_err(|e| e.to_string())
}

pub fn run(a: Args) -> std::io::Result<u8> {
    match a.command {
        Sub::Run { config } => {
            let cfg = match load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    return Ok(2);
                }
            };
            if cfg.syslog_udp.is_none() && cfg.syslog_tcp.is_none() {
                eprintln!("tikguard: {config}: give syslog-udp and/or syslog-tcp in [watch]");
                return Ok(2);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let result = rt.block_on(async {
                let task = tokio::spawn(watch::run::run(cfg, Some(tx)));
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
            let cfg = match load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("tikguard: {e}");
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
                eprintln!("tikguard: {config}: no router to unblock on");
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
                }) {
                    eprintln!("tikguard: {e}");
                    failed = true;
                }
            }
            Ok(if failed { 1 } else { 0 })
        }
        Sub::Replay {
            config,
            file,
            stats,
        } => {
            let cfg = match load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    return Ok(2);
                }
            };
            let bytes = std::fs::read(&file)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{file}: {e}")))?;
            let text = String::from_utf8_lossy(&bytes);
            let started = std::time::Instant::now();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let (lines, events, actions) = watch::run::replay(&cfg, &text, &mut out)?;
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
