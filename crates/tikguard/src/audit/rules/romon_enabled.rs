#![doc = include_str!("docs/TG117.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG117",
    name: "romon-enabled",
    severity: Severity::Medium,
    summary: "RoMON is enabled",
    doc: include_str!("docs/TG117.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let menu = "/tool romon";
    if cx.config.setting(menu, "enabled") != Some(b"yes") {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, menu, "enabled"),
        "RoMON is enabled: layer-2 management that bypasses IP firewalls".into(),
        vec![format!("{menu} set enabled=no")],
    ));
}
