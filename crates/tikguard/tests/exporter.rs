//! `tikguard exporter` over real sockets: the emulator as the routers (api-ssl with a real
//! certificate, verified by pin), the exporter's HTTP server on 127.0.0.1, raw HTTP requests as
//! Prometheus sends them, and `promtool check metrics` on what it answers (Debian's
//! `prometheus`; CI installs it and sets PROMTOOL).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use routeros_api::{Security, Verify};
use routeros_config::Config;
use tikguard::emu;
use tikguard::exporter::{self, Exporter, Settings, Target};
use tikguard::fleet::inventory::Credential as Password;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A router with a WAN interface and no firewall: every service, the API included, is
/// reached from the internet.
const OPEN_ROUTER: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18\n\
/interface list\nadd name=WAN\n\
/interface list member\nadd interface=ether1 list=WAN\n\
/ip address\nadd address=203.0.113.2/24 interface=ether1\n";

const PASSWORD_VAR: &str = "TIKGUARD_TEST_EXPORTER_PASS";
const PASSWORD: &str = "exporter-pass";

/// Unix time of 2030-01-01 00:00:00 UTC, the test certificate's notAfter.
const NOT_AFTER: i64 = 1_893_456_000;

fn server_config() -> (Arc<rustls::ServerConfig>, routeros_api::Fingerprint) {
    common::self_signed_until((2030, 1, 1))
}

/// The emulator serving `export` on api-ssl; the target that reaches it, pinned.
async fn emulated(name: &str, export: &str) -> Target {
    std::env::set_var(PASSWORD_VAR, PASSWORD);
    let (cfg, fp) = server_config();
    let (config, _) = Config::load(export.as_bytes().to_vec());
    let pw = HashMap::from([("admin".to_string(), PASSWORD.to_string())]);
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api_ssl: Some(("127.0.0.1:0".parse().unwrap(), cfg)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Target {
        name: name.into(),
        address: e.api_ssl.unwrap().to_string(),
        security: Security::Tls(Verify::Pin(fp)),
        user: "admin".into(),
        password: Password::Env(PASSWORD_VAR.into()),
    }
}

/// A router that accepts connections and never says a word; counts the connections.
async fn silent(name: &str) -> (Target, Arc<std::sync::atomic::AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    let target = Target {
        name: name.into(),
        address: addr.to_string(),
        security: Security::Tls(Verify::InsecureSkipVerification),
        user: "admin".into(),
        password: Password::Env(PASSWORD_VAR.into()),
    };
    (target, seen)
}

async fn start(targets: Vec<Target>, settings: Settings) -> (SocketAddr, Arc<Exporter>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let e = Exporter::new(targets, settings);
    tokio::spawn(exporter::serve(l, e.clone()));
    (addr, e)
}

/// `GET path` with Prometheus' scrape timeout header: the status and the body.
async fn get(addr: SocketAddr, path: &str, timeout: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let header = timeout
        .map(|t| format!("X-Prometheus-Scrape-Timeout-Seconds: {t}\r\n"))
        .unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n{header}\r\n").as_bytes())
        .await
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// promtool, where it is installed (CI must have it).
pub fn promtool() -> Option<PathBuf> {
    match std::env::var_os("PROMTOOL") {
        Some(p) => Some(PathBuf::from(p)),
        None if Path::new("/usr/bin/promtool").exists() => Some(PathBuf::from("/usr/bin/promtool")),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (see .ci/run)"
            );
            eprintln!("promtool not here: exposition not checked");
            None
        }
    }
}

fn promtool_check_metrics(promtool: &Path, text: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A probe of a router whose API is open to the internet says so (`service_reach` internet for
/// `api`), counts its findings by severity and rule, names its version, and gives the expiry
/// of the certificate it presented on api-ssl; `/metrics` counts the probe; both pass
/// `promtool check metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reports_api_reach_findings_version_and_certificate_expiry() {
    let t = emulated("edge-1", OPEN_ROUTER).await;
    let (addr, _) = start(vec![t], Settings::default()).await;
    let (status, body) = get(addr, "/probe?target=edge-1", Some("20")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(
        value(
            &body,
            r#"tikguard_service_reach{reach="internet",service="api"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            r#"tikguard_service_reach{reach="closed",service="api"}"#
        ),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        value(&body, r#"tikguard_routeros_info{version="7.18"}"#),
        Some(1.0),
        "{body}"
    );
    let critical = value(&body, r#"tikguard_findings{severity="critical"}"#).unwrap();
    let by_rule: f64 = body
        .lines()
        .filter(|l| l.starts_with("tikguard_rule_findings{") && l.contains("severity=\"critical\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(critical >= 1.0, "{body}");
    assert_eq!(critical, by_rule, "{body}");
    let expiry = value(
        &body,
        "tikguard_api_ssl_certificate_expiry_timestamp_seconds",
    )
    .unwrap();
    assert_eq!(expiry as i64, NOT_AFTER, "{body}");
    assert!(value(&body, "probe_duration_seconds").unwrap() > 0.0);

    let (status, own) = get(addr, "/metrics", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        value(&own, r#"tikguard_exporter_probes_total{result="success"}"#),
        Some(1.0),
        "{own}"
    );
    if let Some(p) = promtool() {
        for text in [&body, &own] {
            let (ok, said) = promtool_check_metrics(&p, text);
            assert!(ok, "promtool: {said}\n{text}");
        }
        // The check can fail: a counter without `_total` is refused.
        let (ok, _) = promtool_check_metrics(&p, "# HELP x y\n# TYPE x counter\nx 1\n");
        assert!(!ok);
    }
}

/// The certificate's expiry comes from a TLS connection only: over the plaintext API the
/// series is absent, not 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_plain_api_certificate_expiry_is_absent_not_zero() {
    std::env::set_var(PASSWORD_VAR, PASSWORD);
    let (config, _) = Config::load(OPEN_ROUTER.as_bytes().to_vec());
    let pw = HashMap::from([("admin".to_string(), PASSWORD.to_string())]);
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t = Target {
        name: "plain".into(),
        address: e.api.unwrap().to_string(),
        security: Security::Plain,
        user: "admin".into(),
        password: Password::Env(PASSWORD_VAR.into()),
    };
    let (addr, _) = start(vec![t], Settings::default()).await;
    let (_, body) = get(addr, "/probe?target=plain", Some("20")).await;
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert!(!body.contains("certificate_expiry"), "{body}");
}

/// An unknown target is a 404 at once, and nothing is connected to: not an inventory router,
/// and not an address given as the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_target_is_404_without_touching_the_network() {
    let (t, seen) = silent("known").await;
    let address = t.address.clone();
    let (addr, _) = start(vec![t], Settings::default()).await;
    for path in [
        "/probe?target=nope".to_string(),
        format!("/probe?target={address}"),
    ] {
        let started = Instant::now();
        let (status, _) = get(addr, &path, Some("10")).await;
        assert_eq!(status, 404);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    let (status, _) = get(addr, "/probe", None).await;
    assert_eq!(status, 400);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0);
    let (_, own) = get(addr, "/metrics", None).await;
    assert_eq!(
        value(
            &own,
            r#"tikguard_exporter_requests_refused_total{reason="unknown_target"}"#
        ),
        Some(2.0),
        "{own}"
    );
}

/// A router that never answers fails at the scrape's deadline (the header's 2 s less 0.5 s),
/// and meanwhile another router is probed as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_router_fails_at_the_scrape_deadline_and_blocks_no_other() {
    let (slow, _) = silent("silent").await;
    let good = emulated("edge-1", OPEN_ROUTER).await;
    let (addr, _) = start(vec![slow, good], Settings::default()).await;
    let started = Instant::now();
    let slow = tokio::spawn(async move { get(addr, "/probe?target=silent", Some("2")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, body) = get(addr, "/probe?target=edge-1", Some("20")).await;
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    let (status, body) = slow.await.unwrap();
    let took = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert!(body.contains("tikguard_probe_failed{stage="), "{body}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(3000),
        "{took:?}"
    );
}

/// Past the probes that may run and wait, a request is answered 503 at once and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_probe_slots_and_queue_a_request_gets_503_at_once() {
    let (a, _) = silent("a").await;
    let (b, _) = silent("b").await;
    let settings = Settings {
        concurrency: 1,
        queue: 0,
        ..Settings::default()
    };
    let (addr, _) = start(vec![a, b], settings).await;
    let first = tokio::spawn(async move { get(addr, "/probe?target=a", Some("3")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let (status, _) = get(addr, "/probe?target=b", Some("3")).await;
    assert_eq!(status, 503);
    assert!(started.elapsed() < Duration::from_millis(500));
    let (_, own) = get(addr, "/metrics", None).await;
    assert_eq!(
        value(
            &own,
            r#"tikguard_exporter_requests_refused_total{reason="busy"}"#
        ),
        Some(1.0),
        "{own}"
    );
    assert_eq!(value(&own, "tikguard_exporter_probes_in_flight"), Some(1.0));
    let (status, _) = first.await.unwrap();
    assert_eq!(status, 200);
}

/// A wrong password fails the probe at login, not at connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_at_login() {
    let mut t = emulated("edge-1", OPEN_ROUTER).await;
    let var = "TIKGUARD_TEST_EXPORTER_WRONG";
    std::env::set_var(var, "not-the-password");
    t.password = Password::Env(var.into());
    let (addr, _) = start(vec![t], Settings::default()).await;
    let (_, body) = get(addr, "/probe?target=edge-1", Some("10")).await;
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(
        value(&body, r#"tikguard_probe_failed{stage="login"}"#),
        Some(1.0),
        "{body}"
    );
}

/// The fenced block that follows `<!-- NAME -->` in README.md.
fn readme_block(name: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let marker = format!("<!-- {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let body = after.split_once("```yaml\n").unwrap().1;
    body.split_once("```").unwrap().0.to_string()
}

fn promtool_run(promtool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// README's scrape configuration (relabeling the router's name into `target` and `instance`)
/// passes `promtool check config`, its alert rules `promtool check rules`, and the alert "api
/// reachable from the internet" fires, under `promtool test rules`, on the series the exporter
/// served for an emulated router whose API is open, after its `for:` and not before; on the
/// same router with the API closed to all but one address it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_scrape_config_and_alert_pass_promtool_on_exporter_series() {
    let Some(p) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        readme_block("prometheus.yml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tikguard-alerts.yml"),
        readme_block("tikguard-alerts.yml"),
    )
    .unwrap();
    let (ok, said) = promtool_run(&p, dir.path(), &["check", "config", "prometheus.yml"]);
    assert!(ok, "{said}");
    let (ok, said) = promtool_run(&p, dir.path(), &["check", "rules", "tikguard-alerts.yml"]);
    assert!(ok, "{said}");
    // The checks can fail.
    std::fs::write(
        dir.path().join("broken.yml"),
        readme_block("tikguard-alerts.yml").replace("== 1", "== == 1"),
    )
    .unwrap();
    let (ok, _) = promtool_run(&p, dir.path(), &["check", "rules", "broken.yml"]);
    assert!(!ok);

    // The series as the exporter serves them, with the labels Prometheus adds (job, and the
    // instance the relabeling sets to the router's name).
    let open = emulated("edge-1", OPEN_ROUTER).await;
    let closed = emulated(
        "edge-2",
        &format!("{OPEN_ROUTER}/ip service\nset api address=192.0.2.10/32\nset api-ssl address=192.0.2.10/32\n"),
    )
    .await;
    let (addr, _) = start(vec![open, closed], Settings::default()).await;
    let mut series = String::new();
    for name in ["edge-1", "edge-2"] {
        let (_, body) = get(addr, &format!("/probe?target={name}"), Some("20")).await;
        for line in body
            .lines()
            .filter(|l| l.starts_with("tikguard_service_reach{") && l.contains("service=\"api\""))
        {
            let (labels, v) = line.rsplit_once(' ').unwrap();
            let labels = labels.trim_end_matches('}');
            series.push_str(&format!(
                "      - series: '{labels},instance=\"{name}\",job=\"tikguard\"}}'\n        values: '{v}x40'\n"
            ));
        }
    }
    assert!(
        series.contains(r#"reach="internet",service="api",instance="edge-1""#),
        "{series}"
    );
    let test = format!(
        r#"rule_files:
  - tikguard-alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{series}    alert_rule_test:
      - eval_time: 10m
        alertname: RouterApiReachableFromInternet
        exp_alerts: []
      - eval_time: 20m
        alertname: RouterApiReachableFromInternet
        exp_alerts:
          - exp_labels:
              severity: critical
              service: api
              reach: internet
              instance: edge-1
              job: tikguard
            exp_annotations:
              summary: "edge-1: the RouterOS api service is reachable from the internet"
"#
    );
    std::fs::write(dir.path().join("test.yml"), &test).unwrap();
    let (ok, said) = promtool_run(&p, dir.path(), &["test", "rules", "test.yml"]);
    assert!(ok, "{said}\n{test}");
}

/// Scrapes of one router that arrive together make one probe: the others wait for it and get
/// its answer, so a flood of one name (or two Prometheus servers) opens one connection to
/// the router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scrapes_of_one_router_share_one_probe() {
    let good = emulated("edge-1", OPEN_ROUTER).await;
    let (slow, connections) = silent("silent").await;
    let (addr, _) = start(vec![good, slow], Settings::default()).await;
    let scrape = |name: &'static str, t: &'static str| {
        tokio::spawn(async move { get(addr, &format!("/probe?target={name}"), Some(t)).await })
    };
    let answers = [
        scrape("edge-1", "20"),
        scrape("edge-1", "20"),
        scrape("edge-1", "20"),
    ];
    for a in answers {
        let (status, body) = a.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    }
    let (_, own) = get(addr, "/metrics", None).await;
    let success = value(&own, r#"tikguard_exporter_probes_total{result="success"}"#).unwrap();
    let coalesced = value(
        &own,
        r#"tikguard_exporter_probes_total{result="coalesced"}"#,
    )
    .unwrap_or(0.0);
    assert_eq!(success + coalesced, 3.0, "{own}");
    assert!(coalesced >= 1.0, "{own}");

    let silent = [
        scrape("silent", "2"),
        scrape("silent", "2"),
        scrape("silent", "2"),
    ];
    for a in silent {
        let (_, body) = a.await.unwrap();
        assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// A request head larger than the limit, or with too many headers, is refused (431) without
/// probing; the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_request_head_is_refused_and_the_server_stays_up() {
    let (t, seen) = silent("known").await;
    let (addr, _) = start(vec![t], Settings::default()).await;
    for head in [
        format!(
            "GET /probe?target=known HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(exporter::MAX_HEAD * 2)
        ),
        format!(
            "GET /probe?target=known HTTP/1.1\r\nHost: x\r\n{}\r\n",
            (0..exporter::MAX_HEADERS + 8)
                .map(|i| format!("X-H{i}: v\r\n"))
                .collect::<String>()
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(head.as_bytes()).await;
        let mut resp = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut resp)).await;
        let resp = String::from_utf8_lossy(&resp);
        assert!(resp.starts_with("HTTP/1.1 431"), "{resp:?}");
    }
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0);
    let (status, _) = get(addr, "/metrics", None).await;
    assert_eq!(status, 200);
}
