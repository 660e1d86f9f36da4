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
    // The WAN side: subscriber rows have their own addresses, not a WAN interface to fix.
    let rows: Vec<&crate::audit::exposure::Row> = cx
        .exposure
        .rows
        .iter()
        .filter(|r| r.zone == crate::audit::exposure::Zone::Wan)
        .collect();
    // One finding per interface: the missing IPv6 drop is one cause for all its services.
    let mut ifaces: Vec<&str> = Vec::new();
    for r in &rows {
        if !ifaces.contains(&r.interface.as_str()) {
            ifaces.push(&r.interface);
        }
    }
    // One cause (no IPv6 drop where IPv4 has one): one finding listing the interfaces.
    let mut parts: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    for iface in ifaces {
        let bypassed: Vec<&crate::audit::exposure::Row> = rows
            .iter()
            .copied()
            .filter(|v6| v6.family == "ipv6" && v6.interface == iface && wide(&v6.set))
            .filter(|v6| {
                rows.iter().any(|r| {
                    r.family == "ipv4"
                        && r.service == v6.service
                        && r.interface == v6.interface
                        && !wide(&r.set)
                })
            })
            .collect();
        let Some(first) = bypassed.first() else {
            continue;
        };
        let services: Vec<String> = bypassed
            .iter()
            .map(|r| format!("`{}`", r.service))
            .collect();
        parts.push(format!(
            "{} on `{iface}` from {}",
            services.join(", "),
            first.brief()
        ));
        let fix = format!(
            "/ipv6 firewall filter add action=drop chain=input {} connection-state=new comment=\"drop new connections from WAN\"",
            wan_matcher(cx, iface)
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
        None,
        format!(
            "restricted over IPv4 but reachable over IPv6 from the WAN side: {}",
            parts.join("; ")
        ),
        fixes,
    ));
}
