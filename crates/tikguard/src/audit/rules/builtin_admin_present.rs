#![doc = include_str!("docs/TG301.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG301",
    name: "default-admin-user",
    severity: Severity::Medium,
    summary: "the default `admin` user exists",
    doc: include_str!("docs/TG301.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if !users_known(cx.config) {
        return;
    }
    let Some(item) = cx.config.menu("/user").and_then(|m| m.by_name("admin")) else {
        return;
    };
    let note = if item.statement.is_empty() {
        " (RouterOS creates it; the users listed here do not remove it)"
    } else {
        ""
    };
    out.push(cx.finding(
        &RULE,
        Some(item),
        None,
        format!("user `admin` exists{note}; it is the first name brute-force attempts try"),
        vec![
            "/user add name=<your name> group=full".into(),
            "/user remove admin".into(),
        ],
    ));
}
