//! Printers over one result type: text for a terminal, JSON for programs.

use std::io::Write;

use serde::Serialize;

use super::exposure::Row;
use super::{Audit, Finding, Severity};
use crate::term::{printable, Style};

/// One audited file, as the reporters see it.
pub struct FileReport<'a> {
    pub path: &'a str,
    pub version: Option<String>,
    pub audit: &'a Audit,
    /// Parse errors: statements that were not read.
    pub diagnostics: &'a [routeros_config::Diagnostic],
    /// Warnings of the model (`Config::warnings`, what `tikguard parse` shows): statements read
    /// but left out of the configuration (scripting, a `[find]` it cannot resolve, ...), so the
    /// audit does not see what they do.
    pub warnings: &'a [routeros_config::Diagnostic],
}

impl FileReport<'_> {
    /// Parse errors, then warnings, each with its level.
    pub fn all_diagnostics(
        &self,
    ) -> impl Iterator<Item = (&'static str, &routeros_config::Diagnostic)> {
        self.diagnostics
            .iter()
            .map(|d| ("error", d))
            .chain(self.warnings.iter().map(|d| ("warning", d)))
    }
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    /// `error` (not read) or `warning` (read, left out of the model).
    level: &'static str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    /// `whole-export`, `one-menu-export`, `defconf-edit` or `script` ([`super::kind`]).
    input_kind: &'a str,
    input_kind_why: &'a str,
    /// `--assume`, when it applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    assumed: Option<super::assume::Assume>,
    /// For a file that is not the whole router: what its findings rest on, and how to get a
    /// verdict.
    #[serde(skip_serializing_if = "str::is_empty")]
    input_note: String,
    /// Assumed findings left out: they rest on RouterOS' defaults alone.
    #[serde(skip_serializing_if = "is_zero")]
    left_out: usize,
    /// Live-only rules that did not run: the input is a file (`audit --live` runs them).
    #[serde(skip_serializing_if = "is_zero")]
    need_live: usize,
    routeros_version: Option<&'a str>,
    wan_interfaces: &'a [String],
    findings: &'a [Finding],
    exposure: std::borrow::Cow<'a, [Row]>,
    diagnostics: Vec<JsonDiag<'a>>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    files: Vec<JsonFile<'a>>,
}

/// How the JSON report writes a reachable set of more than [`super::summary::LIMIT`] prefixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sets {
    /// Its first prefixes in `reachable_from` and a `reachable_summary` (`"truncated": true`).
    #[default]
    Summarised,
    /// Every prefix in `reachable_from` (`--full-sets`), the summary kept with
    /// `"truncated": false`.
    Full,
}

pub fn json(out: &mut dyn Write, files: &[FileReport<'_>], sets: Sets) -> std::io::Result<()> {
    let report = JsonReport {
        schema_version: 1,
        files: files
            .iter()
            .map(|f| JsonFile {
                path: f.path,
                input_kind: f.audit.input.kind.as_str(),
                input_kind_why: &f.audit.input.why,
                assumed: f.audit.input.assumed,
                input_note: f.audit.input.note(f.audit.left_out),
                left_out: f.audit.left_out,
                need_live: f.audit.need_live,
                routeros_version: f.version.as_deref(),
                wan_interfaces: &f.audit.exposure.wan,
                findings: &f.audit.findings,
                exposure: match sets {
                    Sets::Summarised => std::borrow::Cow::Borrowed(&f.audit.exposure.rows[..]),
                    Sets::Full => f
                        .audit
                        .exposure
                        .rows
                        .iter()
                        .map(Row::with_full_set)
                        .collect(),
                },
                diagnostics: f
                    .all_diagnostics()
                    .map(|(level, d)| JsonDiag {
                        level,
                        line: d.line,
                        column: d.column,
                        message: &d.message,
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// SARIF 2.1.0, as GitHub code scanning reads it: the rule catalogue with help text, and one
/// result per finding with a physical location (line 1 for problems that are RouterOS defaults
/// the file does not show, which the message says).
pub fn sarif(out: &mut dyn Write, files: &[FileReport<'_>]) -> std::io::Result<()> {
    use serde_json::json;
    // The live-only rules too: a live audit's findings must index their own rule.
    let rules: Vec<&super::Rule> = super::rules::ALL
        .iter()
        .chain(super::rules::LIVE)
        .copied()
        .collect();
    let level = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    };
    // GitHub maps security-severity to critical (>= 9), high (>= 7), medium (>= 4), low.
    let score = |s: Severity| match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    };
    let driver_rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": camel(r.name),
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": first_paragraph(r.doc) },
                "help": { "text": r.doc, "markdown": r.doc },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "security-severity": score(r.severity),
                    "tags": ["security", "mikrotik", "routeros"]
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for f in files {
        let uri = sarif_uri(f.path);
        for finding in &f.audit.findings {
            let index = rules.iter().position(|r| r.id == finding.rule).unwrap_or(0);
            let (line, column, mut text) = match (finding.line, finding.column) {
                (Some(l), Some(c)) => (l, c, finding.message.clone()),
                _ if super::rules::is_live_only(finding.rule) => (
                    1,
                    1,
                    format!("{} (read live from the router; not on a line of a file)", finding.message),
                ),
                _ => (
                    1,
                    1,
                    format!("{} (RouterOS default or whole-configuration property; not on a line of the file)", finding.message),
                ),
            };
            if finding.assumed {
                text.push_str(&assumed_note(finding));
            }
            let mut region = json!({ "startLine": line, "startColumn": column });
            if let Some(e) = &finding.evidence {
                region["snippet"] = json!({ "text": e });
            }
            let mut properties = json!({ "fix": finding.fix });
            if finding.assumed {
                properties["assumed"] = json!(true);
            }
            results.push(json!({
                "ruleId": finding.rule,
                "ruleIndex": index,
                // An assumed finding is a note: it must not fail a code-scanning check.
                "level": if finding.assumed { "note" } else { level(finding.severity) },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": region
                    }
                }],
                "properties": properties
            }));
        }
    }
    // Parse errors and warnings of the input: tool execution notifications (SARIF 2.1.0
    // §3.58.4), each at its place in its file.
    let notifications: Vec<serde_json::Value> = files
        .iter()
        .flat_map(|f| {
            let uri = sarif_uri(f.path);
            f.all_diagnostics()
                .map(move |(level, d)| {
                    json!({
                        "level": level,
                        "message": { "text": format!("parse {level}: {}", d.message) },
                        "locations": [{
                            "physicalLocation": {
                                "artifactLocation": { "uri": uri },
                                "region": { "startLine": d.line, "startColumn": d.column }
                            }
                        }]
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // What each file is, by its artifact URI: one run holds every file.
    let kinds: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|f| (sarif_uri(f.path), json!(f.audit.input.kind.as_str())))
        .collect();
    // Per file, the live-only checks it could not give (`audit --live` runs them).
    let need_live: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .filter(|f| f.audit.need_live > 0)
        .map(|f| (sarif_uri(f.path), json!(f.audit.need_live)))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tikguard",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/tikguard/tikguard",
                    "rules": driver_rules
                }
            },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications
            }],
            "properties": { "input_kind": kinds, "need_live": need_live },
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// What an assumed finding's message gains: that it rests on what the file does not show, and
/// its severity were the file the whole router.
pub(crate) fn assumed_note(f: &Finding) -> String {
    match f.severity_if_whole.filter(|s| *s != f.severity) {
        Some(s) => format!(
            " [assumed: rests on what the file does not show; {} on a whole router]",
            s.as_str()
        ),
        None => " [assumed: rests on what the file does not show]".into(),
    }
}

/// `api-reachable-from-wan` -> `ApiReachableFromWan`, the SARIF convention for rule names.
pub(crate) fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The text under the first heading of a rule's documentation.
fn first_paragraph(doc: &str) -> String {
    doc.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn paint_severity(style: Style, s: Severity) -> String {
    let label = s.as_str().to_uppercase();
    match s {
        Severity::Critical | Severity::High => style.red(&label),
        Severity::Medium => style.yellow(&label),
        _ => style.cyan(&label),
    }
}

/// The text report. Everything that came from the input (paths, messages quoting names and
/// comments, evidence lines, interface names) passes through [`printable`]: control bytes in a
/// router's text never reach the terminal raw.
/// The few changes that remove the most risk: each whole fix (all its lines, in order) scores
/// the findings it resolves (critical 16, high 8, medium 2, low 1), the three best-scoring fixes
/// of at least one high finding's weight come first, each with the findings it addresses.
/// Assumed findings ([`super::assume`]) are left out: they may need no fix.
pub fn fix_first(findings: &[Finding]) -> Vec<(Vec<String>, Vec<&Finding>)> {
    let weight = |s: Severity| match s {
        Severity::Critical => 16,
        Severity::High => 8,
        Severity::Medium => 2,
        Severity::Low => 1,
        Severity::Info => 0,
    };
    // One entry per whole fix: a fix's lines work together (the address list is filled, then
    // a rule uses it), so a line alone is no fix. Findings with the same fix are one entry.
    let mut fixes: Vec<(&[String], u32, Vec<&Finding>)> = Vec::new();
    for f in findings.iter().filter(|f| !f.fix.is_empty() && !f.assumed) {
        match fixes.iter_mut().find(|(fix, _, _)| *fix == &f.fix[..]) {
            Some((_, score, fs)) => {
                *score += weight(f.severity);
                fs.push(f);
            }
            None => fixes.push((&f.fix, weight(f.severity), vec![f])),
        }
    }
    fixes.retain(|(_, score, _)| *score >= 8);
    fixes.sort_by_key(|f| std::cmp::Reverse(f.1));
    fixes.truncate(3);
    fixes
        .into_iter()
        .map(|(fix, _, fs)| (fix.to_vec(), fs))
        .collect()
}

/// A file's SARIF `artifactLocation.uri`: an absolute path as a `file://` URI, a relative one as
/// a relative reference, percent-encoded either way (SARIF 2.1.0 §3.10: a valid URI reference);
/// standard input as `stdin`.
pub fn sarif_uri(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const PATH: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'[')
        .add(b']')
        .add(b'^')
        .add(b'|')
        .add(b'\\');
    if path == "<stdin>" {
        return "stdin".into();
    }
    let encoded = utf8_percent_encode(path.trim_start_matches("./"), PATH).to_string();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// The line saying how many checks a file cannot give (text, HTML, SARIF).
pub fn need_live_note(n: usize) -> String {
    format!(
        "{n} check{} need --live (users, SSH keys, certificates, updates, who is knocking: `tikguard rules` marks them live)",
        if n == 1 { "" } else { "s" }
    )
}

pub fn text(out: &mut dyn Write, style: Style, files: &[FileReport<'_>]) -> std::io::Result<()> {
    for f in files {
        let path = printable(f.path);
        let version = f
            .version
            .as_deref()
            .map(|v| format!("RouterOS {v}"))
            .unwrap_or_else(|| "no version header".into());
        let input = &f.audit.input;
        writeln!(
            out,
            "{} ({version}; {})",
            style.bold(&path),
            input.kind.describe()
        )?;
        if input.kind != super::kind::Kind::WholeExport {
            writeln!(out, "  {}", printable(&input.why))?;
            writeln!(out, "  {}", style.yellow(&input.note(f.audit.left_out)))?;
        }
        for (level, d) in f.all_diagnostics() {
            writeln!(
                out,
                "  {}:{}:{}: parse {level}: {}",
                path,
                d.line,
                d.column,
                printable(&d.message)
            )?;
        }
        if f.audit.findings.is_empty() {
            writeln!(out, "  no findings")?;
        }
        if f.audit.need_live > 0 {
            writeln!(out, "  {}", style.dim(&need_live_note(f.audit.need_live)))?;
        }
        let first = fix_first(&f.audit.findings);
        if !first.is_empty() {
            writeln!(out, "\n {}", style.bold("FIX FIRST"))?;
            for (i, (fix, fs)) in first.iter().enumerate() {
                let mut rules: Vec<&str> = fs.iter().map(|f| f.rule).collect();
                rules.dedup();
                for (n, line) in fix.iter().enumerate() {
                    if n == 0 {
                        writeln!(
                            out,
                            "  {}. {}  {}",
                            i + 1,
                            style.cyan(&printable(line)),
                            style.dim(&format!("({})", rules.join(", ")))
                        )?;
                    } else {
                        writeln!(out, "     {}", style.cyan(&printable(line)))?;
                    }
                }
            }
        }
        let mut group: Option<Severity> = None;
        let facts: Vec<&Finding> = f.audit.findings.iter().filter(|x| !x.assumed).collect();
        for finding in &facts {
            if group != Some(finding.severity) {
                group = Some(finding.severity);
                let n = facts
                    .iter()
                    .filter(|x| x.severity == finding.severity)
                    .count();
                writeln!(out, "\n {} ({n})", paint_severity(style, finding.severity))?;
            }
            let at = match (finding.line, finding.column) {
                (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
                _ if super::rules::is_live_only(finding.rule) => format!("{path} (read live)"),
                _ => format!("{path} (default)"),
            };
            writeln!(
                out,
                "\n  {} {} {}",
                paint_severity(style, finding.severity),
                style.bold(finding.rule),
                printable(&finding.message)
            )?;
            writeln!(out, "    {} {at}", style.dim("at"))?;
            if let Some(e) = &finding.evidence {
                writeln!(out, "    {} {}", style.dim("|"), printable(e))?;
            }
            for (i, line) in finding.fix.iter().enumerate() {
                let label = if i == 0 { "fix" } else { "   " };
                writeln!(
                    out,
                    "    {} {}",
                    style.dim(label),
                    style.cyan(&printable(line))
                )?;
            }
        }
        // Assumed findings apart and short: they rest on what the file does not show.
        let assumed: Vec<&Finding> = f.audit.findings.iter().filter(|x| x.assumed).collect();
        if !assumed.is_empty() {
            writeln!(
                out,
                "\n {} ({}): rest on what the file does not show; not counted by --fail-on",
                style.yellow("ASSUMED"),
                assumed.len()
            )?;
            for finding in assumed {
                let at = match (finding.line, finding.column) {
                    (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
                    _ => format!("{path} (default)"),
                };
                writeln!(
                    out,
                    "  {} {} {}{}\n    {} {at}",
                    paint_severity(style, finding.severity),
                    style.bold(finding.rule),
                    printable(&finding.message),
                    finding
                        .severity_if_whole
                        .filter(|s| *s != finding.severity)
                        .map(|s| format!(" ({} on a whole router)", s.as_str()))
                        .unwrap_or_default(),
                    style.dim("at")
                )?;
            }
        }
        let rows: Vec<&Row> = f.audit.exposure.rows.iter().filter(|r| r.enabled).collect();
        if !rows.is_empty() {
            writeln!(
                out,
                "\n  {} (WAN: {}; from {}){}",
                style.bold("Exposure"),
                printable(&if f.audit.exposure.wan.is_empty() {
                    "none".to_string()
                } else {
                    f.audit.exposure.wan.join(", ")
                }),
                printable(&f.audit.exposure.wan_source),
                if f.audit.input.partial() {
                    "; assumed: RouterOS' defaults under the file"
                } else {
                    ""
                }
            )?;
            for s in &f.audit.exposure.subscribers {
                writeln!(
                    out,
                    "  subscribers: {} ({})",
                    printable(&s.interface),
                    printable(&s.why)
                )?;
            }
            for t in &f.audit.exposure.tunnels {
                writeln!(
                    out,
                    "  tunnel: {} ({}, {}; {})",
                    printable(&t.interface),
                    t.kind,
                    printable(&t.peer),
                    if t.encrypts {
                        "encrypts"
                    } else {
                        "does not encrypt"
                    }
                )?;
            }
            writeln!(
                out,
                "  {:<8} {:>5}  {:<5} {:<10} {:<16} reachable from",
                "service", "port", "ip", "zone", "interface"
            )?;
            for r in rows {
                let from = if let Some(s) = &r.summary {
                    printable(&s.describe(4)).into_owned()
                } else if r.reachable_from.is_empty() {
                    style.dim("nowhere")
                } else if r.reachable_from.len() > 4 {
                    format!(
                        "{} (+{} more)",
                        r.reachable_from[..4].join(", "),
                        r.reachable_from.len() - 4
                    )
                } else {
                    r.reachable_from.join(", ")
                };
                let family = if r.family == "ipv6" { "v6" } else { "v4" };
                writeln!(
                    out,
                    "  {:<8} {:>5}  {:<5} {:<10} {:<16} {from}{}",
                    r.service,
                    r.port,
                    family,
                    r.zone.as_str(),
                    printable(&r.interface),
                    if r.approximated_by.is_empty() {
                        ""
                    } else {
                        " (approx.)"
                    }
                )?;
            }
        }
        let count = |s: Severity| f.audit.findings.iter().filter(|x| x.severity == s).count();
        let assumed = f.audit.findings.iter().filter(|x| x.assumed).count();
        writeln!(
            out,
            "\n  {} critical, {} high, {} medium, {} low, {} info{}\n",
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info),
            if assumed > 0 {
                format!(" ({assumed} assumed, not counted by --fail-on)")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}
