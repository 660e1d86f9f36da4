#![doc = include_str!("docs/TG205.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG205",
    name: "input-accepts-wan-by-default",
    severity: Severity::High,
    summary: "the input chain accepts new connections from WAN by default",
    doc: include_str!("docs/TG205.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    use super::super::firewall::Probe;
    let e = &cx.exposure;
    for (fw, family) in [(&e.v4, "ipv4"), (&e.v6, "ipv6")] {
        if family == "ipv6" && !super::super::exposure::ipv6_active(cx.config) {
            continue;
        }
        for iface in &e.wan {
            let ev = fw.evaluate(
                Probe {
                    protocol: "tcp",
                    port: 47_913,
                    interface: iface,
                },
                &e.lists,
            );
            let accepted = super::super::exposure::from_beyond(cx.config, iface, ev.accepted);
            if wide(&accepted) {
                out.push(cx.finding_at(
                    &RULE,
                    RULE.severity,
                    None,
                    format!(
                        "the {family} input chain accepts new connections on `{iface}` from {} to ports no rule mentions: no final drop",
                        summarize(&accepted.to_prefixes())
                    ),
                    vec![format!(
                        "/{} firewall filter add action=drop chain=input {} connection-state=new comment=\"drop new connections from WAN\"",
                        if family == "ipv6" { "ipv6" } else { "ip" },
                        wan_matcher(cx, iface)
                    )],
                ));
            }
        }
    }
}
