#![doc = include_str!("docs/TG119.md")]

use super::*;
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
    // (is `public`, or `None` when the name was not shown: read live without `sensitive`).
    let communities: Vec<(Option<bool>, &[u8], Option<routeros_config::Span>)> = if items.is_empty()
    {
        vec![(Some(true), b"", None)]
    } else {
        items
            .iter()
            .filter(|i| !i.is_disabled())
            .map(|i| {
                let is_public = match i.get("name") {
                    Some(n) if crate::live::is_hidden(n) => None,
                    n => Some(n.is_none_or(|n| n == b"public")),
                };
                let span = Some(i.statement).filter(|s| !s.is_empty());
                (is_public, i.get("addresses").unwrap_or(b""), span)
            })
            .collect()
    };
    let e = &cx.exposure;
    // One finding per community (its own item and fix), listing every side that reaches it:
    // WAN interfaces and subscribers, both families.
    for (n, (is_public, addresses, span)) in communities.iter().enumerate() {
        let mut parts: Vec<String> = Vec::new();
        let mut fixes: Vec<String> =
            vec!["/snmp community set [find] addresses=<monitoring server>/32".into()];
        for (fw, v6) in [(&e.v4, false), (&e.v6, true)] {
            if v6 && !crate::audit::exposure::ipv6_active(c) {
                continue;
            }
            let allowed = crate::audit::exposure::allowed_from(addresses, v6);
            for side in e.sides() {
                let ev = e.firewall(side, v6).evaluate(
                    Probe {
                        protocol: "udp",
                        port: 161,
                        interface: side.interface,
                    },
                    &e.lists,
                );
                let set = side.sources(c, ev.accepted.intersect(&allowed));
                // Subscribers reaching it at all is a finding; the WAN side when wide.
                let counts = match side.zone {
                    crate::audit::exposure::Zone::Subscriber
                    | crate::audit::exposure::Zone::Lan => !set.is_empty(),
                    crate::audit::exposure::Zone::Wan => wide(&set),
                    // Communities cross in clear: a tunnel that does not encrypt carries them
                    // so ([`crate::audit::tunnel`]); one that does is the far end's choice.
                    crate::audit::exposure::Zone::Tunnel => {
                        !set.is_empty() && side.tunnel.is_some_and(|t| !t.encrypts)
                    }
                };
                if !counts {
                    continue;
                }
                parts.push(format!(
                    "{} `{}` ({}) from {}",
                    match side.zone {
                        crate::audit::exposure::Zone::Wan => "WAN interface",
                        crate::audit::exposure::Zone::Subscriber => "subscribers on",
                        crate::audit::exposure::Zone::Lan => "LAN-side interface",
                        crate::audit::exposure::Zone::Tunnel => "unencrypted tunnel",
                    },
                    side.interface,
                    if v6 { "ipv6" } else { "ipv4" },
                    summarize(&set, &fw.lists)
                ));
                let fix = format!(
                    "/{} firewall filter add action=drop chain=input {} protocol=udp dst-port=161{}",
                    if v6 { "ipv6" } else { "ip" },
                    side_matcher(cx, side),
                    place(cx, v6, crate::ros::placement::Place::First)
                );
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
        }
        if parts.is_empty() {
            continue;
        }
        // Community names are secrets: never printed, the built-in one is named by role.
        let which = match is_public {
            Some(true) => "the default community `public`".to_string(),
            Some(false) => format!("community #{}", n + 1),
            // Weighed as the worst it can be, and said so.
            None => format!(
                "community #{} (approximated: its name is not shown to a reader without the `sensitive` policy, so whether it is the default `public` cannot tell)",
                n + 1
            ),
        };
        out.push(cx.finding_at(
            &RULE,
            if *is_public != Some(false) {
                Severity::High
            } else {
                Severity::Medium
            },
            *span,
            format!(
                "SNMP answers {which} on {}: it discloses the router's configuration and, with write access, changes it",
                parts.join("; ")
            ),
            fixes,
        ));
    }
}
