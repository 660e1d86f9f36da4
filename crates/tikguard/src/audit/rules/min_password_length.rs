#![doc = include_str!("docs/TG306.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG306",
    name: "minimum-password-length-zero",
    severity: Severity::Low,
    summary: "`minimum-password-length` is 0",
    doc: include_str!("docs/TG306.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if !cx
        .config
        .version
        .as_ref()
        .is_some_and(|v| v.at_least(7, 9, 0))
    {
        return;
    }
    let menu = "/user settings";
    let v = cx
        .config
        .setting(menu, "minimum-password-length")
        .unwrap_or(b"0");
    if v != b"0" {
        return;
    }
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, menu, "minimum-password-length"),
        "`minimum-password-length` is 0: empty and one-character passwords are accepted".into(),
        vec![format!("{menu} set minimum-password-length=12")],
    ));
}
