#![doc = include_str!("docs/TG201.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG201",
    name: "api-reachable-from-wan",
    severity: Severity::Critical,
    summary: "the API is reachable from the WAN side",
    doc: include_str!("docs/TG201.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut rows = Vec::new();
    for row in &cx.exposure.rows {
        if !(row.service == "api" || row.service == "api-ssl") {
            continue;
        }
        // Critical when the internet reaches it; high when only private or CGNAT space, or
        // subscribers, do; no finding for explicit prefixes or the local link (TG201's doc).
        let severity = match row.width() {
            crate::audit::reach::Width::Public => Severity::Critical,
            crate::audit::reach::Width::Private => Severity::High,
            crate::audit::reach::Width::Narrow => continue,
        };
        rows.push((row, severity));
    }
    per_service(cx, &RULE, rows, fix, out);
}

fn fix(row: &crate::audit::exposure::Row) -> Vec<String> {
    let table = if row.family == "ipv6" { "ipv6" } else { "ip" };
    vec![
        format!("/{table} firewall address-list add address=<api client> list=api-clients"),
        format!(
            "/{table} firewall filter add chain=input protocol=tcp dst-port={} src-address-list=!api-clients action=drop place-before=[:pick [find] 0]",
            row.port
        ),
        format!("/ip service set {} address=<api client>/32", row.service),
    ]
}
