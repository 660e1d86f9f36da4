#![doc = include_str!("docs/TG109.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG109",
    name: "www-ssl-without-certificate",
    severity: Severity::Medium,
    summary: "www-ssl is enabled without a certificate",
    doc: include_str!("docs/TG109.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    check_certless(cx, &RULE, "www-ssl", out);
}
