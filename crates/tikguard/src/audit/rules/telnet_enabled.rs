#![doc = include_str!("docs/TG106.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG106",
    name: "telnet-enabled",
    severity: Severity::High,
    summary: "telnet is enabled",
    doc: include_str!("docs/TG106.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    service_should_be_off(
        cx,
        &RULE,
        "telnet",
        "passwords and sessions cross the network in clear text",
        out,
    );
}
