#![doc = include_str!("docs/TG101.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG101",
    name: "plaintext-api",
    severity: Severity::High,
    summary: "the plaintext API service (8728) is enabled",
    doc: include_str!("docs/TG101.md"),
    check,
};

const WHY: &str =
    "logins and commands cross the network in clear text; use api-ssl with a certificate";

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(item) = enabled_service(cx.config, "api") else {
        return;
    };
    match only_through_encrypting_tunnels(cx, item) {
        None => service_should_be_off(cx, &RULE, "api", WHY, out),
        Some(tunnels) => {
            let span = item
                .property("address")
                .or_else(|| item.property("available-from"))
                .map(|p| p.statement)
                .filter(|s| !s.is_empty())
                .or(Some(item.statement).filter(|s| !s.is_empty()));
            out.push(cx.finding_at(
                &RULE,
                Severity::Medium,
                span,
                format!(
                    "`api` is enabled, reachable only through encrypting tunnels ({tunnels}): the \
                     tunnel encrypts the way, but the API credential still crosses in clear \
                     inside it, readable at the tunnel's far end and by what stands between it \
                     and the CRM; use api-ssl with a certificate"
                ),
                vec!["/ip service set api disabled=yes".into()],
            ));
        }
    }
}

/// The tunnels, described, when `api` is reachable only through encrypting tunnels from a few
/// peers: no WAN, LAN-side or subscriber row reaches it, every tunnel row that does is an
/// encrypting tunnel's from explicit prefixes, and the service's own `address=` lies within
/// the sources the encrypting tunnels admit (WireGuard's `allowed-address`, an IPsec policy's
/// `dst-address`: [`crate::audit::tunnel`]),
/// so no interface the analysis does not model (the LAN) reaches it either.
fn only_through_encrypting_tunnels(cx: &Context, item: &Item) -> Option<String> {
    use crate::audit::exposure::Zone;
    let e = &cx.exposure;
    let rows: Vec<_> = e
        .rows
        .iter()
        .filter(|r| r.service == "api" && !r.set.is_empty())
        .collect();
    if rows.is_empty() || rows.iter().any(|r| r.zone != Zone::Tunnel) {
        return None;
    }
    let encrypting_few = rows.iter().all(|r| {
        r.tunnel.as_ref().is_some_and(|t| t.encrypts)
            && crate::audit::reach::Reach::of(&r.set).width() == crate::audit::reach::Width::Narrow
    });
    if !encrypting_few {
        return None;
    }
    let list = item
        .get("available-from")
        .or_else(|| item.get("address"))
        .unwrap_or(b"");
    for v6 in [false, true] {
        let allowed = crate::audit::exposure::allowed_from(list, v6);
        if v6 && !crate::audit::exposure::ipv6_active(cx.config) {
            continue;
        }
        if !crate::audit::tunnel::encrypted_sources(&e.tunnels, v6).contains_set(&allowed) {
            return None;
        }
    }
    let mut seen = Vec::new();
    for r in &rows {
        if let Some(t) = &r.tunnel {
            let d = format!(
                "`{}`: {}, {}",
                crate::term::printable(&r.interface),
                t.kind,
                t.peer
            );
            if !seen.contains(&d) {
                seen.push(d);
            }
        }
    }
    Some(seen.join("; "))
}
