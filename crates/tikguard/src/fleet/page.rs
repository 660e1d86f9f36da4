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
