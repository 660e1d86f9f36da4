#![doc = include_str!("docs/TG302.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG302",
    name: "api-group-too-powerful",
    severity: Severity::High,
    summary: "a group used for the API also grants policy, sensitive or other dangerous rights",
    doc: include_str!("docs/TG302.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    const DANGEROUS: &[&str] = &[
        "policy",
        "sensitive",
        "password",
        "reboot",
        "ftp",
        "sniff",
        "romon",
    ];
    // Only while the API listens.
    let api_on = ["api", "api-ssl"].iter().any(|s| {
        cx.config
            .menu("/ip service")
            .and_then(|m| m.by_name(s))
            .is_some_and(|i| !i.is_disabled())
    });
    if !api_on {
        return;
    }
    for group in cx.config.items("/user group") {
        // The built-in groups are for administrators, who need them (`full` above all).
        if group.builtin {
            continue;
        }
        let Some(name) = group.get_str("name") else {
            continue;
        };
        // Users are not in exports: judge the group by its policies alone.
        let grants = group_grants(cx.config, &name);
        if !grants.iter().any(|p| p == "api") {
            continue;
        }
        let bad: Vec<&str> = DANGEROUS
            .iter()
            .copied()
            .filter(|w| grants.iter().any(|g| g == w))
            .collect();
        if bad.is_empty() {
            continue;
        }
        let members = group_members(cx.config, &name);
        let users = if members.is_empty() {
            String::new()
        } else {
            format!(" (users: {})", members.join(", "))
        };
        out.push(cx.finding(
            &RULE,
            Some(group),
            Some("policy"),
            format!(
                    "group `{name}`{users} grants `api` together with {}",
                    bad.iter()
                        .map(|b| format!("`{b}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            vec![format!(
                    "/user group set [find name={}] policy={}",
                    crate::ros::script::value(&name),
                    crate::policy::api_policy(
                        &cx.config
                            .version
                            .clone()
                            .unwrap_or_else(|| routeros_config::Version::new(7, 18, 0)),
                        &grants,
                    )
                )],
        ));
    }
}
