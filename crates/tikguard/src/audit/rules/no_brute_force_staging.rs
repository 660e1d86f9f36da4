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
            // reaches only from a few named prefixes (the CRM's) has none to count.
            .filter(|r| {
                r.service == svc
                    && !r.set.is_empty()
                    && r.width() != crate::audit::reach::Width::Narrow
            })
            .collect::<Vec<_>>();
        let Some(row) = open.first() else { continue };
        let fw = if row.family == "ipv6" {
            &cx.exposure.v6
        } else {
            &cx.exposure.v4
        };
        let staged: Vec<&str> = fw
            .rules
            .iter()
            .filter(|r| !r.disabled && r.covers_port(row.port))
            .filter_map(|r| r.adds_src_to.as_deref())
            .collect();
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
                "`{svc}` (tcp/{}) is reachable from WAN and nothing stages its new connections into a block list",
                row.port
            ),
            vec![
                format!("/ip firewall filter add action=drop chain=input src-address-list={svc}-blacklist place-before=[:pick [find] 0]"),
                format!("/ip firewall filter add action=add-src-to-address-list address-list={svc}-blacklist address-list-timeout=1d chain=input connection-state=new dst-port={} protocol=tcp src-address-list={svc}-stage1", row.port),
                format!("/ip firewall filter add action=add-src-to-address-list address-list={svc}-stage1 address-list-timeout=1m chain=input connection-state=new dst-port={} protocol=tcp", row.port),
            ],
        ));
    }
}
