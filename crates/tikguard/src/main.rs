//! The `tikguard` command: each subcommand lives in `cli/<name>.rs`; this file only wires them.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use tikguard::cli;

/// Lock down the management plane of MikroTik RouterOS routers.
///
/// tikguard reads RouterOS exports (`/export` output, v6 or v7) and live routers, says exactly what
/// of the management plane (above all the API) is exposed and to whom, writes the fix as a script
/// proven not to lock you out, and checks routers from the network.
///
/// Start with an export of your router (`ssh admin@router /export > router.rsc`), then:
/// tikguard audit router.rsc
#[derive(Parser)]
#[command(
    name = "tikguard",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TIKGUARD_BUILD_INFO"), ")"),
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Audit(Box<cli::audit::Args>),
    Emu(cli::emu::Args),
    Exec(cli::exec::Args),
    Exporter(cli::exporter::Args),
    Fleet(cli::fleet::Args),
    Harden(Box<cli::harden::Args>),
    Probe(cli::probe::Args),
    Proxy(cli::proxy::Args),
    Watch(cli::watch::Args),
    Parse(cli::parse::Args),
    Rules(cli::rules::RulesArgs),
    Explain(cli::rules::ExplainArgs),
    /// Write a shell completion script (bash, zsh, fish, ...) to standard output.
    Completions(cli::completions::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(a) => cli::audit::run(*a),
        Command::Emu(a) => cli::emu::run(a),
        Command::Exec(a) => cli::exec::run(a),
        Command::Exporter(a) => cli::exporter::run(a),
        Command::Fleet(a) => cli::fleet::run(a),
        Command::Harden(a) => cli::harden::run(*a),
        Command::Probe(a) => cli::probe::run(a),
        Command::Proxy(a) => cli::proxy::run(a),
        Command::Watch(a) => cli::watch::run(a),
        Command::Parse(a) => cli::parse::run(a),
        Command::Rules(a) => cli::rules::rules(a),
        Command::Explain(a) => cli::rules::explain(a),
        Command::Completions(a) => cli::completions::run(a, Cli::command()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // `tikguard ... | head`: the reader left; that is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tikguard: {e}");
            ExitCode::from(2)
        }
    }
}
