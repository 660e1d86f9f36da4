#![doc = include_str!("docs/TG123.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG123",
    name: "upnp-on-wan",
    severity: Severity::Medium,
    summary: "UPnP is enabled with a WAN interface as its external side",
    doc: include_str!("docs/TG123.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let c = cx.config;
    if c.setting("/ip upnp", "enabled") != Some(b"yes") {
        return;
    }
    for item in c.items("/ip upnp interfaces") {
        if item.is_disabled() || item.get("type") != Some(b"external") {
            continue;
        }
        let Some(iface) = item.get_str("interface") else {
            continue;
        };
        let is_wan = cx.exposure.wan.iter().any(|w| *w == iface || w == "*");
        if !is_wan {
            continue;
        }
        let shown = crate::term::printable(&iface).into_owned();
        out.push(cx.finding(
            &RULE,
            Some(item),
            Some("type"),
            format!(
                "UPnP is enabled with WAN interface `{shown}` as external: any host on the internal side can open ports on it, unauthenticated"
            ),
            vec!["/ip upnp set enabled=no".into()],
        ));
    }
}
