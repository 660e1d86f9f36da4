//! `tikguard probe`: test routers from the network.

use std::io::Write;
use std::time::Duration;

use crate::probe::{self, report};

/// Test routers from the outside, as the hardening guides tell admins to do, without credentials.
///
/// For each TARGET (a host, host:port, or a CIDR) and port: TCP open/closed/filtered; whether the
/// plaintext RouterOS API answers (it is asked `/cancel`, which names no user, so no failed login
/// is logged); for ports that speak TLS, which of TLS 1.0-1.3 are accepted, whether anonymous
/// Diffie-Hellman is (certless RouterOS api-ssl), and the certificate: subject, SAN, issuer,
/// validity, key, signature, SHA-256 (the value --pin takes).
///
/// Exit status: 0 when no finding is high or critical, 1 when one is, 2 on a usage error.
///
/// Examples:
///   tikguard probe 192.0.2.1
///   tikguard probe 192.0.2.1:8729 --format json
///   tikguard probe 198.51.100.0/24 --ports 8728,8729 --concurrency 512 -o probe.sarif --format sarif
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Hosts, host:port, or CIDR prefixes.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// Ports to probe on targets given without one.
    #[arg(long, value_delimiter = ',', default_values_t = probe::DEFAULT_PORTS.to_vec(), value_name = "PORTS")]
    ports: Vec<u16>,
    /// How long to wait for a connection or an answer.
    #[arg(long, default_value = "3s", value_parser = parse_duration, value_name = "DURATION")]
    timeout: Duration,
    /// Connections in flight at once.
    #[arg(long, default_value_t = 256, value_name = "N")]
    concurrency: usize,
    /// Refuse CIDR ranges larger than this many addresses.
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    max_hosts: usize,
    /// Also list closed and filtered ports (text format).
    #[arg(long)]
    all: bool,
    /// Only the TCP connect scan: no API or TLS analysis.
    #[arg(long)]
    tcp_only: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report here instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    routeros_config::value::parse_duration(s.as_bytes())
        .ok_or_else(|| format!("`{s}` is not a duration (try 3s, 500ms)"))
}

pub fn run(a: Args) -> std::io::Result<u8> {
    let work = match probe::expand(&a.targets, &a.ports, a.max_hosts) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let hosts = {
        let mut h: Vec<&String> = work.iter().map(|(h, _)| h).collect();
        h.dedup();
        for host in &h {
            if let Err(e) = probe::check_host(host) {
                eprintln!("tikguard: {e}");
                return Ok(2);
            }
        }
        h.len()
    };
    let bar = if hosts > 1 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = indicatif::ProgressBar::new(work.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} probing [{bar:40}] {pos}/{len} ports {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tick = bar.clone();
    let results = rt.block_on(probe::run(
        work,
        a.timeout,
        a.concurrency,
        !a.tcp_only,
        move || {
            if let Some(b) = &tick {
                b.inc(1);
            }
        },
    ));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (mut sink, style) = match super::output(a.output.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    match a.format {
        Format::Text => report::text(&mut sink, style, &results, a.all)?,
        Format::Json => report::json(&mut sink, &results)?,
        Format::Sarif => report::sarif(&mut sink, &results)?,
    }
    sink.flush()?;
    let bad = results
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| f.severity >= crate::audit::Severity::High);
    Ok(u8::from(bad))
}
