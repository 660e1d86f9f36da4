//! `tikguard fleet diff OLD NEW`.

use std::io::Write;
use std::path::PathBuf;

use crate::fleet::diff;

/// What changed between two fleet runs (two output folders of `fleet audit`), per router:
/// new and fixed findings, RouterOS version changes, changed certificate pins, routers that
/// could be read and now cannot (or the reverse), routers added or gone. For a nightly cron
/// job: `--webhook URL` POSTs the diff as JSON (the same document as `--format json`).
///
/// Exit status: 0 nothing changed, 1 something changed, 2 a folder could not be read or the
/// webhook failed (the diff is printed first).
///
/// Examples:
///   tikguard fleet diff fleet-2026-12-04 fleet-2026-12-05
///   tikguard fleet diff --format json old/ new/ > changes.json
///   tikguard fleet diff old/ new/ --webhook-env FLEET_WEBHOOK_URL   # the URL carries a token
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The earlier run's output folder.
    old: PathBuf,
    /// The later run's output folder.
    new: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// POST the diff as JSON to this URL when something changed. The URL is never printed
    /// (errors name its scheme and host); prefer --webhook-env, which keeps it out of the
    /// process list.
    #[arg(long, value_name = "URL", conflicts_with = "webhook_env")]
    webhook: Option<String>,
    /// POST the diff to the URL in this environment variable.
    #[arg(long, value_name = "VAR")]
    webhook_env: Option<String>,
    /// POST even when nothing changed (a nightly "all quiet").
    #[arg(long)]
    always_post: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(a: Args) -> std::io::Result<u8> {
    let url = match (&a.webhook, &a.webhook_env) {
        (Some(u), _) => Some(u.clone()),
        (None, Some(var)) => match std::env::var(var) {
            Ok(u) => Some(u),
            Err(_) => {
                eprintln!("tikguard: environment variable {var} is not set");
                return Ok(2);
            }
        },
        (None, None) => None,
    };
    let (old, new) = match (diff::load(&a.old), diff::load(&a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let d = diff::diff(&old, &new);
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Text => diff::text(&mut out, &d)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &d)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    if let Some(url) = url.filter(|_| d.changed || a.always_post) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        if let Err(e) = rt.block_on(diff::post(&url, &d)) {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    }
    Ok(u8::from(d.changed))
}
