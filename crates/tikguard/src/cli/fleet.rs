//! `tikguard fleet`: audit, probe, pin and query every router of an inventory at once.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::Severity;
use crate::fleet::connect::Timeouts;
use crate::fleet::inventory::{self, Defaults, Limit, Shard};
use crate::fleet::jobs::Job;
use crate::fleet::output::{self, Output};
use crate::fleet::result::{Reach, RouterResult, Summary};
use crate::fleet::run::{self, Progress, RunOptions};
use crate::fleet::verbs;
use crate::term::{printable, Style};

/// Run tikguard over every router of an inventory, concurrently, with verified TLS.
///
/// The inventory is TOML (`[[router]]`, `[group.NAME]`), an Ansible inventory as it is (YAML or
/// INI), or CSV (`name,address,port,group,tags`). Passwords are never in it: routers, groups or
/// --password-env / --password-file name where they are.
///
/// Results go to the output folder: `<router>.json` per router, `summary.json` and
/// `fleet.sarif`; a table on standard output says, per router, whether it was read (or why not:
/// refused, timeout, tls-mismatch, bad-login...), its version, its critical/high findings, how
/// far its API reaches and what to fix first.
///
/// Exit status: 0 all read, none at --fail-on; 1 a router has a finding at --fail-on; 3 some
/// routers could not be read (and none reached --fail-on); 2 a usage error; 130 interrupted.
///
/// Examples:
///   tikguard fleet audit -i fleet.toml --password-env ROS_PASS -o out/
///   tikguard fleet exec -i hosts.yml /ip/service/print --limit group:pop-*
///   tikguard fleet pins -i routers.csv
///   tikguard fleet harden -i fleet.toml --mgmt 10.255.0.0/24 --api-client 198.51.100.20 -o plans/
///   tikguard fleet audit -i fleet.toml --shard 0/4 -o shard-0 && tikguard fleet merge shard-* -o all
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// A live audit of each router (as `audit --live`).
    Audit(Common),
    /// Connect to each router without logging in: does it answer, with which certificate.
    Probe(Common),
    /// Trust on first use: record each router's certificate in the known-routers file (like
    /// ssh-keyscan), then show what is recorded.
    Pins(Common),
    /// Run one API command on each router. Read-only verbs (print, get, getall, export,
    /// monitor) run freely; anything else needs --yes.
    Exec(ExecArgs),
    /// Plan `harden` for each router; with --apply --yes, apply each plan as `harden --apply`
    /// does, the lockout proof and drift check per router, stopping at the first refusal.
    Harden(super::fleet_harden::Args),
    /// Combine the output folders of shards (--shard K/N) into one.
    Merge(MergeArgs),
    /// What changed between two runs' output folders: new and fixed findings, versions, pins.
    Diff(super::fleet_diff::Args),
}

#[derive(clap::Args)]
struct ExecArgs {
    /// API command path, e.g. /ip/service/print.
    command_path: String,
    /// API words: =name=value attributes and ?query words.
    words: Vec<String>,
    /// Run a command that writes (its verb is not one of print, get, getall, export, monitor).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// Output folders of the shards.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged folder.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Exit 1 if a router has a finding at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    fail_on: Severity,
}

#[derive(clap::Args, Clone)]
pub(super) struct Common {
    /// The inventory: .toml, .yml/.yaml (Ansible), .csv, else an Ansible INI file.
    #[arg(short, long, value_name = "FILE")]
    pub(super) inventory: PathBuf,
    /// Pick routers: names, tag:T, group:G, with * and ? wildcards; !term excludes.
    #[arg(long, value_name = "LIST")]
    pub(super) limit: Option<String>,
    /// Run only shard K of N (0 <= K < N), by a stable hash of the router's name.
    #[arg(long, value_name = "K/N")]
    pub(super) shard: Option<String>,
    /// Output folder.
    #[arg(short, long, value_name = "DIR", default_value = "fleet-out")]
    pub(super) out: PathBuf,
    /// Routers worked on at once. Needs about concurrency x 2 + 16 open files (`ulimit -n`).
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub(super) concurrency: usize,
    /// Timeout for connecting (TCP and TLS) to a router.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub(super) timeout: Duration,
    /// Timeout for the login and each command.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(super) command_timeout: Duration,
    /// Retries of a router that timed out, refused or dropped the connection (never of a bad
    /// login or a certificate mismatch), after 0.5 s, then doubling.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub(super) retries: u32,
    /// Exit 1 if a router has a finding at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub(super) fail_on: Severity,
    /// User for routers the inventory gives none.
    #[arg(long, value_name = "USER")]
    pub(super) user: Option<String>,
    /// Password from this environment variable, for routers the inventory gives none.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub(super) password_env: Option<String>,
    /// Password from this file (first line), for routers the inventory gives none.
    #[arg(long, value_name = "PATH")]
    pub(super) password_file: Option<PathBuf>,
    /// CA certificates (PEM) for routers the inventory gives no verification.
    #[arg(long, value_name = "PEM")]
    pub(super) ca: Option<PathBuf>,
    /// Known-routers file for trust on first use (default ~/.config/tikguard/known_routers).
    #[arg(long, value_name = "FILE")]
    pub(super) known_routers: Option<PathBuf>,
    /// Plaintext API (8728) for routers the inventory gives no verification: passwords in clear.
    #[arg(long)]
    pub(super) plain: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    routeros_config::value::parse_duration(s.as_bytes())
        .ok_or_else(|| format!("`{s}` is not a duration (try 10s, 500ms, 1m)"))
}

pub fn run(a: Args) -> std::io::Result<u8> {
    match a.command {
        Sub::Audit(c) => job(Job::Audit, c),
        Sub::Probe(c) => job(Job::Probe, c),
        Sub::Pins(c) => {
            let file = c.known_routers.clone();
            job(Job::Pins(file), c)
        }
        Sub::Exec(e) => {
            if !e.yes && !verbs::is_read_only(&e.command_path) {
                eprintln!(
                    "tikguard: `{}` may change the routers (its verb `{}` is not one of {}): add --yes to run it on every router selected",
                    printable(&e.command_path),
                    printable(verbs::verb(&e.command_path)),
                    verbs::READ_ONLY.join(", ")
                );
                return Ok(2);
            }
            let mut words = vec![e.command_path.clone()];
            words.extend(e.words.iter().cloned());
            job(Job::Exec(words), e.common)
        }
        Sub::Merge(m) => merge(m),
        Sub::Diff(d) => super::fleet_diff::run(d),
        Sub::Harden(h) => super::fleet_harden::run(h),
    }
}

/// The routers the inventory, --limit and --shard select; or the exit code of a usage error.
pub(super) fn select(c: &Common) -> Result<(Vec<inventory::Router>, Option<Shard>), u8> {
    let defaults = Defaults {
        user: c.user.clone(),
        password_env: c.password_env.clone(),
        password_file: c.password_file.clone(),
        ca: c.ca.clone(),
        known_routers: c.known_routers.clone(),
        plain: c.plain,
        insecure_skip_verify: false,
    };
    let inv = match inventory::load(&c.inventory, &defaults) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Err(2);
        }
    };
    let mut routers = match &c.limit {
        Some(l) => match Limit::parse(l).and_then(|l| l.select(&inv)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("tikguard: {e}");
                return Err(2);
            }
        },
        None => inv.routers,
    };
    let shard = match c.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Err(2);
        }
    };
    if let Some(s) = shard {
        routers.retain(|r| s.contains(&r.name));
    }
    if routers.iter().any(|r| r.tls == inventory::Tls::Plain) {
        eprintln!("tikguard: warning: plaintext API for some routers: their passwords cross the network in clear");
    }
    Ok((routers, shard))
}

fn job(job: Job, c: Common) -> std::io::Result<u8> {
    let (routers, shard) = match select(&c) {
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
    let opts = RunOptions {
        concurrency: c.concurrency,
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
    let job_name = job.name();
    let ran = rt.block_on(run::run(
        routers,
        job,
        opts,
        Some(out.clone()),
        bar.clone(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    ));
    bar.finish();
    let mut summary = Summary::of(job_name, started, output::rows(&ran.results));
    summary.finished = Some(now_rfc3339());
    summary.interrupted = ran.interrupted;
    summary.shard = shard.map(|s| s.to_string());
    if let Err(e) = out.finish(&summary, &ran.results) {
        eprintln!("tikguard: {e}");
        return Ok(2);
    }
    let mut stdout = std::io::stdout().lock();
    table(&mut stdout, Style::stdout(), &ran.results, &summary, &c.out)?;
    stdout.flush()?;
    Ok(exit_code(&summary, c.fail_on))
}

fn exit_code(summary: &Summary, fail_on: Severity) -> u8 {
    if summary.interrupted {
        130
    } else if summary
        .routers
        .iter()
        .any(|r| r.counts.at_least(fail_on) > 0)
    {
        1
    } else if summary.unreached() > 0 {
        3
    } else {
        0
    }
}

fn merge(m: MergeArgs) -> std::io::Result<u8> {
    let mut all = Vec::new();
    let mut from = Vec::new();
    let mut job = None;
    let mut started: Option<String> = None;
    let mut interrupted = false;
    for d in &m.dirs {
        let (s, results) = match output::read(d) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("tikguard: {e}");
                return Ok(2);
            }
        };
        if job.get_or_insert_with(|| s.job.clone()) != &s.job {
            eprintln!(
                "tikguard: {} holds a `{}` run, the others `{}`: merge runs of one job",
                d.display(),
                printable(&s.job),
                printable(job.as_deref().unwrap_or(""))
            );
            return Ok(2);
        }
        if started.as_ref().is_none_or(|x| s.started < *x) {
            started = Some(s.started.clone());
        }
        interrupted |= s.interrupted;
        from.push(s.shard.clone().unwrap_or_else(|| d.display().to_string()));
        all.extend(results);
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = all.windows(2).find(|w| w[0].name == w[1].name) {
        eprintln!(
            "tikguard: router `{}` is in more than one folder: were the shards of one --shard N?",
            printable(&w[0].name)
        );
        return Ok(2);
    }
    let out = match Output::create(&m.out) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    for r in &all {
        if let Err(e) = out.write_router(r) {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    }
    let mut summary = Summary::of(
        job.as_deref().unwrap_or("audit"),
        started.unwrap_or_default(),
        output::rows(&all),
    );
    summary.finished = Some(now_rfc3339());
    summary.interrupted = interrupted;
    summary.merged_from = from;
    if let Err(e) = out.finish(&summary, &all) {
        eprintln!("tikguard: {e}");
        return Ok(2);
    }
    let mut stdout = std::io::stdout().lock();
    table(&mut stdout, Style::stdout(), &all, &summary, &m.out)?;
    Ok(exit_code(&summary, m.fail_on))
}

/// The terminal summary: one line per router, worst first.
fn table(
    w: &mut dyn Write,
    style: Style,
    results: &[RouterResult],
    summary: &Summary,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let mut order: Vec<&RouterResult> = results.iter().collect();
    order.sort_by(|a, b| {
        (b.counts.critical, b.counts.high, !b.status.is_reached())
            .cmp(&(a.counts.critical, a.counts.high, !a.status.is_reached()))
            .then(a.name.cmp(&b.name))
    });
    let clip = |s: &str, n: usize| -> String {
        let p = printable(s);
        if p.chars().count() > n {
            format!("{}…", p.chars().take(n - 1).collect::<String>())
        } else {
            p.into_owned()
        }
    };
    let name_w = order
        .iter()
        .map(|r| clip(&r.name, 32).chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "{:name_w$}  {:13}  {:9}  {:>4}  {:>4}  {:9}  {:>6}  FIRST FIX",
            "ROUTER", "STATUS", "VERSION", "CRIT", "HIGH", "API", "CERT"
        ))
    )?;
    for r in order {
        let status = r.status.word();
        let status_shown = if r.status.is_reached() {
            format!("{status:13}")
        } else {
            style.red(&format!("{status:13}"))
        };
        let api = [r.reach_of("api"), r.reach_of("api-ssl")]
            .into_iter()
            .flatten()
            .max()
            .map_or("-", Reach::as_str);
        let recorded_now = r
            .output
            .as_ref()
            .is_some_and(|o| o["recorded_now"] == serde_json::Value::Bool(true));
        let first = match (&r.first_fix, r.status.detail(), &r.cert) {
            (Some(f), _, _) => format!("{} {}", f.rule, clip(&f.message, 70)),
            (None, Some(d), _) if !r.status.is_reached() => clip(d, 70),
            (None, None, _) if !r.status.is_reached() => clip(&r.address, 70),
            // probe and pins: the certificate seen.
            (None, _, Some(c)) => format!(
                "sha256 {}{}",
                c.sha256,
                if recorded_now { " (recorded now)" } else { "" }
            ),
            _ => String::new(),
        };
        // The API-SSL certificate's days left (negative: expired), in red from 30 days, when
        // 30 days' notice is what the probe warns at.
        let cert = match r.cert.as_ref().and_then(|c| c.days_left) {
            Some(d) if d <= 30 => style.red(&format!("{:>6}", format!("{d}d"))),
            Some(d) => format!("{:>6}", format!("{d}d")),
            None => format!("{:>6}", "-"),
        };
        writeln!(
            w,
            "{:name_w$}  {status_shown}  {:9}  {:>4}  {:>4}  {:9}  {cert}  {}",
            clip(&r.name, 32),
            clip(r.version.as_deref().unwrap_or("-"), 9),
            r.counts.critical,
            r.counts.high,
            api,
            first,
        )?;
    }
    let by: Vec<String> = summary
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    writeln!(
        w,
        "\n{} routers: {}; {} critical, {} high findings{}. Results in {}",
        summary.routers.len(),
        by.join(", "),
        summary.counts.critical,
        summary.counts.high,
        if summary.interrupted {
            " (INTERRUPTED: routers not done are marked interrupted)"
        } else {
            ""
        },
        dir.display()
    )
}

pub(super) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A progress bar on stderr (only on a terminal): done, failed, ETA.
#[derive(Clone)]
pub(super) struct Bar(
    Option<indicatif::ProgressBar>,
    Arc<std::sync::atomic::AtomicU64>,
);

impl Bar {
    pub(super) fn new(n: u64) -> Arc<Bar> {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let b = indicatif::ProgressBar::new(n);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} done, {msg} failed, ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message("0");
            b
        });
        Arc::new(Bar(bar, Arc::default()))
    }

    pub(super) fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn done(&self, r: &RouterResult) {
        if let Some(b) = &self.0 {
            if !r.status.is_reached() {
                let n = self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                b.set_message(n.to_string());
            }
            b.inc(1);
        }
    }
}
