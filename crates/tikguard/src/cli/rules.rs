//! `tikguard rules` and `tikguard explain`: the rule catalogue.

use std::io::Write;

use crate::audit::rules::{by_id, catalogue};

/// List every rule (audit and probe) with its id, default severity and summary.
#[derive(clap::Args)]
pub struct RulesArgs {}

/// Explain one rule: what it checks, why it matters, an example and the fix.
///
/// Example: tikguard explain TG101
#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A rule id such as TG101.
    id: String,
}

pub fn rules(_: RulesArgs) -> std::io::Result<u8> {
    let mut out = std::io::stdout().lock();
    for r in catalogue() {
        writeln!(
            out,
            "{}  {:<8}  {:<34} {}",
            r.id,
            r.severity.as_str(),
            r.name,
            r.summary
        )?;
    }
    Ok(0)
}

pub fn explain(a: ExplainArgs) -> std::io::Result<u8> {
    let Some(r) = by_id(&a.id) else {
        eprintln!("tikguard: no rule `{}` (see `tikguard rules`)", a.id);
        return Ok(2);
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {} {} ({})\n", r.id, r.name, r.severity.as_str())?;
    write!(out, "{}", r.doc)?;
    Ok(0)
}
