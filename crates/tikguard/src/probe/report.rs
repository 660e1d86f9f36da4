//! Probe results as text, JSON (schema_version 1) and SARIF.

use std::io::Write;

use serde::Serialize;

use super::{PortResult, State};
use crate::term::Style;

#[derive(Serialize)]
struct JsonOut<'a> {
    schema_version: u32,
    targets: &'a [PortResult],
}

pub fn json(out: &mut dyn Write, results: &[PortResult]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &JsonOut {
            schema_version: 1,
            targets: results,
        },
    )?;
    writeln!(out)
}

pub fn text(
    out: &mut dyn Write,
    style: Style,
    results: &[PortResult],
    show_closed: bool,
) -> std::io::Result<()> {
    let mut host = String::new();
    for r in results {
        if r.state != State::Open && !show_closed {
            continue;
        }
        if r.host != host {
            host = r.host.clone();
            writeln!(out, "{}", style.bold(&host))?;
        }
        let state = match r.state {
            State::Open => style.cyan("open"),
            State::Closed => style.dim("closed"),
            State::Filtered => style.dim("filtered"),
        };
        let mut what = Vec::new();
        if r.api_plaintext {
            what.push("RouterOS API (plaintext)".to_string());
        }
        if let Some(t) = &r.tls {
            let mut s = format!("TLS {}", t.versions.join(", "));
            if let Some(n) = &t.negotiated {
                s.push_str(&format!(" ({n})"));
            }
            if t.anonymous_dh {
                s.push_str(", anonymous DH");
            }
            if !t.rustls_compatible && !t.versions.is_empty() {
                s.push_str(", no ECDHE/TLS 1.3: needs the OpenSSL build");
            }
            what.push(s);
        }
        writeln!(
            out,
            "  {:>5}/tcp {:<8} {:>7.1} ms  {}",
            r.port,
            state,
            r.ms,
            what.join("; ")
        )?;
        if let Some(c) = r.tls.as_ref().and_then(|t| t.certificate.as_ref()) {
            writeln!(
                out,
                "             cert {} ({} {} bits, {}), issuer {}{}, {} days left, sha256 {}",
                c.subject,
                c.key_type,
                c.key_bits,
                c.signature,
                c.issuer,
                if c.self_signed { " (self-signed)" } else { "" },
                c.days_left,
                c.sha256
            )?;
        }
        for f in &r.findings {
            let sev = match f.severity {
                crate::audit::Severity::Critical | crate::audit::Severity::High => {
                    style.red(&f.severity.as_str().to_uppercase())
                }
                crate::audit::Severity::Medium => style.yellow(&f.severity.as_str().to_uppercase()),
                _ => style.cyan(&f.severity.as_str().to_uppercase()),
            };
            writeln!(
                out,
                "             {sev} {} {}",
                style.bold(f.rule),
                f.message
            )?;
        }
    }
    let open = results.iter().filter(|r| r.state == State::Open).count();
    let findings: usize = results.iter().map(|r| r.findings.len()).sum();
    writeln!(
        out,
        "{} ports probed, {open} open, {findings} findings",
        results.len()
    )
}

pub fn sarif(out: &mut dyn Write, results: &[PortResult]) -> std::io::Result<()> {
    use serde_json::json;
    let rules = crate::audit::rules::probe_rules::PROBE;
    let driver_rules: Vec<_> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": crate::audit::report::camel(r.name),
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": r.doc, "markdown": r.doc },
                "properties": { "tags": ["security", "mikrotik", "routeros", "network"] }
            })
        })
        .collect();
    let mut res = Vec::new();
    for r in results {
        for f in &r.findings {
            let level = match f.severity {
                crate::audit::Severity::Critical | crate::audit::Severity::High => "error",
                crate::audit::Severity::Medium => "warning",
                _ => "note",
            };
            res.push(json!({
                "ruleId": f.rule,
                "ruleIndex": rules.iter().position(|x| x.id == f.rule).unwrap_or(0),
                "level": level,
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": format!("probe/{}/{}", r.host.replace(':', "_"), r.port) },
                        "region": { "startLine": 1 }
                    }
                }]
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "tikguard-probe", "semanticVersion": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/tikguard/tikguard", "rules": driver_rules } }, "results": res }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
