#![doc = include_str!("docs/TG103.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG103",
    name: "service-open-to-all",
    severity: Severity::Medium,
    summary: "a management service is enabled with no address restriction",
    doc: include_str!("docs/TG103.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for &svc in super::super::exposure::SERVICES {
        let Some(item) = enabled_service(cx.config, svc) else {
            continue;
        };
        // 7.24 renamed `address` to `available-from`.
        let restricted = ["available-from", "address"]
            .iter()
            .any(|k| item.get(k).is_some_and(|a| !a.is_empty()));
        if restricted {
            continue;
        }
        // Reachable from the WAN side or subscribers: TG201/TG202 report it, with this same
        // `address=` fix. One finding per root cause.
        let exposed = cx
            .exposure
            .rows
            .iter()
            .any(|r| r.service == svc && r.width() != crate::audit::reach::Width::Narrow);
        if exposed {
            continue;
        }
        // The firewall keeps the outside away: this is the second line of defence.
        let severity = match svc {
            "api" | "api-ssl" | "winbox" => Severity::Medium,
            _ => Severity::Low,
        };
        let span = item
            .property("address")
            .map(|p| p.statement)
            .filter(|s| !s.is_empty())
            .or(Some(item.statement).filter(|s| !s.is_empty()));
        out.push(cx.finding_at(
            &RULE,
            severity,
            span,
            format!("`{svc}` accepts connections from any address (`address=` is empty)"),
            vec![format!("/ip service set {svc} address=<trusted prefixes>")],
        ));
    }
}
