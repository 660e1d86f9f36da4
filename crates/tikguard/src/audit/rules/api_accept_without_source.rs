#![doc = include_str!("docs/TG203.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG203",
    name: "api-accept-without-source",
    severity: Severity::High,
    summary: "an accept rule for an API port has no source restriction",
    doc: include_str!("docs/TG203.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let ports = api_ports(cx.config);
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        for r in fw
            .rules_naming(Action::Accept, &ports)
            .filter(|r| !r.has_src_restriction)
        {
            out.push(cx.finding_at(
                &RULE,
                RULE.severity,
                Some(r.statement),
                format!(
                    "{} filter rule {} accepts the API port ({}) from any source",
                    if fw.v6 { "IPv6" } else { "IPv4" },
                    r.number,
                    r.dst_ports_raw.as_deref().unwrap_or("?")
                ),
                vec![
                    "/ip firewall address-list add address=<api client> list=api-clients".into(),
                    format!(
                        "/{} firewall filter set {} src-address-list=api-clients",
                        if fw.v6 { "ipv6" } else { "ip" },
                        r.number
                    ),
                ],
            ));
        }
    }
}
