#![doc = include_str!("docs/TG704.md")]

use super::live::{facts, flag, live_finding, shown};
use super::*;
use crate::audit::running::date_ms;

pub const RULE: Rule = Rule {
    id: "TG704",
    name: "service-certificate-unfit",
    severity: Severity::High,
    summary: "the certificate api-ssl or www-ssl serves is expired, expiring, a CA, weak or untrusted (live)",
    doc: include_str!("docs/TG704.md"),
    check,
};

const DAY_MS: i64 = 86_400_000;

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(f) = facts(cx) else { return };
    let Some(certs) = &f.certificates else { return };
    for service in ["api-ssl", "www-ssl"] {
        let Some(svc) = enabled_service(cx.config, service) else {
            continue;
        };
        let Some(name) = svc
            .get_str("certificate")
            .filter(|c| !c.is_empty() && c != "none")
        else {
            continue;
        };
        let Some(cert) = certs
            .iter()
            .find(|c| c.get("name").map(String::as_str) == Some(name.as_str()))
        else {
            continue;
        };
        let who = format!("`{service}` serves certificate {}", shown(&name));
        let renew = vec![
            format!("/certificate add name={service}-new common-name=<router name> key-size=2048 days-valid=825"),
            format!("/certificate sign {service}-new"),
            format!("/ip service set {service} certificate={service}-new"),
        ];
        let after = cert.get("invalid-after").and_then(|t| date_ms(t));
        let left = match (after, f.now_ms) {
            (Some(a), Some(now)) => Some(a - now),
            _ => None,
        };
        let until = cert
            .get("invalid-after")
            .map(|t| shown(t))
            .unwrap_or_default();
        if flag(cert, "expired") || left.is_some_and(|l| l <= 0) {
            out.push(live_finding(cx, &RULE, Severity::High,
                format!("{who}, expired (invalid after {until}): clients that verify refuse it, and those that go on have stopped verifying"),
                renew.clone()));
        } else if let Some(l) = left.filter(|l| *l < 30 * DAY_MS) {
            let days = l / DAY_MS;
            let sev = if l < 7 * DAY_MS {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(live_finding(
                cx,
                &RULE,
                sev,
                format!("{who}, expiring in {days} day(s) (invalid after {until})"),
                renew.clone(),
            ));
        }
        if flag(cert, "authority") {
            out.push(live_finding(cx, &RULE, Severity::Medium,
                format!("{who}, a CA certificate (flag A): its key signs other certificates, and serving it exposes that key to every TLS client's attacks; serve a certificate the CA issued"),
                renew.clone()));
        }
        let rsa = cert.get("key-type").is_none_or(|t| t == "rsa");
        let weak = cert
            .get("key-size")
            .and_then(|s| s.parse::<u32>().ok())
            .is_some_and(|bits| rsa && bits < 2048);
        if weak {
            out.push(live_finding(
                cx,
                &RULE,
                Severity::Medium,
                format!(
                    "{who}, an RSA key of {} bits (under 2048)",
                    cert.get("key-size").map(|s| shown(s)).unwrap_or_default()
                ),
                renew.clone(),
            ));
        }
        if !flag(cert, "trusted") {
            out.push(live_finding(cx, &RULE, Severity::Low,
                format!("{who}, not trusted on the router (flag T missing): RouterOS does not treat it as valid"),
                vec![format!("/certificate set {} trusted=yes", shown(&name))]));
        }
    }
}
