#![doc = include_str!("docs/TG104.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG104",
    name: "tls-below-1-2",
    severity: Severity::Medium,
    summary: "api-ssl or www-ssl accepts TLS below 1.2",
    doc: include_str!("docs/TG104.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if cx.config.version.as_ref().is_some_and(|v| v.major < 7) {
        return;
    }
    for svc in ["api-ssl", "www-ssl"] {
        let Some(item) = enabled_service(cx.config, svc) else {
            continue;
        };
        if item.get("tls-version") == Some(b"only-1.2") {
            continue;
        }
        out.push(cx.finding(
            &RULE,
            Some(item),
            Some("tls-version"),
            format!("`{svc}` accepts TLS 1.0 and 1.1 (`tls-version` is not `only-1.2`)"),
            vec![format!("/ip service set {svc} tls-version=only-1.2")],
        ));
    }
}
