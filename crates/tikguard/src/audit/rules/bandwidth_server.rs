#![doc = include_str!("docs/TG114.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG114",
    name: "bandwidth-server-enabled",
    severity: Severity::Low,
    summary: "the bandwidth-test server is enabled",
    doc: include_str!("docs/TG114.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let menu = "/tool bandwidth-server";
    if cx.config.setting(menu, "enabled") == Some(b"no") {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, menu, "enabled"),
        "the bandwidth-test server is enabled (RouterOS' default): it takes logins and can saturate links".into(),
        vec![format!("{menu} set enabled=no")],
    ));
}
