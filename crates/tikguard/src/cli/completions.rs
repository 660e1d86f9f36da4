//! `tikguard completions SHELL` (a completion script on standard output) and the hidden
//! `tikguard completions --man-pages DIR` (one roff page per command and subcommand:
//! `tikguard.1`, `tikguard-audit.1`, `tikguard-proxy-run.1`, ...). clap_complete's scripts
//! offer hidden subcommands and options at the prompt, so the scripts are made from a copy of the
//! definition whose `completions` has the shell argument only. Both are made from the same clap definition
//! the command line is parsed with, so they cannot drift from it; the Debian package ships their
//! output (scripts/test-deb.sh), and a plain `cargo build` does no extra work for them.

use std::io::Write;
use std::path::PathBuf;

use clap::Command;
use clap_complete::Shell;

#[derive(clap::Args)]
pub struct Args {
    /// The shell to write a completion script for.
    ///
    /// bash: `tikguard completions bash > /etc/bash_completion.d/tikguard` (or
    /// ~/.local/share/bash-completion/completions/tikguard); zsh: a file `_tikguard` in a
    /// directory of $fpath; fish: ~/.config/fish/completions/tikguard.fish.
    #[arg(value_enum, required_unless_present = "man_pages")]
    pub shell: Option<Shell>,

    /// Write the man pages (one per subcommand) into this directory instead; used to build
    /// packages.
    #[arg(long, value_name = "DIR", hide = true, conflicts_with = "shell")]
    pub man_pages: Option<PathBuf>,
}

/// Writes the completion script for `args.shell` to standard output, or the man pages.
pub fn run(args: Args, mut cmd: Command) -> std::io::Result<u8> {
    match (args.shell, args.man_pages) {
        (_, Some(dir)) => man_pages(&dir, cmd),
        (Some(shell), None) => {
            cmd = cmd.mut_subcommand("completions", |c| {
                let about = c.get_about().cloned().unwrap_or_default();
                Command::new("completions").about(about).arg(
                    clap::Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(Shell)),
                )
            });
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "tikguard", &mut out);
            out.flush()?;
            Ok(0)
        }
        (None, None) => Err(std::io::Error::other(
            "a shell or --man-pages DIR is needed",
        )),
    }
}

/// Writes `tikguard.1` and a page per subcommand, nested ones named by their path
/// (`tikguard-proxy-run.1`), as `man tikguard-audit` expects; prints each file written.
fn man_pages(dir: &std::path::Path, cmd: Command) -> std::io::Result<u8> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    write_pages(dir, cmd, &mut written)?;
    let mut out = std::io::stdout().lock();
    for p in written {
        writeln!(out, "{}", p.display())?;
    }
    Ok(0)
}

/// The pages of `cmd` and its visible subcommands. clap_mangen names a subcommand's page from
/// the command's name, so each subcommand is renamed to its full path first (`proxy` under
/// `tikguard` becomes `tikguard-proxy`).
fn write_pages(
    dir: &std::path::Path,
    cmd: Command,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let mut cmd = cmd;
    cmd.build();
    let name = cmd.get_name().to_string();
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    std::fs::write(&path, buf)?;
    written.push(path);
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let full = format!("{name}-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(full.clone())
            .bin_name(full.replace('-', " "));
        write_pages(dir, sub, written)?;
    }
    Ok(())
}
