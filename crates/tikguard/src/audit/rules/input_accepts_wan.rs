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
    // Every addressed interface is WAN (a cloud CHR, an access point on DHCP): management comes
    // in over the WAN, and a drop of WAN without an accept above it drops the administrators.
    let only_wan = {
        let addressed: Vec<String> = ["/ip address", "/ipv6 address"]
            .iter()
            .flat_map(|m| cx.config.items(m))
            .filter(|a| !a.is_disabled())
            .filter_map(|a| a.get_str("interface"))
            .collect();
        !addressed.is_empty()
            && !e.wan.iter().any(|w| w == "*")
            && addressed.iter().all(|i| e.wan.contains(i))
    };
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
            let accepted =
                super::super::exposure::from_beyond(cx.config, iface, ev.accepted.clone());
            if !wide(&accepted) {
                continue;
            }
            for &n in &ev.accepted_by {
                if let Some(list) = fw.rules[n].by_source_port(47_913) {
                    let why = format!(
                        "{} filter rule {n}{}'s `port={list}` matches the source port too, so a connection from source port {list} reaches every port",
                        if fw.v6 { "ipv6" } else { "ip" },
                        numbering(cx.config, fw.v6),
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
            let v6 = family == "ipv6";
            let fam = if v6 { "ipv6" } else { "ip" };
            let at = place(cx, v6, where_it_acts(fw, &ev));
            let mut lines = Vec::new();
            if only_wan {
                lines.extend(keep_management(cx, v6, &at));
            }
            lines.push(format!(
                "/{fam} firewall filter add action=drop chain=input {} connection-state=new comment=\"drop new connections from WAN\"{at}",
                wan_matcher(cx, iface)
            ));
            for fix in lines {
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
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

/// Where the drop acts: above the first `input` rule that lets the WAN's new connections in
/// (an `accept` of everything, or the jump to a chain that accepts them); at the end when only
/// the chain's default accept does.
fn where_it_acts(
    fw: &crate::audit::firewall::Firewall,
    ev: &crate::audit::firewall::Evaluation,
) -> crate::ros::placement::Place {
    use crate::audit::firewall::Action;
    use crate::ros::placement::Place;
    let input: Vec<&crate::audit::firewall::Rule> = fw.chain("input").collect();
    let accepting_in_input = input
        .iter()
        .filter(|r| ev.accepted_by.contains(&r.number))
        .map(|r| r.number)
        .min();
    if let Some(n) = accepting_in_input {
        return Place::Before(n);
    }
    if !ev.accepted_by.is_empty() {
        // Accepted in a chain `input` jumps to: above the first jump.
        if let Some(j) = input.iter().find(|r| r.action == Action::Jump) {
            return Place::Before(j.number);
        }
    }
    Place::End
}

/// The management path the configuration shows ([`crate::audit::keep::known`]: its
/// allow-lists and the static sources of its management accepts), accepted above the drop; or,
/// where it shows none, the line to fill in with the administrators' prefixes.
fn keep_management(cx: &Context, v6: bool, at: &str) -> Vec<String> {
    let fam = if v6 { "ipv6" } else { "ip" };
    let known = crate::audit::keep::known(cx.config);
    let mut prefixes: Vec<&str> = known
        .mgmt
        .iter()
        .chain(&known.api)
        .filter(|p| p.v6 == v6)
        .map(|p| p.text.as_str())
        .collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    let comment = "comment=\"management, above the WAN drop\"";
    if prefixes.is_empty() {
        return vec![format!(
            "/{fam} firewall filter add action=accept chain=input src-address=<management prefixes> connection-state=new {comment}{at}"
        )];
    }
    let mut lines: Vec<String> = prefixes
        .iter()
        .map(|p| format!("/{fam} firewall address-list add list=management address={p}"))
        .collect();
    lines.push(format!(
        "/{fam} firewall filter add action=accept chain=input src-address-list=management connection-state=new {comment}{at}"
    ));
    lines
}
