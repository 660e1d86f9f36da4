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
        if row.service == "api" || row.service == "api-ssl" {
            continue;
        }
        // High for winbox and telnet, medium for the rest, when the internet reaches them; one
        // step lower when only private or CGNAT space does; none for explicit prefixes or the
        // local link (see TG202's doc).
        let reach = crate::audit::reach::Reach::of(&row.set);
        let severity = match (
            reach.width(),
            row.service == "winbox" || row.service == "telnet",
        ) {
            (crate::audit::reach::Width::Narrow, _) => continue,
            (crate::audit::reach::Width::Public, true) => Severity::High,
            (crate::audit::reach::Width::Public, false)
            | (crate::audit::reach::Width::Private, true) => Severity::Medium,
            (crate::audit::reach::Width::Private, false) => Severity::Low,
        };
        let approx = approximation_note(&row.approximated_by, &row.raw_approximated_by);
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
            vec![format!(
                "/ip service set {} address=<management prefixes>",
                row.service
            )],
        ));
    }
}
