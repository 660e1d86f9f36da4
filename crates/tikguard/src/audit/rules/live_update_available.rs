#![doc = include_str!("docs/TG705.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG705",
    name: "routeros-update-available",
    severity: Severity::Medium,
    summary: "the router's channel has a newer RouterOS than the one installed (live)",
    doc: include_str!("docs/TG705.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(u) = facts(cx).and_then(|f| f.update.as_ref()) else {
        return;
    };
    // `latest-version` is set only once the router has checked (`check-for-updates`).
    let (Some(inst), Some(latest)) = (u.get("installed-version"), u.get("latest-version")) else {
        return;
    };
    if latest.is_empty() || inst == latest {
        return;
    }
    let channel = u
        .get("channel")
        .map(|c| shown(c))
        .unwrap_or_else(|| "?".into());
    out.push(live_finding(
        cx,
        &RULE,
        RULE.severity,
        format!(
            "RouterOS {} is installed; channel {channel} offers {}: fixes the router lacks, security ones among them",
            shown(inst),
            shown(latest)
        ),
        vec!["/system package update install".into()],
    ));
}
