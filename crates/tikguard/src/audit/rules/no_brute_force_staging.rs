#![doc = include_str!("docs/TG206.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG206",
    name: "no-brute-force-staging",
    severity: Severity::Medium,
    summary: "no brute-force staging on an API port reachable from WAN",
    doc: include_str!("docs/TG206.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for svc in ["api", "api-ssl"] {
        let open = cx
            .exposure
            .rows
            .iter()
            // Staging counts the connections of sources nobody named: a port the WAN side
            // reaches only from a few named prefixes (the CRM's) has none to count, and the LAN
            // side of an access point is not where brute force comes from.
            //
            // Sources that are only IPv6 link-local (`fe80::/10`: hotspot clients over IPv6
            // without a global prefix, a WAN link without a global address) are the hosts on
            // one link: an address list of them stages neighbours, not the brute force of the
            // internet the rule is about, and TG201/TG209 already report that reach.
            .filter(|r| {
                r.service == svc
                    && !r.set.is_empty()
                    && r.zone != crate::audit::exposure::Zone::Lan
                    && r.width() != crate::audit::reach::Width::Narrow
                    && !r
                        .set
                        .minus(&crate::audit::reach::link_local(r.set.v6))
                        .is_empty()
            })
            .collect::<Vec<_>>();
        let Some(row) = open.first() else { continue };
        let fw = if row.family == "ipv6" {
            &cx.exposure.v6
        } else {
            &cx.exposure.v4
        };
        // With connection tracking off (`enabled=no`) a staging rule that counts
        // `connection-state=new` may count nothing (MikroTik's Connection tracking manual:
        // "Disabling connection tracking will cause several firewall features to stop
        // working"): it stages nothing that can be counted on. One naming no state counts
        // every packet, and still stages.
        let inert =
            |r: &&crate::audit::firewall::Rule| fw.tracking_off && r.names_connection_state();
        let staging = || {
            fw.rules
                .iter()
                .filter(|r| !r.disabled && r.covers_port(row.port) && r.adds_src_to.is_some())
        };
        let staged: Vec<&str> = staging()
            .filter(|r| !inert(r))
            .filter_map(|r| r.adds_src_to.as_deref())
            .collect();
        let untracked = staging().any(|r| inert(&r));
        let dropped = fw.rules.iter().any(|r| {
            !r.disabled
                && r.action == Action::Drop
                && r.src_list
                    .as_ref()
                    .is_some_and(|(neg, l)| !neg && staged.contains(&l.as_str()))
        });
        if dropped {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            None,
            format!(
                "`{svc}` (tcp/{}) is reachable from WAN and nothing stages its new connections into a block list{}",
                row.port,
                if untracked {
                    " (its staging rules match `connection-state=`, and connection tracking is off: they may count nothing)"
                } else {
                    ""
                }
            ),
            // Each line goes above every static rule: appended after a final drop, staging
            // would never see a packet. Added in this order, they end up drop, stage 2,
            // stage 1 from the top, so one connection is counted once per pass.
            {
                let v6 = row.family == "ipv6";
                let fam = if v6 { "ipv6" } else { "ip" };
                let at = place(cx, v6, crate::ros::placement::Place::First);
                // The table has a rule by then: the one just added.
                let then = crate::ros::placement::first_text(true);
                vec![
                    format!("/{fam} firewall filter add action=add-src-to-address-list address-list={svc}-stage1 address-list-timeout=1m chain=input connection-state=new dst-port={} protocol=tcp{at}", row.port),
                    format!("/{fam} firewall filter add action=add-src-to-address-list address-list={svc}-blacklist address-list-timeout=1d chain=input connection-state=new dst-port={} protocol=tcp src-address-list={svc}-stage1{then}", row.port),
                    format!("/{fam} firewall filter add action=drop chain=input src-address-list={svc}-blacklist{then}"),
                ]
            },
        ));
    }
}
