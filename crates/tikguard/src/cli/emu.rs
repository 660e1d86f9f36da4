//! `tikguard emu`: serve the RouterOS API from an export.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use routeros_config::Version;

use crate::emu;
use crate::input;

/// Serve the RouterOS API as the router of an export would, for tests and demos.
///
/// Users, groups, services and their `address=` come from the export (and RouterOS' defaults:
/// user `admin` in group `full`). Passwords are never taken from the command line: give each
/// user's with --password-file USER=PATH.
///
/// Examples:
///   echo secret > /tmp/admin.pass
///   tikguard emu router.rsc --api 127.0.0.1:8728 --password-file admin=/tmp/admin.pass
///   tikguard emu router.rsc --api-ssl 127.0.0.1:8729 --tls-cert cert.pem --tls-key key.pem \
///       --password-file admin=/tmp/admin.pass --syslog 127.0.0.1:5514 --version 7.18
///
/// Bounded like a server facing hostile clients: before login a client may send 8 sentences of
/// at most 8 KiB within 20 s; every buffered byte counts against --memory-budget; a client that
/// leaves its replies unread for 30 s, or its `listen` queue full, is disconnected alone.
#[derive(clap::Args)]
#[command(verbatim_doc_comment, disable_version_flag = true)]
pub struct Args {
    /// The export to serve (or give --serve / --dir to serve many).
    #[arg(required_unless_present_any = ["serve", "dir"])]
    config: Option<String>,
    #[command(flatten)]
    many: ManyArgs,
    /// Serve the plaintext `api` here (port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    api: Option<SocketAddr>,
    /// Serve `api-ssl` here; needs --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDR", requires_all = ["tls_cert", "tls_key"])]
    api_ssl: Option<SocketAddr>,
    /// PEM certificate chain for api-ssl.
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for api-ssl.
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// A user's password, read from a file: USER=PATH (repeatable).
    #[arg(long, value_name = "USER=PATH")]
    password_file: Vec<String>,
    /// Behave as this RouterOS version (`!empty` from 7.18, MD5 login before 6.43); default:
    /// the export's header, else 7.18.
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Send log lines to this syslog receiver over UDP, as a remote logging action would.
    #[arg(long, value_name = "HOST:PORT")]
    syslog: Option<SocketAddr>,
    /// BSD syslog framing (`bsd-syslog=yes`, RouterOS up to 7.17).
    #[arg(long)]
    syslog_bsd: bool,
    /// Take every client as coming from this address, in `address=` checks and log lines (as
    /// a router behind a NAT sees its clients).
    #[arg(long, value_name = "ADDRESS")]
    clients_as: Option<std::net::IpAddr>,
    /// Memory all connections together may buffer, in MiB; the connection that would exceed it
    /// is closed alone. Each service also admits at most its `max-sessions` (default 20).
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    memory_budget: usize,
    /// What only a running router knows, for `audit --live`: users and their last login, SSH
    /// keys, certificates with dates, the log, update status, firmware, active sessions.
    #[arg(long, value_name = "FILE", long_help = emu::state::HELP)]
    state: Option<PathBuf>,
}

/// Many routers from one process (`emu/many.rs`).
#[derive(clap::Args)]
pub struct ManyArgs {
    /// Serve this export on this address (repeatable): api-ssl with --tls-cert/--tls-key, else
    /// the plaintext api. Prints `NAME ADDR` per router.
    #[arg(long, value_name = "CONFIG=ADDR", conflicts_with_all = ["config", "dir", "api", "api_ssl"])]
    serve: Vec<String>,
    /// Serve every .rsc of this folder, sorted by name, on consecutive ports from --first-port.
    #[arg(long, value_name = "DIR", requires = "first_port", conflicts_with_all = ["config", "api", "api_ssl"])]
    dir: Option<PathBuf>,
    /// The first address:port for --dir.
    #[arg(long, value_name = "ADDR")]
    first_port: Option<SocketAddr>,
}

fn passwords(a: &Args) -> Result<HashMap<String, String>, String> {
    let mut passwords = HashMap::new();
    for spec in &a.password_file {
        let Some((user, path)) = spec.split_once('=') else {
            return Err(format!("--password-file takes USER=PATH, not `{spec}`"));
        };
        let t = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        passwords.insert(user.to_string(), t.lines().next().unwrap_or("").to_string());
    }
    Ok(passwords)
}

fn run_many(a: Args) -> std::io::Result<u8> {
    let specs = match &a.many.dir {
        Some(d) => emu::many::from_dir(d, a.many.first_port.expect("required by clap")),
        None => emu::many::from_pairs(&a.many.serve),
    };
    let prepared = specs.and_then(|specs| {
        let tls = match (&a.tls_cert, &a.tls_key) {
            (Some(c), Some(k)) => Some(emu::tls_config(c, k)?),
            _ => None,
        };
        let version = match &a.version {
            Some(v) => Some(
                Version::parse(v).ok_or(format!("--version `{v}` is not a RouterOS version"))?,
            ),
            None => None,
        };
        let common = emu::many::Common {
            passwords: passwords(&a)?,
            version,
            tls,
            budget: a.memory_budget.saturating_mul(1 << 20),
        };
        Ok((specs, common))
    });
    let (specs, common) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let served = match emu::many::serve(&specs, &common).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("tikguard: {e}");
                return Ok(2);
            }
        };
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            for (spec, e) in &served {
                let addr = e.api_ssl.or(e.api).expect("one service is served");
                writeln!(out, "{} {addr}", crate::term::printable(&spec.name))?;
            }
            out.flush()?;
        }
        tokio::signal::ctrl_c().await?;
        Ok::<u8, std::io::Error>(0)
    })
}

pub fn run(a: Args) -> std::io::Result<u8> {
    if !a.many.serve.is_empty() || a.many.dir.is_some() {
        return run_many(a);
    }
    let Some(config_path) = a.config.clone() else {
        eprintln!("tikguard: give an export, or --serve CONFIG=ADDR / --dir DIR");
        return Ok(2);
    };
    if a.api.is_none() && a.api_ssl.is_none() {
        eprintln!("tikguard: give --api ADDR and/or --api-ssl ADDR");
        return Ok(2);
    }
    let (config, parsed) = match input::load_export(&config_path) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let mut passwords = HashMap::new();
    for spec in &a.password_file {
        let Some((user, path)) = spec.split_once('=') else {
            eprintln!("tikguard: --password-file takes USER=PATH, not `{spec}`");
            return Ok(2);
        };
        match std::fs::read_to_string(path) {
            Ok(t) => {
                passwords.insert(user.to_string(), t.lines().next().unwrap_or("").to_string());
            }
            Err(e) => {
                eprintln!("tikguard: cannot read {path}: {e}");
                return Ok(2);
            }
        }
    }
    let version = match &a.version {
        Some(v) => match Version::parse(v) {
            Some(v) => Some(v),
            None => {
                eprintln!("tikguard: --version `{v}` is not a RouterOS version");
                return Ok(2);
            }
        },
        None => None,
    };
    let api_ssl = match (&a.api_ssl, &a.tls_cert, &a.tls_key) {
        (Some(addr), Some(c), Some(k)) => match emu::tls_config(c, k) {
            Ok(cfg) => Some((*addr, cfg)),
            Err(e) => {
                eprintln!("tikguard: {e}");
                return Ok(2);
            }
        },
        _ => None,
    };
    for d in &parsed.diagnostics {
        eprintln!(
            "tikguard: {}:{}:{}: {}",
            config_path, d.line, d.column, d.message
        );
    }
    let state = match &a.state {
        Some(p) => match emu::state::load(p) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("tikguard: --state {e}");
                return Ok(2);
            }
        },
        None => None,
    };
    let mut router = emu::router_from(config, passwords, version);
    if let Some(s) = &state {
        emu::state::apply(s, &mut router);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let e = emu::start(
            router,
            emu::Options {
                api: a.api,
                api_ssl,
                syslog: a.syslog,
                syslog_bsd: a.syslog_bsd,
                clients_as: a.clients_as,
                budget: a.memory_budget.saturating_mul(1 << 20),
                ..Default::default()
            },
        )
        .await?;
        if let Some(addr) = e.api {
            println!("api {addr}");
        }
        if let Some(addr) = e.api_ssl {
            println!("api-ssl {addr}");
        }
        use std::io::Write as _;
        std::io::stdout().flush()?;
        tokio::signal::ctrl_c().await?;
        Ok::<u8, std::io::Error>(0)
    })
}
