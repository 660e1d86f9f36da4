//! One file per rule. Each rule's `doc` is what `tikguard explain ID` prints.

use routeros_config::{Config, Item};

use super::exposure::api_ports;
use super::firewall::Action;
use super::{Context, Finding, Rule, Severity};

mod api_accept_without_source;
mod api_default_port;
mod api_drop_not_logged;
mod api_group_interactive;
mod api_reachable_from_wan;
mod api_ssl_no_certificate;
mod api_user_no_address;
mod bandwidth_server;
mod builtin_admin_present;
mod discovery_all;
mod dns_open_resolver;
mod dstnat_management;
mod empty_address_list;
mod fetch_import;
mod ftp_enabled;
mod group_api_with_dangerous_policy;
mod input_accepts_wan;
mod ipv6_bypass;
mod jump_loop;
mod known_cve;
pub mod live;
mod live_api_session_outside;
mod live_api_user_reachable;
mod live_firmware_behind;
mod live_login_failures;
mod live_powerful_user_no_address;
mod live_service_certificate;
mod live_ssh_key_orphaned;
mod live_ssh_key_weak;
mod live_update_available;
mod live_user_stale;
mod login_events_not_persisted;
mod mac_server_all;
mod management_reachable_from_wan;
mod min_password_length;
mod no_brute_force_staging;
mod no_remote_logging;
mod open_wifi_management;
mod ovpn_null_cipher;
mod plaintext_api;
pub mod probe_rules;
mod proxy_enabled;
mod romon_enabled;
mod romon_secret;
mod script_secrets;
mod service_no_address;
mod shadowed_rule;
mod snmp_community;
mod ssh_none_crypto;
mod ssh_weak_crypto;
mod telnet_enabled;
mod tls_below_1_2;
mod tunnel_plaintext_management;
mod upnp_wan;
mod weak_password;
mod www_enabled;
mod www_ssl_no_certificate;

/// Every rule, in id order.
pub const ALL: &[&Rule] = &[
    &plaintext_api::RULE,
    &api_ssl_no_certificate::RULE,
    &service_no_address::RULE,
    &tls_below_1_2::RULE,
    &api_default_port::RULE,
    &telnet_enabled::RULE,
    &ftp_enabled::RULE,
    &www_enabled::RULE,
    &www_ssl_no_certificate::RULE,
    &ssh_weak_crypto::RULE,
    &mac_server_all::RULE,
    &discovery_all::RULE,
    &bandwidth_server::RULE,
    &dns_open_resolver::RULE,
    &proxy_enabled::RULE,
    &romon_enabled::RULE,
    &ssh_none_crypto::RULE,
    &snmp_community::RULE,
    &romon_secret::RULE,
    &script_secrets::RULE,
    &upnp_wan::RULE,
    &open_wifi_management::RULE,
    &ovpn_null_cipher::RULE,
    &fetch_import::RULE,
    &api_reachable_from_wan::RULE,
    &management_reachable_from_wan::RULE,
    &api_accept_without_source::RULE,
    &shadowed_rule::RULE,
    &input_accepts_wan::RULE,
    &no_brute_force_staging::RULE,
    &api_drop_not_logged::RULE,
    &empty_address_list::RULE,
    &ipv6_bypass::RULE,
    &jump_loop::RULE,
    &dstnat_management::RULE,
    &tunnel_plaintext_management::RULE,
    &builtin_admin_present::RULE,
    &group_api_with_dangerous_policy::RULE,
    &api_user_no_address::RULE,
    &api_group_interactive::RULE,
    &weak_password::RULE,
    &min_password_length::RULE,
    &no_remote_logging::RULE,
    &login_events_not_persisted::RULE,
    &known_cve::RULE,
];

pub use live::{is_live_only, LIVE};

/// A rule of the audit or of the probe.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    catalogue().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Audit and probe rules, in id order.
pub fn catalogue() -> impl Iterator<Item = &'static Rule> {
    let mut all: Vec<&'static Rule> = ALL
        .iter()
        .chain(LIVE.iter())
        .chain(probe_rules::PROBE.iter())
        .copied()
        .collect();
    all.sort_by_key(|r| r.id);
    all.into_iter()
}

/// The `/ip service` item of that name, if enabled.
fn enabled_service<'a>(c: &'a Config, name: &str) -> Option<&'a Item> {
    c.menu("/ip service")?
        .by_name(name)
        .filter(|i| !i.is_disabled())
}

/// A finding for an enabled service that should be disabled.
fn service_should_be_off(
    cx: &Context,
    rule: &Rule,
    service: &str,
    why: &str,
    out: &mut Vec<Finding>,
) {
    if let Some(item) = enabled_service(cx.config, service) {
        let shown = if item
            .property("disabled")
            .is_some_and(|p| !p.statement.is_empty())
        {
            ""
        } else {
            " (RouterOS default; the export does not mention it)"
        };
        out.push(cx.finding(
            rule,
            Some(item),
            Some("disabled"),
            format!("`{service}` is enabled{shown}: {why}"),
            vec![format!("/ip service set {service} disabled=yes")],
        ));
    }
}

/// A finding for a TLS service enabled without a certificate.
fn check_certless(cx: &Context, rule: &Rule, service: &str, out: &mut Vec<Finding>) {
    let Some(item) = enabled_service(cx.config, service) else {
        return;
    };
    let cert = item.get("certificate").unwrap_or(b"none");
    if !cert.is_empty() && cert != b"none" {
        return;
    }
    out.push(cx.finding(
        rule,
        Some(item),
        Some("certificate"),
        format!("`{service}` is enabled without a certificate: RouterOS then speaks only anonymous Diffie-Hellman, so clients cannot authenticate the router"),
        vec![
            format!("/certificate add name={service}-cert common-name=<router name> key-size=2048 days-valid=825"),
            format!("/certificate sign {service}-cert"),
            // tls-version exists from RouterOS 7 on.
            if cx.config.version.as_ref().is_some_and(|v| v.major < 7) {
                format!("/ip service set {service} certificate={service}-cert")
            } else {
                format!("/ip service set {service} certificate={service}-cert tls-version=only-1.2")
            },
        ],
    ));
}

/// More than "a few explicit prefixes": over a /16 of IPv4 or a /48 of IPv6.
/// The matcher a fix uses for WAN interface `iface`: the interface list the WAN came from, else
/// the interface itself; quoted by harden's one quoting function. With the WAN unknown (`*`),
/// a placeholder the user must fill in.
fn wan_matcher(cx: &Context, iface: &str) -> String {
    use crate::ros::script::value;
    match (&cx.exposure.wan_list, iface) {
        (Some(l), _) => format!("in-interface-list={}", value(l)),
        (None, "*") => "in-interface=<WAN interface>".into(),
        (None, i) => format!("in-interface={}", value(i)),
    }
}

/// A paste-safe reference to filter rule `number` (its index in the export's menu) for a fix:
/// `[ find comment="billing API" ]` when its comment is unique in the table, else its position
/// among the chain's static rules, `[ :pick [ find chain=input dynamic=no ] 2 ]`. A bare number
/// (`set 2`) would refer to the numbering of the user's last `print`, which also counts dynamic
/// rules (hotspot, fasttrack counters), so it is never used.
fn filter_ref(cx: &Context, v6: bool, number: usize) -> String {
    // Built once per table: a rule-per-finding lookup over 50,000 rules must not be quadratic.
    let refs = cx.filter_refs[usize::from(v6)].get_or_init(|| filter_refs(cx.config, v6));
    refs.get(number)
        .cloned()
        .unwrap_or_else(|| number.to_string())
}

fn filter_refs(c: &Config, v6: bool) -> Vec<String> {
    use crate::ros::script::value;
    use std::collections::HashMap;
    let menu = if v6 {
        "/ipv6 firewall filter"
    } else {
        "/ip firewall filter"
    };
    let items = c.items(menu);
    let mut comments: HashMap<&[u8], usize> = HashMap::new();
    for i in items {
        if let Some(cm) = i.get("comment").filter(|c| !c.is_empty()) {
            *comments.entry(cm).or_default() += 1;
        }
    }
    let mut in_chain: HashMap<&[u8], usize> = HashMap::new();
    items
        .iter()
        .map(|item| {
            let chain = item.get("chain").unwrap_or(b"");
            let slot = in_chain.entry(chain).or_default();
            let k = *slot;
            *slot += 1;
            match item.get("comment").filter(|c| comments.get(c) == Some(&1)) {
                Some(cm) => format!("[ find comment={} ]", value(&String::from_utf8_lossy(cm))),
                None => format!(
                    "[ :pick [ find chain={} dynamic=no ] {k} ]",
                    value(&String::from_utf8_lossy(chain))
                ),
            }
        })
        .collect()
}

/// The matcher a fix uses for a side: the WAN's ([`wan_matcher`]); for PPPoE subscribers
/// `in-interface=all-ppp` (their dynamic interfaces; it also covers PPP VPN users, who rarely
/// need SNMP or management from the subscriber side); for a hotspot, its interface.
fn side_matcher(cx: &Context, side: super::exposure::Side<'_>) -> String {
    use crate::ros::script::value;
    match side.zone {
        super::exposure::Zone::Wan => wan_matcher(cx, side.interface),
        super::exposure::Zone::Lan | super::exposure::Zone::Tunnel => {
            format!("in-interface={}", value(side.interface))
        }
        super::exposure::Zone::Subscriber if side.interface == super::subscribers::PPPOE => {
            "in-interface=all-ppp".into()
        }
        super::exposure::Zone::Subscriber => format!("in-interface={}", value(side.interface)),
    }
}

fn wide(set: &super::addrset::AddrSet) -> bool {
    super::reach::Reach::of(set).width() != super::reach::Width::Narrow
}

/// The sources of `set` for a message: its prefixes up to three, the first three and a count up
/// to [`crate::audit::summary::LIMIT`], past that a summary ([`crate::audit::summary`]) in the
/// terms of the family's address `lists`.
fn summarize(set: &super::addrset::AddrSet, lists: &super::firewall::AddressLists) -> String {
    match super::summary::SetSummary::of(set, lists) {
        Some(s) => s.describe(3),
        None => summarize_prefixes(&set.first_prefixes(super::summary::LIMIT)),
    }
}

/// `0.0.0.0/0`, or the first prefixes and a count: for a set of at most
/// [`crate::audit::summary::LIMIT`] prefixes, all of them in `prefixes`.
pub(crate) fn summarize_prefixes(prefixes: &[String]) -> String {
    match prefixes.len() {
        0 => "nowhere".into(),
        1..=3 => prefixes.join(", "),
        n => format!("{} and {} more prefixes", prefixes[..3].join(", "), n - 3),
    }
}

fn approximation_note(rules: &[usize], raw: &[usize]) -> String {
    let list = |v: &[usize]| {
        v.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !rules.is_empty() {
        parts.push(format!("filter rules {}", list(rules)));
    }
    if !raw.is_empty() {
        parts.push(format!("raw rules {}", list(raw)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(
            " (assuming {} match as an attacker would wish: they use matchers the analysis does not decide)",
            parts.join(" and ")
        )
    }
}

/// Rule numbers in messages count the rules the export shows, from 0, as `print` numbers a table
/// without dynamic rules. `print` numbers every rule, dynamic ones included ("item numbers are
/// assigned by print command", RouterOS manual, Console), and an enabled hotspot's dynamic rules
/// come first in `/ip firewall filter` and `/ip firewall nat` (`/ip firewall filter print
/// dynamic` lists them from 0: `0 D chain=forward action=jump jump-target=hs-unauth ...`,
/// RouterOS v3 manual, HotSpot "Packet filter rules"). How many there are depends on the
/// version and the walled garden (one rule per `walled-garden ip` entry), which an export does
/// not show: the number `print` gives cannot be computed, so the message says so.
fn dynamic_first_note(c: &Config) -> &'static str {
    if crate::audit::subscribers::enabled_servers(c, "/ip hotspot")
        .next()
        .is_some()
    {
        " (numbered as the export shows them; `print` lists the hotspot's dynamic rules first, so on the router it is further down)"
    } else {
        ""
    }
}

/// [`dynamic_first_note`] for a rule of `/ip firewall` (`v6` false); `/ipv6 firewall` has no
/// hotspot rules.
fn numbering(c: &Config, v6: bool) -> &'static str {
    if v6 {
        ""
    } else {
        dynamic_first_note(c)
    }
}

/// What a verdict assumed when an `accept` that let the sources in matches on `dst-address` or
/// `dst-address-list` (issue 24, §2.8): the analysis does not decide which of the router's
/// addresses the attacker connects to, so it counts the accept as matching. From the WAN side a
/// private destination (RFC 1918, CGNAT, ULA) is reachable only by hosts on that link or routed
/// to it by the upstream: the reader is told which rule and which destination that was.
fn dst_address_note(cx: &Context, rows: &[&super::exposure::Row]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for r in rows {
        let (fw, table) = if r.family == "ipv6" {
            (&cx.exposure.v6, "ipv6")
        } else {
            (&cx.exposure.v4, "ip")
        };
        for &n in &r.approximated_by {
            let Some(rule) = fw.rules.get(n) else {
                continue;
            };
            if rule.action != Action::Accept {
                continue;
            }
            for u in &rule.undecided {
                if !(u.starts_with("dst-address=") || u.starts_with("dst-address-list=")) {
                    continue;
                }
                let part = format!("`{}` ({table} filter rule {n})", crate::term::printable(u));
                if !parts.contains(&part) {
                    parts.push(part);
                }
            }
        }
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        " (this verdict assumes the attacker can address the router at {}: a private address there is reached from the WAN side only by hosts on that link or routed to it)",
        parts.join(", ")
    )
}

/// ` place-before=...` for a fix line adding a filter rule: harden's placement
/// ([`crate::ros::placement`]), so a fix never names a dynamic rule or an empty table.
fn place(cx: &Context, v6: bool, at: crate::ros::placement::Place) -> String {
    crate::ros::placement::place_before(cx.config, v6, at)
}

/// Where a settings property was set, if the file set it.
fn setting_span(c: &Config, menu: &str, key: &str) -> Option<routeros_config::Span> {
    c.menu(menu)
        .and_then(|m| m.settings.property(key))
        .map(|p| p.statement)
        .filter(|s| !s.is_empty())
}

/// Whether an interface-list setting (`all`, `none`, `!dynamic`, `!WAN`, a list name) covers a
/// WAN interface. `!NAME` is every interface outside the list: `discover-interface-list=!WAN` and
/// MAC server `allowed-interface-list=!WAN` leave the WAN side out (real exports write
/// `set discover-interface-list=!WAN`; MikroTik's reset script sets `!dynamic`).
fn list_reaches_wan(cx: &Context, list: &str) -> bool {
    match list {
        "none" => false,
        // An access point or switch has no WAN side ([`super::exposure::Exposure::lan`]).
        "all" => !cx.exposure.wan.is_empty(),
        l => {
            let (negated, name) = match l.strip_prefix('!') {
                Some(n) => (true, n),
                None => (false, l),
            };
            // Layer 2 answers on the wire beneath the WAN too (the port a PPPoE client dials
            // over, the port under a WAN VLAN): [`crate::audit::exposure::layer2_wan_side`].
            crate::audit::exposure::layer2_wan_side(cx.config, &cx.exposure.wan)
                .iter()
                .any(|w| cx.exposure.lists.contains(name, w) != negated)
        }
    }
}

/// The policies a group grants (negated entries left out).
fn group_grants(c: &Config, group: &str) -> Vec<String> {
    use routeros_config::value::parse_list;
    c.menu("/user group")
        .and_then(|m| m.by_name(group))
        .and_then(|g| g.get("policy"))
        .map(|p| {
            parse_list(p)
                .into_iter()
                .filter(|e| !e.negated)
                .map(|e| String::from_utf8_lossy(e.name).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Names of enabled logging actions that send to a real remote host (RouterOS' built-in action
/// `remote` counts once it has an address).
fn remote_actions(c: &Config) -> Vec<String> {
    c.items("/system logging action")
        .iter()
        .filter(|a| !a.is_disabled())
        .filter(|a| {
            a.get("target") == Some(b"remote")
                || (a.get("target").is_none() && a.get("name") == Some(b"remote"))
        })
        .filter(|a| {
            a.get("remote")
                .is_some_and(|r| !r.is_empty() && r != b"0.0.0.0")
        })
        .filter_map(|a| a.get_str("name"))
        .collect()
}

/// Whether a logging rule's topics (`critical`, `info,!debug`) catch a message with `message`
/// topics: every plain topic present, no negated one.
fn topics_match(rule: &str, message: &[&str]) -> bool {
    let mut any = false;
    for t in rule.split(',').filter(|t| !t.is_empty()) {
        match t.strip_prefix('!') {
            Some(neg) => {
                if message.contains(&neg) {
                    return false;
                }
            }
            None => {
                any = true;
                if !message.contains(&t) {
                    return false;
                }
            }
        }
    }
    any
}

/// Where a reachable service gets in: the first accepting filter rule, else the service's own
/// line (or nothing, when the service is a default the export does not show).
/// One finding per service for the exposure rules: the rows of one service (its interfaces and
/// families) are one root cause to fix, so they make one finding listing where it applies, at
/// the widest reach's severity, with each family's fix once.
fn per_service(
    cx: &Context,
    rule: &Rule,
    rows: Vec<(&super::exposure::Row, Severity)>,
    fix: impl Fn(&super::exposure::Row) -> Vec<String>,
    out: &mut Vec<Finding>,
) {
    let mut services: Vec<&str> = rows.iter().map(|(r, _)| r.service.as_str()).collect();
    services.dedup();
    let mut seen = std::collections::HashSet::new();
    services.retain(|s| seen.insert(*s));
    for svc in services {
        let mine: Vec<&(&super::exposure::Row, Severity)> =
            rows.iter().filter(|(r, _)| r.service == svc).collect();
        let severity = mine
            .iter()
            .map(|(_, s)| *s)
            .max()
            .expect("one row at least");
        // How the sources get in, said once when it is the same everywhere.
        let hows: Vec<String> = mine.iter().map(|(r, _)| entry_point(cx, r).1).collect();
        let one_how = hows
            .windows(2)
            .all(|w| w[0] == w[1])
            .then(|| hows[0].clone());
        let mut span = None;
        let mut fixes: Vec<String> = Vec::new();
        let mut approx_rules: Vec<usize> = Vec::new();
        let mut raw_rules: Vec<usize> = Vec::new();
        let mut ifaces: Vec<&str> = mine.iter().map(|(r, _)| r.interface.as_str()).collect();
        let mut seen = std::collections::HashSet::new();
        ifaces.retain(|i| seen.insert(*i));
        let mut parts = Vec::new();
        for iface in ifaces {
            let per_family: Vec<String> = mine
                .iter()
                .filter(|(r, _)| r.interface == iface)
                .map(|(r, _)| {
                    let (s, how) = entry_point(cx, r);
                    let how = if one_how.is_some() {
                        String::new()
                    } else {
                        format!(" ({how})")
                    };
                    span = span.or(s);
                    for f in fix(r) {
                        if !fixes.contains(&f) {
                            fixes.push(f);
                        }
                    }
                    approx_rules.extend(&r.approximated_by);
                    raw_rules.extend(&r.raw_approximated_by);
                    format!("over {} from {}{how}", r.family, r.brief())
                })
                .collect();
            let zone = mine
                .iter()
                .find(|(r, _)| r.interface == iface)
                .map(|(r, _)| r.zone)
                .expect("the interface came from these rows");
            let unknown = zone == super::exposure::Zone::Subscriber
                && cx
                    .exposure
                    .subscribers
                    .iter()
                    .any(|s| s.interface == iface && s.addresses_unknown);
            parts.push(format!(
                "on `{iface}` {}{}",
                per_family.join(", "),
                if unknown {
                    " (subscriber addresses not in the export, RADIUS or no pool: every IPv4 source counted)"
                } else {
                    ""
                }
            ));
        }
        // Who reaches it: the widest WAN reach, and subscribers.
        use super::exposure::Zone;
        let mut who: Vec<String> = Vec::new();
        if let Some((r, _)) = mine
            .iter()
            .filter(|(r, _)| r.zone == Zone::Wan)
            .max_by_key(|(r, _)| r.width())
        {
            who.push(format!("{} on the WAN side", r.who()));
        }
        if mine.iter().any(|(r, _)| r.zone == Zone::Subscriber) {
            who.push("subscribers".into());
        }
        if mine.iter().any(|(r, _)| r.zone == Zone::Tunnel) {
            who.push("the far ends of tunnels".into());
        }
        if mine.iter().any(|(r, _)| r.zone == Zone::Lan) {
            who.push("the LAN side (the device looks like an access point or switch)".into());
        }
        approx_rules.sort_unstable();
        approx_rules.dedup();
        raw_rules.sort_unstable();
        raw_rules.dedup();
        let port = mine[0].0.port;
        out.push(cx.finding_at(
            rule,
            severity,
            span,
            format!(
                "`{svc}` (tcp/{port}) is reachable from {}: {}{}{}{}",
                who.join(" and from "),
                parts.join("; "),
                one_how.map(|h| format!(" ({h})")).unwrap_or_default(),
                approximation_note(&approx_rules, &raw_rules),
                dst_address_note(cx, &mine.iter().map(|(r, _)| *r).collect::<Vec<_>>())
            ),
            fixes,
        ));
    }
}

fn entry_point(
    cx: &Context,
    row: &super::exposure::Row,
) -> (Option<routeros_config::Span>, String) {
    let fw = if row.family == "ipv6" {
        &cx.exposure.v6
    } else {
        &cx.exposure.v4
    };
    let table = if row.family == "ipv6" { "ipv6" } else { "ip" };
    let mut how: Vec<String> = Vec::new();
    if !row.accepted_by.is_empty() {
        let list: Vec<String> = row.accepted_by.iter().map(|n| n.to_string()).collect();
        how.push(format!(
            "accepted by {table} filter rule{} {}{}",
            if list.len() > 1 { "s" } else { "" },
            list.join(", "),
            numbering(cx.config, row.family == "ipv6")
        ));
    }
    if row.by_default {
        how.push("let through by the input chain's default accept (no rule drops it)".into());
    }
    let span = row
        .accepted_by
        .first()
        .map(|&n| fw.rules[n].statement)
        .filter(|s| !s.is_empty());
    (span, how.join("; "))
}

/// Whether the input lists users. RouterOS' `/export` never does (issue reports; 82 of the 87
/// corpus exports have no `/user` line; the 5 that do are scripts that add users), so on an export
/// neither the built-in `admin` nor its removal is visible: rules about users judge only users
/// the input shows (a live audit reads `/user`).
fn users_known(c: &Config) -> bool {
    c.menu("/user")
        .is_some_and(|m| m.items.iter().any(|u| !u.statement.is_empty()))
}

/// Enabled users of a group.
fn group_members(c: &Config, group: &str) -> Vec<String> {
    c.items("/user")
        .iter()
        .filter(|u| !u.is_disabled() && u.get_str("group").as_deref() == Some(group))
        .filter_map(|u| u.get_str("name"))
        .collect()
}

/// Which of `wanted` a group grants, if it grants `api` and has users.
fn api_group_grants<'a>(c: &Config, group: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    let grants = group_grants(c, group);
    if group_members(c, group).is_empty() || !grants.iter().any(|p| p == "api") {
        return Vec::new();
    }
    wanted
        .iter()
        .copied()
        .filter(|w| grants.iter().any(|g| g == w))
        .collect()
}
