//! `summary.html`: the fleet on one page, from what `summary.json` holds. Self-contained like
//! the single-router report ([`crate::audit::html`], whose style it reuses): no external
//! stylesheet, script, font or image, so it opens offline and from a mail attachment. The table
//! sorts by any column (a click on its head; a small inline script) and filters by text and by
//! state; without scripts it is the same table, sorted by risk.
//!
//! Everything that comes from a router or the inventory (names, versions, reasons, messages)
//! is escaped as text; links to the per-router reports are relative and percent-encoded, so a
//! name cannot leave the folder or become a `javascript:` URL.

use std::fmt::Write as _;
use std::io::Write;

use crate::audit::html::{esc, STYLE};
use crate::fleet::result::{RouterResult, Summary};

/// The page's rows from `summary.json`; `report` is the router's HTML page, named as its
/// JSON file with `.html`.
pub fn rows_of(summary: &Summary) -> Vec<Row> {
    summary
        .routers
        .iter()
        .map(|r| {
            let api = r
                .api_exposure
                .iter()
                .filter(|s| s.service == "api" || s.service == "api-ssl")
                .map(|s| s.reach)
                .max();
            Row {
                name: r.name.clone(),
                address: r.address.clone(),
                group: r.group.clone().unwrap_or_default(),
                unreachable: (!r.status.is_reached()).then(|| match r.status.detail() {
                    Some(d) => format!("{}: {d}", r.status.word()),
                    None => r.status.word().to_string(),
                }),
                version: r.version.clone(),
                counts: [
                    r.counts.critical as u64,
                    r.counts.high as u64,
                    r.counts.medium as u64,
                    r.counts.low as u64,
                    r.counts.info as u64,
                ],
                api_exposure: api.map(|a| a.as_str().to_string()),
                first_fix: r
                    .first_fix
                    .as_ref()
                    .map(|f| format!("{}: {}", f.rule, f.message)),
                report: html_name(&r.file),
                cert_days_left: r.cert_days_left,
                cert_not_after: r.cert_not_after.clone(),
            }
        })
        .collect()
}

/// `core-1.json` -> `core-1.html`; `None` for a name that is not a plain JSON file name.
fn html_name(json_file: &str) -> Option<String> {
    let stem = json_file.strip_suffix(".json")?;
    (!stem.is_empty() && !stem.contains(['/', '\\']) && !stem.starts_with('.'))
        .then(|| format!("{stem}.html"))
}

/// Writes `summary.html` and each router's page into the output folder.
pub fn write(
    dir: &std::path::Path,
    summary: &Summary,
    results: &[RouterResult],
) -> Result<(), String> {
    let write_file = |name: &str, render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        render(&mut buf).map_err(|e| e.to_string())?;
        let p = dir.join(name);
        std::fs::write(&p, buf).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    for row in &summary.routers {
        let Some(r) = results.iter().find(|r| r.name == row.name) else {
            continue;
        };
        if let Some(name) = html_name(&row.file) {
            write_file(&name, &|b| router_page(b, r))?;
        }
    }
    let title = format!("tikguard fleet {}", summary.job);
    write_file("summary.html", &|b| render(b, &title, &rows_of(summary)))
}

/// One router's page: its state, counts, the services' reach and the findings with their fix.
pub fn router_page(out: &mut dyn Write, r: &RouterResult) -> std::io::Result<()> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{n}</title><style>{STYLE}{PAGE_STYLE}</style></head><body>\
         <header><h1>{n}</h1><p>{a} &middot; {state}{v}</p></header><main><p><a href=\"./summary.html\">&larr; the fleet</a></p><section class=\"file\">",
        n = esc(&r.name),
        a = esc(&r.address),
        state = esc(&match r.status.detail() {
            Some(d) => format!("{}: {d}", r.status.word()),
            None => r.status.word().to_string(),
        }),
        v = r
            .version
            .as_deref()
            .map(|v| format!(" &middot; RouterOS {}", esc(v)))
            .unwrap_or_default(),
    );
    h.push_str("<div class=\"summary\">");
    for (n, s) in [
        (r.counts.critical, "critical"),
        (r.counts.high, "high"),
        (r.counts.medium, "medium"),
        (r.counts.low, "low"),
        (r.counts.info, "info"),
    ] {
        let _ = write!(h, "<span class=\"pill {s}\">{n} {s}</span>");
    }
    h.push_str("</div>");
    if !r.api_exposure.is_empty() {
        h.push_str("<h2>Services</h2><table><thead><tr><th>Service</th><th>Port</th><th>Reached from</th></tr></thead><tbody>");
        for s in &r.api_exposure {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"exp-{w}\">{w}</td></tr>",
                esc(&s.service),
                s.port,
                w = s.reach.as_str()
            );
        }
        h.push_str("</tbody></table>");
    }
    if !r.findings.is_empty() {
        h.push_str("<h2>Findings</h2>");
    }
    for f in &r.findings {
        let sev = f.severity.as_str();
        let _ = write!(
            h,
            "<div class=\"finding sev-{sev}\"><div class=\"head\"><span class=\"pill {sev}\">{sev}</span> <span class=\"rule\">{}</span>{}</div>",
            esc(&f.rule),
            esc(&f.message)
        );
        if !f.fix.is_empty() {
            let _ = write!(h, "<pre class=\"fix\">{}</pre>", esc(&f.fix.join("\n")));
        }
        h.push_str("</div>");
    }
    h.push_str("</section></main></body></html>\n");
    out.write_all(h.as_bytes())
}

/// One router as the page shows it.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub name: String,
    pub address: String,
    pub group: String,
    /// `None` when the router was read; else why not (refused, TLS mismatch, timeout, bad
    /// login).
    pub unreachable: Option<String>,
    pub version: Option<String>,
    /// Findings: critical, high, medium, low, info.
    pub counts: [u64; 5],
    /// The API's widest reach (`internet`, `private`, `explicit`, `closed`), when known.
    pub api_exposure: Option<String>,
    pub first_fix: Option<String>,
    /// The router's own HTML report, a file name in the same folder.
    pub report: Option<String>,
    /// The API-SSL certificate's days left and notAfter, when TLS got that far.
    pub cert_days_left: Option<i64>,
    pub cert_not_after: Option<String>,
}

const PAGE_STYLE: &str = r#"
table.fleet th { cursor: pointer; user-select: none; white-space: nowrap; }
table.fleet th[aria-sort=ascending]::after { content: " \25B2"; }
table.fleet th[aria-sort=descending]::after { content: " \25BC"; }
table.fleet td.nw { overflow-wrap: normal; white-space: nowrap; }
table.fleet td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.fleet td.n.hot { color: var(--crit); font-weight: 700; }
.state-down { color: var(--crit); }
.exp-internet { background: #ffe3e3; } .exp-private { background: #fff0db; } .exp-explicit { background: #fff9db; } .exp-closed { background: #ebfbee; }
nav.filter input[type=search] { padding: 4px 8px; min-width: 16em; }
"#;

/// The sort and filter: rows carry their sort keys in `data-*`; nothing is fetched.
const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('fleet'), body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var q = document.getElementById('q'), st = document.getElementById('state');
  function apply() {
    var text = q.value.toLowerCase(), want = st.value;
    rows.forEach(function (r) {
      var ok = (!text || r.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!want || r.getAttribute('data-state') === want || (want === 'exposed' && r.getAttribute('data-exposed') === '1'));
      r.hidden = !ok;
    });
  }
  q.addEventListener('input', apply); st.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var num = th.getAttribute('data-type') === 'n';
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-v'), y = b.cells[i].getAttribute('data-v');
        var c = num ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
"#;

/// A file name as a relative link: every byte but unreserved ones percent-encoded, so `/`,
/// `:`, `?` and `#` cannot make it another path, a scheme or a fragment.
fn href(file: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let enc = percent_encoding::utf8_percent_encode(file, KEEP).to_string();
    // A name starting with a dot stays a file in this folder.
    format!("./{enc}")
}

fn exposure_rank(e: Option<&str>) -> u8 {
    match e {
        Some("internet") => 4,
        Some("private") => 3,
        Some("explicit") => 2,
        Some("closed") => 1,
        _ => 0,
    }
}

/// Writes the page. Rows come sorted by risk: unreachable first (nothing is known), then by
/// critical, high, API exposure, then name.
pub fn render(out: &mut dyn Write, title: &str, rows: &[Row]) -> std::io::Result<()> {
    let mut rows: Vec<&Row> = rows.iter().collect();
    rows.sort_by(|a, b| {
        b.unreachable
            .is_some()
            .cmp(&a.unreachable.is_some())
            .then(b.counts[0].cmp(&a.counts[0]))
            .then(b.counts[1].cmp(&a.counts[1]))
            .then(
                exposure_rank(b.api_exposure.as_deref())
                    .cmp(&exposure_rank(a.api_exposure.as_deref())),
            )
            .then(a.name.cmp(&b.name))
    });
    let down = rows.iter().filter(|r| r.unreachable.is_some()).count();
    let exposed = rows
        .iter()
        .filter(|r| r.api_exposure.as_deref() == Some("internet"))
        .count();
    let critical: u64 = rows.iter().map(|r| r.counts[0]).sum();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}{PAGE_STYLE}</style></head><body>\
         <header><h1>{t}</h1><p>{n} router(s): {down} not read, {exposed} with the API reachable from the internet, {critical} critical finding(s)</p></header>",
        t = esc(title),
        n = rows.len(),
    );
    h.push_str(
        "<nav class=\"filter\" aria-label=\"filter\"><label>Find: <input type=\"search\" id=\"q\" placeholder=\"name, version, group...\"></label>\
         <label>Show: <select id=\"state\"><option value=\"\">all</option><option value=\"down\">not read</option>\
         <option value=\"up\">read</option><option value=\"exposed\">API reachable from the internet</option></select></label></nav>",
    );
    h.push_str("<main><section class=\"file\"><div class=\"scroll\"><table class=\"fleet\" id=\"fleet\"><thead><tr>");
    for (head, kind) in [
        ("Router", "s"),
        ("Address", "s"),
        ("Group", "s"),
        ("State", "s"),
        ("RouterOS", "s"),
        ("Critical", "n"),
        ("High", "n"),
        ("Medium", "n"),
        ("Low", "n"),
        ("API exposure", "n"),
        ("Certificate days left", "n"),
        ("First thing to fix", "s"),
    ] {
        let _ = write!(h, "<th data-type=\"{kind}\" scope=\"col\">{head}</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for r in rows {
        let state = if r.unreachable.is_some() {
            "down"
        } else {
            "up"
        };
        let exp = r.api_exposure.as_deref();
        let _ = write!(
            h,
            "<tr data-state=\"{state}\" data-exposed=\"{}\">",
            u8::from(exp == Some("internet"))
        );
        let name = match &r.report {
            Some(f) => format!("<a href=\"{}\">{}</a>", esc(&href(f)), esc(&r.name)),
            None => esc(&r.name),
        };
        let _ = write!(h, "<td data-v=\"{}\">{name}</td>", esc(&r.name));
        for v in [&r.address, &r.group] {
            let _ = write!(h, "<td class=\"nw\" data-v=\"{0}\">{0}</td>", esc(v));
        }
        match &r.unreachable {
            Some(why) => {
                let _ = write!(
                    h,
                    "<td data-v=\"0 {0}\" class=\"state-down\">not read: {0}</td>",
                    esc(why)
                );
            }
            None => h.push_str("<td data-v=\"1\">read</td>"),
        }
        let v = r.version.as_deref().unwrap_or("");
        let _ = write!(h, "<td class=\"nw\" data-v=\"{0}\">{0}</td>", esc(v));
        for (i, n) in r.counts.iter().take(4).enumerate() {
            let hot = if i == 0 && *n > 0 { " hot" } else { "" };
            if r.unreachable.is_some() {
                h.push_str("<td class=\"n\" data-v=\"-1\"></td>");
            } else {
                let _ = write!(h, "<td class=\"n{hot}\" data-v=\"{n}\">{n}</td>");
            }
        }
        let _ = write!(
            h,
            "<td data-v=\"{}\" class=\"exp-{}\">{}</td>",
            exposure_rank(exp),
            esc(exp.unwrap_or("unknown")),
            esc(exp.unwrap_or(""))
        );
        // Sorted as numbers: an unknown certificate (plaintext API, not reached) sorts last
        // when the soonest expiry comes first.
        match r.cert_days_left {
            Some(d) => {
                let soon = if d <= 30 { " hot" } else { "" };
                let _ = write!(
                    h,
                    "<td class=\"n{soon}\" data-v=\"{d}\" title=\"{}\">{d}</td>",
                    esc(r.cert_not_after.as_deref().unwrap_or(""))
                );
            }
            None => h.push_str("<td class=\"n\" data-v=\"1e9\"></td>"),
        }
        let fix = r.first_fix.as_deref().unwrap_or("");
        let _ = write!(h, "<td data-v=\"{0}\">{0}</td></tr>", esc(fix));
    }
    let _ = writeln!(
        h,
        "</tbody></table></div></section></main><script>{SCRIPT}</script></body></html>"
    );
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(rows: &[Row]) -> String {
        let mut out = Vec::new();
        render(&mut out, "fleet", rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_router_named_script_shows_as_text() {
        let html = page(&[Row {
            name: "<script>alert(1)</script>".into(),
            version: Some("7.18\"><img src=x onerror=alert(1)>".into()),
            unreachable: Some("<b>refused</b>".into()),
            report: Some("<script>alert(1)</script>.html".into()),
            ..Default::default()
        }]);
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>refused"), "{html}");
        // One script element: the page's own.
        assert_eq!(html.matches("<script>").count(), 1);
    }

    #[test]
    fn report_links_stay_in_the_folder() {
        assert_eq!(href("core-1.html"), "./core-1.html");
        assert_eq!(href("../etc/passwd"), "./..%2Fetc%2Fpasswd");
        assert_eq!(href("javascript:alert(1)"), "./javascript%3Aalert%281%29");
    }

    #[test]
    fn the_page_needs_nothing_from_the_network() {
        let html = page(&[Row {
            name: "core-1".into(),
            report: Some("core-1.html".into()),
            ..Default::default()
        }]);
        for outside in ["http://", "https://", "//", "src=", "@import", "url("] {
            let found = html
                .match_indices(outside)
                .map(|(i, _)| &html[i.saturating_sub(30)..(i + 30).min(html.len())])
                .collect::<Vec<_>>();
            // `//` appears in no comment or URL of the page.
            assert!(found.is_empty(), "{outside}: {found:?}");
        }
    }

    #[test]
    fn the_output_folder_gets_the_fleet_page_and_one_page_per_router_linked_from_it() {
        use crate::fleet::result::{RouterResult, Status, Summary, SummaryRow};
        let dir = tempfile::tempdir().unwrap();
        let mut evil =
            RouterResult::new("<script>x</script>", "192.0.2.1:8729", "audit", Status::Ok);
        evil.version = Some("7.18".into());
        let down = RouterResult::new("core-1", "192.0.2.2:8729", "audit", Status::Refused);
        let results = vec![evil, down];
        let rows: Vec<SummaryRow> = results
            .iter()
            .map(|r| {
                SummaryRow::of(
                    r,
                    &format!("{}.json", crate::fleet::output::file_name(&r.name)),
                )
            })
            .collect();
        let summary = Summary::of("audit", "2026-12-05T00:00:00Z".into(), rows);
        write(dir.path(), &summary, &results).unwrap();
        let page = std::fs::read_to_string(dir.path().join("summary.html")).unwrap();
        let evil_file = format!(
            "{}.html",
            crate::fleet::output::file_name("<script>x</script>")
        );
        assert!(
            page.contains(&format!("href=\"{}\"", href(&evil_file))),
            "{page}"
        );
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(page.contains("not read: refused"), "{page}");
        let router = std::fs::read_to_string(dir.path().join(&evil_file)).unwrap();
        assert!(
            router.contains("<h1>&lt;script&gt;x&lt;/script&gt;</h1>"),
            "{router}"
        );
        assert!(!router.contains("<script>"), "{router}");
        assert!(dir.path().join("core-1.html").exists());
    }

    #[test]
    fn rows_come_riskiest_first() {
        let html = page(&[
            Row {
                name: "quiet".into(),
                api_exposure: Some("closed".into()),
                ..Default::default()
            },
            Row {
                name: "open".into(),
                counts: [1, 0, 0, 0, 0],
                api_exposure: Some("internet".into()),
                ..Default::default()
            },
            Row {
                name: "down".into(),
                unreachable: Some("refused".into()),
                ..Default::default()
            },
        ]);
        let at = |n: &str| html.find(&format!("data-v=\"{n}\">")).unwrap();
        assert!(at("down") < at("open") && at("open") < at("quiet"));
    }
}
