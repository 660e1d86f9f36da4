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

#[path = "common/mod.rs"]
mod common;

/// Two emulated routers audited by `fleet audit`, one changed over its API (`www` disabled),
/// audited again: `fleet diff` names that router alone with TG108 fixed, exits 1, and POSTs
/// the same to the webhook; the same run against itself is no change, exit 0.
#[test]
fn diff_after_changing_one_emulated_router() {
    use rustls_pki_types::pem::PemObject;
    let dir = tempfile::tempdir().unwrap();
    let mut inventory = String::new();
    let mut routers = Vec::new();
    for name in ["pop-1", "pop-2"] {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        let emu = common::emu_process(&d, false);
        let cert = rustls_pki_types::CertificateDer::from_pem_file(d.join("cert.pem")).unwrap();
        let fp = routeros_api::Fingerprint::of(&cert);
        let (host, port) = emu.ssl.rsplit_once(':').unwrap();
        inventory.push_str(&format!(
            "[[router]]\nname = \"{name}\"\naddress = \"{host}\"\nport = {port}\npin = \"{}\"\npassword_file = \"{}\"\n",
            fp.to_string().replace(':', "").to_lowercase(),
            emu.password_file.display()
        ));
        routers.push((emu, fp));
    }
    let inv = dir.path().join("fleet.toml");
    std::fs::write(&inv, inventory).unwrap();
    let audit = |out: &str| {
        let o = common::tikguard()
            .args(["fleet", "audit", "-i"])
            .arg(&inv)
            .arg("-o")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        assert!(
            dir.path().join(out).join("summary.json").exists(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    audit("before");

    // Disable `www` on pop-2.
    let (emu, fp) = &routers[1];
    // Worker threads: the webhook receiver below serves while the test waits on a process.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = routeros_api::Options::new(
            emu.ssl.clone(),
            routeros_api::Security::Tls(routeros_api::Verify::Pin(*fp)),
        );
        let c = routeros_api::Client::connect(&opts).await.unwrap();
        c.login("admin", "s3cret").await.unwrap();
        let www = c.call(&["/ip/service/print", "?name=www"]).await.unwrap();
        let id = String::from_utf8_lossy(www[0].get(".id").unwrap()).into_owned();
        c.call(&["/ip/service/set", &format!("=.id={id}"), "=disabled=yes"])
            .await
            .unwrap();
    });
    audit("after");

    let run_diff = |extra: &[&str]| {
        let o = common::tikguard()
            .args(["fleet", "diff", "--format", "json"])
            .arg(dir.path().join("before"))
            .arg(dir.path().join("after"))
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, err) = run_diff(&[]);
    assert_eq!(code, Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changed = v["routers"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{out}");
    assert_eq!(changed[0]["name"], "pop-2");
    let fixed: Vec<&str> = changed[0]["fixed_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(fixed.contains(&"TG108"), "{out}");
    assert!(changed[0].get("new_findings").is_none(), "{out}");
    // TG601's CVE list lost the web server's CVE: the same finding, changed.
    assert_eq!(
        changed[0]["changed_findings"][0]["new"]["rule"], "TG601",
        "{out}"
    );

    // The webhook gets the same document; a failing one makes the exit status 2 and is
    // reported without the URL's token.
    let (url, got) = rt.block_on(async {
        let (base, got) = receiver(200).await;
        (format!("{base}/hook/T0KEN-SECRET"), got)
    });
    let (code, _, err) = run_diff(&["--webhook", &url]);
    assert_eq!(code, Some(1), "{err}");
    let posted = got.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    let pv: serde_json::Value = serde_json::from_slice(&posted[0].1).unwrap();
    assert_eq!(pv, v);

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let (code, _, err) = run_diff(&[
        "--webhook",
        &format!("http://127.0.0.1:{port}/hook/T0KEN-SECRET"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("webhook"), "{err}");
    assert!(!err.contains("T0KEN"), "{err}");

    let o = common::tikguard()
        .args(["fleet", "diff"])
        .arg(dir.path().join("after"))
        .arg(dir.path().join("after"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "no change\n");
}
