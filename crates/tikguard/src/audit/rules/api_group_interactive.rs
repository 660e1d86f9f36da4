#![doc = include_str!("docs/TG304.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG304",
    name: "api-group-interactive-logins",
    severity: Severity::Low,
    summary: "a group used for the API also grants interactive logins",
    doc: include_str!("docs/TG304.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    const INTERACTIVE: &[&str] = &["local", "telnet", "ssh", "winbox", "web"];
    for group in cx.config.items("/user group") {
        // Built-in groups are for people; TG302 covers `full` used for the API.
        if group.builtin {
            continue;
        }
        let Some(name) = group.get_str("name") else {
            continue;
        };
        let bad = api_group_grants(cx.config, &name, INTERACTIVE);
        if bad.is_empty() {
            continue;
        }
        out.push(cx.finding(
            &RULE,
            Some(group),
            Some("policy"),
            format!(
                "group `{name}` grants `api` and interactive logins: {}",
                bad.join(", ")
            ),
            vec![format!(
                "/user group set [find name={}] policy={}",
                crate::ros::script::value(&name),
                crate::policy::without_logins(&group_grants(cx.config, &name))
            )],
        ));
    }
}
