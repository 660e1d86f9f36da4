#![doc = include_str!("docs/TG101.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG101",
    name: "plaintext-api",
    severity: Severity::High,
    summary: "the plaintext API service (8728) is enabled",
    doc: include_str!("docs/TG101.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    service_should_be_off(
        cx,
        &RULE,
        "api",
        "logins and commands cross the network in clear text; use api-ssl with a certificate",
        out,
    );
}
