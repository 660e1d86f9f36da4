#![doc = include_str!("docs/TG203.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG203",
    name: "api-accept-without-source",
    severity: Severity::Medium,
    summary: "an accept rule for an API port has no source restriction",
    doc: include_str!("docs/TG203.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let ports = api_ports(cx.config);
    // A rule through which TG201 already reports the API reachable is that finding's cause, and
    // its fix is in it: one finding per root cause.
    let in_tg201 = super::api_reachable_from_wan::open_accepts(cx);
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        for r in fw
            .rules_naming(Action::Accept, &ports)
            .filter(|r| !r.has_src_restriction)
            .filter(|r| !in_tg201.contains(&(fw.v6, r.number)))
        {
            out.push(cx.finding_at(
                &RULE,
                RULE.severity,
                Some(r.statement),
                format!(
                    "{} filter rule {}{} accepts the API port ({}) from any source",
                    if fw.v6 { "IPv6" } else { "IPv4" },
                    r.number,
                    numbering(cx.config, fw.v6),
                    r.dst_ports_raw.as_deref().unwrap_or("?")
                ),
                vec![
                    "/ip firewall address-list add address=<api client> list=api-clients".into(),
                    format!(
                        "/{} firewall filter set {} src-address-list=api-clients",
                        if fw.v6 { "ipv6" } else { "ip" },
                        filter_ref(cx, fw.v6, r.number)
                    ),
                ],
            ));
        }
    }
}
