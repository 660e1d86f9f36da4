#![doc = include_str!("docs/TG125.md")]

use routeros_config::value::parse_list;

use super::*;

pub const RULE: Rule = Rule {
    id: "TG125",
    name: "ovpn-null-cipher",
    severity: Severity::High,
    summary: "an OpenVPN client or server allows the `null` cipher: the tunnel carries its traffic in clear",
    doc: include_str!("docs/TG125.md"),
    check,
};

const CLIENT: &str = "/interface ovpn-client";
const SERVER: &str = "/interface ovpn-server server";

fn check(cx: &Context, out: &mut Vec<Finding>) {
    // ppp-family clients are created disabled: only `disabled=no` runs one.
    for item in cx.config.items(CLIENT) {
        if item.get("disabled") != Some(b"no") {
            continue;
        }
        let name = item.get_str("name").unwrap_or_default();
        let what = format!("the OpenVPN client `{}`", crate::term::printable(&name));
        let at = format!(
            "{CLIENT} set [find name={}]",
            crate::ros::script::value(&name)
        );
        report(cx, item, &what, &at, out);
    }
    // Before 7.18 one server, set with `enabled=yes` (off by default); from 7.18 a list of
    // servers (RouterOS' command trees: `/interface ovpn-server server add` from 7.18.2).
    if let Some(m) = cx.config.menu(SERVER) {
        if m.settings.get("enabled") == Some(b"yes") {
            report(
                cx,
                &m.settings,
                "the OpenVPN server",
                &format!("{SERVER} set"),
                out,
            );
        }
        for item in m.items.iter().filter(|i| !i.is_disabled()) {
            let name = item.get_str("name").unwrap_or_default();
            let what = format!("the OpenVPN server `{}`", crate::term::printable(&name));
            let at = format!(
                "{SERVER} set [find name={}]",
                crate::ros::script::value(&name)
            );
            report(cx, item, &what, &at, out);
        }
    }
}

fn report(cx: &Context, item: &Item, what: &str, at: &str, out: &mut Vec<Finding>) {
    let Some(ciphers) = item.get("cipher") else {
        return;
    };
    let list = parse_list(ciphers);
    if !list.iter().any(|e| !e.negated && e.name == b"null") {
        return;
    }
    let kept: Vec<String> = list
        .iter()
        .filter(|e| !e.negated && e.name != b"null")
        .map(|e| String::from_utf8_lossy(e.name).into_owned())
        .collect();
    let (severity, message, kept) = if kept.is_empty() {
        (
            RULE.severity,
            format!(
                "{what} uses only the `null` cipher: everything the tunnel carries (logins to \
                 the router and to what is behind it included) crosses the network unencrypted"
            ),
            // The strongest cipher this version names: `aes256-gcm` from 7.x's new names
            // (RouterOS' command trees from 7.9.2), `aes256` before (v6, early v7).
            if cx
                .config
                .version
                .as_ref()
                .is_some_and(|v| v.at_least(7, 9, 0))
            {
                "aes256-gcm".to_string()
            } else {
                "aes256".to_string()
            },
        )
    } else {
        (
            Severity::Medium,
            format!(
                "{what} also allows the `null` cipher (`cipher={}`): a peer that asks for it \
                 gets a tunnel in clear",
                crate::term::printable(&String::from_utf8_lossy(ciphers))
            ),
            kept.join(","),
        )
    };
    let mut f = cx.finding(
        &RULE,
        Some(item),
        Some("cipher"),
        message,
        vec![format!("{at} cipher={}", crate::ros::script::value(&kept))],
    );
    f.severity = severity;
    out.push(f);
}
