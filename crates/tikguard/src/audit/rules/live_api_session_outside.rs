#![doc = include_str!("docs/TG708.md")]

use super::live::{facts, live_finding, shown};
use super::*;

pub const RULE: Rule = Rule {
    id: "TG708",
    name: "api-session-from-outside-clients",
    severity: Severity::High,
    summary: "an active API session comes from outside the API clients' prefixes (live)",
    doc: include_str!("docs/TG708.md"),
    check,
};

/// The prefixes API clients may come from: the `address=` of the enabled api and api-ssl
/// services, and of the session's user. `None` when neither restricts anything.
fn clients(c: &Config, user: Option<&Item>) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for s in ["api", "api-ssl"] {
        if let Some(a) = enabled_service(c, s).and_then(|i| i.get("address")) {
            out.extend(
                a.split(|&b| b == b',')
                    .filter(|p| !p.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
    }
    if let Some(a) = user.and_then(|u| u.get("address")) {
        out.extend(
            a.split(|&b| b == b',')
                .filter(|p| !p.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    (!out.is_empty()).then_some(out)
}

fn inside(prefixes: &[Vec<u8>], ip: std::net::IpAddr) -> bool {
    let (v6, n) = match ip {
        std::net::IpAddr::V4(a) => (false, u32::from(a) as u128),
        std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(a)),
        },
    };
    prefixes
        .iter()
        .filter_map(|p| routeros_config::value::parse_addr(p))
        .any(|m| !m.negated && m.range.v6 == v6 && m.range.start <= n && n <= m.range.end)
}

/// How a session is ended: `request-logout` up to 7.19, `remove` from 7.20 (RouterOS' command
/// trees: `user.active.request-logout` in 7.9-7.18, `user.active.remove` in 7.20-7.24).
fn end_session(c: &Config) -> &'static str {
    match &c.version {
        Some(v) if v.at_least(7, 20, 0) => "remove",
        _ => "request-logout",
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(active) = facts(cx).and_then(|f| f.active.as_ref()) else {
        return;
    };
    for a in active {
        if !a.get("via").is_some_and(|v| v.starts_with("api")) {
            continue;
        }
        let Some(ip) = a
            .get("address")
            .and_then(|s| s.parse::<std::net::IpAddr>().ok())
        else {
            continue;
        };
        let name = a.get("name").cloned().unwrap_or_default();
        let user = cx.config.menu("/user").and_then(|m| m.by_name(&name));
        let why = match clients(cx.config, user) {
            Some(p) if !inside(&p, ip) => "outside the prefixes the API and the user allow",
            // Nothing restricts the API: a session from a public address is from the internet.
            None if crate::audit::reach::is_public(ip) => {
                "from a public address, and nothing restricts where API clients come from"
            }
            _ => continue,
        };
        out.push(live_finding(
            cx,
            &RULE,
            RULE.severity,
            format!(
                "API session of user {} from {} (since {}), {why}: a client that is not yours, or one you did not know of",
                shown(&name),
                shown(&ip.to_string()),
                a.get("when").map(|w| shown(w)).unwrap_or_else(|| "?".into())
            ),
            vec![
                format!(
                    "/user active {} [ find address={} ]",
                    end_session(cx.config),
                    shown(&ip.to_string())
                ),
                "/ip service set api,api-ssl address=<API client prefixes>".into(),
            ],
        ));
    }
}
