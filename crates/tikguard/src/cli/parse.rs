//! `tikguard parse`: read exports and report what the parser saw and where it struggled.

use std::collections::BTreeMap;
use std::io::Write;

use routeros_config::dump::dump;
use serde::Serialize;

use crate::input;
use crate::term::{excerpt, Style};

/// Parse RouterOS exports and scripts and report diagnostics.
///
/// Reads each FILE (`-` for standard input), builds the configuration model RouterOS would have
/// after importing it, and prints the RouterOS version from the header, the number of statements,
/// every diagnostic with its line and column, and how many items each menu holds.
///
/// Exit status: 0 when no file has a diagnostic, 1 when any has, 2 when a file cannot be read.
///
/// Examples:
///   tikguard parse router.rsc
///   tikguard parse --format json router.rsc | jq .diagnostics
///   ssh admin@router /export | tikguard parse -
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Export or script files; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Output format. JSON prints one object per file, one per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also print the whole model, one line per item (text format only).
    #[arg(long)]
    dump: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct DiagOut<'a> {
    line: usize,
    column: usize,
    message: &'a str,
}

fn diag(d: &routeros_config::Diagnostic) -> DiagOut<'_> {
    DiagOut {
        line: d.line,
        column: d.column,
        message: &d.message,
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    path: &'a str,
    routeros_version: Option<String>,
    statements: usize,
    diagnostics: Vec<DiagOut<'a>>,
    /// Statements the model could not apply exactly (not syntax errors).
    warnings: Vec<DiagOut<'a>>,
    menus: BTreeMap<&'a str, usize>,
}

pub fn run(args: Args) -> std::io::Result<u8> {
    let style = Style::stdout();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut worst = 0u8;
    for path in &args.files {
        let (config, parsed) = match input::load_export(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                out.flush()?;
                eprintln!("tikguard: {e}");
                worst = 2;
                continue;
            }
        };
        let name = input::display_name(path);
        if !parsed.diagnostics.is_empty() {
            worst = worst.max(1);
        }
        match args.format {
            Format::Json => {
                let file = FileOut {
                    path: name,
                    routeros_version: parsed.version.as_ref().map(|v| v.to_string()),
                    statements: parsed.statements.len(),
                    diagnostics: parsed.diagnostics.iter().map(diag).collect(),
                    warnings: config.warnings.iter().map(diag).collect(),
                    menus: config
                        .menus()
                        .filter(|m| !m.items.is_empty())
                        .map(|m| (&*m.path, m.items.len()))
                        .collect(),
                };
                serde_json::to_writer(&mut out, &file)?;
                writeln!(out)?;
            }
            Format::Text => {
                let version = parsed
                    .version
                    .as_ref()
                    .map(|v| format!("RouterOS {v}"))
                    .unwrap_or_else(|| "no version header".into());
                writeln!(
                    out,
                    "{}: {version}, {} statements, {} diagnostics, {} warnings",
                    style.bold(name),
                    parsed.statements.len(),
                    parsed.diagnostics.len(),
                    config.warnings.len()
                )?;
                for (d, kind) in parsed
                    .diagnostics
                    .iter()
                    .map(|d| (d, style.red("error")))
                    .chain(config.warnings.iter().map(|d| (d, style.yellow("warning"))))
                {
                    writeln!(
                        out,
                        "{name}:{}:{}: {kind}: {}",
                        d.line,
                        d.column,
                        crate::term::printable(&d.message)
                    )?;
                    writeln!(
                        out,
                        "{}",
                        excerpt(style, &parsed.source, &parsed.lines, d.line, d.column)
                    )?;
                }
                let menus: Vec<String> = config
                    .menus()
                    .filter(|m| !m.items.is_empty())
                    .map(|m| format!("{} {}", m.path, style.cyan(&m.items.len().to_string())))
                    .collect();
                if !menus.is_empty() {
                    writeln!(out, "  {}", menus.join(", "))?;
                }
                if args.dump {
                    write!(out, "{}", dump(&config))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(worst)
}
