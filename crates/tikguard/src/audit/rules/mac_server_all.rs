#![doc = include_str!("docs/TG112.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG112",
    name: "mac-server-on-all-interfaces",
    severity: Severity::Medium,
    summary: "MAC telnet or MAC winbox is allowed on all interfaces",
    doc: include_str!("docs/TG112.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (menu, what) in [
        ("/tool mac-server", "MAC telnet"),
        ("/tool mac-server mac-winbox", "MAC winbox"),
    ] {
        let list = cx
            .config
            .setting(menu, "allowed-interface-list")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| "all".into());
        if !list_reaches_wan(cx, &list) {
            continue;
        }
        out.push(cx.finding_at(
            &RULE,
            RULE.severity,
            setting_span(cx.config, menu, "allowed-interface-list"),
            format!("{what} is allowed on interface list `{list}`, which includes the WAN side: layer-2 logins bypass the firewall"),
            vec![format!("{menu} set allowed-interface-list=LAN")],
        ));
    }
}
