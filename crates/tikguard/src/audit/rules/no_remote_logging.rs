#![doc = include_str!("docs/TG501.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG501",
    name: "no-remote-logging",
    severity: Severity::Medium,
    summary: "no remote logging action is configured",
    doc: include_str!("docs/TG501.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if remote_actions(cx.config).is_empty() {
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            None,
            "no remote logging action: login events stay in the router's memory log".into(),
            vec![
                "/system logging action add name=siem target=remote remote=<syslog host> remote-port=514".into(),
                "/system logging add topics=critical action=siem".into(),
                "/system logging add topics=account action=siem".into(),
            ],
        ));
    }
}
