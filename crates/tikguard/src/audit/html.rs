//! One self-contained HTML page per audit: no external stylesheet, script, font or image, so it
//! can be mailed, attached to a ticket or opened offline.

use std::fmt::Write as _;
use std::io::Write;

use super::report::FileReport;
use super::Severity;

/// Text as HTML: markup escaped, and control characters (other than tab and line breaks)
/// shown as `\xNN`: HTML has no rendering for them (they are parse errors in HTML5), and an
/// evidence line holding an escape sequence must show it, not hide it.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' => o.push(c),
            c if c.is_control() => o.push_str(&format!("\\x{:02x}", c as u32)),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

pub(crate) const STYLE: &str = r#"
:root { --crit:#b00020; --high:#d9480f; --med:#b08900; --low:#1c7ed6; --info:#666; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: var(--bg); color: #222; }
header { background: #1f2933; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #cbd2d9; }
main { padding: 20px 28px; max-width: 1200px; }
section.file { background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 16px 20px; margin-bottom: 24px; }
h2 { margin: 0 0 8px; font-size: 18px; word-break: break-all; }
.summary { display: flex; gap: 10px; flex-wrap: wrap; margin: 10px 0 16px; }
.pill { border-radius: 999px; padding: 3px 12px; color: #fff; font-weight: 600; font-size: 13px; }
.critical { background: var(--crit); } .high { background: var(--high); } .medium { background: var(--med); }
.low { background: var(--low); } .info { background: var(--info); }
.finding { border-left: 4px solid #ccc; padding: 8px 12px; margin: 10px 0; background: #fcfcfd; }
.finding.sev-critical { border-color: var(--crit); } .finding.sev-high { border-color: var(--high); }
.finding.sev-medium { border-color: var(--med); } .finding.sev-low { border-color: var(--low); }
.finding .head { font-weight: 600; }
.finding .rule { font-family: ui-monospace, Menlo, Consolas, monospace; margin-right: 6px; }
.loc { color: #52606d; font-size: 13px; }
pre { background: #f0f4f8; padding: 8px 10px; border-radius: 6px; overflow-x: auto; margin: 6px 0; font-size: 13px; }
pre.fix { background: #e3f9e5; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
th { background: #f5f7fa; }
nav.filter { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; background: #fff; border-bottom: 1px solid #e4e7eb; padding: 8px 28px; }
nav.filter label { cursor: pointer; white-space: nowrap; }
.scroll { overflow-x: auto; }
table.matrix td, table.matrix th { font-size: 13px; min-width: 120px; }
table.matrix th .zone { font-weight: 400; color: #52606d; font-size: 12px; }
.fam { color: #52606d; font-size: 11px; font-family: ui-monospace, Menlo, Consolas, monospace; }
.w-public { background: #ffe3e3; } .w-private { background: #fff0db; } .w-narrow { background: #fff9db; } .w-none { background: #ebfbee; color: #52606d; }
.legend span { padding: 2px 8px; border-radius: 4px; font-size: 12px; margin-right: 6px; }
a.rule { color: inherit; text-decoration: none; }
a.rule:hover { text-decoration: underline; }
ul.toc { margin: 0 0 16px; }
main { overflow-wrap: anywhere; }
table.matrix { overflow-wrap: normal; }
@media (max-width: 600px) { main { padding: 12px; } header { padding: 12px; } nav.filter { padding: 6px 12px; } section.file { padding: 12px; } }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
p.partial { background: #fff9db; border-left: 4px solid var(--med); padding: 8px 12px; margin: 8px 0; }
.assumed { color: #52606d; font-weight: 400; font-size: 13px; }
"#;

/// Inline markup of messages: `code` spans, escaped.
fn markup(s: &str) -> String {
    let mut o = String::new();
    for (i, part) in s.split('`').enumerate() {
        // An odd count of backticks leaves the last part as text.
        if i % 2 == 1 && s.split('`').count() > i + 1 {
            let _ = write!(o, "<code>{}</code>", esc(part));
        } else {
            if i % 2 == 1 {
                o.push('`');
            }
            o.push_str(&esc(part));
        }
    }
    o
}

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// The severity filter: one checkbox per severity, read by CSS (`:has`) alone, so it works
/// offline and without scripts.
fn filter_bar(h: &mut String, files: &[FileReport<'_>]) {
    h.push_str("<nav class=\"filter\" aria-label=\"severity filter\"><span>Show:</span>");
    for s in SEVERITIES {
        let n: usize = files
            .iter()
            .map(|f| f.audit.findings.iter().filter(|x| x.severity == s).count())
            .sum();
        let _ = write!(
            h,
            "<label><input type=\"checkbox\" id=\"show-{s}\" checked> <span class=\"pill {s}\">{n} {s}</span></label>",
            s = s.as_str()
        );
    }
    h.push_str("</nav>");
}

/// The CSS that hides findings of an unchecked severity.
fn filter_css() -> String {
    SEVERITIES
        .iter()
        .map(|s| {
            format!(
                "body:has(#show-{s}:not(:checked)) .finding.sev-{s} {{ display: none; }}\n",
                s = s.as_str()
            )
        })
        .collect()
}

/// The exposure matrix: services down, interfaces (WAN and subscriber) across, each cell the
/// sources per family, coloured by how wide they are.
fn matrix(h: &mut String, f: &FileReport<'_>, anchor: &str) {
    use super::exposure::Zone;
    use super::reach::Width;
    let e = &f.audit.exposure;
    let rows: Vec<&super::exposure::Row> = e.rows.iter().filter(|r| r.enabled).collect();
    if rows.is_empty() {
        return;
    }
    let mut cols: Vec<(Zone, &str)> = Vec::new();
    let mut services: Vec<(&str, u16)> = Vec::new();
    for r in &rows {
        if !cols.iter().any(|(_, i)| *i == r.interface) {
            cols.push((r.zone, &r.interface));
        }
        if !services.iter().any(|(s, _)| *s == r.service) {
            services.push((&r.service, r.port));
        }
    }
    let _ = write!(
        h,
        "<h3 id=\"{anchor}-exposure\">Exposure</h3><p class=\"loc\">WAN: {} ({})",
        esc(&e.wan.join(", ")),
        esc(&e.wan_source)
    );
    for s in &e.subscribers {
        let _ = write!(
            h,
            "; subscribers: <code>{}</code> ({})",
            esc(&s.interface),
            esc(&s.why)
        );
    }
    for t in &e.tunnels {
        let _ = write!(
            h,
            "; tunnel: <code>{}</code> ({}, {}; {})",
            esc(&t.interface),
            t.kind,
            esc(&t.peer),
            if t.encrypts {
                "encrypts"
            } else {
                "does not encrypt"
            }
        );
    }
    h.push_str("</p><div class=\"scroll\"><table class=\"matrix\"><tr><th>service</th>");
    for (zone, iface) in &cols {
        let _ = write!(
            h,
            "<th><code>{}</code><br><span class=\"zone\">{}</span></th>",
            esc(iface),
            zone.as_str()
        );
    }
    h.push_str("</tr>");
    for (svc, port) in &services {
        let _ = write!(
            h,
            "<tr><th><code>{}</code> <span class=\"loc\">tcp/{port}</span></th>",
            esc(svc)
        );
        for (_, iface) in &cols {
            let mine: Vec<&&super::exposure::Row> = rows
                .iter()
                .filter(|r| r.service == *svc && r.interface == *iface)
                .collect();
            let widest = mine.iter().map(|r| r.width()).max();
            let open = mine.iter().any(|r| !r.set.is_empty());
            let class = match (open, widest) {
                (false, _) => "w-none",
                (true, Some(Width::Public)) => "w-public",
                (true, Some(Width::Private)) => "w-private",
                (true, _) => "w-narrow",
            };
            h.push_str(&format!("<td class=\"{class}\">"));
            for r in mine {
                let from = if let Some(s) = &r.summary {
                    s.describe(3)
                } else if r.reachable_from.is_empty() {
                    "—".to_string()
                } else if r.reachable_from.len() > 3 {
                    format!(
                        "{} +{} more",
                        r.reachable_from[..3].join(", "),
                        r.reachable_from.len() - 3
                    )
                } else {
                    r.reachable_from.join(", ")
                };
                let _ = write!(
                    h,
                    "<div><span class=\"fam\">{}</span> {}{}</div>",
                    if r.family == "ipv6" { "v6" } else { "v4" },
                    esc(&from),
                    if r.approximated_by.is_empty() {
                        ""
                    } else {
                        " <span class=\"loc\">(approx.)</span>"
                    }
                );
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str(
        "</table></div><p class=\"legend\"><span class=\"w-public\">the internet</span> \
         <span class=\"w-private\">private, CGNAT or subscribers</span> \
         <span class=\"w-narrow\">explicit prefixes or the link</span> \
         <span class=\"w-none\">nowhere</span></p>",
    );
}

pub fn render(out: &mut dyn Write, files: &[FileReport<'_>]) -> std::io::Result<()> {
    let mut h = String::new();
    let total: usize = files.iter().map(|f| f.audit.findings.len()).sum();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>tikguard audit</title><style>{STYLE}{}</style></head><body>\
         <header><h1>tikguard audit</h1><p>{} file(s), {total} finding(s)</p></header>",
        filter_css(),
        files.len()
    );
    filter_bar(&mut h, files);
    h.push_str("<main>");
    if files.len() > 1 {
        h.push_str("<ul class=\"toc\">");
        for (fi, f) in files.iter().enumerate() {
            let _ = write!(
                h,
                "<li><a href=\"#file-{}\">{}</a> ({} findings)</li>",
                fi + 1,
                esc(f.path),
                f.audit.findings.len()
            );
        }
        h.push_str("</ul>");
    }
    for (fi, f) in files.iter().enumerate() {
        let anchor = format!("file-{}", fi + 1);
        let version = f
            .version
            .as_deref()
            .map(|v| format!("RouterOS {}", esc(v)))
            .unwrap_or_else(|| "no version header".into());
        let input = &f.audit.input;
        let _ = write!(
            h,
            "<section class=\"file\" id=\"{anchor}\"><h2><a href=\"#{anchor}\">{}</a></h2><div class=\"loc\">{version}; <span class=\"kind\">{}</span></div>",
            esc(f.path),
            input.kind.describe()
        );
        if input.kind != super::kind::Kind::WholeExport {
            let _ = write!(
                h,
                "<p class=\"partial\">{}.<br>{}</p>",
                markup(&input.why),
                markup(&input.note(f.audit.left_out))
            );
        }
        h.push_str("<div class=\"summary\">");
        for s in SEVERITIES {
            let n = f.audit.findings.iter().filter(|x| x.severity == s).count();
            let _ = write!(
                h,
                "<span class=\"pill {}\">{n} {}</span>",
                s.as_str(),
                s.as_str()
            );
        }
        h.push_str("</div>");
        if f.audit.need_live > 0 {
            let _ = write!(
                h,
                "<p class=\"partial\">{}</p>",
                markup(&super::report::need_live_note(f.audit.need_live))
            );
        }
        for (level, d) in f.all_diagnostics() {
            let _ = write!(
                h,
                "<div class=\"finding\"><span class=\"head\">parse {level}</span> \
                 <span class=\"loc\">line {} column {}</span><div>{}</div></div>",
                d.line,
                d.column,
                esc(&d.message)
            );
        }
        let id_of = |x: &super::Finding| {
            let n = f
                .audit
                .findings
                .iter()
                .position(|y| std::ptr::eq(y, x))
                .unwrap_or(0);
            format!("{anchor}-f{}", n + 1)
        };
        let first = super::report::fix_first(&f.audit.findings);
        if !first.is_empty() {
            h.push_str("<h3>Fix first</h3><ol class=\"fixfirst\">");
            for (fix, fs) in &first {
                // A rule that appears twice is told apart by what its message names first.
                let links: Vec<String> = fs
                    .iter()
                    .map(|x| {
                        let twice = fs.iter().filter(|y| y.rule == x.rule).count() > 1;
                        let what = x
                            .message
                            .split('`')
                            .nth(1)
                            .filter(|_| twice)
                            .map(|w| format!(" <code>{}</code>", esc(w)))
                            .unwrap_or_default();
                        format!("<a href=\"#{}\">{}{what}</a>", id_of(x), x.rule)
                    })
                    .collect();
                let _ = write!(
                    h,
                    "<li><pre><code>{}</code></pre> <span class=\"loc\">({})</span></li>",
                    esc(&fix.join("\n")),
                    links.join(", ")
                );
            }
            h.push_str("</ol>");
        }
        matrix(&mut h, f, &anchor);
        h.push_str("<h3>Findings</h3>");
        if f.audit.findings.is_empty() {
            h.push_str("<p>No findings.</p>");
        }
        for (n, x) in f.audit.findings.iter().enumerate() {
            let loc = match (x.line, x.column) {
                (Some(l), Some(c)) => format!("line {l}, column {c}"),
                _ if super::rules::is_live_only(x.rule) => "read live from the router".into(),
                _ => "RouterOS default or whole configuration".into(),
            };
            let _ = write!(
                h,
                "<div class=\"finding sev-{s}\" id=\"{id}\"><div class=\"head\"><span class=\"pill {s}\">{s}</span> \
                 <a class=\"rule\" href=\"#{id}\">{}</a> {}{}</div><div class=\"loc\">{loc}</div>",
                x.rule,
                markup(&x.message),
                if x.assumed {
                    format!(
                        " <span class=\"assumed\">{}</span>",
                        esc(super::report::assumed_note(x).trim())
                    )
                } else {
                    String::new()
                },
                s = x.severity.as_str(),
                id = format!("{anchor}-f{}", n + 1)
            );
            if let Some(e) = &x.evidence {
                let _ = write!(h, "<pre>{}</pre>", esc(e));
            }
            if !x.fix.is_empty() {
                let _ = write!(h, "<pre class=\"fix\">{}</pre>", esc(&x.fix.join("\n")));
            }
            h.push_str("</div>");
        }
        h.push_str("</section>");
    }
    h.push_str("</main></body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::{esc, markup};

    #[test]
    fn message_code_spans_become_code_elements_and_stay_escaped() {
        assert_eq!(
            markup("`api` on `<pppoe-*>` & `x"),
            "<code>api</code> on <code>&lt;pppoe-*&gt;</code> &amp; `x"
        );
    }

    /// The page a reader filters and navigates offline: a checkbox and a CSS rule per
    /// severity, an id on every finding, links that lead to ids that exist, and the exposure
    /// matrix with the internet's cells styled apart from narrow ones.
    #[test]
    fn the_page_has_a_filter_anchors_and_the_exposure_matrix() {
        let text = b"# 2024-01-01 00:00:00 by RouterOS 7.16\n/interface list add name=WAN\n/interface list member add interface=ether1 list=WAN\n/ip service set ssh address=10.0.0.0/24\n".to_vec();
        let (c, p) = routeros_config::Config::load(text);
        let audit = crate::audit::run(
            &c,
            &crate::audit::WanChoice::default(),
            &crate::audit::Selection::default(),
        );
        let files = [super::FileReport {
            path: "r.rsc",
            version: Some("7.16".into()),
            audit: &audit,
            diagnostics: &p.diagnostics,
            warnings: &c.warnings,
        }];
        let mut out = Vec::new();
        super::render(&mut out, &files).unwrap();
        let h = String::from_utf8(out).unwrap();
        for s in ["critical", "high", "medium", "low", "info"] {
            assert!(h.contains(&format!("id=\"show-{s}\" checked")), "{s}");
            assert!(h.contains(&format!(
                "body:has(#show-{s}:not(:checked)) .finding.sev-{s} {{ display: none; }}"
            )));
        }
        let ids: Vec<&str> = h
            .split("id=\"")
            .skip(1)
            .map(|r| &r[..r.find('"').unwrap()])
            .collect();
        for href in h
            .split("href=\"#")
            .skip(1)
            .map(|r| &r[..r.find('"').unwrap()])
        {
            assert!(ids.contains(&href), "#{href} leads nowhere");
        }
        assert_eq!(
            h.matches("class=\"finding sev-").count(),
            audit.findings.len()
        );
        assert!(h.contains("<table class=\"matrix\">"));
        // api from everywhere, ssh only from 10.0.0.0/24.
        assert!(h.contains("<td class=\"w-public\"><div><span class=\"fam\">v4</span> 0.0.0.0/0"));
        assert!(h.contains("<td class=\"w-narrow\"><div><span class=\"fam\">v4</span> 10.0.0.0/24"));
    }

    #[test]
    fn control_characters_are_shown_not_passed_through() {
        assert_eq!(
            esc("comment=\"a\u{1b}[31mred\u{7}\u{0}\u{85}\"\tx\r\n"),
            "comment=&quot;a\\x1b[31mred\\x07\\x00\\x85&quot;\tx\r\n"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
