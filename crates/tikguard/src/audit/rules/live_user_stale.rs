#![doc = include_str!("docs/TG701.md")]

use super::live::{facts, flag, live_finding, shown};
use super::*;
use crate::audit::running::date_ms;

pub const RULE: Rule = Rule {
    id: "TG701",
    name: "dormant-user",
    severity: Severity::Medium,
    summary: "an enabled user never logged in, or not in 180 days (live)",
    doc: include_str!("docs/TG701.md"),
    check,
};

/// Long ago: 180 days.
const STALE_MS: i64 = 180 * 86_400_000;

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(f) = facts(cx) else { return };
    let Some(users) = &f.users else { return };
    // A version without `last-logged-in` (RouterOS 6) shows it for nobody: then nothing can
    // be said. Where it exists, the reader itself has just logged in, so someone shows it.
    if !users
        .iter()
        .any(|u| u.get("last-logged-in").is_some_and(|t| !t.is_empty()))
    {
        return;
    }
    for u in users {
        if flag(u, "disabled") {
            continue;
        }
        let Some(name) = u.get("name") else { continue };
        let group = u.get("group").map(|g| shown(g)).unwrap_or_default();
        let fix = vec![format!("/user disable [ find name={} ]", shown(name))];
        match u.get("last-logged-in").filter(|t| !t.is_empty()) {
            None => out.push(live_finding(
                cx,
                &RULE,
                RULE.severity,
                format!(
                    "user {} (group {group}) has never logged in: an account nobody uses is one nobody notices being used",
                    shown(name)
                ),
                fix,
            )),
            Some(t) => {
                let (Some(at), Some(now)) = (date_ms(t), f.now_ms) else {
                    continue;
                };
                if now - at > STALE_MS {
                    out.push(live_finding(
                        cx,
                        &RULE,
                        RULE.severity,
                        format!(
                            "user {} (group {group}) last logged in {} days ago ({})",
                            shown(name),
                            (now - at) / 86_400_000,
                            shown(t)
                        ),
                        fix,
                    ));
                }
            }
        }
    }
}
