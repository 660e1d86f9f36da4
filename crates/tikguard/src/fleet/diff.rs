//! `tikguard fleet diff OLD NEW`: what changed between two fleet runs, per router: findings
//! that appeared and findings that went (a finding is its rule and its message: a live audit
//! has no line numbers, and the message names what it is about), findings whose message changed
//! (a rule that went and came back once each on a router: TG601's list of CVEs shrinks when a
//! service is turned off, which is neither a new finding nor a fixed one), RouterOS version changes,
//! changed certificate pins, routers that could be read and now cannot (or the reverse), and
//! routers added to or gone from the inventory. Pure: the loading is the caller's.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;

/// A finding as the diff compares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub message: String,
}

/// What one run knows of one router.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// `None` when it was read; else why not.
    pub unreachable: Option<String>,
    pub version: Option<String>,
    /// The SHA-256 fingerprint of the certificate it presented.
    pub pin: Option<String>,
    pub findings: BTreeSet<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

/// What changed on one router.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RouterDiff {
    pub name: String,
    /// `added` (only in NEW), `removed` (only in OLD), or `changed`.
    pub change: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Change<Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<Change<Option<String>>>,
    /// Why it could not be read, before and after (`null`: it was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<Change<Option<String>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_findings: Vec<Finding>,
    /// A rule with one finding that went and one that came on this router: the same finding,
    /// its message (or severity) changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_findings: Vec<Change<Finding>>,
}

/// Splits the findings only in OLD and only in NEW into fixed, new and changed: a rule that has
/// exactly one finding on each side is one finding whose text changed.
fn compare(
    old: &BTreeSet<Finding>,
    new: &BTreeSet<Finding>,
) -> (Vec<Finding>, Vec<Finding>, Vec<Change<Finding>>) {
    let gone: Vec<&Finding> = old.difference(new).collect();
    let came: Vec<&Finding> = new.difference(old).collect();
    let count = |v: &[&Finding], rule: &str| v.iter().filter(|f| f.rule == rule).count();
    let mut changed = Vec::new();
    let mut paired = BTreeSet::new();
    for g in &gone {
        if count(&gone, &g.rule) == 1 && count(&came, &g.rule) == 1 {
            let c = came.iter().find(|f| f.rule == g.rule).expect("counted one");
            changed.push(Change {
                old: (*g).clone(),
                new: (*c).clone(),
            });
            paired.insert(g.rule.clone());
        }
    }
    let rest = |v: &[&Finding]| {
        v.iter()
            .filter(|f| !paired.contains(&f.rule))
            .map(|f| (*f).clone())
            .collect::<Vec<_>>()
    };
    (rest(&came), rest(&gone), changed)
}

#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    pub schema_version: u32,
    pub changed: bool,
    pub routers: Vec<RouterDiff>,
}

/// Compares two runs. Findings of a router that could not be read in one of them are not
/// compared (nothing is known of them there): its reachability change says it.
pub fn diff(old: &BTreeMap<String, State>, new: &BTreeMap<String, State>) -> Diff {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut routers = Vec::new();
    for name in names {
        let d = match (old.get(name), new.get(name)) {
            (Some(_), None) => RouterDiff {
                name: name.clone(),
                change: "removed",
                ..Default::default()
            },
            (None, Some(n)) => RouterDiff {
                name: name.clone(),
                change: "added",
                version: Some(Change {
                    old: None,
                    new: n.version.clone(),
                }),
                unreachable: n.unreachable.as_ref().map(|u| Change {
                    old: None,
                    new: Some(u.clone()),
                }),
                new_findings: n.findings.iter().cloned().collect(),
                ..Default::default()
            },
            (Some(o), Some(n)) => {
                let both_read = o.unreachable.is_none() && n.unreachable.is_none();
                // Findings of a router not read in one of the runs are not compared.
                let (new_findings, fixed_findings, changed_findings) = if both_read {
                    compare(&o.findings, &n.findings)
                } else {
                    Default::default()
                };
                let d = RouterDiff {
                    name: name.clone(),
                    change: "changed",
                    // A version or pin unknown in a run where the router was not read is not
                    // a change.
                    version: (o.version != n.version && o.version.is_some() && n.version.is_some())
                        .then(|| Change {
                            old: o.version.clone(),
                            new: n.version.clone(),
                        }),
                    pin: (o.pin != n.pin && o.pin.is_some() && n.pin.is_some()).then(|| Change {
                        old: o.pin.clone(),
                        new: n.pin.clone(),
                    }),
                    unreachable: (o.unreachable != n.unreachable).then(|| Change {
                        old: o.unreachable.clone(),
                        new: n.unreachable.clone(),
                    }),
                    new_findings,
                    fixed_findings,
                    changed_findings,
                };
                if d.version.is_none()
                    && d.pin.is_none()
                    && d.unreachable.is_none()
                    && d.new_findings.is_empty()
                    && d.fixed_findings.is_empty()
                    && d.changed_findings.is_empty()
                {
                    continue;
                }
                d
            }
            (None, None) => continue,
        };
        routers.push(d);
    }
    Diff {
        schema_version: 1,
        changed: !routers.is_empty(),
        routers,
    }
}

/// The diff for a terminal: one line per change, router text escaped.
pub fn text(out: &mut dyn Write, d: &Diff) -> std::io::Result<()> {
    use crate::term::printable as p;
    let shown = |v: &Option<String>| v.as_deref().map(|s| p(s).into_owned());
    let (mut new, mut fixed, mut changed) = (0, 0, 0);
    for r in &d.routers {
        let name = p(&r.name);
        match r.change {
            "added" => writeln!(out, "{name}: added to the inventory")?,
            "removed" => writeln!(out, "{name}: no longer in the inventory")?,
            _ => {}
        }
        if let Some(c) = &r.unreachable {
            match (&c.old, &c.new) {
                (None, Some(why)) => writeln!(out, "{name}: not read now: {}", p(why))?,
                (Some(_), None) => writeln!(out, "{name}: read again")?,
                (Some(a), Some(b)) => {
                    writeln!(out, "{name}: still not read: {} (was: {})", p(b), p(a))?
                }
                (None, None) => {}
            }
        }
        if let Some(c) = &r.version {
            writeln!(
                out,
                "{name}: RouterOS {} -> {}",
                shown(&c.old).unwrap_or_else(|| "?".into()),
                shown(&c.new).unwrap_or_else(|| "?".into())
            )?;
        }
        if let Some(c) = &r.pin {
            writeln!(
                out,
                "{name}: certificate changed: sha256 {} -> {}",
                shown(&c.old).unwrap_or_else(|| "?".into()),
                shown(&c.new).unwrap_or_else(|| "?".into())
            )?;
        }
        for f in &r.new_findings {
            new += 1;
            writeln!(
                out,
                "{name}: new   {:<8} {} {}",
                p(&f.severity),
                p(&f.rule),
                p(&f.message)
            )?;
        }
        for f in &r.fixed_findings {
            fixed += 1;
            writeln!(
                out,
                "{name}: fixed {:<8} {} {}",
                p(&f.severity),
                p(&f.rule),
                p(&f.message)
            )?;
        }
        for c in &r.changed_findings {
            changed += 1;
            writeln!(
                out,
                "{name}: now   {:<8} {} {}\n{name}: was   {:<8} {} {}",
                p(&c.new.severity),
                p(&c.new.rule),
                p(&c.new.message),
                p(&c.old.severity),
                p(&c.old.rule),
                p(&c.old.message)
            )?;
        }
    }
    if d.changed {
        writeln!(
            out,
            "{} router(s) changed: {new} new finding(s), {fixed} fixed, {changed} changed",
            d.routers.len()
        )
    } else {
        writeln!(out, "no change")
    }
}

/// What an output folder (`summary.json` and the router files it lists,
/// [`super::output::read`]) knows of each router.
pub fn load(dir: &std::path::Path) -> Result<BTreeMap<String, State>, String> {
    let (summary, results) = super::output::read(dir)?;
    let mut out = BTreeMap::new();
    for (row, r) in summary.routers.iter().zip(&results) {
        let unreachable = (!row.status.is_reached()).then(|| match row.status.detail() {
            Some(d) => format!("{}: {d}", row.status.word()),
            None => row.status.word().to_string(),
        });
        let state = State {
            unreachable,
            version: row.version.clone(),
            pin: row
                .cert_sha256
                .clone()
                .or_else(|| r.cert.as_ref().map(|c| c.sha256.clone())),
            findings: r
                .findings
                .iter()
                .map(|f| Finding {
                    rule: f.rule.clone(),
                    severity: f.severity.as_str().to_string(),
                    message: f.message.clone(),
                })
                .collect(),
        };
        out.insert(row.name.clone(), state);
    }
    Ok(out)
}

/// POST attempts in all for the webhook: a refused connection or a 5xx/408/429 is tried again
/// after 1 s, then 2 s; another 4xx is the receiver refusing the diff itself, not retried.
pub const WEBHOOK_ATTEMPTS: u32 = 3;

/// POSTs the diff as JSON to `url`. The error names the URL by scheme and host only
/// ([`crate::watch::http::shown`]): a webhook URL carries its token in its path or query.
pub async fn post(url: &str, d: &Diff) -> Result<(), String> {
    let http = crate::watch::http::Http::new(None)?;
    let body = serde_json::to_vec(d).map_err(|e| e.to_string())?;
    let shown = crate::watch::http::shown(url);
    let mut delay = std::time::Duration::from_secs(1);
    let mut last = String::new();
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match http
            .send(hyper::Method::POST, url, &[], Some(body.clone()))
            .await
        {
            Ok((s, _)) if (200..300).contains(&s) => return Ok(()),
            Ok((s, _)) if (400..500).contains(&s) && s != 408 && s != 429 => {
                return Err(format!("webhook {shown}: HTTP {s}, not retried"));
            }
            Ok((s, _)) => last = format!("webhook {shown}: HTTP {s}"),
            Err(e) => last = format!("webhook {e}"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(format!("{last} (after {WEBHOOK_ATTEMPTS} attempts)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: &str, msg: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: "high".into(),
            message: msg.into(),
        }
    }

    fn state(version: &str, pin: &str, findings: &[Finding]) -> State {
        State {
            unreachable: None,
            version: Some(version.into()),
            pin: Some(pin.into()),
            findings: findings.iter().cloned().collect(),
        }
    }

    #[test]
    fn new_and_fixed_findings_version_and_pin_changes_are_per_router() {
        let old = BTreeMap::from([
            ("a".to_string(), state("7.17", "aa", &[f("TG101", "x")])),
            ("b".to_string(), state("7.18", "bb", &[f("TG201", "y")])),
        ]);
        let new = BTreeMap::from([
            ("a".to_string(), state("7.18", "aa", &[f("TG102", "z")])),
            ("b".to_string(), state("7.18", "cc", &[f("TG201", "y")])),
        ]);
        let d = diff(&old, &new);
        assert!(d.changed);
        let a = &d.routers[0];
        assert_eq!(a.new_findings, vec![f("TG102", "z")]);
        assert_eq!(a.fixed_findings, vec![f("TG101", "x")]);
        assert_eq!(
            a.version,
            Some(Change {
                old: Some("7.17".into()),
                new: Some("7.18".into())
            })
        );
        assert!(a.pin.is_none());
        let b = &d.routers[1];
        assert!(b.new_findings.is_empty() && b.fixed_findings.is_empty());
        assert_eq!(b.pin.as_ref().unwrap().new.as_deref(), Some("cc"));
    }

    #[test]
    fn a_rule_whose_one_finding_changed_text_is_changed_not_new_and_fixed() {
        // TG601 on a router whose web server was turned off: the CVE list shrinks.
        let old = BTreeMap::from([(
            "a".to_string(),
            state(
                "7.12.1",
                "aa",
                &[f("TG601", "5 CVEs"), f("TG108", "www"), f("TG201", "r1")],
            ),
        )]);
        let new = BTreeMap::from([(
            "a".to_string(),
            state(
                "7.12.1",
                "aa",
                &[f("TG601", "4 CVEs"), f("TG201", "r2"), f("TG201", "r3")],
            ),
        )]);
        let a = &diff(&old, &new).routers[0];
        assert_eq!(
            a.changed_findings,
            vec![Change {
                old: f("TG601", "5 CVEs"),
                new: f("TG601", "4 CVEs")
            }]
        );
        // One TG201 went, two came: not a one-to-one change, so new and fixed as they are.
        assert_eq!(a.new_findings, vec![f("TG201", "r2"), f("TG201", "r3")]);
        assert_eq!(a.fixed_findings, vec![f("TG108", "www"), f("TG201", "r1")]);
        let mut out = Vec::new();
        text(&mut out, &diff(&old, &new)).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("a: now   high     TG601 4 CVEs\na: was   high     TG601 5 CVEs\n"),
            "{out}"
        );
        assert!(
            out.ends_with("2 new finding(s), 2 fixed, 1 changed\n"),
            "{out}"
        );
    }

    #[test]
    fn the_same_run_twice_is_no_change() {
        let old = BTreeMap::from([("a".to_string(), state("7.17", "aa", &[f("TG101", "x")]))]);
        let d = diff(&old, &old.clone());
        assert!(!d.changed);
        let mut out = Vec::new();
        text(&mut out, &d).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no change\n");
    }

    #[test]
    fn a_router_not_read_now_is_not_every_finding_fixed() {
        let old = BTreeMap::from([("a".to_string(), state("7.17", "aa", &[f("TG101", "x")]))]);
        let new = BTreeMap::from([(
            "a".to_string(),
            State {
                unreachable: Some("timeout".into()),
                ..Default::default()
            },
        )]);
        let d = diff(&old, &new);
        let a = &d.routers[0];
        assert!(a.fixed_findings.is_empty());
        assert!(a.version.is_none() && a.pin.is_none());
        assert_eq!(
            a.unreachable.as_ref().unwrap().new.as_deref(),
            Some("timeout")
        );
    }

    #[test]
    fn router_text_is_escaped_on_the_terminal() {
        let old = BTreeMap::new();
        let new = BTreeMap::from([(
            "a\x1b[2J".to_string(),
            state("7.18", "aa", &[f("TG101", "m\x1b]0;x\x07")]),
        )]);
        let mut out = Vec::new();
        text(&mut out, &diff(&old, &new)).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains('\x1b'), "{s:?}");
        assert!(s.contains("a\\x1b[2J: added"), "{s}");
    }
}
