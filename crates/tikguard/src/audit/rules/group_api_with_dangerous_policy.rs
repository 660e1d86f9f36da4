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
    for group in cx.config.items("/user group") {
        let Some(name) = group.get_str("name") else {
            continue;
        };
        let bad = api_group_grants(cx.config, &name, DANGEROUS);
        if bad.is_empty() {
            continue;
        }
        let members = group_members(cx.config, &name);
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
