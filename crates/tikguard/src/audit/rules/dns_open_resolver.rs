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
    // One cause (remote requests allowed, udp/53 open): one finding listing the interfaces.
    // Subscribers are left out: an ISP's resolver serves them on purpose.
    let mut parts: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
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
        parts.push(format!(
            "`{iface}` from {}",
            summarize(&ev.accepted, &e.v4.lists)
        ));
        let fix = format!(
            "/ip firewall filter add action=drop chain=input {} protocol=udp dst-port=53{}",
            wan_matcher(cx, iface),
            place(cx, false, crate::harden::placement::Place::First)
        );
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    if parts.is_empty() {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, "/ip dns", "allow-remote-requests"),
        format!(
            "DNS accepts remote requests and udp/53 is reachable on the WAN side, an open resolver: {}",
            parts.join("; ")
        ),
        fixes,
    ));
}
