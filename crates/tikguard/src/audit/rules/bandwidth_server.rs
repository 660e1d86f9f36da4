#![doc = include_str!("docs/TG114.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG114",
    name: "bandwidth-server-enabled",
    severity: Severity::Low,
    summary: "the bandwidth-test server is enabled",
    doc: include_str!("docs/TG114.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let menu = "/tool bandwidth-server";
    if cx.config.setting(menu, "enabled") == Some(b"no") {
        return;
    }
    let default = if cx.config.setting(menu, "enabled").is_none() {
        " (RouterOS' default)"
    } else {
        ""
    };
    // `authenticate=no`: the server runs a test for any client, no login asked (MikroTik's
    // Bandwidth Test manual; the default is `yes`, exports write `authenticate=no` when set).
    if cx.config.setting(menu, "authenticate") == Some(b"no") {
        out.push(cx.finding_at(
            &RULE,
            Severity::Medium,
            setting_span(cx.config, menu, "authenticate"),
            format!(
                "the bandwidth-test server is enabled{default} with authenticate=no: anyone who \
                 reaches TCP port 2000 can run a test without a login and saturate links"
            ),
            vec![format!("{menu} set enabled=no authenticate=yes")],
        ));
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, menu, "enabled"),
        format!(
            "the bandwidth-test server is enabled{default}: it asks for a login (a brute-force \
             target) and can saturate links"
        ),
        vec![format!("{menu} set enabled=no")],
    ));
}
