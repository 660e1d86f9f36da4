#![doc = include_str!("docs/TG707.md")]

use super::live::{facts, live_finding, shown};
use super::*;
use crate::audit::running::{LOG_LINES_MAX, SOURCES_MAX};

pub const RULE: Rule = Rule {
    id: "TG707",
    name: "login-failures-not-blocked",
    severity: Severity::Medium,
    summary: "sources failing to log in (last 24 h of /log) that no drop rule's address list holds (live)",
    doc: include_str!("docs/TG707.md"),
    check,
};

/// Sources named in a finding at most (the most failures first).
const SHOWN: usize = 10;

/// The address lists a drop (or reject, tarpit) rule of the filter or raw table matches by
/// source: being in one of these is being blocked.
fn block_lists(c: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for menu in [
        "/ip firewall filter",
        "/ip firewall raw",
        "/ipv6 firewall filter",
        "/ipv6 firewall raw",
    ] {
        for r in c.items(menu) {
            if r.is_disabled() {
                continue;
            }
            let action = r.get_str("action").unwrap_or_default();
            if !matches!(action.as_str(), "drop" | "reject" | "tarpit") {
                continue;
            }
            if let Some(l) = r
                .get_str("src-address-list")
                .filter(|l| !l.starts_with('!'))
            {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
    }
    out
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(f) = facts(cx) else { return };
    let k = &f.knocks;
    if k.by_source.is_empty() {
        return;
    }
    let blocks = block_lists(cx.config);
    let mut open: Vec<(&String, &crate::audit::running::Knock)> = k
        .by_source
        .iter()
        .filter(|(_, e)| !e.lists.iter().any(|l| blocks.contains(l)))
        .collect();
    let total: u64 = k.by_source.values().map(|e| e.count).sum();
    let mut notes = Vec::new();
    if k.capped {
        notes.push(format!(
            "the log was read up to {LOG_LINES_MAX} lines; the rest was not"
        ));
    }
    if k.sources_dropped > 0 {
        notes.push(format!(
            "{} more failures came from sources beyond the first {SOURCES_MAX}",
            k.sources_dropped
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    if open.is_empty() {
        out.push(live_finding(
            cx,
            &RULE,
            Severity::Info,
            format!(
                "{total} failed logins from {} source(s) in the last 24 h, every one in a block list{notes}",
                k.by_source.len()
            ),
            vec![],
        ));
        return;
    }
    // Most failures first; ties in address order (198.51.0.2 before 198.51.0.10).
    let ip = |s: &str| s.parse::<std::net::IpAddr>().ok();
    open.sort_by(|a, b| {
        b.1.count
            .cmp(&a.1.count)
            .then(ip(a.0).cmp(&ip(b.0)))
            .then(a.0.cmp(b.0))
    });
    let listed: Vec<String> = open
        .iter()
        .take(SHOWN)
        .map(|(src, e)| {
            let services: Vec<String> = e.services.iter().map(|s| shown(s)).collect();
            let users: Vec<String> = e.users.iter().map(|u| shown(u)).collect();
            format!(
                "{} x{} via {} as {}",
                shown(src),
                e.count,
                services.join(","),
                users.join(",")
            )
        })
        .collect();
    let more = open.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let where_ = if blocks.is_empty() {
        "no drop rule matches an address list".to_string()
    } else {
        format!(
            "in none of the block lists ({})",
            blocks
                .iter()
                .map(|b| shown(b))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    out.push(live_finding(
        cx,
        &RULE,
        RULE.severity,
        format!(
            "{total} failed logins in the last 24 h; {} source(s) still free to try, {where_}: {}{more}{notes}",
            open.len(),
            listed.join("; ")
        ),
        vec![
            "/ip firewall address-list add list=blocked address=<source> timeout=1d".into(),
            "/ip firewall raw add chain=prerouting src-address-list=blocked action=drop".into(),
            "# or let `tikguard watch` block them as they fail".into(),
        ],
    ));
}
