#![doc = include_str!("docs/TG118.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG118",
    name: "ssh-allow-none-crypto",
    severity: Severity::High,
    summary: "ssh accepts sessions without encryption (`allow-none-crypto=yes`)",
    doc: include_str!("docs/TG118.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if enabled_service(cx.config, "ssh").is_none() {
        return;
    }
    if cx.config.setting("/ip ssh", "allow-none-crypto") != Some(b"yes") {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, "/ip ssh", "allow-none-crypto"),
        "ssh accepts the `none` cipher: a session, and the password typed in it, can cross the network unencrypted".into(),
        vec!["/ip ssh set allow-none-crypto=no".into()],
    ));
}
