#![doc = include_str!("docs/TG118.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG118",
    name: "ssh-allow-none-crypto",
    severity: Severity::High,
    summary:
        "ssh accepts sessions without encryption (`allow-none-crypto=yes`, or `null` in `ciphers=`)",
    doc: include_str!("docs/TG118.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    if enabled_service(cx.config, "ssh").is_none() {
        return;
    }
    if cx.config.setting("/ip ssh", "allow-none-crypto") == Some(b"yes") {
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            setting_span(cx.config, "/ip ssh", "allow-none-crypto"),
            "ssh accepts the `none` cipher: a session, and the password typed in it, can cross the network unencrypted".into(),
            vec!["/ip ssh set allow-none-crypto=no".into()],
        ));
    }
    // RouterOS 7.18 replaced `allow-none-crypto` with `ciphers=`, a list whose `null` entry is
    // the same thing (RouterOS' command trees: `/ip ssh set` has `allow-none-crypto` up to
    // 7.16.2 and `ciphers` from 7.18.2; a real 7.x export writes
    // `ciphers=aes-gcm,aes-ctr,aes-cbc,3des-cbc,null`).
    let Some(ciphers) = cx.config.setting("/ip ssh", "ciphers") else {
        return;
    };
    let list = routeros_config::value::parse_list(ciphers);
    if !list.iter().any(|e| !e.negated && e.name == b"null") {
        return;
    }
    let kept: Vec<String> = list
        .iter()
        .filter(|e| e.name != b"null")
        .map(|e| String::from_utf8_lossy(e.name).into_owned())
        .collect();
    let kept = if kept.is_empty() {
        "aes-gcm,aes-ctr".to_string()
    } else {
        kept.join(",")
    };
    out.push(cx.finding_at(
        &RULE,
        RULE.severity,
        setting_span(cx.config, "/ip ssh", "ciphers"),
        "ssh accepts the `null` cipher (`ciphers=` lists it): a session, and the password typed in it, can cross the network unencrypted".into(),
        vec![format!(
            "/ip ssh set ciphers={}",
            crate::ros::script::value(&kept)
        )],
    ));
}
