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
    // One cause (remote requests allowed, port 53 open): one finding listing the interfaces.
    // Subscribers are left out: an ISP's resolver serves them on purpose. The resolver answers
    // on UDP and TCP 53, over IPv4 and IPv6 (MikroTik's DNS manual: `allow-remote-requests`
    // lets the router serve network requests; it listens on both transports), so each family
    // and protocol is evaluated, and the fix closes each one that is open.
    let mut parts: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    let v6_on = super::super::exposure::ipv6_active(cx.config);
    for iface in &e.wan {
        for (fw, v6) in [(&e.v4, false), (&e.v6, true)] {
            if v6 && !v6_on {
                continue;
            }
            let mut open: Vec<&str> = Vec::new();
            let mut from = None;
            for protocol in ["udp", "tcp"] {
                let ev = fw.evaluate(
                    Probe {
                        protocol,
                        port: 53,
                        interface: iface,
                    },
                    &e.lists,
                );
                // Over IPv6 an interface without a global address is reached from its link only.
                let reached = super::super::exposure::from_beyond(cx.config, iface, ev.accepted);
                if !wide(&reached) {
                    continue;
                }
                open.push(protocol);
                from.get_or_insert_with(|| summarize(&reached, &fw.lists));
                let fix = format!(
                    "/{} firewall filter add action=drop chain=input {} protocol={protocol} dst-port=53{}",
                    if v6 { "ipv6" } else { "ip" },
                    wan_matcher(cx, iface),
                    place(cx, v6, crate::ros::placement::Place::First)
                );
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
            if let Some(from) = from {
                parts.push(format!(
                    "`{iface}` over {} ({}) from {from}",
                    if v6 { "ipv6" } else { "ipv4" },
                    open.join(", ")
                ));
            }
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
            "DNS accepts remote requests and port 53 is reachable on the WAN side, an open resolver: {}",
            parts.join("; ")
        ),
        fixes,
    ));
}
