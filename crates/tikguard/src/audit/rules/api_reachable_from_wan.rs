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
    for row in &cx.exposure.rows {
        if !(row.service == "api" || row.service == "api-ssl") {
            continue;
        }
        // Critical when the internet reaches it; high when only private or CGNAT space does;
        // no finding for explicit prefixes or the local link (see TG201's doc).
        let reach = crate::audit::reach::Reach::of(&row.set);
        let severity = match reach.width() {
            crate::audit::reach::Width::Public => Severity::Critical,
            crate::audit::reach::Width::Private => Severity::High,
            crate::audit::reach::Width::Narrow => continue,
        };
        let approx = approximation_note(&row.approximated_by, &row.raw_approximated_by);
        let table = if row.family == "ipv6" { "ipv6" } else { "ip" };
        let (span, how) = entry_point(cx, row);
        out.push(cx.finding_at(
            &RULE,
            severity,
            span,
            format!(
                "`{}` (tcp/{}, {}) is reachable on WAN interface `{}` from {} ({}): {how}{approx}",
                row.service,
                row.port,
                row.family,
                row.interface,
                summarize(&row.reachable_from),
                reach.describe()
            ),
            vec![
                format!("/{table} firewall address-list add address=<api client> list=api-clients"),
                format!(
                    "/{table} firewall filter add chain=input protocol=tcp dst-port={} src-address-list=!api-clients action=drop place-before=[:pick [find] 0]",
                    row.port
                ),
                format!("/ip service set {} address=<api client>/32", row.service),
            ],
        ));
    }
}
