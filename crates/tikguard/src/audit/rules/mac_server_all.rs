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
    use crate::audit::macserver::{access, MacAccess};
    use crate::ros::script::value;
    for (menu, what) in [
        ("/tool mac-server", "MAC telnet"),
        ("/tool mac-server mac-winbox", "MAC winbox"),
    ] {
        match access(cx.config, menu) {
            MacAccess::List(list) => {
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
            // Before 6.41 (audit::macserver): per interface, no list to set.
            MacAccess::PerInterface { all, interfaces } => {
                let wan: Vec<&String> = interfaces
                    .iter()
                    .filter(|i| cx.exposure.wan.contains(i))
                    .collect();
                if !all && wan.is_empty() {
                    continue;
                }
                let mut fix = Vec::new();
                let message = if all {
                    fix.push(format!("{menu} set [find default=yes] disabled=yes"));
                    fix.push(format!("{menu} add interface=<LAN interface>"));
                    format!("{what} is allowed on every interface (its default entry is on; RouterOS before 6.41 sets it per interface), the WAN side included: layer-2 logins bypass the firewall")
                } else {
                    let names: Vec<String> = wan.iter().map(|w| format!("`{w}`")).collect();
                    format!("{what} is allowed on {}, on the WAN side: layer-2 logins bypass the firewall", names.join(", "))
                };
                for w in wan {
                    fix.push(format!(
                        "{menu} disable [find where interface={}]",
                        value(w)
                    ));
                }
                out.push(cx.finding_at(&RULE, RULE.severity, None, message, fix));
            }
        }
    }
}
