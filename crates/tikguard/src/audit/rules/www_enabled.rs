#![doc = include_str!("docs/TG108.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG108",
    name: "www-enabled",
    severity: Severity::Medium,
    summary: "plain-HTTP WebFig (and REST from 7.9) is enabled",
    doc: include_str!("docs/TG108.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    service_should_be_off(
        cx,
        &RULE,
        "www",
        "WebFig and REST logins cross the network in clear text",
        out,
    );
}
