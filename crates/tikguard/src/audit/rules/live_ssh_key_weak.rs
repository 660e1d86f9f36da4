#![doc = include_str!("docs/TG703.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG703",
    name: "ssh-key-weak",
    severity: Severity::Medium,
    summary: "a user's SSH key is RSA under 2048 bits or of a weak type (live)",
    doc: include_str!("docs/TG703.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(keys) = facts(cx).and_then(|f| f.ssh_keys.as_ref()) else {
        return;
    };
    for k in keys {
        let user = k.get("user").map(|u| shown(u)).unwrap_or_default();
        let bits = k.get("bits").and_then(|b| b.parse::<u32>().ok());
        // A version without `key-type` (RouterOS 6) took RSA or DSA keys only (Ed25519 came
        // with 7): under 2048 bits either is weak.
        let Some(kind) = k.get("key-type").map(String::as_str) else {
            match bits {
                Some(b) if b < 2048 => {}
                _ => continue,
            }
            out.push(live_finding(
                cx,
                &RULE,
                RULE.severity,
                format!(
                    "user {user} logs in over SSH with a key of {} bits (RSA or DSA: the router does not print the type; under 2048)",
                    bits.unwrap_or_default()
                ),
                fix(&user),
            ));
            continue;
        };
        let why = match kind {
            "rsa" => match bits {
                Some(b) if b < 2048 => format!("an RSA key of {b} bits (under 2048)"),
                _ => continue,
            },
            "ed25519" | "ed25519-sk" => continue,
            "dsa" | "ssh-dss" => "a DSA key (1024 bits by definition, removed from OpenSSH)".into(),
            other => format!("a key of type {}", shown(other)),
        };
        out.push(live_finding(
            cx,
            &RULE,
            RULE.severity,
            format!("user {user} logs in over SSH with {why}"),
            fix(&user),
        ));
    }
}

fn fix(user: &str) -> Vec<String> {
    vec![
        format!("/user ssh-keys remove [ find user={user} ]"),
        format!("/user ssh-keys import user={user} public-key-file=<an ed25519 or RSA 3072 key>"),
    ]
}
