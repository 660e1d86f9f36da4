//! `tikguard fleet harden`: `harden` on every router of an inventory.

use std::io::Write;
use std::sync::Arc;

use super::fleet::{now_rfc3339, select, Bar, Common};
use crate::fleet::connect::Timeouts;
use crate::fleet::harden::{self, Job};
use crate::fleet::output::{self, Output};
use crate::fleet::result::{RouterResult, Status, Summary};
use crate::fleet::run::RunOptions;
use crate::harden::options::Options;
use crate::term::printable;

/// Plan `harden` for each router from its live configuration, read over the verified API.
///
/// Per router the output folder gets `<router>.rsc` (the script), `<router>.rollback.rsc` (0600)
/// and `<router>.json` (the plan, its proof, or why it was refused); `summary.json` lists them
/// all. A router's `mgmt` and `api_clients` in the inventory replace --mgmt and --api-client.
///
/// With --apply --yes each proven plan is applied as `harden --apply --yes` applies it: this
/// connection's source must keep access, the router is read again and nothing changes if it
/// moved since the plan. Routers start in inventory order, --apply-concurrency at once; the
/// first router refused or failed stops the run from starting more, unless --keep-going.
///
/// Exit status: 0 every router planned (or applied) or had nothing to do; 1 a router was
/// refused, failed or not started; 3 some routers could not be read (and none refused);
/// 2 a usage error; 130 interrupted.
///
/// Examples:
///   tikguard fleet harden -i fleet.toml --mgmt 10.255.0.0/24 --api-client 198.51.100.20 -o plans/
///   tikguard fleet harden -i fleet.toml --mgmt 10.255.0.0/24 --api-client 198.51.100.20 \
///       --apply --yes -o applied/
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Where administrators must keep winbox/ssh/api-ssl access (repeatable), for routers the
    /// inventory gives no `mgmt`.
    #[arg(long, value_name = "CIDR", value_delimiter = ',')]
    mgmt: Vec<String>,
    /// Where the CRM/billing system connects from (repeatable), for routers the inventory gives
    /// no `api_clients`.
    #[arg(long = "api-client", value_name = "CIDR", value_delimiter = ',')]
    api_clients: Vec<String>,
    /// Treat this interface as WAN (repeatable).
    #[arg(long, value_name = "IFACE")]
    wan: Vec<String>,
    /// Treat the members of this interface list as WAN.
    #[arg(long, value_name = "NAME", conflicts_with = "wan")]
    wan_list: Option<String>,
    /// Move api-ssl to this port.
    #[arg(long, value_name = "N")]
    api_port: Option<u16>,
    /// `generate` (create and sign one on the router) or the name of an existing certificate.
    #[arg(long, default_value = "generate", value_name = "generate|NAME")]
    cert: String,
    /// Send login events to this syslog receiver (port 514 by default).
    #[arg(long, value_name = "HOST[:PORT]")]
    syslog: Option<String>,
    /// The CRM's user (see `harden --api-user`).
    #[arg(long, value_name = "NAME")]
    api_user: Option<String>,
    /// The CRM's group (see `harden --api-group`).
    #[arg(long, value_name = "NAME")]
    api_group: Option<String>,
    /// Replace the services' existing `address=` allow-lists with the prefixes given.
    #[arg(long)]
    replace_allow_lists: bool,
    /// Leave the plaintext API and its accepts on (see `harden --keep-plain-api`).
    #[arg(long)]
    keep_plain_api: bool,
    /// Limit MAC winbox, MAC telnet and discovery to this interface (repeatable).
    #[arg(long = "mgmt-interface", value_name = "IFACE")]
    mgmt_interfaces: Vec<String>,
    /// Give up on a router's proof after this many seconds, refusing its plan as unproven.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    time_limit: u64,
    /// Apply each proven plan to its router (with --yes).
    #[arg(long)]
    apply: bool,
    /// With --apply: make the changes.
    #[arg(long, requires = "apply")]
    yes: bool,
    /// With --apply: go on starting routers after one is refused or fails.
    #[arg(long, requires = "apply")]
    keep_going: bool,
    /// With --apply: routers changed at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    apply_concurrency: usize,
}

pub fn run(a: Args) -> std::io::Result<u8> {
    if a.apply && !a.yes {
        eprintln!("tikguard: --apply changes every router selected: add --yes (without --apply, fleet harden writes the plans and changes nothing)");
        return Ok(2);
    }
    let c = &a.common;
    let (routers, shard) = match select(c) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let out = match Output::create(&c.out) {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let job = Job {
        options: Options {
            api_clients: a.api_clients.clone(),
            mgmt: a.mgmt.clone(),
            wan: a.wan.clone(),
            wan_list: a.wan_list.clone(),
            api_port: a.api_port,
            cert: a.cert.clone(),
            syslog: a.syslog.clone(),
            api_user: a.api_user.clone(),
            api_group: a.api_group.clone(),
            replace_allow_lists: a.replace_allow_lists,
            keep_plain_api: a.keep_plain_api,
            mgmt_interfaces: a.mgmt_interfaces.clone(),
            ..Options::default()
        },
        time_limit: std::time::Duration::from_secs(a.time_limit),
        apply: a.apply,
        keep_going: a.keep_going,
    };
    let opts = RunOptions {
        concurrency: if a.apply {
            a.apply_concurrency
        } else {
            c.concurrency
        },
        timeouts: Timeouts {
            connect: c.timeout,
            command: c.command_timeout,
        },
        retries: c.retries,
        ..RunOptions::default()
    };
    let started = now_rfc3339();
    let bar = Bar::new(routers.len() as u64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let ran = rt.block_on(harden::run(
        routers,
        job,
        opts,
        out.clone(),
        bar.clone(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    ));
    bar.finish();
    let mut summary = Summary::of("harden", started, output::rows(&ran.results));
    summary.finished = Some(now_rfc3339());
    summary.interrupted = ran.interrupted;
    summary.shard = shard.map(|s| s.to_string());
    if let Err(e) = out.finish(&summary, &ran.results) {
        eprintln!("tikguard: {e}");
        return Ok(2);
    }
    let mut stdout = std::io::stdout().lock();
    table(&mut stdout, &ran.results, &c.out)?;
    stdout.flush()?;
    Ok(exit_code(&ran.results, ran.interrupted))
}

fn exit_code(results: &[RouterResult], interrupted: bool) -> u8 {
    if interrupted {
        130
    } else if results.iter().any(|r| {
        matches!(
            r.status,
            Status::JobRefused { .. } | Status::NotStarted { .. }
        )
    }) {
        1
    } else if results.iter().any(|r| !r.status.is_reached()) {
        3
    } else {
        0
    }
}

/// One line per router, in inventory order: what became of it, how many changes, and why.
fn table(
    w: &mut dyn Write,
    results: &[RouterResult],
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let name_w = results
        .iter()
        .map(|r| printable(&r.name).chars().count().min(32))
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        w,
        "{:name_w$}  {:13}  {:>7}  DETAIL",
        "ROUTER", "OUTCOME", "CHANGES"
    )?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for r in results {
        let outcome = harden::outcome(r);
        *counts.entry(outcome.clone()).or_default() += 1;
        let changes = r
            .output
            .as_ref()
            .and_then(|o| o["changes"].as_array())
            .map_or("-".to_string(), |c| c.len().to_string());
        let detail = r.status.detail().unwrap_or("");
        let detail: String = printable(detail).chars().take(160).collect();
        let name: String = printable(&r.name).chars().take(32).collect();
        let line = format!("{name:name_w$}  {outcome:13}  {changes:>7}  {detail}");
        writeln!(w, "{}", line.trim_end())?;
    }
    let by: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    writeln!(
        w,
        "\n{} routers: {}. Plans and results in {}",
        results.len(),
        by.join(", "),
        dir.display()
    )
}
