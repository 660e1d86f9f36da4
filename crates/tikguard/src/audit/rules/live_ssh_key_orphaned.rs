#![doc = include_str!("docs/TG702.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG702",
    name: "ssh-key-of-missing-user",
    severity: Severity::Medium,
    summary: "an SSH key belongs to a user the router no longer has (live)",
    doc: include_str!("docs/TG702.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(f) = facts(cx) else { return };
    let (Some(keys), Some(users)) = (&f.ssh_keys, &f.users) else {
        return;
    };
    for k in keys {
        let Some(user) = k.get("user") else { continue };
        if users.iter().any(|u| u.get("name") == Some(user)) {
            continue;
        }
        let owner = k
            .get("info")
            .or_else(|| k.get("key-owner"))
            .map(|o| format!(" ({})", shown(o)))
            .unwrap_or_default();
        out.push(live_finding(
            cx,
            &RULE,
            RULE.severity,
            format!(
                "SSH key{owner} of user {}, whom the router no longer has: whoever holds the private key logs in again should the name be recreated",
                shown(user)
            ),
            vec![format!("/user ssh-keys remove [ find user={} ]", shown(user))],
        ));
    }
}
