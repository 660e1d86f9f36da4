//! `tikguard audit`: findings and WAN exposure for exports.

use std::io::Write;

use routeros_config::Config;

use crate::audit::{self, report, Selection, Severity, WanChoice};
use crate::input;

/// Audit RouterOS exports: what is exposed, what is wrong, and the fix.
///
/// Reads each FILE (`-` for standard input) as RouterOS would apply it, on top of RouterOS'
/// defaults (an export omits them: a service it does not mention is enabled for everyone), then:
///   - evaluates the firewall `input` chain over sets of source addresses to say exactly which
///     sources reach each management service on each WAN interface, and
///   - runs the rules (`tikguard rules` lists them, `tikguard explain TG101` explains one).
///
/// With --live it also reads what only a running router knows (users and their last login, SSH
/// keys, certificate dates, update status, firmware, active sessions, login failures in the
/// log; never a password) and runs the live-only rules, TG7xx, on it. A file audit says how
/// many of those it could not run.
///
/// Each report first says what the file is: a whole export (`/export`), a one-menu export
/// (`/ip firewall export`), an edit on MikroTik's default configuration, or a script. Only a
/// whole export (or --live) shows the whole router: on the others, findings that rest on what
/// the file does not show are marked assumed (at most medium, not counted by --fail-on), unless
/// --assume says what is under the file.
///
/// Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 on a usage error or
/// an unreadable file.
///
/// Examples:
///   tikguard audit router.rsc                   # ssh admin@router /export > router.rsc
///   tikguard audit --format json -o report.json router.rsc
///   tikguard audit --format sarif -o tikguard.sarif router.rsc  # GitHub code scanning
///   tikguard audit --format html -o report.html router.rsc
///   tikguard audit --select TG2 --wan ether1 router.rsc      # exposure rules only
///   tikguard audit --assume defconf setup.rsc   # a script run on MikroTik's default config
///   ssh admin@router /export | tikguard audit -
///   tikguard audit --live 192.0.2.1 --password-env ROS_PASS  # over API-SSL
///   tikguard audit --live 192.0.2.1 --password-env ROS_PASS --check-updates
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Export or script files; `-` reads standard input.
    #[arg(required_unless_present = "live", value_name = "FILE")]
    files: Vec<String>,
    /// Audit a live router instead: read its configuration over the API (same connection
    /// options as `exec`: verified API-SSL by default).
    #[arg(long, value_name = "ROUTER", conflicts_with = "files")]
    live: Option<String>,
    /// With --live: make the router ask MikroTik for the latest RouterOS of its channel first
    /// (`/system package update check-for-updates`), so TG705 can compare. Without it the
    /// router contacts no one; TG705 judges only a check the router already made.
    #[arg(long, requires = "live")]
    check_updates: bool,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<String>,
    /// Exit 1 when a finding has this severity or higher.
    #[arg(long, value_enum, default_value_t = Severity::High, value_name = "SEVERITY")]
    fail_on: Severity,
    /// Only these rules (ids or prefixes, comma-separated: `TG101,TG2`).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    select: Vec<String>,
    /// Skip these rules (ids or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    ignore: Vec<String>,
    /// Treat this interface as WAN (repeatable); overrides detection.
    #[arg(long, value_name = "IFACE")]
    wan: Vec<String>,
    /// Treat the members of this interface list as WAN; overrides detection.
    #[arg(long, value_name = "NAME", conflicts_with = "wan")]
    wan_list: Option<String>,
    /// Write every prefix of every reachable set in the JSON report's `reachable_from`. By
    /// default a set of more than 64 prefixes (everything except a 200,000-entry block list is
    /// millions) is written as its first 64 prefixes and a `reachable_summary`: counts, the
    /// widest prefixes, and the address lists it is everything except, when it is. JSON only:
    /// text, SARIF and HTML always summarise.
    #[arg(long)]
    full_sets: bool,
    /// For a file that is not a whole export: `defconf` audits it applied on MikroTik's default
    /// configuration (router mode: its input chain dropping what does not come from `LAN`,
    /// MAC server and discovery on `LAN`); `blank` audits it as the whole router. Without it,
    /// findings that rest on what the file does not show are marked assumed.
    #[arg(long, value_enum, value_name = "WHAT", conflicts_with = "live")]
    assume: Option<audit::assume::Assume>,
    /// Give up on a file whose firewall evaluation takes longer than this many seconds (per
    /// filter table), with an error naming it.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    time_limit: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and other SAST dashboards.
    Sarif,
    /// One self-contained HTML page: summary, findings, exposure.
    Html,
}

pub fn run(args: Args) -> std::io::Result<u8> {
    if args.full_sets && args.format != Format::Json {
        eprintln!(
            "tikguard: --full-sets applies to --format json only (text, SARIF and HTML always summarise large sets)"
        );
        return Ok(2);
    }
    for id in args.select.iter().chain(&args.ignore) {
        if !audit::rules::ALL
            .iter()
            .chain(audit::rules::LIVE)
            .any(|r| r.id.starts_with(id.as_str()))
        {
            eprintln!("tikguard: no rule matches `{id}` (see `tikguard rules`)");
            return Ok(2);
        }
    }
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let wan = WanChoice {
        interfaces: args.wan.clone(),
        list: args.wan_list.clone(),
    };
    let limits = audit::firewall::Limits {
        time: std::time::Duration::from_secs(args.time_limit),
        ..Default::default()
    };
    let audit_one = |parsed: &routeros_config::Parsed,
                     config: &Config,
                     input: audit::assume::Input,
                     source: &str,
                     live: Option<&audit::running::Facts>| {
        let _spinner = Spinner::after_a_second(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            crate::term::printable(source).to_string(),
        );
        audit::try_run_input_live(parsed, config, input, &wan, &selection, limits, live).map_err(
            |e| {
                eprintln!("tikguard: {}: {e}", crate::term::printable(source));
            },
        )
    };
    let mut loaded = Vec::new();
    let mut unreadable = false;
    if let Some(router) = &args.live {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let fetched = rt.block_on(async {
            let c = args.connect.connect(router).await?;
            let (bytes, config) = crate::live::fetch(&c).await?;
            let facts = audit::running::read(&c, args.check_updates).await;
            Ok::<_, String>((bytes, config, facts))
        });
        match fetched {
            Ok((bytes, _, facts)) => {
                for (menu, e) in &facts.unread {
                    eprintln!(
                        "tikguard: {}: cannot read {menu} ({}): the checks on it judge nothing",
                        crate::term::printable(router),
                        crate::term::printable(e)
                    );
                }
                if let Some(Err(e)) = &facts.update_check {
                    eprintln!(
                        "tikguard: {}: check-for-updates: {}",
                        crate::term::printable(router),
                        crate::term::printable(e)
                    );
                }
                let (config, parsed) = Config::load(bytes);
                if let Err(e) = wan.check(&config, router) {
                    eprintln!("tikguard: {e}");
                    return Ok(2);
                }
                let input = audit::assume::Input::new(audit::kind::live(), None);
                let Ok(audit) = audit_one(&parsed, &config, input, router, Some(&facts)) else {
                    return Ok(2);
                };
                loaded.push((router.clone(), config, parsed, audit));
            }
            Err(e) => {
                eprintln!("tikguard: {e}");
                return Ok(2);
            }
        }
    }
    for path in &args.files {
        match input::load_export(path) {
            Ok((config, parsed)) => {
                let what = audit::assume::Input::new(audit::kind::classify(&parsed), args.assume);
                let config = match what.assumed {
                    Some(audit::assume::Assume::Defconf) => audit::assume::on_defconf(&parsed),
                    _ => config,
                };
                if let Err(e) = wan.check(&config, input::display_name(path)) {
                    eprintln!("tikguard: {e}");
                    return Ok(2);
                }
                let Ok(audit) = audit_one(&parsed, &config, what, input::display_name(path), None)
                else {
                    return Ok(2);
                };
                loaded.push((input::display_name(path).to_string(), config, parsed, audit));
            }
            Err(e) => {
                eprintln!("tikguard: {e}");
                unreadable = true;
            }
        }
    }
    let reports: Vec<report::FileReport<'_>> = loaded
        .iter()
        .map(|(path, config, parsed, audit)| report::FileReport {
            path,
            version: config.version.as_ref().map(|v| v.to_string()),
            audit,
            diagnostics: &parsed.diagnostics,
            warnings: &config.warnings,
        })
        .collect();
    let (mut sink, style) = match super::output(args.output.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    match args.format {
        Format::Text => report::text(&mut sink, style, &reports)?,
        Format::Json => report::json(
            &mut sink,
            &reports,
            if args.full_sets {
                report::Sets::Full
            } else {
                report::Sets::Summarised
            },
        )?,
        Format::Sarif => report::sarif(&mut sink, &reports)?,
        Format::Html => crate::audit::html::render(&mut sink, &reports)?,
    }
    sink.flush()?;
    if unreadable {
        return Ok(2);
    }
    let failed = loaded.iter().any(|(_, _, _, a)| a.fails(args.fail_on));
    Ok(u8::from(failed))
}

/// A spinner on stderr naming the file being audited, shown once the audit has taken a second
/// and only when stderr is a terminal: never in piped output, never in the report itself.
struct Spinner {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    fn after_a_second(terminal: bool, label: String) -> Option<Spinner> {
        if !terminal {
            return None;
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let timeout = std::sync::mpsc::RecvTimeoutError::Timeout;
            if stopped.recv_timeout(std::time::Duration::from_secs(1)) != Err(timeout) {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} auditing {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(label);
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            // Returns when the audit ends (the sender is dropped).
            let _ = stopped.recv();
            bar.finish_and_clear();
        });
        Some(Spinner {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod spinner_tests {
    use super::Spinner;

    #[test]
    fn no_spinner_and_no_thread_when_stderr_is_not_a_terminal() {
        assert!(Spinner::after_a_second(false, "x.rsc".into()).is_none());
        // On a terminal one exists, and dropping it before a second ends it without drawing.
        let s = Spinner::after_a_second(true, "x.rsc".into());
        assert!(s.is_some());
        drop(s);
    }
}
