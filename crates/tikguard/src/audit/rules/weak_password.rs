#![doc = include_str!("docs/TG305.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG305",
    name: "weak-visible-password",
    severity: Severity::High,
    summary: "a password in the file is empty, equals the user name, or is a common one",
    doc: include_str!("docs/TG305.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    const COMMON: &[&str] = &[
        "admin",
        "password",
        "passw0rd",
        "123456",
        "12345678",
        "123456789",
        "1234",
        "12345",
        "qwerty",
        "mikrotik",
        "router",
        "changeme",
        "letmein",
        "test",
        "default",
        "root",
        "api",
        "crm",
        "billing",
        "secret",
        "welcome",
    ];
    for user in cx.config.items("/user") {
        let Some(p) = user.property("password") else {
            continue;
        };
        if p.statement.is_empty() {
            continue;
        }
        let pw = p.value.as_bytes();
        if pw == b"REDACTED" || pw == b"***" || !p.value.is_literal() {
            continue;
        }
        let name = user.get_str("name").unwrap_or_default();
        let lower = String::from_utf8_lossy(pw).to_lowercase();
        let why = if pw.is_empty() {
            "is empty"
        } else if lower == name.to_lowercase() {
            "equals the user name"
        } else if COMMON.contains(&lower.as_str()) {
            "is one of the first passwords brute-force lists try"
        } else {
            continue;
        };
        out.push(cx.finding(
            &RULE,
            Some(user),
            Some("password"),
            format!("the password of user `{name}` {why}"),
            vec![format!(
                "/user set [find name={name}] password=<a long random password, set interactively>"
            )],
        ));
    }
}
