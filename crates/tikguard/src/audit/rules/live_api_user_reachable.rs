#![doc = include_str!("docs/TG709.md")]

use super::live::{facts, live_finding, shown};
use super::*;
use crate::audit::exposure::{allowed_from, Zone};
use crate::audit::reach::{Reach, Width};

pub const RULE: Rule = Rule {
    id: "TG709",
    name: "api-user-reachable-from-wan",
    severity: Severity::High,
    summary: "a user with the `api` policy can log in from the WAN side or from subscribers (live)",
    doc: include_str!("docs/TG709.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    // The users as the router lists them (an export has none: `users_known`).
    if facts(cx).is_none() || !users_known(cx.config) {
        return;
    }
    for user in cx.config.items("/user") {
        if user.is_disabled() {
            continue;
        }
        let Some(name) = user.get_str("name") else {
            continue;
        };
        let group = user.get_str("group").unwrap_or_default();
        if !group_grants(cx.config, &group).iter().any(|p| p == "api") {
            continue;
        }
        let address = user.get("address").unwrap_or(b"");
        // The widest way in: the internet before private space, WAN before subscribers.
        let mut worst: Option<(Width, &crate::audit::exposure::Row, Reach)> = None;
        for row in &cx.exposure.rows {
            if !(row.service == "api" || row.service == "api-ssl")
                || !matches!(row.zone, Zone::Wan | Zone::Subscriber)
            {
                continue;
            }
            let v6 = row.family == "ipv6";
            let reach = Reach::of(&row.set.intersect(&allowed_from(address, v6)));
            let w = reach.width();
            if w == Width::Narrow {
                continue;
            }
            let rank = |w: Width| u8::from(w == Width::Public);
            if worst.as_ref().is_none_or(|(ww, _, _)| rank(w) > rank(*ww)) {
                worst = Some((w, row, reach));
            }
        }
        let Some((w, row, reach)) = worst else {
            continue;
        };
        let severity = if w == Width::Public {
            Severity::Critical
        } else {
            RULE.severity
        };
        out.push(live_finding(
            cx,
            &RULE,
            severity,
            format!(
                "user {} (group {}) can log in to `{}` from {} on the {} side ({}){}",
                shown(&name),
                shown(&group),
                row.service,
                reach.describe(),
                row.zone.as_str(),
                shown(&row.interface),
                if address.is_empty() {
                    ": the user has no `address=`"
                } else {
                    ""
                }
            ),
            vec![format!(
                "/user set [ find name={} ] address=<API client prefixes>",
                shown(&name)
            )],
        ));
    }
}
