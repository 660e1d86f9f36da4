#![doc = include_str!("docs/TG207.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG207",
    name: "api-drop-not-logged",
    severity: Severity::Low,
    summary: "a drop rule for an API port does not log",
    doc: include_str!("docs/TG207.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let ports = api_ports(cx.config);
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        for r in fw.rules_naming(Action::Drop, &ports).filter(|r| !r.log) {
            let family = if fw.v6 { "ipv6" } else { "ip" };
            out.push(cx.finding_at(
                &RULE,
                RULE.severity,
                Some(r.statement),
                format!(
                    "{family} filter rule {}{} drops API connections without logging them",
                    r.number,
                    numbering(cx.config, fw.v6)
                ),
                vec![format!(
                    "/{family} firewall filter set {} log=yes log-prefix=api-drop",
                    filter_ref(cx, fw.v6, r.number)
                )],
            ));
        }
    }
}
