//! A plan's changes as a script, the unguarded command list the proof applies, and the rollback.
//! Statements and quoting are [`crate::ros::script`]'s, re-exported here for harden's modules.

use std::fmt::Write as _;

pub use crate::ros::script::*;

/// The script: guarded (idempotent on a router) or plain (to append to an export).
pub fn render(changes: &[super::Change], guards: bool, header: &str) -> String {
    let mut s = String::new();
    for line in header.lines() {
        let _ = writeln!(s, "{}", comment(line));
    }
    for ch in changes {
        let fixes = if ch.fixes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", ch.fixes.join(", "))
        };
        let _ = writeln!(s, "{}", comment(&format!("{}{fixes}", ch.description)));
        render_block(&mut s, ch.guard.as_ref().filter(|_| guards), &ch.lines);
    }
    s
}

/// Every command of the unguarded script, one per element, in order: the prefixes the proof
/// applies.
pub fn lines(changes: &[super::Change]) -> Vec<String> {
    changes
        .iter()
        .flat_map(|c| c.lines.iter().map(Line::render))
        .collect()
}

/// The script that undoes the changes, last first.
pub fn rollback(changes: &[super::Change]) -> String {
    let mut s = String::from("# tikguard rollback: restores what `harden` changed\n");
    for ch in changes.iter().rev() {
        if ch.undo.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{}", comment(&format!("undo: {}", ch.description)));
        render_block(&mut s, None, &ch.undo);
    }
    s
}
