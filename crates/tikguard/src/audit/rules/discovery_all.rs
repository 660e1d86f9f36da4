#![doc = include_str!("docs/TG113.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG113",
    name: "discovery-on-all-interfaces",
    severity: Severity::Low,
    summary: "neighbor discovery runs on the WAN side",
    doc: include_str!("docs/TG113.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let menu = "/ip neighbor discovery-settings";
    let list = cx
        .config
        .setting(menu, "discover-interface-list")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| "all".into());
    if !list_reaches_wan(cx, &list) {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, menu, "discover-interface-list"),
        format!("neighbor discovery announces the router on interface list `{list}`, which includes the WAN side"),
        vec![format!("{menu} set discover-interface-list=LAN")],
    ));
}
