//! `<router>.json` and `summary.json` read back what they wrote (merge, diff and the exporter
//! depend on it), and the summary counts what its rows say.

use tikguard::audit::Severity;
use tikguard::fleet::result::{
    FindingRecord, Phase, Reach, RouterResult, ServiceReach, Status, Summary, SummaryRow,
};

fn finding(rule: &str, severity: Severity, assumed: bool) -> FindingRecord {
    FindingRecord {
        rule: rule.into(),
        severity,
        message: format!("{rule} message"),
        line: Some(3),
        column: Some(1),
        evidence: None,
        fix: vec!["/ip service disable api".into()],
        assumed,
        severity_if_whole: None,
    }
}

#[test]
fn a_router_result_round_trips_and_names_the_first_fix() {
    let mut r = RouterResult::new("core-1", "10.0.0.1:8729", "audit", Status::Ok);
    r.version = Some("7.16.2".into());
    r.api_exposure = vec![
        ServiceReach {
            service: "api".into(),
            port: 8728,
            reach: Reach::Private,
        },
        ServiceReach {
            service: "api".into(),
            port: 8728,
            reach: Reach::Internet,
        },
    ];
    r.set_findings(vec![
        finding("TG010", Severity::High, false),
        finding("TG001", Severity::Critical, true),
        finding("TG002", Severity::Critical, false),
        finding("TG003", Severity::Critical, false),
    ]);
    assert_eq!(
        (r.counts.critical, r.counts.high),
        (2, 1),
        "assumed not counted"
    );
    assert_eq!(r.first_fix.as_ref().unwrap().rule, "TG002");
    assert_eq!(r.reach_of("api"), Some(Reach::Internet));
    let text = serde_json::to_string(&r).unwrap();
    let back: RouterResult = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
}

#[test]
fn statuses_serialise_as_a_tagged_word() {
    let s = Status::Timeout {
        during: Phase::Login,
    };
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"state": "timeout", "during": "login"})
    );
    let s = Status::TlsMismatch {
        detail: "pin".into(),
    };
    assert_eq!(serde_json::to_value(&s).unwrap()["state"], "tls-mismatch");
    assert!(!s.is_reached());
    assert_eq!(s.word(), "tls-mismatch");
}

#[test]
fn a_summary_counts_its_rows_and_round_trips() {
    let mut a = RouterResult::new("b", "x:1", "audit", Status::Ok);
    a.set_findings(vec![finding("TG002", Severity::Critical, false)]);
    let b = RouterResult::new("a", "y:1", "audit", Status::Refused);
    let s = Summary::of(
        "audit",
        "2026-01-01T00:00:00Z".into(),
        vec![SummaryRow::of(&a, "b.json"), SummaryRow::of(&b, "a.json")],
    );
    assert_eq!(s.routers[0].name, "a", "sorted by name");
    assert_eq!(s.by_status["ok"], 1);
    assert_eq!(s.by_status["refused"], 1);
    assert_eq!(s.counts.critical, 1);
    assert_eq!(s.unreached(), 1);
    let back: Summary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}
