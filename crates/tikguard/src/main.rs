//! The `tikguard` command: each subcommand lives in `cli/<name>.rs`; this file only wires them.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;
mod input;
mod term;

/// Lock down the management plane of MikroTik RouterOS routers.
///
/// tikguard reads RouterOS exports (`/export` output, v6 or v7) and scripts, and tells what is
/// exposed and how to fix it.
#[derive(Parser)]
#[command(
    name = "tikguard",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Parse(cli::parse::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(a) => cli::parse::run(a),
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
