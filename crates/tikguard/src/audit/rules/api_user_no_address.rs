#![doc = include_str!("docs/TG303.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG303",
    name: "api-user-without-address",
    severity: Severity::Medium,
    summary: "a user who can use the API has no `address=` restriction",
    doc: include_str!("docs/TG303.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    // Users are not in exports (see `users_known`); and without the API listening there is
    // nothing to reach.
    let api_on = ["api", "api-ssl"]
        .iter()
        .any(|s| enabled_service(cx.config, s).is_some());
    if !users_known(cx.config) || !api_on {
        return;
    }
    for user in cx.config.items("/user") {
        if user.is_disabled() || user.get("address").is_some_and(|a| !a.is_empty()) {
            continue;
        }
        let Some(name) = user.get_str("name") else {
            continue;
        };
        let group = user.get_str("group").unwrap_or_default();
        if !group_grants(cx.config, &group).iter().any(|p| p == "api") {
            continue;
        }
        out.push(cx.finding(
            &RULE,
            Some(user),
            Some("address"),
            format!("user `{name}` (group `{group}`) can use the API from any address"),
            vec![format!(
                "/user set [find name={}] address=<client prefixes>",
                crate::ros::script::value(&name)
            )],
        ));
    }
}
