#![doc = include_str!("docs/TG220.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG220",
    name: "management-over-plaintext-tunnel",
    severity: Severity::High,
    summary: "management is reachable through a tunnel that does not encrypt",
    doc: include_str!("docs/TG220.md"),
    check,
};

/// Services that speak in clear: their logins cross a non-encrypting tunnel readable.
const CLEAR: &[&str] = &["api", "telnet", "ftp", "www"];

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for t in cx.exposure.tunnels.iter().filter(|t| !t.encrypts) {
        let mut services: Vec<&str> = Vec::new();
        for r in &cx.exposure.rows {
            if r.zone == crate::audit::exposure::Zone::Tunnel
                && r.interface == t.interface
                && !r.set.is_empty()
                && !services.contains(&r.service.as_str())
            {
                services.push(&r.service);
            }
        }
        if services.is_empty() {
            continue;
        }
        let clear: Vec<&str> = services
            .iter()
            .copied()
            .filter(|s| CLEAR.contains(s))
            .collect();
        // A secret the live reader could not see: it may be there, so never more than medium,
        // and said to be approximated.
        let severity = if clear.is_empty() || t.secret_hidden {
            Severity::Medium
        } else {
            Severity::High
        };
        let name = crate::term::printable(&t.name).into_owned();
        let at = format!(
            "{} set [find name={}]",
            t.menu,
            crate::ros::script::value(&t.name)
        );
        let fix = match t.menu {
            "/interface l2tp-client" => format!("{at} use-ipsec=yes ipsec-secret=<shared secret>"),
            "/interface ovpn-client" => format!("{at} cipher=aes256-gcm"),
            _ => format!("{at} ipsec-secret=<shared secret>"),
        };
        let span = crate::audit::tunnel::item(cx.config, t)
            .map(|i| i.statement)
            .filter(|s| !s.is_empty());
        out.push(cx.finding_at(
            &RULE,
            severity,
            span,
            format!(
                "{} `{name}` ({}) {} ({}), and {} {} reachable through it{}",
                t.kind,
                crate::term::printable(&t.peer),
                if t.secret_hidden {
                    "may not encrypt (approximated: audit with the `sensitive` policy to tell)"
                } else {
                    "does not encrypt"
                },
                t.why,
                services.join(", "),
                if services.len() == 1 { "is" } else { "are" },
                if clear.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {} logins cross the path between the two ends readable",
                        clear.join(", ")
                    )
                }
            ),
            vec![fix],
        ));
    }
}
