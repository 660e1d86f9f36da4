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
        format!(
            "the input chain accepts new connections from the WAN side to ports no rule mentions (no final drop): {}",
            parts.join("; ")
        ),
        fixes,
    ));
}
