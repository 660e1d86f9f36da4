//! One probe: a live audit of one router, as the metrics `/probe?target=NAME` answers with.
//!
//! The router is read as `audit --live` reads it ([`crate::live::fetch`]) and audited as a
//! whole router ([`crate::audit::kind::live`]); the audit runs on a blocking thread with the
//! time the probe has left as its firewall-evaluation limit, so a probe that runs out of time
//! does not leave work running past its deadline by more than that limit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use prometheus::{Encoder, Gauge, GaugeVec, Opts, Registry, TextEncoder};
use routeros_api::{Client, Options};
use routeros_config::Config;

use super::Target;
use crate::audit::exposure::Row;
use crate::audit::{self, Selection, Severity, WanChoice};

/// The fleet's scale: one [`Reach`] for `summary.json` and the metrics, so the two never
/// disagree on a word.
pub use crate::fleet::result::Reach;

/// Each service of the exposure table with its widest reach; services the table has no row
/// for (no WAN side found) are absent, not closed.
pub fn reach_by_service(rows: &[Row]) -> BTreeMap<String, Reach> {
    let mut out: BTreeMap<String, Reach> = BTreeMap::new();
    for row in rows {
        let r = Reach::of_row(row);
        let e = out.entry(row.service.clone()).or_insert(r);
        *e = (*e).max(r);
    }
    out
}

/// Where a failed probe stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// TCP connection or TLS handshake (a refused port, a certificate that does not verify).
    Connect,
    Login,
    /// Reading the configuration.
    Read,
    /// The firewall evaluation ran out of time or work.
    Audit,
    /// The probe's deadline passed (the scrape timeout, less the offset).
    Timeout,
    /// It waited for a free probe slot until its deadline.
    Queue,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Login => "login",
            Stage::Read => "read",
            Stage::Audit => "audit",
            Stage::Timeout => "timeout",
            Stage::Queue => "queue",
        }
    }
}

/// What one probe found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub duration: Duration,
    /// `None` when the audit ran to the end.
    pub failed: Option<(Stage, String)>,
    pub version: Option<String>,
    /// Finding counts by rule and severity.
    pub findings: BTreeMap<(&'static str, Severity), u64>,
    pub reach: BTreeMap<String, Reach>,
    /// When the api-ssl certificate the router presented expires (Unix seconds); only known
    /// when the probe connected over TLS (through rustls).
    pub cert_not_after: Option<i64>,
    pub update_pending: Option<bool>,
}

/// Whether `/system/package/update` says a newer RouterOS is there: known only once the
/// router has checked (`check-for-updates`, by hand or by a script), when it shows
/// `latest-version` next to `installed-version` (MikroTik manual, "Upgrading and installation":
/// https://help.mikrotik.com/docs/spaces/ROS/pages/328142/Upgrading+and+installation). A router
/// that never checked, or a reader that may not see the menu, leaves it unknown.
pub fn update_pending(installed: Option<&str>, latest: Option<&str>) -> Option<bool> {
    let installed = installed.filter(|v| !v.is_empty())?;
    let latest = latest.filter(|v| !v.is_empty())?;
    Some(installed != latest)
}

async fn read_update(client: &Client) -> Option<bool> {
    let replies = client.call(&["/system/package/update/print"]).await.ok()?;
    let r = replies.first()?;
    let text = |k: &str| r.get(k).map(|v| String::from_utf8_lossy(v).into_owned());
    update_pending(
        text("installed-version").as_deref(),
        text("latest-version").as_deref(),
    )
}

/// A certificate's notAfter, Unix seconds.
fn not_after(der: &[u8]) -> Option<i64> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// Probes `target` within `deadline`.
pub async fn run(target: &Target, deadline: Duration) -> Outcome {
    let start = Instant::now();
    let mut out = Outcome::default();
    let work = work(target, deadline, start, &mut out);
    let result = tokio::time::timeout(deadline, work).await;
    out.failed = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some((
            Stage::Timeout,
            format!("no result within {:.1} s", deadline.as_secs_f64()),
        )),
    };
    out.duration = start.elapsed();
    out
}

async fn work(
    target: &Target,
    deadline: Duration,
    start: Instant,
    out: &mut Outcome,
) -> Result<(), (Stage, String)> {
    let password = target
        .password
        .read()
        .map_err(|e| (Stage::Login, e.to_string()))?;
    let mut opts = Options::new(target.address.clone(), target.security.clone());
    opts.connect_timeout = deadline;
    opts.command_timeout = deadline;
    let client = Client::connect(&opts)
        .await
        .map_err(|e| (Stage::Connect, e.to_string()))?;
    if let Some(f) = client.first_use() {
        eprintln!(
            "tikguard: {}: trust on first use: recorded certificate sha256 {} in {}",
            crate::term::printable(&target.name),
            f.fingerprint,
            f.file.display()
        );
    }
    out.cert_not_after = client.peer_certificate().and_then(not_after);
    client
        .login(&target.user, &password)
        .await
        .map_err(|e| (Stage::Login, e.to_string()))?;
    let (bytes, _) = crate::live::fetch(&client)
        .await
        .map_err(|e| (Stage::Read, e))?;
    out.update_pending = read_update(&client).await;
    drop(client);
    let limits = audit::firewall::Limits {
        time: deadline
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1)),
        ..Default::default()
    };
    let audited = tokio::task::spawn_blocking(move || {
        let (config, parsed) = Config::load(bytes);
        let version = config.version.as_ref().map(|v| v.to_string());
        let input = audit::assume::Input::new(audit::kind::live(), None);
        audit::try_run_input(
            &parsed,
            &config,
            input,
            &WanChoice::default(),
            &Selection::default(),
            limits,
        )
        .map(|a| (version, a))
    })
    .await
    .map_err(|e| (Stage::Audit, e.to_string()))?;
    let (version, audited) = audited.map_err(|e| (Stage::Audit, e.to_string()))?;
    out.version = version;
    for f in &audited.findings {
        *out.findings.entry((f.rule, f.severity)).or_insert(0) += 1;
    }
    out.reach = reach_by_service(&audited.exposure.rows);
    Ok(())
}

fn gauge(r: &Registry, name: &str, help: &str) -> Gauge {
    let g = Gauge::new(name, help).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn gauges(r: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let g = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

/// The exposition text of one probe, as blackbox_exporter answers `/probe`: `probe_success`
/// and `probe_duration_seconds` always; the rest when the audit got that far. Label values
/// from the router (its version) are escaped by the text encoder.
pub fn render(o: &Outcome) -> Vec<u8> {
    let r = Registry::new();
    gauge(
        &r,
        "probe_success",
        "1 when the router was read and audited, 0 otherwise.",
    )
    .set(if o.failed.is_none() { 1.0 } else { 0.0 });
    gauge(
        &r,
        "probe_duration_seconds",
        "Seconds the probe took: connect, login, read and audit.",
    )
    .set(o.duration.as_secs_f64());
    if let Some((stage, _)) = &o.failed {
        gauges(
            &r,
            "tikguard_probe_failed",
            "1 for the stage the probe failed at (connect, login, read, audit, timeout, queue).",
            &["stage"],
        )
        .with_label_values(&[stage.as_str()])
        .set(1.0);
    }
    if let Some(v) = &o.version {
        gauges(
            &r,
            "tikguard_routeros_info",
            "The RouterOS version the router runs (always 1).",
            &["version"],
        )
        .with_label_values(&[v])
        .set(1.0);
    }
    if o.failed.is_none() {
        let sev = gauges(
            &r,
            "tikguard_findings",
            "Findings of the audit by severity.",
            &["severity"],
        );
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n: u64 = o
                .findings
                .iter()
                .filter(|((_, fs), _)| *fs == s)
                .map(|(_, n)| n)
                .sum();
            sev.with_label_values(&[s.as_str()]).set(n as f64);
        }
        let rules = gauges(
            &r,
            "tikguard_rule_findings",
            "Findings of the audit by rule (only rules with findings appear).",
            &["rule", "severity"],
        );
        for ((rule, s), n) in &o.findings {
            rules.with_label_values(&[rule, s.as_str()]).set(*n as f64);
        }
        let reach = gauges(
            &r,
            "tikguard_service_reach",
            "1 for the widest reach of each management service (internet, private, explicit, closed), 0 for the others.",
            &["service", "reach"],
        );
        for (service, got) in &o.reach {
            for each in Reach::ALL {
                reach
                    .with_label_values(&[service, each.as_str()])
                    .set(if each == *got { 1.0 } else { 0.0 });
            }
        }
    }
    // Prometheus names carry base units (promtool refuses `_days`): the expiry as a Unix
    // time, as blackbox_exporter's `probe_ssl_earliest_cert_expiry`; days left are
    // `(tikguard_api_ssl_certificate_expiry_timestamp_seconds - time()) / 86400`.
    if let Some(t) = o.cert_not_after {
        gauge(
            &r,
            "tikguard_api_ssl_certificate_expiry_timestamp_seconds",
            "When the certificate the router presented on api-ssl expires (notAfter, Unix seconds); absent when the probe did not use TLS.",
        )
        .set(t as f64);
    }
    if let Some(u) = o.update_pending {
        gauge(
            &r,
            "tikguard_update_pending",
            "1 when /system/package/update shows a latest-version other than the installed one.",
        )
        .set(if u { 1.0 } else { 0.0 });
    }
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&r.gather(), &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_pending_is_unknown_until_the_router_has_checked() {
        assert_eq!(update_pending(Some("7.18.2"), None), None);
        assert_eq!(update_pending(Some("7.18.2"), Some("")), None);
        assert_eq!(update_pending(Some("7.18.2"), Some("7.18.2")), Some(false));
        assert_eq!(update_pending(Some("7.18.2"), Some("7.19.1")), Some(true));
    }

    #[test]
    fn a_failed_probe_has_no_findings_series_and_no_certificate_zero() {
        let o = Outcome {
            failed: Some((Stage::Connect, "refused".into())),
            ..Default::default()
        };
        let text = String::from_utf8(render(&o)).unwrap();
        assert!(text.contains("probe_success 0"), "{text}");
        assert!(text.contains("tikguard_probe_failed{stage=\"connect\"} 1"));
        assert!(!text.contains("tikguard_findings"), "{text}");
        assert!(!text.contains("certificate_expiry"), "{text}");
    }

    #[test]
    fn a_version_label_from_the_router_is_escaped() {
        let o = Outcome {
            version: Some("7.18\"}\nevil 1".into()),
            ..Default::default()
        };
        let text = String::from_utf8(render(&o)).unwrap();
        assert!(
            text.contains(r#"tikguard_routeros_info{version="7.18\"}\nevil 1"} 1"#),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("evil")), "{text}");
    }
}
