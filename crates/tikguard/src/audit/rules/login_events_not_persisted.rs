#![doc = include_str!("docs/TG502.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG502",
    name: "login-events-not-persisted",
    severity: Severity::Medium,
    summary: "login failures or successes are not logged anywhere persistent",
    doc: include_str!("docs/TG502.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let persistent: Vec<String> = {
        let mut v = remote_actions(cx.config);
        v.push("disk".into());
        for a in cx.config.items("/system logging action") {
            if a.get("target") == Some(b"disk") {
                v.extend(a.get_str("name"));
            }
        }
        v
    };
    let failure: &[&str] = &["system", "error", "critical"];
    let success: &[&str] = &["system", "info", "account"];
    let rules = cx.config.items("/system logging");
    let logged = |message: &[&str]| {
        rules.iter().any(|r| {
            !r.is_disabled()
                && r.get_str("action").is_some_and(|a| persistent.contains(&a))
                && topics_match(&r.get_str("topics").unwrap_or_default(), message)
        })
    };
    for (what, topics) in [("login failures", failure), ("logins", success)] {
        if logged(topics) {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            None,
            format!(
                "{what} (topics {}) are not logged to disk or a remote syslog",
                topics.join(",")
            ),
            vec![format!(
                "/system logging add topics={} action=<remote action>",
                topics[2]
            )],
        ));
    }
}
