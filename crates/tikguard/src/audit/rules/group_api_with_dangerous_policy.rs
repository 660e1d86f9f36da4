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
    use routeros_config::value::parse_list;
    const DANGEROUS: &[&str] = &[
        "policy",
        "sensitive",
        "password",
        "reboot",
        "ftp",
        "sniff",
        "romon",
    ];
    let users = cx.config.items("/user");
    for group in cx.config.items("/user group") {
        let Some(name) = group.get_str("name") else {
            continue;
        };
        let members: Vec<String> = users
            .iter()
            .filter(|u| !u.is_disabled() && u.get_str("group").as_deref() == Some(name.as_str()))
            .filter_map(|u| u.get_str("name"))
            .collect();
        if members.is_empty() {
            continue;
        }
        let policy = group.get("policy").unwrap_or(b"");
        let granted: Vec<String> = parse_list(policy)
            .into_iter()
            .filter(|e| !e.negated)
            .map(|e| String::from_utf8_lossy(e.name).into_owned())
            .collect();
        if !granted.iter().any(|p| p == "api") {
            continue;
        }
        let bad: Vec<&str> = DANGEROUS
            .iter()
            .copied()
            .filter(|d| granted.iter().any(|p| p == d))
            .collect();
        if bad.is_empty() {
            continue;
        }
        out.push(cx.finding(
            &RULE,
            Some(group),
            Some("policy"),
            format!(
                "group `{name}` (users: {}) grants `api` together with {}",
                members.join(", "),
                bad.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
            ),
            vec![
                "/user group add name=api-crm policy=read,write,api,!local,!telnet,!ssh,!ftp,!reboot,!policy,!test,!winbox,!password,!web,!sniff,!sensitive,!romon".into(),
                format!("/user set [find group={name}] group=api-crm"),
            ],
        ));
    }
}
