//! `tikguard watch` end to end: what it tells and who it tells. Alerts on standard output and to
//! a webhook, CrowdSec (bouncer and machine, a real LAPI where CI has one), metrics checked with
//! promtool, `watch block` and `watch status`, SIGHUP, the systemd unit and the README's
//! example; the harness is `common/watch.rs`.

use common::tikguard;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

mod common;
#[path = "common/watch.rs"]
mod watch_harness;
use watch_harness::*;

/// Every alert is POSTed to the webhook; a 503 is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_the_webhook_and_failures_are_retried() {
    let (url, bodies) = webhook_receiver(vec![503], None);
    let extra = format!("webhook = \"{url}\"\n");
    let r = start_with("", &extra);
    send_syslog(&r.udp, &failures_from("198.51.100.44", 3));
    let first = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    let again = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first, again, "the refused alert is sent again");
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["address"].as_str()),
        (Some("block"), Some("198.51.100.44"))
    );
    assert!(
        bodies.recv_timeout(Duration::from_millis(1500)).is_err(),
        "sent once taken"
    );
}

/// `cscli decisions add` puts the address on the router's list for the decision's duration;
/// `cscli decisions delete` takes it off. Captcha decisions are not bans and stay off. The
/// bouncer is given on the command line (`--crowdsec-lapi`, `--crowdsec-key-file`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crowdsec_decisions_go_on_the_router_and_come_off_when_deleted() {
    let Some(lapi) = Lapi::start() else { return };
    let key = lapi.key_file.display().to_string();
    let r = start_setup(Setup {
        args: &["--crowdsec-lapi", &lapi.url, "--crowdsec-key-file", &key],
        ..Setup::default()
    });
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--ip",
            "203.0.113.77",
            "--duration",
            "2h",
        ],
        None,
    );
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--range",
            "198.51.100.0/24",
            "--duration",
            "1h",
        ],
        None,
    );
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--ip",
            "203.0.113.78",
            "--type",
            "captcha",
        ],
        None,
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.0/24", "203.0.113.77"]).await,
        ["198.51.100.0/24", "203.0.113.77"]
    );
    let entries = listed(&r.ssl, &r.ca).await;
    let timeout = &entries.iter().find(|e| e.0 == "203.0.113.77").unwrap().1;
    assert!(
        timeout.starts_with("1h59m") || timeout.starts_with("2h"),
        "the decision's duration: {timeout}"
    );
    for (_, comment) in listed_comments(&r).await {
        assert!(
            comment.starts_with("tikguard-watch@t: crowdsec manual 'ban'"),
            "{comment}"
        );
    }
    lapi.cscli(&["decisions", "delete", "--ip", "203.0.113.77"], None);
    assert_eq!(
        until_listed(&r, &["198.51.100.0/24"]).await,
        ["198.51.100.0/24"]
    );
}

/// watch's own detection goes to CrowdSec as an alert with its decision (`cscli alerts list`
/// shows it), and the decision comes back to the router through the bouncer too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_detection_shows_up_in_crowdsec_alerts() {
    let Some((lapi, r)) = with_crowdsec(true) else {
        return;
    };
    send_syslog(&r.udp, &failures_from("198.51.100.61", 3));
    let mut alerts = serde_json::Value::Null;
    for _ in 0..100 {
        alerts = serde_json::from_str(&lapi.cscli(&["alerts", "list", "-o", "json"], None))
            .unwrap_or(serde_json::Value::Null);
        if alerts.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = &alerts[0];
    assert_eq!(a["scenario"], "tikguard/routeros-login-bf", "{alerts}");
    assert_eq!(a["source"]["value"], "198.51.100.61", "{alerts}");
    assert_eq!(a["decisions"][0]["type"], "ban", "{alerts}");
    assert_eq!(a["decisions"][0]["value"], "198.51.100.61", "{alerts}");
    let decisions: serde_json::Value =
        serde_json::from_str(&lapi.cscli(&["decisions", "list", "-o", "json"], None)).unwrap();
    assert_eq!(
        decisions[0]["decisions"][0]["value"], "198.51.100.61",
        "{decisions}"
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.61"]).await,
        ["198.51.100.61"]
    );
}

/// A router that was away is reconciled when it comes back: decisions made meanwhile go on,
/// decisions deleted meanwhile stay off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_that_comes_back_gets_crowdsec_decisions_made_while_it_was_away() {
    let Some((lapi, mut r)) = with_crowdsec(false) else {
        return;
    };
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.10"], None);
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.11"], None);
    assert_eq!(
        until_listed(&r, &["192.0.2.10", "192.0.2.11"]).await,
        ["192.0.2.10", "192.0.2.11"]
    );
    r.stop_emu();
    lapi.cscli(&["decisions", "delete", "--ip", "192.0.2.10"], None);
    lapi.cscli(&["decisions", "add", "--ip", "192.0.2.12"], None);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    r.restart_emu();
    assert_eq!(
        until_listed(&r, &["192.0.2.11", "192.0.2.12"]).await,
        ["192.0.2.11", "192.0.2.12"]
    );
}

/// The shipped systemd unit is valid and sandboxed (see [`common::check_systemd_unit`]).
#[test]
fn the_systemd_unit_verifies_and_is_sandboxed() {
    common::check_systemd_unit("tikguard-watch.service");
}

/// An HTTPS webhook is verified: with `webhook-ca` naming its CA the alert arrives; a watch
/// that does not trust that CA sends nothing to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_is_verified_against_its_ca() {
    let (tls, _, ca_pem) = common::ca_signed_server_config();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("hook-ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let (url, bodies) = webhook_receiver(vec![], Some(tls.clone()));
    let extra = format!("webhook = \"{url}\"\nwebhook-ca = \"{}\"\n", ca.display());
    let r = start_with("", &extra);
    send_syslog(&r.udp, &failures_from("198.51.100.45", 3));
    let got = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(got.contains("198.51.100.45"), "{got}");
    // Without the CA: the TLS handshake fails, nothing is posted.
    let (url, bodies) = webhook_receiver(vec![], Some(tls));
    let extra = format!("webhook = \"{url}\"\n");
    let r2 = start_with("", &extra);
    send_syslog(&r2.udp, &failures_from("198.51.100.46", 3));
    assert!(bodies.recv_timeout(Duration::from_secs(3)).is_err());
    let said = r2.said.lock().unwrap().clone();
    let warned = said
        .iter()
        .find(|l| l.contains("webhook:"))
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(warned.contains("certificate"), "{warned}");
    assert!(
        !warned.contains("SECRET") && warned.contains("/..."),
        "the webhook's path stays out of what watch prints: {warned}"
    );
    drop(r);
}

/// README's replay example works as written: the shipped configuration over the shipped log
/// blocks the brute force and the IPv6 /64, alerts the enumeration, and spares the allowlisted
/// backup tool.
#[test]
fn the_readme_replay_example_says_what_the_readme_shows() {
    let out = tikguard()
        .args([
            "watch",
            "replay",
            "--config",
            "examples/watch.toml",
            "examples/watch.log",
            "--stats",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["type"].as_str().unwrap().to_string(),
                v["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("block", "203.0.113.50"),
        ("enumeration", "2001:db8:77:1::/64"),
        ("block", "2001:db8:77:1::/64"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("20 lines, 19 login events, 3 decisions")
    );
}

/// SIGHUP reads the configuration again: a broken file is refused and the running one stays;
/// a good one takes effect (a new threshold).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_a_broken_file_is_refused() {
    let r = start("");
    let hup = |pid: u32| {
        assert!(std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success());
    };
    let good = std::fs::read_to_string(&r.config).unwrap();
    std::fs::write(&r.config, "[watch]\nfailures = \"many\"\n").unwrap();
    hup(r.watch.0.id());
    let mut said = Vec::new();
    for _ in 0..50 {
        said = r.said.lock().unwrap().clone();
        if said.iter().any(|l| l.contains("reload refused")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        said.iter().any(|l| l.contains("reload refused")),
        "{said:?}"
    );
    send_syslog(&r.udp, &failures_from("198.51.100.91", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.91"]).await,
        ["198.51.100.91"]
    );
    std::fs::write(&r.config, good.replace("failures = 3", "failures = 5")).unwrap();
    hup(r.watch.0.id());
    for _ in 0..50 {
        if r.said
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("reloaded"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    send_syslog(&r.udp, &failures_from("198.51.100.92", 3));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        listed(&r.ssl, &r.ca).await.len(),
        1,
        "3 failures no longer block"
    );
    send_syslog(&r.udp, &failures_from("198.51.100.92", 2));
    assert_eq!(
        until_listed(&r, &["198.51.100.91", "198.51.100.92"]).await,
        ["198.51.100.91", "198.51.100.92"]
    );
}

/// `GET /metrics`: lines and events per router, unknown senders, blocks and the router's
/// reachability, in a form `promtool check metrics` accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routers_lines_unknown_senders_and_blocks_and_pass_promtool() {
    let r = start_with("", "metrics = \"127.0.0.1:0\"\n");
    send_syslog_from("127.0.0.2", &r.udp, &failures_from("198.51.100.130", 4));
    send_syslog(&r.udp, &failures_from("198.51.100.131", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.131"]).await,
        ["198.51.100.131"]
    );
    let addr = {
        let said = r.said.lock().unwrap().clone();
        said.iter()
            .find_map(|l| l.strip_prefix("metrics ").map(str::to_string))
            .unwrap_or_else(|| panic!("{said:?}"))
    };
    let body = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out.split_once("\r\n\r\n").unwrap().1.to_string()
    };
    for want in [
        "tikguard_watch_unknown_sender_total 0",
        "tikguard_watch_udp_kernel_drops_total 4",
        "tikguard_watch_blocks_total{router=\"emu\"} 1",
        "tikguard_watch_router_up{router=\"emu\"} 1",
        "tikguard_watch_queue_drops_total 0",
    ] {
        assert!(body.contains(want), "{want} in:\n{body}");
    }
    let events: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("tikguard_watch_events_total{router=\"emu\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{body}"));
    assert!(events >= 3, "{body}");
    let promtool = match std::env::var_os("PROMTOOL") {
        Some(p) => std::path::PathBuf::from(p),
        None if Path::new("/usr/bin/promtool").exists() => "/usr/bin/promtool".into(),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (see .ci/run)"
            );
            return;
        }
    };
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A router whose firewall does not drop the list is said at start, for IPv4 and for IPv6
/// (blocks on a list nothing drops change nothing); once rules drop it, nothing is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_with_no_rule_dropping_the_list_is_warned_about() {
    let mut r = start("");
    let mut said = Vec::new();
    for _ in 0..50 {
        said = r.said.lock().unwrap().clone();
        if said.iter().filter(|l| l.contains("no IPv")).count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for family in ["no IPv4 firewall", "no IPv6 firewall"] {
        assert!(
            said.iter().any(|l| l.contains(family)),
            "{family}: {said:?}"
        );
    }
    let c = admin(&r.ssl, &r.ca).await;
    for menu in ["/ip/firewall/filter/add", "/ipv6/firewall/raw/add"] {
        c.call(&[
            menu,
            "=chain=input",
            "=src-address-list=tikguard-watch",
            "=action=drop",
        ])
        .await
        .unwrap();
    }
    r.kill_watch();
    let (_w, _, _, said) = spawn_watch_with(&r.config, &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let said = said.lock().unwrap().clone();
    assert!(!said.iter().any(|l| l.contains("no IPv")), "{said:?}");
}

/// `watch block` lists an address by hand with its reason, the running watch keeps it (a
/// router that comes back without it gets it again), `watch status` shows it, and what watch
/// never blocks is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_by_hand_is_listed_kept_and_shown() {
    let mut r = start("");
    let config = r.config.clone();
    let run = |args: &[&str]| {
        tikguard()
            .env("STATE_DIRECTORY", config.parent().unwrap())
            .arg("watch")
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let out = run(&[
        "block",
        "203.0.113.77",
        "--for",
        "1h",
        "--reason",
        "seen by the IDS",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let comments = listed_with(&r.ssl, &r.ca, "comment").await;
    assert_eq!(comments.len(), 1);
    assert_eq!(
        comments[0],
        (
            "203.0.113.77".to_string(),
            "tikguard-watch@t: seen by the IDS".to_string()
        )
    );
    let out = run(&["block", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    // The running watch took it up: the router loses it in a restart and gets it back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.stop_emu();
    r.restart_emu();
    assert_eq!(until_listed(&r, &["203.0.113.77"]).await, ["203.0.113.77"]);
    let out = run(&["status", "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["address"], "203.0.113.77");
    assert_eq!(v["router"], "emu");
    let left = v["left_s"].as_u64().unwrap();
    assert!((3500..=3600).contains(&left), "{v}");
}

/// Standard output that nobody reads (a pipe to a stuck consumer, a stalled journal) must not
/// stall watch: 700 blocks' alert lines (over 64 KiB, a pipe's buffer) are written while the
/// test never reads watch's standard output, and a real client failing afterwards is still
/// blocked. Lines past the queue's 4,096 would be dropped and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_standard_output_does_not_stall_watch() {
    let mut r = start("");
    let mut lines = Vec::new();
    for i in 0..700u32 {
        lines.extend(failures_from(
            &format!("10.{}.{}.9", 40 + i / 250, i % 250 + 1),
            3,
        ));
    }
    send_syslog(&r.udp, &lines);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    fail_logins(&r.api, 3).await;
    let mut found = false;
    for _ in 0..100 {
        if listed(&r.ssl, &r.ca).await.iter().any(|(a, _)| a == CLIENT) {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the real client was not blocked");
    // SIGTERM is still heard (the loop is not stuck in a write), and the queue held the lines
    // the pipe could not: none was dropped.
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(
        stopping_count(&last, " alert lines not written to standard output"),
        0,
        "{last}"
    );
}

/// SIGHUP with a new `allow` refreshes the CrowdSec filter too: a decision on an address now
/// allowed comes off the router, and comes back when the allow entry goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_refilters_crowdsec_decisions() {
    let Some(lapi) = Lapi::start() else { return };
    let key = lapi.key_file.display().to_string();
    let r = start_setup(Setup {
        args: &["--crowdsec-lapi", &lapi.url, "--crowdsec-key-file", &key],
        ..Setup::default()
    });
    lapi.cscli(
        &[
            "decisions",
            "add",
            "--ip",
            "203.0.113.79",
            "--duration",
            "2h",
        ],
        None,
    );
    assert_eq!(until_listed(&r, &["203.0.113.79"]).await, ["203.0.113.79"]);
    let hup = |r: &Run| {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &r.watch.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    let text = std::fs::read_to_string(&r.config).unwrap();
    assert!(text.contains("allow = []"), "{text}");
    std::fs::write(
        &r.config,
        text.replace("allow = []", "allow = [\"203.0.113.79\"]"),
    )
    .unwrap();
    hup(&r);
    assert!(until_listed(&r, &[]).await.is_empty());
    std::fs::write(&r.config, text).unwrap();
    hup(&r);
    assert_eq!(until_listed(&r, &["203.0.113.79"]).await, ["203.0.113.79"]);
}

/// The metrics listener under a hostile host: connections that send nothing hold at most 8
/// slots per address (the 9th from one address is closed at once) and 64 in all (a 65th from
/// yet another address is closed at once); another address is still answered while one
/// address holds its 8; and silent connections are closed within the connection time (10 s),
/// after which the first address is answered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_limits_connections_and_closes_silent_ones() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = start_with("", "metrics = \"127.0.0.1:0\"\n");
    let addr: std::net::SocketAddr = {
        let said = r.said.lock().unwrap().clone();
        said.iter()
            .find_map(|l| l.strip_prefix("metrics ").map(str::to_string))
            .unwrap_or_else(|| panic!("{said:?}"))
            .parse()
            .unwrap()
    };
    let connect = |from: &'static str| async move {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(format!("{from}:0").parse().unwrap()).unwrap();
        s.connect(addr).await.unwrap()
    };
    async fn closed_soon(c: &mut tokio::net::TcpStream) -> bool {
        let mut b = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_millis(500), c.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
    async fn served(mut c: tokio::net::TcpStream) -> bool {
        if c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .is_err()
        {
            return false;
        }
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).contains("tikguard_watch_lines_total")
            || String::from_utf8_lossy(&out).contains("200 OK")
    }
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect("127.0.0.1").await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = connect("127.0.0.1").await;
    assert!(
        closed_soon(&mut ninth).await,
        "a 9th connection from one address is closed"
    );
    assert!(
        served(connect("127.0.0.2").await).await,
        "another address is answered"
    );
    for i in 2..=8 {
        let from: &'static str = Box::leak(format!("127.0.0.{i}").into_boxed_str());
        for _ in 0..8 {
            held.push(connect(from).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect("127.0.0.9").await;
    assert!(
        closed_soon(&mut over).await,
        "a 65th connection in all is closed"
    );
    // Silent connections go within the connection time.
    let started = std::time::Instant::now();
    let mut b = [0u8; 16];
    let first = &mut held[0];
    let end = tokio::time::timeout(Duration::from_secs(20), first.read(&mut b)).await;
    assert!(matches!(end, Ok(Ok(0)) | Ok(Err(_))), "{end:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "closed after {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(served(connect("127.0.0.1").await).await, "answered again");
}

/// logrotate moves `alerts-file` away and sends SIGHUP (`postrotate systemctl reload
/// tikguard-watch`): the alerts before it are in the moved file, the ones after it in a new
/// file at the configured path, created 0600; watch goes on blocking throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_file_is_reopened_on_sighup_after_logrotate_moved_it() {
    use std::os::unix::fs::PermissionsExt;
    let keep = tempfile::tempdir().unwrap();
    let alerts = keep.path().join("alerts.jsonl");
    let r = start_with("", &format!("alerts-file = \"{}\"\n", alerts.display()));
    let wait_for = |p: std::path::PathBuf, what: &'static str| async move {
        for _ in 0..50 {
            if std::fs::read_to_string(&p).is_ok_and(|t| t.contains(what)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    send_syslog(&r.udp, &failures_from("198.51.100.151", 3));
    assert!(wait_for(alerts.clone(), "198.51.100.151").await);
    let rotated = keep.path().join("alerts.jsonl.1");
    std::fs::rename(&alerts, &rotated).unwrap();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &r.watch.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_syslog(&r.udp, &failures_from("198.51.100.152", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.151", "198.51.100.152"]).await,
        ["198.51.100.151", "198.51.100.152"]
    );
    assert!(
        wait_for(alerts.clone(), "198.51.100.152").await,
        "the new alert is in a new file at the configured path"
    );
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(
        old.contains("198.51.100.151") && !old.contains("198.51.100.152"),
        "{old}"
    );
    let mode = std::fs::metadata(&alerts).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Sends SIGHUP to watch and waits (10 s at most) for the `n`th line of stderr containing
/// `needle`; that line.
async fn hup_and_wait(r: &Run, needle: &str, n: usize) -> String {
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &r.watch.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    for _ in 0..100 {
        let said = r.said.lock().unwrap().clone();
        if let Some(l) = said.iter().filter(|l| l.contains(needle)).nth(n - 1) {
            return l.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no `{needle}` #{n} in {:?}", r.said.lock().unwrap());
}

/// SIGHUP applies router changes, not only thresholds: a router added is connected to and
/// followed (its failures block there); a router whose connection changed (its address now a
/// replacement router) is reconnected and its list reconciled there; a removed router is no
/// longer believed (its syslog lines are an unknown sender's). A file adding a router whose
/// password is refused is refused whole, and the running routers go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_changes_and_removes_routers() {
    let r = start("");
    let base = std::fs::read_to_string(&r.config).unwrap();
    let (_emu2, api2, ssl2, table2) = second_emu(&r, "emu2", "127.0.0.9", true);
    // Added.
    std::fs::write(&r.config, format!("{base}{table2}")).unwrap();
    let said = hup_and_wait(&r, "configuration reloaded", 1).await;
    assert!(said.contains("routers added: emu2"), "{said}");
    let mut on2 = Vec::new();
    for _ in 0..20 {
        fail_logins(&api2, 3).await;
        on2 = until_on(&ssl2, &r.ca, &[CLIENT]).await;
        if on2 == [CLIENT] {
            break;
        }
    }
    assert_eq!(on2, [CLIENT], "the added router is followed and blocks");
    // Changed: emu2's address is now another router (same credentials).
    let (_emu3, _, ssl3, _) = second_emu(&r, "emu3", "127.0.0.10", false);
    std::fs::write(&r.config, format!("{base}{}", table2.replace(&ssl2, &ssl3))).unwrap();
    let said = hup_and_wait(&r, "configuration reloaded", 2).await;
    assert!(said.contains("changed: emu2"), "{said}");
    assert_eq!(
        until_on(&ssl3, &r.ca, &[CLIENT]).await,
        [CLIENT],
        "reconnected: the new router's list is reconciled"
    );
    // Removed: the first router's syslog is no longer read.
    let only2 = format!(
        "{}{}",
        base.split("[[router]]").next().unwrap(),
        table2.replace(&ssl2, &ssl3)
    );
    std::fs::write(&r.config, &only2).unwrap();
    let said = hup_and_wait(&r, "configuration reloaded", 3).await;
    assert!(said.contains("removed: emu"), "{said}");
    send_syslog(&r.udp, &failures_from("198.51.100.161", 3));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    assert_eq!(addresses_on(&ssl3, &r.ca).await, [CLIENT]);
    // A router whose password is refused: the reload is refused, the running one stays.
    let bad_pw = r.dir.path().join("wrong.pass");
    std::fs::write(&bad_pw, "wrong\n").unwrap();
    let bad = table2
        .replace("name = \"emu2\"", "name = \"emu4\"")
        .replace("127.0.0.9", "127.0.0.11")
        .replace("follow = true", "follow = false")
        .replace(
            &r.dir.path().join("admin.pass").display().to_string(),
            &bad_pw.display().to_string(),
        );
    std::fs::write(&r.config, format!("{only2}{bad}")).unwrap();
    let said = hup_and_wait(&r, "reload refused", 1).await;
    assert!(said.contains("router emu4"), "{said}");
    let mut r = r;
    let last = stop_watch(&mut r.watch, &r.said);
    assert!(
        stopping_count(&last, " UDP datagrams dropped by the kernel") >= 3,
        "{last}"
    );
}

/// A SIGHUP that comes while watch starts (its routers are being checked, up to 10 s, and
/// logrotate's postrotate does not wait) does not end it: watch starts and serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_during_start_up_does_not_end_watch() {
    use std::io::BufRead;
    // A "router" whose accept queue is full: watch's connection is never answered, and the
    // check waits its 10 s.
    let silent = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    silent
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    silent.listen(0).unwrap();
    let addr = silent.local_addr().unwrap().as_socket().unwrap();
    let _fill: Vec<_> = (0..1)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\nstate = \"\"\n[[router]]\nname = \"silent\"\naddress = \"{addr}\"\nsource = \"127.0.0.3\"\npin = \"sha256:{}\"\nuser = \"u\"\npassword-env = \"UNSET\"\n",
            "00".repeat(32)
        ),
    )
    .unwrap();
    let mut w = common::Proc(
        tikguard()
            .args(["watch", "run", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = w.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(w.0.try_wait().unwrap().is_none(), "watch is starting");
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &w.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let mut said = Vec::new();
    let started = loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) if l.starts_with("syslog-udp ") => break true,
            Ok(l) => said.push(l),
            Err(_) => break false,
        }
    };
    assert!(
        started,
        "watch did not start: {said:?}, {:?}",
        w.0.try_wait()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(w.0.try_wait().unwrap().is_none(), "watch ended");
    drop(silent);
}
