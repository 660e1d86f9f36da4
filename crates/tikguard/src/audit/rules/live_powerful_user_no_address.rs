#![doc = include_str!("docs/TG710.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG710",
    name: "powerful-user-without-address",
    severity: Severity::Medium,
    summary: "a user in `full`, or whose group has the `policy` policy, has no `address=` (live)",
    doc: include_str!("docs/TG710.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if facts(cx).is_none() || !users_known(cx.config) {
        return;
    }
    for user in cx.config.items("/user") {
        if user.is_disabled() || user.get("address").is_some_and(|a| !a.is_empty()) {
            continue;
        }
        let Some(name) = user.get_str("name") else {
            continue;
        };
        let group = user.get_str("group").unwrap_or_default();
        let grants = group_grants(cx.config, &group);
        let why = if group == "full" {
            "is in `full`"
        } else if grants.iter().any(|p| p == "policy") {
            "has the `policy` policy (it can create users and groups)"
        } else {
            continue;
        };
        out.push(live_finding(
            cx,
            &RULE,
            RULE.severity,
            format!(
                "user {} {why} and may log in from any address",
                shown(&name)
            ),
            vec![format!(
                "/user set [ find name={} ] address=<management prefixes>",
                shown(&name)
            )],
        ));
    }
}
