#![doc = include_str!("docs/TG105.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG105",
    name: "api-default-port",
    severity: Severity::Low,
    summary: "the API listens on its default port",
    doc: include_str!("docs/TG105.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (svc, default) in [("api", 8728u16), ("api-ssl", 8729)] {
        let Some(item) = enabled_service(cx.config, svc) else {
            continue;
        };
        if item.get("port") != Some(default.to_string().as_bytes()) {
            continue;
        }
        out.push(cx.finding(
            &RULE,
            Some(item),
            Some("port"),
            format!("`{svc}` listens on its default port {default}, the first one scanners try"),
            vec![format!("/ip service set {svc} port=<another port>")],
        ));
    }
}
