//! What a fleet run does on one router, reusing the single-router commands' code: the live
//! read and audit of `audit --live` ([`crate::live::fetch`], [`crate::audit::try_run_input`]),
//! the verified connection of `exec`, and trust on first use as `exec` records it.

use std::path::PathBuf;

use routeros_api::Client;

use super::connect::{self, Timeouts};
use super::inventory::{Router, Tls};
use super::result::{CertSeen, FindingRecord, Phase, Reach, RouterResult, ServiceReach, Status};
use crate::audit::{self, Selection, WanChoice};

/// A job for every router.
#[derive(Clone, Debug)]
pub enum Job {
    /// A live audit (`audit --live`).
    Audit,
    /// Connect without logging in: does the service answer, with which certificate.
    Probe,
    /// Trust on first use into this known-routers file (`None`: each router's own setting,
    /// else the default file).
    Pins(Option<PathBuf>),
    /// One API command (`exec`), its words.
    Exec(Vec<String>),
}

impl Job {
    pub fn name(&self) -> &'static str {
        match self {
            Job::Audit => "audit",
            Job::Probe => "probe",
            Job::Pins(_) => "pins",
            Job::Exec(_) => "exec",
        }
    }
}

/// One attempt of `job` on `r`, filling `out`.
pub async fn attempt(
    job: &Job,
    r: &Router,
    t: Timeouts,
    out: &mut RouterResult,
) -> Result<(), Status> {
    match job {
        Job::Audit => audit_one(r, t, out).await,
        Job::Probe => {
            let c = connect::connect(r, t).await?;
            note_cert(&c, out);
            Ok(())
        }
        Job::Pins(file) => {
            let mut r = r.clone();
            if let Some(f) = file {
                r.tls = Tls::KnownRouters(Some(f.clone()));
            }
            if !matches!(r.tls, Tls::KnownRouters(_)) {
                r.tls = Tls::KnownRouters(None);
            }
            let c = connect::connect(&r, t).await?;
            note_cert(&c, out);
            out.output = Some(serde_json::json!({
                "recorded_now": c.first_use().is_some(),
                "sha256": c.fingerprint().map(|f| f.to_string()),
            }));
            Ok(())
        }
        Job::Exec(words) => {
            let c = connect::login(r, t).await?;
            note_cert(&c, out);
            let words = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            let resp = c
                .call_words(words)
                .await
                .map_err(|e| connect::classify(&e, Phase::Command))?;
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = resp
                .items
                .iter()
                .map(|reply| {
                    reply
                        .attrs
                        .iter()
                        .map(|(k, v)| {
                            (
                                String::from_utf8_lossy(k).into_owned(),
                                String::from_utf8_lossy(v).into_owned().into(),
                            )
                        })
                        .collect()
                })
                .collect();
            out.output = Some(serde_json::Value::Array(
                rows.into_iter().map(serde_json::Value::Object).collect(),
            ));
            let _ = c.quit().await;
            Ok(())
        }
    }
}

pub(crate) fn note_cert(c: &Client, out: &mut RouterResult) {
    let now = std::time::SystemTime::now();
    out.cert = c.fingerprint().map(|f| {
        let (not_after, days_left) = c
            .peer_certificate()
            .and_then(not_after)
            .map(|t| (Some(rfc3339(t)), Some(days_left(t, now))))
            .unwrap_or((None, None));
        CertSeen {
            sha256: f.to_string(),
            not_after,
            days_left,
        }
    });
}

/// A certificate's notAfter, Unix seconds (RFC 5280 section 4.1.2.5); `None` for a DER that
/// does not parse.
fn not_after(der: &[u8]) -> Option<i64> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// Whole days from `now` to `not_after` (Unix seconds), rounded down: 0 on the last day,
/// negative once expired, as `probe` counts them ([`crate::probe::cert::facts`]).
pub fn days_left(not_after: i64, now: std::time::SystemTime) -> i64 {
    let now = match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    not_after.saturating_sub(now).div_euclid(86_400)
}

/// Unix seconds as RFC 3339 UTC, as `summary.json` writes its times; before 1970 or past what
/// the clock holds, the seconds themselves.
fn rfc3339(t: i64) -> String {
    u64::try_from(t)
        .ok()
        .and_then(|s| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s)))
        .map(|at| humantime::format_rfc3339_seconds(at).to_string())
        .unwrap_or_else(|| t.to_string())
}

async fn audit_one(r: &Router, t: Timeouts, out: &mut RouterResult) -> Result<(), Status> {
    let c = connect::login(r, t).await?;
    note_cert(&c, out);
    let (bytes, _) = crate::live::fetch(&c).await.map_err(|detail| {
        if detail.contains("timed out") {
            Status::Timeout {
                during: Phase::Command,
            }
        } else {
            Status::Protocol { detail }
        }
    })?;
    let _ = c.quit().await;
    // The analysis is CPU work: off the I/O threads, so that other routers' timeouts still run.
    let analysed = tokio::task::spawn_blocking(move || {
        let (config, parsed) = routeros_config::Config::load(bytes);
        let input = audit::assume::Input::new(audit::kind::live(), None);
        let a = audit::try_run_input(
            &parsed,
            &config,
            input,
            &WanChoice::default(),
            &Selection::default(),
            audit::firewall::Limits::default(),
        );
        (config.version.map(|v| v.to_string()), a)
    })
    .await
    .map_err(|e| Status::Protocol {
        detail: format!("the analysis failed: {e}"),
    })?;
    let (version, a) = analysed;
    let a = a.map_err(|e| Status::Protocol {
        detail: e.to_string(),
    })?;
    out.version = version;
    out.set_findings(a.findings.iter().map(FindingRecord::from).collect());
    out.api_exposure = exposure(&a.exposure.rows);
    Ok(())
}

/// Each service's widest reach over its rows.
pub fn exposure(rows: &[audit::exposure::Row]) -> Vec<ServiceReach> {
    let mut out: Vec<ServiceReach> = Vec::new();
    for row in rows {
        let reach = Reach::of_row(row);
        match out.iter_mut().find(|s| s.service == row.service) {
            Some(s) => s.reach = s.reach.max(reach),
            None => out.push(ServiceReach {
                service: row.service.clone(),
                port: row.port,
                reach,
            }),
        }
    }
    out
}
