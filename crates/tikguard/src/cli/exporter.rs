//! `tikguard exporter`: the fleet's live audits as Prometheus metrics.

use std::time::Duration;

use crate::exporter::{self, Exporter, Settings};
use crate::fleet::inventory;

/// Serve live audits of the inventory's routers to Prometheus, one router per scrape.
///
/// Prometheus scrapes `/probe?target=NAME` (NAME: a router of the inventory) as it scrapes
/// blackbox_exporter or snmp_exporter: list the router names as targets and relabel
/// `__address__` to `__param_target` and `instance`, and `__address__` to this exporter (README:
/// "tikguard exporter" has the scrape configuration and alert rules). Each scrape reads the
/// router over its API, with the inventory's TLS verification and credentials, and audits it:
/// probe_success, probe_duration_seconds, findings by severity and rule, each management
/// service's reach (internet, private, explicit, closed), RouterOS version, update pending, the
/// api-ssl certificate's expiry. `/metrics` is the exporter's own.
///
/// A name not in the inventory is a 404: the exporter never connects to an address a request
/// gives. A probe ends by Prometheus' scrape timeout (its X-Prometheus-Scrape-Timeout-Seconds
/// header) less 0.5 s; past --concurrency running and --queue waiting, a scrape gets 503.
///
/// Examples:
///   tikguard exporter --config fleet.toml --listen 127.0.0.1:9729
///   curl '127.0.0.1:9729/probe?target=core-1'
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The inventory (TOML, as `tikguard fleet` reads it): routers, TLS, credentials.
    #[arg(long, value_name = "FILE")]
    config: String,
    /// Only these routers of the inventory (names, tag:T, group:G, with * wildcards and !
    /// exclusions, comma-separated); the others are unknown targets.
    #[arg(long, value_name = "PATTERNS")]
    limit: Option<String>,
    /// Where to serve HTTP. There is no authentication: anyone who reaches it can make the
    /// exporter audit the inventory's routers, so keep it on loopback or a management network.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9729")]
    listen: std::net::SocketAddr,
    /// Probes running at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// Probes waiting for a free slot; more get 503.
    #[arg(long, value_name = "N", default_value_t = 64)]
    queue: usize,
    /// The longest a probe may take (and its deadline when a scrape sends no timeout header).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    max_timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    routeros_config::value::parse_duration(s.as_bytes())
        .ok_or_else(|| format!("`{s}` is not a duration (try 30s, 1m)"))
}

pub fn run(args: Args) -> std::io::Result<u8> {
    if args.concurrency == 0 {
        eprintln!("tikguard: --concurrency must be at least 1");
        return Ok(2);
    }
    let targets = match targets(&args.config, args.limit.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let settings = Settings {
        concurrency: args.concurrency,
        queue: args.queue,
        max_timeout: args.max_timeout,
        ..Settings::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("tikguard: cannot listen on {}: {e}", args.listen);
                return Ok(2);
            }
        };
        let n = targets.len();
        let e = Exporter::new(targets, settings);
        eprintln!(
            "tikguard: exporter on http://{}/probe?target=NAME, {n} router(s)",
            listener.local_addr()?
        );
        tokio::select! {
            _ = exporter::serve(listener, e) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(0)
    })
}

/// The inventory's routers (those --limit picks) as targets.
fn targets(path: &str, limit: Option<&str>) -> Result<Vec<exporter::Target>, String> {
    let inv = inventory::load(std::path::Path::new(path), &inventory::Defaults::default())
        .map_err(|e| e.to_string())?;
    let routers = match limit {
        Some(l) => inventory::Limit::parse(l)?.select(&inv)?,
        None => inv.routers,
    };
    if routers.is_empty() {
        return Err(format!("{path}: no routers"));
    }
    routers.iter().map(exporter::Target::of).collect()
}
