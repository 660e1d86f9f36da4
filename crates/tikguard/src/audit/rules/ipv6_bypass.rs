#![doc = include_str!("docs/TG209.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG209",
    name: "ipv6-bypass",
    severity: Severity::High,
    summary: "a service is restricted over IPv4 but reachable over IPv6 from WAN",
    doc: include_str!("docs/TG209.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let rows = &cx.exposure.rows;
    for v6 in rows.iter().filter(|r| r.family == "ipv6" && wide(&r.set)) {
        let restricted_v4 = rows.iter().any(|r| {
            r.family == "ipv4"
                && r.service == v6.service
                && r.interface == v6.interface
                && !wide(&r.set)
        });
        if !restricted_v4 {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            None,
            format!(
                "`{}` is restricted over IPv4 on `{}` but reachable over IPv6 from {}",
                v6.service,
                v6.interface,
                summarize(&v6.reachable_from)
            ),
            vec![format!(
                "/ipv6 firewall filter add action=drop chain=input {} connection-state=new comment=\"drop new connections from WAN\"",
                wan_matcher(cx, &v6.interface)
            )],
        ));
    }
}
