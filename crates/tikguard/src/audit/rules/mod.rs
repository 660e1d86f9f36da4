//! One file per rule. Each rule's `doc` is what `tikguard explain ID` prints.

use routeros_config::{Config, Item};

use super::firewall::Action;
use super::{Context, Finding, Rule, Severity};

mod api_accept_without_source;
mod api_drop_not_logged;
mod api_reachable_from_wan;
mod api_ssl_no_certificate;
mod builtin_admin_present;
mod empty_address_list;
mod ftp_enabled;
mod group_api_with_dangerous_policy;
mod input_accepts_wan;
mod ipv6_bypass;
mod management_reachable_from_wan;
mod no_brute_force_staging;
mod plaintext_api;
mod service_no_address;
mod shadowed_rule;
mod telnet_enabled;
mod tls_below_1_2;
mod www_enabled;

/// Every rule, in id order.
pub const ALL: &[&Rule] = &[
    &plaintext_api::RULE,
    &api_ssl_no_certificate::RULE,
    &service_no_address::RULE,
    &tls_below_1_2::RULE,
    &telnet_enabled::RULE,
    &ftp_enabled::RULE,
    &www_enabled::RULE,
    &api_reachable_from_wan::RULE,
    &management_reachable_from_wan::RULE,
    &api_accept_without_source::RULE,
    &shadowed_rule::RULE,
    &input_accepts_wan::RULE,
    &no_brute_force_staging::RULE,
    &api_drop_not_logged::RULE,
    &empty_address_list::RULE,
    &ipv6_bypass::RULE,
    &builtin_admin_present::RULE,
    &group_api_with_dangerous_policy::RULE,
];

pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id.eq_ignore_ascii_case(id))
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
            format!("/ip service set {service} certificate={service}-cert tls-version=only-1.2"),
        ],
    ));
}

/// More than "a few explicit prefixes": over a /16 of IPv4 or a /48 of IPv6.
fn wide(set: &super::addrset::AddrSet) -> bool {
    let limit: u128 = if set.v6 { 1 << 80 } else { 1 << 16 };
    let mut total: u128 = 0;
    for &(a, b) in set.ranges() {
        total = total.saturating_add(b - a).saturating_add(1);
        if total > limit {
            return true;
        }
    }
    false
}

/// `0.0.0.0/0`, or the first prefixes and a count.
fn summarize(prefixes: &[String]) -> String {
    match prefixes.len() {
        0 => "nowhere".into(),
        1..=3 => prefixes.join(", "),
        n => format!("{} and {} more prefixes", prefixes[..3].join(", "), n - 3),
    }
}

fn approximation_note(rules: &[usize]) -> String {
    if rules.is_empty() {
        String::new()
    } else {
        format!(
            " (assuming filter rules {} match as an attacker would wish: they use matchers the analysis does not decide)",
            rules.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
        )
    }
}
