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
    let mut rows = Vec::new();
    for row in &cx.exposure.rows {
        if row.service == "api" || row.service == "api-ssl" {
            continue;
        }
        // High for winbox and telnet, medium for the rest, when the internet reaches them; one
        // step lower when only private or CGNAT space does; none for explicit prefixes or the
        // local link (see TG202's doc). Subscribers count as private space.
        use crate::audit::reach::Width;
        let interactive = row.service == "winbox" || row.service == "telnet";
        let severity = match (row.width(), interactive) {
            (Width::Narrow, _) => continue,
            (Width::Public, true) => Severity::High,
            (Width::Public, false) | (Width::Private, true) => Severity::Medium,
            (Width::Private, false) => Severity::Low,
        };
        rows.push((row, severity));
    }
    per_service(
        cx,
        &RULE,
        rows,
        |row| {
            vec![format!(
                "/ip service set {} address=<management prefixes>",
                row.service
            )]
        },
        out,
    );
}
