#![doc = include_str!("docs/TG116.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG116",
    name: "proxy-enabled",
    severity: Severity::Medium,
    summary: "the SOCKS or web proxy is enabled",
    doc: include_str!("docs/TG116.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (menu, what) in [("/ip socks", "SOCKS proxy"), ("/ip proxy", "web proxy")] {
        if cx.config.setting(menu, "enabled") != Some(b"yes") {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            setting_span(cx.config, menu, "enabled"),
            format!("the {what} is enabled"),
            vec![format!("{menu} set enabled=no")],
        ));
    }
}
