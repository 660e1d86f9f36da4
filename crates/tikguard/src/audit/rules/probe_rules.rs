//! Rules found from the network by `tikguard probe`; listed with the audit's so that
//! `tikguard rules` and `tikguard explain` know them. They have no configuration check.

use super::super::{Context, Finding, Rule, Severity};

fn none(_: &Context, _: &mut Vec<Finding>) {}

/// the plaintext RouterOS API answers from the network
pub const TG120: Rule = Rule {
    id: "TG120",
    name: "plaintext-api-reachable",
    severity: Severity::High,
    summary: "the plaintext RouterOS API answers from the network",
    doc: include_str!("docs/TG120.md"),
    check: none,
};

/// the TLS server accepts anonymous Diffie-Hellman
pub const TG410: Rule = Rule {
    id: "TG410",
    name: "anonymous-dh-accepted",
    severity: Severity::High,
    summary: "the TLS server accepts anonymous Diffie-Hellman",
    doc: include_str!("docs/TG410.md"),
    check: none,
};

/// the TLS server accepts TLS 1.0 or 1.1
pub const TG411: Rule = Rule {
    id: "TG411",
    name: "tls-below-1-2-accepted",
    severity: Severity::Medium,
    summary: "the TLS server accepts TLS 1.0 or 1.1",
    doc: include_str!("docs/TG411.md"),
    check: none,
};

/// the certificate is self-signed
pub const TG412: Rule = Rule {
    id: "TG412",
    name: "self-signed-certificate",
    severity: Severity::Low,
    summary: "the certificate is self-signed",
    doc: include_str!("docs/TG412.md"),
    check: none,
};

/// the certificate is expired or expires within 30 days
pub const TG413: Rule = Rule {
    id: "TG413",
    name: "certificate-expiring",
    severity: Severity::Medium,
    summary: "the certificate is expired or expires within 30 days",
    doc: include_str!("docs/TG413.md"),
    check: none,
};

/// the certificate has a weak key (RSA < 2048) or a SHA-1/MD5 signature
pub const TG414: Rule = Rule {
    id: "TG414",
    name: "weak-certificate",
    severity: Severity::Medium,
    summary: "the certificate has a weak key (RSA < 2048) or a SHA-1/MD5 signature",
    doc: include_str!("docs/TG414.md"),
    check: none,
};

/// Every probe rule.
pub const PROBE: &[&Rule] = &[&TG120, &TG410, &TG411, &TG412, &TG413, &TG414];
