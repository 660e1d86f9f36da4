#![doc = include_str!("docs/TG121.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG121",
    name: "romon-weak-secret",
    severity: Severity::High,
    summary: "RoMON is enabled without a secret, or with a short one",
    doc: include_str!("docs/TG121.md"),
    check,
};

/// Shorter than this is a short secret: the length the hardening guides ask of passwords.
const MIN_LEN: usize = 12;

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let menu = "/tool romon";
    let c = cx.config;
    if c.setting(menu, "enabled") != Some(b"yes") {
        return;
    }
    let secrets = c.setting(menu, "secrets").unwrap_or(b"");
    if crate::live::is_hidden(secrets) {
        // Read live without the `sensitive` policy: the router did not show the secrets, so
        // whether there is one, and how long, cannot be told.
        out.push(cx.finding_at(
            &RULE,
            Severity::Medium,
            setting_span(c, menu, "enabled"),
            format!("RoMON is enabled; its secret cannot be checked (approximated): the router does not show it to a reader without the `sensitive` policy, so whether it has one, and whether it is long enough, cannot tell. Audit with `sensitive`, or check that `secrets` holds one of {MIN_LEN} or more characters"),
            vec![format!(
                "{menu} set secrets=<a secret of {MIN_LEN} or more characters>"
            )],
        ));
        return;
    }
    // The list's elements, quoted ones unquoted (`"",S` is the empty secret and `S`).
    let items = crate::ros::script::list_items(secrets);
    let shortest = items
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).chars().count())
        .min();
    // MikroTik's RoMON manual, "Secrets": "unhashed messages are only accepted if a secret list
    // is empty or contains 'empty secret'". A list holding it beside a secret (stages 1 and 2
    // of introducing one) still lets any agent in.
    let holds_empty = items.iter().any(|s| s.is_empty());
    let (severity, message) = match shortest {
        None => (
            Severity::High,
            "RoMON is enabled without a secret: any RoMON agent on a reachable link can join the RoMON network and reach this router's Winbox and ssh logins over layer 2, past the IP firewall and `/ip service address` (a login is still asked)".to_string(),
        ),
        Some(_) if holds_empty => (
            Severity::High,
            "RoMON's secrets still hold the empty secret (\"\"), so unhashed RoMON messages are accepted: any RoMON agent on a reachable link can join as if there were no secret. Once every RoMON router sends with the secret, remove the empty one (`tikguard harden --romon-secret-stage 3`)".to_string(),
        ),
        Some(n) if n < MIN_LEN => (
            Severity::Medium,
            format!("RoMON is enabled with a secret shorter than {MIN_LEN} characters: it alone decides which agents join the RoMON network and reach this router's logins past the IP firewall"),
        ),
        Some(_) => return,
    };
    out.push(cx.finding_at(
        &RULE,
        severity,
        setting_span(c, menu, "secrets").or_else(|| setting_span(c, menu, "enabled")),
        message,
        vec![format!(
            "{menu} set secrets=<a secret of {MIN_LEN} or more characters>"
        )],
    ));
}
