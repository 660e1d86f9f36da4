#![doc = include_str!("docs/TG107.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG107",
    name: "ftp-enabled",
    severity: Severity::Medium,
    summary: "ftp is enabled",
    doc: include_str!("docs/TG107.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    service_should_be_off(
        cx,
        &RULE,
        "ftp",
        "passwords and files cross the network in clear text",
        out,
    );
}
