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
    // One cause, the missing final drop: one finding listing each interface and family where
    // it applies, with one fix line per family and interface matcher.
    let mut parts: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    // Why: the chain's default accept (no final drop), or an accept whose `port=` lets a
    // connection in by its source port (which then takes it before any drop after it).
    let mut by_source_port: Vec<String> = Vec::new();
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
            if !wide(&accepted) {
                continue;
            }
            for &n in &ev.accepted_by {
                if let Some(list) = fw.rules[n].by_source_port(47_913) {
                    let why = format!(
                        "{} filter rule {n}'s `port={list}` matches the source port too, so a connection from source port {list} reaches every port",
                        if fw.v6 { "ipv6" } else { "ip" },
                    );
                    if !by_source_port.contains(&why) {
                        by_source_port.push(why);
                    }
                }
            }
            parts.push(format!(
                "on `{iface}` over {family} from {}",
                summarize(&accepted, &fw.lists)
            ));
            let fix = format!(
                "/{} firewall filter add action=drop chain=input {} connection-state=new comment=\"drop new connections from WAN\"",
                if family == "ipv6" { "ipv6" } else { "ip" },
                wan_matcher(cx, iface)
            );
            if !fixes.contains(&fix) {
                fixes.push(fix);
            }
        }
    }
    if parts.is_empty() {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        None,
        if by_source_port.is_empty() {
            format!(
                "the input chain accepts new connections from the WAN side to ports no rule mentions (no final drop): {}",
                parts.join("; ")
            )
        } else {
            format!(
                "the input chain accepts new connections from the WAN side to ports no rule mentions: {}; {}",
                parts.join("; "),
                by_source_port.join("; ")
            )
        },
        fixes,
    ));
}
