//! One module per subcommand.

pub mod audit;
pub mod completions;
pub mod connect;
pub mod emu;
pub mod exec;
pub mod exporter;
pub mod fleet;
pub mod fleet_diff;
pub mod fleet_harden;
pub mod harden;
pub mod parse;
pub mod probe;
pub mod proxy;
pub mod rules;
pub mod watch;

/// Where a report goes: the `-o` file (no colour), else standard output (colour on a terminal).
pub(crate) fn output(
    path: Option<&str>,
) -> Result<(Box<dyn std::io::Write>, crate::term::Style), String> {
    match path {
        Some(p) => std::fs::File::create(p)
            .map(|f| {
                let w: Box<dyn std::io::Write> = Box::new(std::io::BufWriter::new(f));
                (w, crate::term::Style::plain())
            })
            .map_err(|e| format!("cannot write {p}: {e}")),
        None => Ok((
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            crate::term::Style::stdout(),
        )),
    }
}
