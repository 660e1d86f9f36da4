//! The audit: rules over one configuration model, and the exposure analysis they share.
//!
//! `run` builds the [`exposure::Exposure`] once, then each rule in [`rules::ALL`] looks at the
//! model and the exposure and pushes [`Finding`]s. Rules never print; reporters in
//! [`report`] turn findings into text or JSON.

pub mod addrset;
pub mod assume;
pub mod exposure;
pub mod firewall;
pub mod html;
pub mod keep;
pub mod kind;
pub mod macserver;
pub mod prefix;
pub mod reach;
pub mod report;
pub mod rules;
pub mod running;
pub mod subscribers;
pub mod summary;
pub mod tunnel;

use routeros_config::secrets::{redact_embedded, redact_embedded_in};
use routeros_config::{Config, Item, Span};
use serde::{Deserialize, Serialize};

pub use exposure::WanChoice;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One problem, where it is, and how to fix it.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// 1-based; absent when the problem is a RouterOS default the export does not show.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The statement's source text, secrets shown as `***`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// `.rsc` lines that resolve it.
    pub fix: Vec<String>,
    /// It rests on what a partial file does not show ([`assume`]): at most medium, not counted
    /// by `--fail-on`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
    /// For an assumed finding, its severity were the file the whole router.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity_if_whole: Option<Severity>,
}

/// A rule: stable id, name, default severity, and its documentation.
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Markdown with *What it checks*, *Why it matters*, *Example* and *Fix*.
    pub doc: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
}

/// What every rule can see.
pub struct Context<'a> {
    pub config: &'a Config,
    pub exposure: exposure::Exposure,
    /// What the running router told (`audit --live`); `None` for a file: the live-only rules
    /// ([`rules::LIVE`]) then find nothing.
    pub live: Option<&'a running::Facts>,
    /// Per family (IPv4, IPv6), how fixes refer to filter rules; built on first use.
    pub(crate) filter_refs: [std::sync::OnceLock<Vec<String>>; 2],
}

impl Context<'_> {
    /// A finding located at the statement that set `key` on `item` (or that created the item).
    pub fn finding(
        &self,
        rule: &Rule,
        item: Option<&Item>,
        key: Option<&str>,
        message: String,
        fix: Vec<String>,
    ) -> Finding {
        let span = item.and_then(|i| {
            key.and_then(|k| i.property(k))
                .map(|p| p.statement)
                .filter(|s| !s.is_empty())
                .or(Some(i.statement).filter(|s| !s.is_empty()))
        });
        self.finding_at(rule, rule.severity, span, message, fix)
    }

    /// The menu of the statement at `span`, when it is one of the menus with secrets of their
    /// own (`/snmp community`); other menus redact alike, so they are not searched (a finding
    /// per rule of a 50,000-rule export must not scan every item).
    fn menu_of(&self, span: Span) -> Option<&str> {
        routeros_config::secrets::menus_with_own_secrets()
            .filter_map(|m| self.config.menu(m))
            .find(|m| {
                m.items.iter().any(|i| i.statement == span)
                    || m.settings.props.iter().any(|p| p.statement == span)
                    || m.items
                        .iter()
                        .any(|i| i.props.iter().any(|p| p.statement == span))
            })
            .map(|m| &*m.path)
    }

    pub fn finding_at(
        &self,
        rule: &Rule,
        severity: Severity,
        span: Option<Span>,
        message: String,
        fix: Vec<String>,
    ) -> Finding {
        let src = self.config.source();
        let (line, column, evidence) = match span {
            Some(s) if (s.end as usize) <= src.len() => {
                let lc = self.config.line_index().line_col(src, s.start as usize);
                let menu = self.menu_of(s);
                let text = redact_evidence(menu, &src[s.range()]);
                (Some(lc.line), Some(lc.column), Some(text))
            }
            _ => (None, None, None),
        };
        Finding {
            rule: rule.id,
            severity,
            message,
            line,
            column,
            evidence,
            fix,
            assumed: false,
            severity_if_whole: None,
        }
    }
}

/// Source text as a report may show it: continuations joined, secret values as `***` (with the
/// menu's own secrets, such as SNMP community names, when the statement's menu is known).
fn redact_evidence(menu: Option<&str>, raw: &[u8]) -> String {
    let joined = routeros_config::escape::join_lines(raw);
    let mut shown = match menu {
        Some(m) => redact_embedded_in(m, &joined).into_owned(),
        None => redact_embedded(&joined).into_owned(),
    };
    if shown.len() > 400 {
        shown.truncate(400);
        shown.extend_from_slice(b"...");
    }
    String::from_utf8_lossy(&shown).trim_end().to_string()
}

/// Which rules run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    fn wants(&self, id: &str) -> bool {
        let hit = |list: &[String]| list.iter().any(|p| id.starts_with(p.as_str()));
        (self.select.is_empty() || hit(&self.select)) && !hit(&self.ignore)
    }
}

pub struct Audit {
    pub findings: Vec<Finding>,
    pub exposure: exposure::Exposure,
    /// What was audited: a whole export unless [`try_run_input`] says otherwise.
    pub input: assume::Input,
    /// Assumed findings left out because they rest on RouterOS' defaults alone: no line of the
    /// file is in them ([`assume`]).
    pub left_out: usize,
    /// Live-only rules selected that could not run: the input is a file, not a router.
    pub need_live: usize,
}

impl Audit {
    /// Whether a finding counts against `--fail-on`: at or above `fail_on`, and not assumed.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| !f.assumed && f.severity >= fail_on)
    }
}

/// Runs the selected rules over a configuration. Should a filter table be too large to
/// evaluate within the default [`firewall::Limits`], its exposure is over-approximated (see
/// [`firewall::Budget`]); [`try_run`] says so as an error instead.
pub fn run(config: &Config, wan: &WanChoice, selection: &Selection) -> Audit {
    run_within(config, wan, selection, firewall::Limits::default(), None)
}

/// Audits a file as what it is ([`kind`], [`assume`]): a whole export, or a file given
/// `--assume`, as the router `config` describes (for `--assume defconf`, the caller passes
/// [`assume::on_defconf`]); another file on RouterOS' defaults, its findings that rest on what
/// it does not show marked assumed.
pub fn try_run_input(
    parsed: &routeros_config::Parsed,
    config: &Config,
    input: assume::Input,
    wan: &WanChoice,
    selection: &Selection,
    limits: firewall::Limits,
) -> Result<Audit, firewall::Exhausted> {
    try_run_input_live(parsed, config, input, wan, selection, limits, None)
}

/// [`try_run_input`] with what a running router told ([`running`]): the live-only rules judge
/// it. Without it, they are counted in [`Audit::need_live`].
pub fn try_run_input_live(
    parsed: &routeros_config::Parsed,
    config: &Config,
    input: assume::Input,
    wan: &WanChoice,
    selection: &Selection,
    limits: firewall::Limits,
    live: Option<&running::Facts>,
) -> Result<Audit, firewall::Exhausted> {
    let mut audit = run_within(config, wan, selection, limits, live);
    audit.exposure.v4.budget().check("IPv4 filter table")?;
    audit.exposure.v6.budget().check("IPv6 filter table")?;
    if input.partial() {
        let safest = try_run(&assume::on_safest(parsed), wan, selection, limits)?;
        assume::mark(&mut audit.findings, &safest.findings);
        let before = audit.findings.len();
        audit.findings.retain(|f| !(f.assumed && f.line.is_none()));
        audit.left_out = before - audit.findings.len();
        sort(&mut audit.findings);
    }
    audit.input = input;
    Ok(audit)
}

/// [`run`], or the reason the firewall evaluation was cut short by `limits`.
pub fn try_run(
    config: &Config,
    wan: &WanChoice,
    selection: &Selection,
    limits: firewall::Limits,
) -> Result<Audit, firewall::Exhausted> {
    let audit = run_within(config, wan, selection, limits, None);
    audit.exposure.v4.budget().check("IPv4 filter table")?;
    audit.exposure.v6.budget().check("IPv6 filter table")?;
    Ok(audit)
}

fn run_within(
    config: &Config,
    wan: &WanChoice,
    selection: &Selection,
    limits: firewall::Limits,
    live: Option<&running::Facts>,
) -> Audit {
    let cx = Context {
        config,
        live,
        exposure: exposure::analyse_within(config, wan, limits),
        filter_refs: Default::default(),
    };
    let mut findings = Vec::new();
    for rule in rules::ALL {
        if selection.wants(rule.id) {
            (rule.check)(&cx, &mut findings);
        }
    }
    let mut need_live = 0;
    for rule in rules::LIVE {
        if !selection.wants(rule.id) {
            continue;
        }
        if live.is_some() {
            (rule.check)(&cx, &mut findings);
        } else {
            need_live += 1;
        }
    }
    sort(&mut findings);
    Audit {
        findings,
        exposure: cx.exposure,
        input: assume::Input::default(),
        left_out: 0,
        need_live,
    }
}

/// Most severe first; within a severity, facts before assumed findings, findings on a line of
/// the file (the ones to edit) before those about defaults, then in file order.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.assumed.cmp(&b.assumed))
            .then(a.line.is_none().cmp(&b.line.is_none()))
            .then(a.line.cmp(&b.line))
            .then(a.rule.cmp(b.rule))
    });
}
