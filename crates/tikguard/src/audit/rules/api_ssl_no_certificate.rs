#![doc = include_str!("docs/TG102.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG102",
    name: "api-ssl-without-certificate",
    severity: Severity::High,
    summary: "api-ssl is enabled with no certificate (anonymous Diffie-Hellman)",
    doc: include_str!("docs/TG102.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    check_certless(cx, &RULE, "api-ssl", out);
}
