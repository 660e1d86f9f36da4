#![doc = include_str!("docs/TG111.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG111",
    name: "ssh-weak-crypto",
    severity: Severity::Low,
    summary: "ssh allows weak cryptography (`strong-crypto=no`)",
    doc: include_str!("docs/TG111.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if enabled_service(cx.config, "ssh").is_none() {
        return;
    }
    if cx.config.setting("/ip ssh", "strong-crypto") == Some(b"yes") {
        return;
    }
    let span = setting_span(cx.config, "/ip ssh", "strong-crypto");
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        span,
        "ssh accepts weak ciphers, MACs and key exchanges (`/ip ssh strong-crypto` is not `yes`)".into(),
        vec!["/ip ssh set strong-crypto=yes".into()],
    ));
}
