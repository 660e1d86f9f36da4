#![doc = include_str!("docs/TG202.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG202",
    name: "management-reachable-from-wan",
    severity: Severity::High,
    summary: "a management service other than the API is reachable from the WAN side",
    doc: include_str!("docs/TG202.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for row in &cx.exposure.rows {
        if row.service == "api" || row.service == "api-ssl" || !wide(&row.set) {
            continue;
        }
        let severity = if row.service == "winbox" || row.service == "telnet" {
            Severity::High
        } else {
            Severity::Medium
        };
        let approx = approximation_note(&row.approximated_by);
        let (span, how) = entry_point(cx, row);
        out.push(cx.finding_at(
            &RULE,
            severity,
            span,
            format!(
                "`{}` (tcp/{}, {}) is reachable on WAN interface `{}` from {}: {how}{approx}",
                row.service,
                row.port,
                row.family,
                row.interface,
                summarize(&row.reachable_from)
            ),
            vec![format!(
                "/ip service set {} address=<management prefixes>",
                row.service
            )],
        ));
    }
}
