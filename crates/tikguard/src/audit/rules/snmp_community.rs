#![doc = include_str!("docs/TG119.md")]

use super::*;
use crate::audit::exposure::from_beyond;
use crate::audit::firewall::Probe;

pub const RULE: Rule = Rule {
    id: "TG119",
    name: "snmp-community-reachable",
    severity: Severity::High,
    summary: "SNMP answers a community from the WAN side",
    doc: include_str!("docs/TG119.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let c = cx.config;
    if c.setting("/snmp", "enabled") != Some(b"yes") {
        return;
    }
    // The built-in community is `public`, for every address (MikroTik's SNMP manual); an export
    // that never touches `/snmp community` has only it.
    let items = c.items("/snmp community");
    let communities: Vec<(bool, &[u8], Option<routeros_config::Span>)> = if items.is_empty() {
        vec![(true, b"", None)]
    } else {
        items
            .iter()
            .filter(|i| !i.is_disabled())
            .map(|i| {
                let is_public = i.get("name").is_none_or(|n| n == b"public");
                let span = Some(i.statement).filter(|s| !s.is_empty());
                (is_public, i.get("addresses").unwrap_or(b""), span)
            })
            .collect()
    };
    let e = &cx.exposure;
    for (n, (is_public, addresses, span)) in communities.iter().enumerate() {
        for (fw, v6) in [(&e.v4, false), (&e.v6, true)] {
            if v6 && !crate::audit::exposure::ipv6_active(c) {
                continue;
            }
            let allowed = crate::audit::exposure::allowed_from(addresses, v6);
            for iface in &e.wan {
                let ev = fw.evaluate(
                    Probe {
                        protocol: "udp",
                        port: 161,
                        interface: iface,
                    },
                    &e.lists,
                );
                let set = from_beyond(c, iface, ev.accepted.intersect(&allowed));
                if !wide(&set) {
                    continue;
                }
                // Community names are secrets: never printed, the built-in one is named by role.
                let which = if *is_public {
                    "the default community `public`".to_string()
                } else {
                    format!("community #{}", n + 1)
                };
                out.push(cx.finding_at(
                    &RULE,
                    if *is_public { Severity::High } else { Severity::Medium },
                    *span,
                    format!(
                        "SNMP answers {which} on WAN interface `{iface}` ({}) from {}: it discloses the router's configuration and, with write access, changes it",
                        if v6 { "ipv6" } else { "ipv4" },
                        summarize(&set.to_prefixes())
                    ),
                    vec![
                        "/snmp community set [find] addresses=<monitoring server>/32".into(),
                        format!(
                            "/{} firewall filter add action=drop chain=input {} protocol=udp dst-port=161 place-before=[:pick [find] 0]",
                            if v6 { "ipv6" } else { "ip" },
                            wan_matcher(cx, iface)
                        ),
                    ],
                ));
                break;
            }
        }
    }
}
