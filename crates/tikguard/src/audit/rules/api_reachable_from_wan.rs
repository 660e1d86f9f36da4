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
    per_service(cx, &RULE, rows, |row| fix(cx, row), out);
}

/// The filter rules through which a reported API row gets in while accepting every source:
/// TG203's cause, reported here once (TG203 leaves them out).
pub(super) fn open_accepts(cx: &Context) -> Vec<(bool, usize)> {
    let mut out = Vec::new();
    for row in &cx.exposure.rows {
        if !(row.service == "api" || row.service == "api-ssl")
            || row.width() == crate::audit::reach::Width::Narrow
        {
            continue;
        }
        let v6 = row.family == "ipv6";
        let fw = if v6 { &cx.exposure.v6 } else { &cx.exposure.v4 };
        for &n in &row.accepted_by {
            let open = fw
                .rules
                .iter()
                .find(|r| r.number == n)
                .is_some_and(|r| !r.has_src_restriction);
            if open && !out.contains(&(v6, n)) {
                out.push((v6, n));
            }
        }
    }
    out
}

fn fix(cx: &Context, row: &crate::audit::exposure::Row) -> Vec<String> {
    let table = if row.family == "ipv6" { "ipv6" } else { "ip" };
    // An accept rule that lets every source in is the cause: restrict it to the list.
    let v6 = row.family == "ipv6";
    let mut lines = vec![format!(
        "/{table} firewall address-list add address=<api client> list=api-clients"
    )];
    for (fam, n) in open_accepts(cx) {
        if fam == v6 && row.accepted_by.contains(&n) {
            lines.push(format!(
                "/{table} firewall filter set {} src-address-list=api-clients",
                filter_ref(cx, v6, n)
            ));
        }
    }
    lines.extend([
        format!(
            "/{table} firewall filter add chain=input protocol=tcp dst-port={} src-address-list=!api-clients action=drop{}",
            row.port,
            place(cx, v6, crate::ros::placement::Place::First)
        ),
        format!("/ip service set {} address=<api client>/32", row.service),
    ]);
    lines
}
