//! `fleet diff --webhook`: the diff POSTed as JSON to a real HTTP server on 127.0.0.1; a
//! failed POST is an error that names the server but never the URL's token.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tikguard::fleet::diff::{self as fleet_diff, Finding, State};

/// The requests a receiver got: path and query, body.
type Got = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook receiver answering `status`; the requests it got.
async fn receiver(status: u16) -> (String, Got) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let got: Got = Arc::default();
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let path = req.uri().to_string();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            seen.lock().unwrap().push((path, body.to_vec()));
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), got)
}

fn one_change() -> fleet_diff::Diff {
    let state = |v: &str, rules: &[&str]| State {
        version: Some(v.into()),
        findings: rules
            .iter()
            .map(|r| Finding {
                rule: r.to_string(),
                severity: "critical".into(),
                message: format!("{r} message"),
            })
            .collect(),
        ..Default::default()
    };
    let old = BTreeMap::from([("core-1".to_string(), state("7.17", &["TG101"]))]);
    let new = BTreeMap::from([("core-1".to_string(), state("7.18", &["TG201"]))]);
    fleet_diff::diff(&old, &new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_the_diff_as_json() {
    let (base, got) = receiver(204).await;
    let url = format!("{base}/hooks/T0KEN-SECRET?k=1");
    fleet_diff::post(&url, &one_change()).await.unwrap();
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/hooks/T0KEN-SECRET?k=1");
    let v: serde_json::Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(v["changed"], true);
    assert_eq!(v["routers"][0]["name"], "core-1");
    assert_eq!(v["routers"][0]["new_findings"][0]["rule"], "TG201");
    assert_eq!(v["routers"][0]["fixed_findings"][0]["rule"], "TG101");
    assert_eq!(v["routers"][0]["version"]["new"], "7.18");
}

/// A receiver that fails is retried, then reported; the report names the host, not the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_is_reported_without_its_token() {
    let (base, got) = receiver(500).await;
    let url = format!("{base}/hooks/T0KEN-SECRET?token=T0KEN-SECRET");
    let err = fleet_diff::post(&url, &one_change()).await.unwrap_err();
    assert!(err.contains("HTTP 500"), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
    assert!(!err.contains("T0KEN"), "{err}");
    assert_eq!(
        got.lock().unwrap().len(),
        fleet_diff::WEBHOOK_ATTEMPTS as usize
    );

    // A 4xx is the receiver refusing the diff: not retried.
    let (base, got) = receiver(403).await;
    let err = fleet_diff::post(&format!("{base}/T0KEN"), &one_change())
        .await
        .unwrap_err();
    assert!(err.contains("HTTP 403"), "{err}");
    assert_eq!(got.lock().unwrap().len(), 1);

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = fleet_diff::post(
        &format!("http://127.0.0.1:{port}/x/T0KEN-SECRET"),
        &one_change(),
    )
    .await
    .unwrap_err();
    assert!(!err.contains("T0KEN"), "{err}");
}
