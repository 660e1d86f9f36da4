#![doc = include_str!("docs/TG706.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG706",
    name: "routerboard-firmware-behind",
    severity: Severity::Low,
    summary: "the RouterBOARD firmware is older than the one RouterOS ships (live)",
    doc: include_str!("docs/TG706.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(rb) = facts(cx).and_then(|f| f.routerboard.as_ref()) else {
        return;
    };
    let (Some(cur), Some(up)) = (rb.get("current-firmware"), rb.get("upgrade-firmware")) else {
        return;
    };
    if cur.is_empty() || up.is_empty() || cur == up {
        return;
    }
    out.push(live_finding(
        cx,
        &RULE,
        RULE.severity,
        format!(
            "RouterBOARD firmware {} runs; RouterOS ships {}: the boot loader lags the system it starts",
            shown(cur),
            shown(up)
        ),
        vec!["/system routerboard upgrade".into(), "/system reboot".into()],
    ));
}
