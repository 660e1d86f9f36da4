//! One self-contained HTML page per audit: no external stylesheet, script, font or image, so it
//! can be mailed, attached to a ticket or opened offline.

use std::fmt::Write as _;
use std::io::Write;

use super::report::FileReport;
use super::Severity;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
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

const STYLE: &str = r#"
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
td.open { color: var(--crit); font-weight: 600; }
td.closed { color: #2f9e44; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
"#;

pub fn render(out: &mut dyn Write, files: &[FileReport<'_>]) -> std::io::Result<()> {
    let mut h = String::new();
    let total: usize = files.iter().map(|f| f.audit.findings.len()).sum();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>tikguard audit</title><style>{STYLE}</style></head><body>\
         <header><h1>tikguard audit</h1><p>{} file(s), {total} finding(s)</p></header><main>",
        files.len()
    );
    for f in files {
        let version = f
            .version
            .as_deref()
            .map(|v| format!("RouterOS {}", esc(v)))
            .unwrap_or_else(|| "no version header".into());
        let _ = write!(
            h,
            "<section class=\"file\"><h2>{}</h2><div class=\"loc\">{version}</div><div class=\"summary\">",
            esc(f.path)
        );
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = f.audit.findings.iter().filter(|x| x.severity == s).count();
            let _ = write!(
                h,
                "<span class=\"pill {}\">{n} {}</span>",
                s.as_str(),
                s.as_str()
            );
        }
        h.push_str("</div>");
        for d in f.diagnostics {
            let _ = write!(
                h,
                "<div class=\"finding\"><span class=\"head\">parse error</span> \
                 <span class=\"loc\">line {} column {}</span><div>{}</div></div>",
                d.line,
                d.column,
                esc(&d.message)
            );
        }
        let first = super::report::fix_first(&f.audit.findings);
        if !first.is_empty() {
            h.push_str("<h3>Fix first</h3><ol class=\"fixfirst\">");
            for (line, fs) in &first {
                let mut rules: Vec<&str> = fs.iter().map(|f| f.rule).collect();
                rules.dedup();
                let _ = write!(
                    h,
                    "<li><code>{}</code> <span class=\"loc\">({})</span></li>",
                    esc(line),
                    esc(&rules.join(", "))
                );
            }
            h.push_str("</ol>");
        }
        h.push_str("<h3>Findings</h3>");
        if f.audit.findings.is_empty() {
            h.push_str("<p>No findings.</p>");
        }
        for x in &f.audit.findings {
            let loc = match (x.line, x.column) {
                (Some(l), Some(c)) => format!("line {l}, column {c}"),
                _ => "RouterOS default or whole configuration".into(),
            };
            let _ = write!(
                h,
                "<div class=\"finding sev-{s}\"><div class=\"head\"><span class=\"pill {s}\">{s}</span> \
                 <span class=\"rule\">{}</span>{}</div><div class=\"loc\">{loc}</div>",
                x.rule,
                esc(&x.message),
                s = x.severity.as_str()
            );
            if let Some(e) = &x.evidence {
                let _ = write!(h, "<pre>{}</pre>", esc(e));
            }
            if !x.fix.is_empty() {
                let _ = write!(h, "<pre class=\"fix\">{}</pre>", esc(&x.fix.join("\n")));
            }
            h.push_str("</div>");
        }
        let _ = write!(
            h,
            "<h3>Exposure on the WAN side</h3><p class=\"loc\">WAN: {} ({})</p>\
             <table><tr><th>service</th><th>port</th><th>family</th><th>interface</th><th>reachable from</th></tr>",
            esc(&f.audit.exposure.wan.join(", ")),
            esc(&f.audit.exposure.wan_source)
        );
        for r in f.audit.exposure.rows.iter().filter(|r| r.enabled) {
            let (class, from) = if r.reachable_from.is_empty() {
                ("closed", "nowhere".to_string())
            } else {
                ("open", r.reachable_from.join(", "))
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"{class}\">{}</td></tr>",
                esc(&r.service),
                r.port,
                r.family,
                esc(&r.interface),
                esc(&from)
            );
        }
        h.push_str("</table></section>");
    }
    h.push_str("</main></body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
