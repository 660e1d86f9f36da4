//! The CRM's access: its groups tightened to least privilege ([`crate::policy`]) where they
//! are plainly for the API or named by `--api-group`, their users restricted to the API
//! clients, and a dedicated API user when asked. Users are not in exports: a group holding `api`
//! among logins may be the administrators' and is left as it is, with a note.

use routeros_config::value::parse_list;
use routeros_config::{Config, Item};

use super::intent::{Intent, Prefix, DEFAULT_API_USER};
use super::order::Phase;
use super::plan::{add_unique, join};
use super::script::{Cond, Line, Stmt, Target};
use super::Change;
use crate::policy;

/// Whether a policy list grants `name`.
fn grants(policy: &str, name: &str) -> bool {
    parse_list(policy.as_bytes())
        .iter()
        .any(|e| e.name == name.as_bytes() && !e.negated)
}

/// The CRM's existing groups tightened and their users restricted to the API clients; a new
/// user only when asked.
pub(super) fn crm_access(
    c: &Config,
    intent: &Intent,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    // No API client: the API is off and stays off ([`super::options::prepare`]); no CRM.
    if intent.api_clients.is_empty() {
        return;
    }
    let v = &intent.target;
    let clients: Vec<&Prefix> = intent.api_clients.iter().collect();
    let clients_text = join(&clients);
    let user_item = intent.api_user.as_deref().and_then(|u| {
        c.items("/user")
            .iter()
            .find(|i| i.get("name") == Some(u.as_bytes()))
    });
    // The groups holding `api` that are not built in; with --api-user, that user's group alone
    // when the configuration shows it.
    let mut groups: Vec<&Item> = c
        .items("/user group")
        .iter()
        .filter(|g| !g.builtin)
        .filter(|g| grants(&g.get_str("policy").unwrap_or_default(), "api"))
        .filter(|g| g.get_str("name").as_deref() != Some("tikguard-api") || !intent.create_api_user)
        .collect();
    if let Some(group) = user_item.and_then(|u| u.get_str("group")) {
        groups.retain(|g| g.get_str("name").as_deref() == Some(group.as_str()));
    }
    if let Some(named) = &intent.api_group {
        let found = c
            .items("/user group")
            .iter()
            .find(|g| g.get_str("name").as_deref() == Some(named.as_str()));
        match found {
            None => notes.push(format!("--api-group {named}: the configuration has no such group; no group named by it was tightened")),
            Some(g) if g.builtin => notes.push(format!("--api-group {named}: a built-in group is left as it is; put the CRM's user in a group of its own")),
            Some(g) if !grants(&g.get_str("policy").unwrap_or_default(), "api") => notes.push(format!("--api-group {named}: the group does not grant `api`; left as it is")),
            Some(_) => {}
        }
    }
    for g in groups {
        let Some(name) = g.get_str("name") else {
            continue;
        };
        let have = g.get_str("policy").unwrap_or_default();
        let granted = policy::granted(&have);
        if left_alone(intent, &name, &granted) {
            let logins: Vec<&str> = granted
                .iter()
                .map(String::as_str)
                .filter(|p| policy::LOGINS.contains(p))
                .collect();
            notes.push(format!(
                "group `{name}` grants `api` together with logins ({}): it may be the administrators' group, so it and its users' addresses are left as they are; if it is the CRM's, name it with --api-group {name}",
                logins.join(", ")
            ));
            continue;
        }
        let want = policy::api_policy(v, &granted);
        if normalise(&have) != normalise(&want) {
            out.push(Change {
                id: format!("group-{name}"),
                description: format!(
                    "group `{name}` (holds api): only what it grants of read, write and api, every other policy denied; its users keep the API and lose everything else"
                ),
                fixes: vec!["TG302", "TG304"],
                phase: Phase::Restrict,
                lines: vec![Stmt::set("/user group", Target::Find(vec![Cond::eq("name", &name)]))
                    .arg("policy", want.clone())
                    .into()],
                guard: None,
                undo: vec![Stmt::set("/user group", Target::Find(vec![Cond::eq("name", &name)]))
                    .arg("policy", have.clone())
                    .into()],
            });
        }
        if intent.api_user.is_none() && !clients_text.is_empty() {
            let users: Vec<&Item> = c
                .items("/user")
                .iter()
                .filter(|u| u.get_str("group").as_deref() == Some(name.as_str()))
                .collect();
            let shown = !users.is_empty();
            // Users are not in exports: when none is shown, the restriction goes with the
            // group's tightening, so a hardened group is not restricted again.
            let restricted = if shown {
                users
                    .iter()
                    .all(|u| u.get_str("address").as_deref() == Some(clients_text.as_str()))
            } else {
                normalise(&have) == normalise(&want)
            };
            if !restricted {
                // The rollback gives each user shown its own address back; users the export
                // does not show get none (what `address=` is when never set).
                let mut undo: Vec<Line> =
                    vec![
                        Stmt::set("/user", Target::Every(vec![Cond::eq("group", &name)]))
                            .arg("address", String::new())
                            .into(),
                    ];
                for u in &users {
                    if let Some(uname) = u.get_str("name") {
                        undo.push(
                            Stmt::set("/user", Target::Find(vec![Cond::eq("name", &uname)]))
                                .arg("address", u.get_str("address").unwrap_or_default())
                                .into(),
                        );
                    }
                }
                out.push(Change {
                    id: format!("users-of-{name}"),
                    description: format!(
                        "users of group `{name}` may log in only from the API clients"
                    ),
                    fixes: vec![],
                    phase: Phase::Restrict,
                    lines: vec![
                        Stmt::set("/user", Target::Every(vec![Cond::eq("group", &name)]))
                            .arg("address", clients_text.clone())
                            .into(),
                    ],
                    guard: None,
                    undo,
                });
            }
        }
    }
    if let (Some(user), false) = (&intent.api_user, intent.create_api_user) {
        let have = user_item.and_then(|u| u.get_str("address"));
        if have.as_deref() != Some(clients_text.as_str()) {
            out.push(Change {
                id: "api-user-address".into(),
                description: format!("user `{user}` may log in only from the API clients"),
                fixes: vec![],
                phase: Phase::Restrict,
                lines: vec![
                    Stmt::set("/user", Target::Find(vec![Cond::eq("name", user)]))
                        .arg("address", clients_text.clone())
                        .into(),
                ],
                guard: None,
                undo: vec![
                    Stmt::set("/user", Target::Find(vec![Cond::eq("name", user)]))
                        .arg("address", have.unwrap_or_default())
                        .into(),
                ],
            });
        }
    }
    if intent.create_api_user {
        let group = "tikguard-api";
        if !c
            .items("/user group")
            .iter()
            .any(|g| g.get("name") == Some(group.as_bytes()))
        {
            let mut ch = add_unique(
                "/user group",
                "api-group",
                vec![
                    ("name", group.into()),
                    (
                        "policy",
                        policy::api_policy(v, &policy::granted("read,write,api")),
                    ),
                ],
                &["name"],
                false,
                format!("group `{group}`: read, write and api only, every other policy denied"),
                Phase::Restrict,
            );
            ch.fixes.clear();
            out.push(ch);
        }
        let user = intent.api_user.as_deref().unwrap_or(DEFAULT_API_USER);
        if !c
            .items("/user")
            .iter()
            .any(|u| u.get("name") == Some(user.as_bytes()))
        {
            let mut props = vec![
                ("name", user.to_string()),
                ("group", group.to_string()),
                ("address", clients_text.clone()),
            ];
            let description = match &intent.password_in_script {
                Some(pw) => {
                    props.push(("password", pw.clone()));
                    format!("user `{user}` in `{group}`, allowed only from the API clients (password in the script, as asked)")
                }
                None => {
                    props.push(("disabled", "yes".into()));
                    format!("user `{user}` in `{group}`, allowed only from the API clients; created disabled: set its password interactively, then enable it")
                }
            };
            out.push(add_unique(
                "/user",
                "api-user",
                props,
                &["name"],
                true,
                description,
                Phase::Restrict,
            ));
        }
    }
}

/// Whether a group holding `api` is left as it is: it holds logins too (it may be the
/// administrators') and `--api-group` does not name it.
fn left_alone(intent: &Intent, name: &str, granted: &[String]) -> bool {
    intent.api_group.as_deref() != Some(name) && !policy::plainly_api_only(granted)
}

/// The custom groups holding `api` that the plan leaves as they are ([`left_alone`]): findings
/// about them (TG302, TG304) are the administrator's to settle, not the plan's.
pub fn groups_left(c: &Config, intent: &Intent) -> Vec<String> {
    c.items("/user group")
        .iter()
        .filter(|g| !g.builtin)
        .filter_map(|g| {
            let name = g.get_str("name")?;
            let granted = policy::granted(&g.get_str("policy").unwrap_or_default());
            (granted.iter().any(|p| p == "api") && left_alone(intent, &name, &granted))
                .then_some(name)
        })
        .collect()
}

/// A policy list as a sorted set, to compare.
fn normalise(p: &str) -> Vec<String> {
    let mut v: Vec<String> = parse_list(p.as_bytes())
        .iter()
        .map(|e| {
            format!(
                "{}{}",
                if e.negated { "!" } else { "" },
                String::from_utf8_lossy(e.name)
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}
