#![doc = include_str!("docs/TG115.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG115",
    name: "dns-open-resolver",
    severity: Severity::High,
    summary: "DNS answers remote requests from the WAN side",
    doc: include_str!("docs/TG115.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    use super::super::firewall::Probe;
    if cx.config.setting("/ip dns", "allow-remote-requests") != Some(b"yes") {
        return;
    }
    let e = &cx.exposure;
    for iface in &e.wan {
        let ev = e.v4.evaluate(
            Probe {
                protocol: "udp",
                port: 53,
                interface: iface,
            },
            &e.lists,
        );
        if !wide(&ev.accepted) {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            setting_span(cx.config, "/ip dns", "allow-remote-requests"),
            format!(
                "DNS accepts remote requests and udp/53 is reachable on WAN interface `{iface}` from {}: an open resolver",
                summarize(&ev.accepted.to_prefixes())
            ),
            vec![format!(
                "/ip firewall filter add action=drop chain=input {} protocol=udp dst-port=53 place-before=[:pick [find] 0]",
                wan_matcher(cx, iface)
            )],
        ));
    }
}
