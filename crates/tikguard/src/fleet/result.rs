//! What a fleet run writes: one [`RouterResult`] per router (`<router>.json` in the output
//! folder) and one [`Summary`] (`summary.json`). Both read back (`fleet merge`, `fleet diff`,
//! the exporter), so every type here is `Serialize + Deserialize`, and fields are only ever
//! added (with `#[serde(default)]`), never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::Severity;

/// The `schema_version` of `<router>.json` and `summary.json`.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether a router could be read, and if not, why. The order is the terminal summary's (worst
/// first is not implied; [`Status::is_reached`] says which ones carry results).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Status {
    /// Connected, logged in (where the job logs in), and the job ran.
    Ok,
    /// The TCP connection was refused (nothing listens on the port).
    Refused,
    /// Connecting, the TLS handshake, the login or a command took longer than the timeout.
    Timeout { during: Phase },
    /// The certificate did not match the CA, the pin or the known-routers entry.
    TlsMismatch { detail: String },
    /// Another TLS failure (no suite in common, a handshake alert, not TLS at all).
    TlsError { detail: String },
    /// The router refused the user or the password.
    BadLogin { detail: String },
    /// Only the plaintext API answers where API-SSL was asked for (or the reverse).
    WrongService { detail: String },
    /// The router answered something that is not the RouterOS API, or more than the limits allow.
    Protocol { detail: String },
    /// The name did not resolve, the network is unreachable, or another I/O error.
    Unreachable { detail: String },
    /// Configuration on our side: a credential that cannot be read, a bad pin.
    Config { detail: String },
    /// The job ran but the router refused it (a plan whose lockout proof failed, a command
    /// error).
    JobRefused { detail: String },
    /// The run was interrupted (Ctrl-C) before this router was done.
    Interrupted,
    /// Not started: the run stopped starting routers (`fleet harden --apply` at the first
    /// refusal or failure, without `--keep-going`); the detail says which router stopped it.
    NotStarted { detail: String },
}

/// Where a timeout happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Connect,
    Tls,
    Login,
    Command,
}

impl Status {
    /// A short stable word for the terminal and the summary's counts.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Refused => "refused",
            Status::Timeout { .. } => "timeout",
            Status::TlsMismatch { .. } => "tls-mismatch",
            Status::TlsError { .. } => "tls-error",
            Status::BadLogin { .. } => "bad-login",
            Status::WrongService { .. } => "wrong-service",
            Status::Protocol { .. } => "protocol",
            Status::Unreachable { .. } => "unreachable",
            Status::Config { .. } => "config",
            Status::JobRefused { .. } => "job-refused",
            Status::Interrupted => "interrupted",
            Status::NotStarted { .. } => "not-started",
        }
    }

    /// The router was read: its results are in the record.
    pub fn is_reached(&self) -> bool {
        matches!(self, Status::Ok | Status::JobRefused { .. })
    }

    /// The detail text, if any (from the router or the OS: escape before printing).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Status::TlsMismatch { detail }
            | Status::TlsError { detail }
            | Status::BadLogin { detail }
            | Status::WrongService { detail }
            | Status::Protocol { detail }
            | Status::Unreachable { detail }
            | Status::Config { detail }
            | Status::JobRefused { detail }
            | Status::NotStarted { detail } => Some(detail),
            _ => None,
        }
    }
}

/// Findings counted by severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    #[serde(default)]
    pub critical: usize,
    #[serde(default)]
    pub high: usize,
    #[serde(default)]
    pub medium: usize,
    #[serde(default)]
    pub low: usize,
    #[serde(default)]
    pub info: usize,
}

impl Counts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }

    pub fn merge(&mut self, o: &Counts) {
        self.critical += o.critical;
        self.high += o.high;
        self.medium += o.medium;
        self.low += o.low;
        self.info += o.info;
    }

    /// How many findings are at `s` or worse.
    pub fn at_least(&self, s: Severity) -> usize {
        [
            (Severity::Critical, self.critical),
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
            (Severity::Info, self.info),
        ]
        .iter()
        .filter(|(sev, _)| *sev >= s)
        .map(|(_, n)| n)
        .sum()
    }
}

/// One finding, in the single-router JSON schema (`audit --format json`, `files[].findings[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default)]
    pub fix: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_if_whole: Option<Severity>,
}

impl From<&crate::audit::Finding> for FindingRecord {
    fn from(f: &crate::audit::Finding) -> Self {
        FindingRecord {
            rule: f.rule.to_string(),
            severity: f.severity,
            message: f.message.clone(),
            line: f.line,
            column: f.column,
            evidence: f.evidence.clone(),
            fix: f.fix.clone(),
            assumed: f.assumed,
            severity_if_whole: f.severity_if_whole,
        }
    }
}

/// How far a management service is reached from outside, the widest of its rows in the
/// audit's exposure model ([`crate::audit::exposure`], [`crate::audit::reach`]: WAN interfaces,
/// subscribers, the LAN side of a DHCP-client access point). The one scale of the fleet's
/// results and the exporter's `tikguard_service_reach`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// Disabled, or no source reaches it.
    Closed,
    /// Only explicitly listed sources (an allow-list, `address=`): at most a /16 of IPv4, a
    /// /48 of IPv6, or the local link.
    Explicit,
    /// A large part of private or CGNAT space (RFC 1918, RFC 6598), or subscribers.
    Private,
    /// A large public space: the internet.
    Internet,
}

impl Reach {
    /// Widest first.
    pub const ALL: [Reach; 4] = [
        Reach::Internet,
        Reach::Private,
        Reach::Explicit,
        Reach::Closed,
    ];

    /// The word `summary.json`, the terminal, the pages and the metrics use.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Closed => "closed",
            Reach::Explicit => "explicit",
            Reach::Private => "private",
            Reach::Internet => "internet",
        }
    }

    /// One row of the exposure table.
    pub fn of_row(row: &crate::audit::exposure::Row) -> Reach {
        use crate::audit::reach::Width;
        if !row.enabled || row.set.is_empty() {
            return Reach::Closed;
        }
        match row.width() {
            Width::Public => Reach::Internet,
            Width::Private => Reach::Private,
            Width::Narrow => Reach::Explicit,
        }
    }
}

/// One management service's reach (`api`, `api-ssl`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReach {
    pub service: String,
    pub port: u16,
    pub reach: Reach,
}

/// The first thing to fix: the worst finding (severity, then rule id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstFix {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
}

/// The API-SSL certificate as seen on the wire (probe, pins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSeen {
    /// SHA-256 of the DER certificate, lowercase hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Days until `not_after` at the time of the run (negative: expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

/// One router's result: `<router>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouterResult {
    pub schema_version: u32,
    /// The inventory name (may hold anything: escape it on a terminal; the file name is
    /// `output::file_name`'s).
    pub name: String,
    /// `host:port` as dialled.
    pub address: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `audit`, `probe`, `exec`, `pins`, `harden`.
    pub job: String,
    pub status: Status,
    /// RouterOS version, when read.
    #[serde(default)]
    pub version: Option<String>,
    /// `/system identity` name, when read (hostile text).
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub counts: Counts,
    /// Each management service's reach (audit), or whether its port answered (probe).
    #[serde(default)]
    pub api_exposure: Vec<ServiceReach>,
    #[serde(default)]
    pub first_fix: Option<FirstFix>,
    /// The audit's findings, as `audit --format json` writes them.
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
    /// The certificate presented, when TLS got that far.
    #[serde(default)]
    pub cert: Option<CertSeen>,
    /// The job's own output where it has one: `exec`'s replies, `probe`'s report, `harden`'s
    /// plan (the `.rsc` text), as the single-router command writes it in JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// Connection attempts made (1 + retries used).
    #[serde(default)]
    pub attempts: u32,
    /// Wall time for this router, milliseconds, all attempts.
    #[serde(default)]
    pub duration_ms: u64,
}

impl RouterResult {
    /// A record for `name` with nothing read yet.
    pub fn new(name: &str, address: &str, job: &str, status: Status) -> Self {
        RouterResult {
            schema_version: SCHEMA_VERSION,
            name: name.to_string(),
            address: address.to_string(),
            group: None,
            tags: Vec::new(),
            job: job.to_string(),
            status,
            version: None,
            identity: None,
            counts: Counts::default(),
            api_exposure: Vec::new(),
            first_fix: None,
            findings: Vec::new(),
            cert: None,
            output: None,
            attempts: 0,
            duration_ms: 0,
        }
    }

    /// Sets `findings`, `counts` and `first_fix` from an audit's findings.
    pub fn set_findings(&mut self, findings: Vec<FindingRecord>) {
        let mut counts = Counts::default();
        for f in &findings {
            if !f.assumed {
                counts.add(f.severity);
            }
        }
        self.first_fix = findings
            .iter()
            .filter(|f| !f.assumed)
            .max_by(|a, b| a.severity.cmp(&b.severity).then(b.rule.cmp(&a.rule)))
            .map(|f| FirstFix {
                rule: f.rule.clone(),
                severity: f.severity,
                message: f.message.clone(),
            });
        self.counts = counts;
        self.findings = findings;
    }

    /// The widest reach of a service named `service` (`api`, `api-ssl`).
    pub fn reach_of(&self, service: &str) -> Option<Reach> {
        self.api_exposure
            .iter()
            .filter(|s| s.service == service)
            .map(|s| s.reach)
            .max()
    }
}

/// One router's line in `summary.json`: the record without its findings and output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub name: String,
    /// The router's file in the output folder, relative to it.
    pub file: String,
    pub address: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: Status,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub api_exposure: Vec<ServiceReach>,
    #[serde(default)]
    pub first_fix: Option<FirstFix>,
    #[serde(default)]
    pub cert_sha256: Option<String>,
    /// The API-SSL certificate's notAfter (RFC 3339 UTC), when TLS got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_not_after: Option<String>,
    /// Days from the run to `cert_not_after` (negative: expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_days_left: Option<i64>,
}

impl SummaryRow {
    pub fn of(r: &RouterResult, file: &str) -> Self {
        SummaryRow {
            name: r.name.clone(),
            file: file.to_string(),
            address: r.address.clone(),
            group: r.group.clone(),
            tags: r.tags.clone(),
            status: r.status.clone(),
            version: r.version.clone(),
            counts: r.counts.clone(),
            api_exposure: r.api_exposure.clone(),
            first_fix: r.first_fix.clone(),
            cert_sha256: r.cert.as_ref().map(|c| c.sha256.clone()),
            cert_not_after: r.cert.as_ref().and_then(|c| c.not_after.clone()),
            cert_days_left: r.cert.as_ref().and_then(|c| c.days_left),
        }
    }
}

/// `summary.json`: the whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    /// `audit`, `probe`, `exec`, `pins`, `harden`.
    pub job: String,
    /// RFC 3339 UTC.
    pub started: String,
    #[serde(default)]
    pub finished: Option<String>,
    /// Ctrl-C stopped the run: the routers not done are `interrupted`.
    #[serde(default)]
    pub interrupted: bool,
    /// `K/N` when this folder is one shard; `None` for a whole run or a merge.
    #[serde(default)]
    pub shard: Option<String>,
    /// For a merge: the shards it was made of (`K/N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// Routers per status word ([`Status::word`]).
    #[serde(default)]
    pub by_status: BTreeMap<String, usize>,
    /// Findings over every reached router.
    #[serde(default)]
    pub counts: Counts,
    /// Routers, sorted by name.
    pub routers: Vec<SummaryRow>,
}

impl Summary {
    /// A summary of `rows` (sorted here by name; counts recomputed).
    pub fn of(job: &str, started: String, mut rows: Vec<SummaryRow>) -> Self {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        let mut s = Summary {
            schema_version: SCHEMA_VERSION,
            job: job.to_string(),
            started,
            finished: None,
            interrupted: false,
            shard: None,
            merged_from: Vec::new(),
            by_status: BTreeMap::new(),
            counts: Counts::default(),
            routers: rows,
        };
        s.recount();
        s
    }

    /// Recomputes `by_status` and `counts` from `routers`.
    pub fn recount(&mut self) {
        self.by_status.clear();
        self.counts = Counts::default();
        for r in &self.routers {
            *self
                .by_status
                .entry(r.status.word().to_string())
                .or_default() += 1;
            self.counts.merge(&r.counts);
        }
    }

    /// Routers that could not be read.
    pub fn unreached(&self) -> usize {
        self.routers
            .iter()
            .filter(|r| !r.status.is_reached())
            .count()
    }
}
