//! The proxy's Prometheus endpoint over real sockets: what it counts, that `promtool check
//! metrics` (Debian's `prometheus` package; CI installs it and sets PROMTOOL) accepts it, and
//! that its HTTP listener stays bounded under a flood.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
#[path = "common/proxy.rs"]
mod proxy_common;
use proxy_common::*;

/// `GET /metrics`: the body.
async fn scrape(addr: &str) -> String {
    let mut http = tokio::net::TcpStream::connect(addr).await.unwrap();
    http.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    http.read_to_string(&mut resp).await.unwrap();
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"))
}

/// The value of the series `name{labels}` (labels as the text shows them), if present.
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// promtool, where it is installed (CI must have it).
fn promtool() -> Option<PathBuf> {
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

/// `promtool check metrics` on `text`: whether it passed, and what it said.
fn promtool_check(promtool: &Path, text: &str) -> (bool, String) {
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

/// The endpoint counts decisions by client, router and decision, rate-limit denials by client,
/// the pool's sessions in use and its size, and the audit log's write latency; counters are
/// exported as counters (`_total`, `# TYPE ... counter`); what it serves passes `promtool check
/// metrics`, whose own check can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_decisions_and_pass_promtool() {
    let s = setup_edited(
        "\n[[policy.billing.rule]]\npath = \"/interface\"\nverbs = [\"print\", \"listen\"]\n",
        false,
        |t| {
            t.replacen(
                "policy = \"billing\"\nrouters = [\"core-01\"]\n",
                "policy = \"billing\"\nrouters = [\"core-01\"]\nrate = { per-second = 0.01, burst = 4 }\n",
                1,
            )
        },
    );
    let c = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    c.call(&["/system/identity/print"]).await.unwrap();
    let _ = c.call(&["/user/print"]).await.unwrap_err();
    let _ = c.call(&["/user/print"]).await.unwrap_err();
    // One command holds an upstream session while it streams.
    let other = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    let stream = other.stream(&["/interface/listen"]).await.unwrap();
    let in_use = "tikguard_proxy_upstream_sessions_in_use{router=\"core-01\"}";
    for _ in 0..100 {
        if value(&scrape(&s.metrics).await, in_use) == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The bucket (4) is empty now: these two are refused by the rate limit.
    for _ in 0..2 {
        let e = c.call(&["/system/identity/print"]).await.unwrap_err();
        assert!(trap_message(&e).contains("rate limit"), "{e:?}");
    }
    let body = scrape(&s.metrics).await;
    let v = |series: &str| value(&body, series).unwrap_or_else(|| panic!("{series}\n{body}"));
    assert_eq!(
        v("tikguard_proxy_commands_total{client=\"billing\",decision=\"deny\",router=\"core-01\"}"),
        4.0
    );
    assert_eq!(
        v("tikguard_proxy_rate_limited_total{client=\"billing\"}"),
        2.0
    );
    assert_eq!(v("tikguard_proxy_upstream_up{router=\"core-01\"}"), 1.0);
    // c's connection, back in the pool, is the one the stream took.
    assert_eq!(
        v("tikguard_proxy_upstream_connects_total{router=\"core-01\"}"),
        1.0
    );
    assert_eq!(
        v("tikguard_proxy_upstream_sessions_in_use{router=\"core-01\"}"),
        1.0
    );
    assert_eq!(
        v("tikguard_proxy_upstream_sessions_max{router=\"core-01\"}"),
        4.0
    );
    assert!(v("tikguard_proxy_log_write_seconds_count") >= 4.0, "{body}");
    assert_eq!(v("tikguard_proxy_log_write_failures_total"), 0.0);
    assert!(
        body.contains("tikguard_proxy_command_seconds_bucket"),
        "{body}"
    );
    for counter in [
        "tikguard_proxy_commands_total",
        "tikguard_proxy_upstream_connects_total",
        "tikguard_proxy_upstream_connect_failures_total",
        "tikguard_proxy_rate_limited_total",
        "tikguard_proxy_log_write_failures_total",
    ] {
        assert!(
            body.contains(&format!("# TYPE {counter} counter")),
            "{counter}\n{body}"
        );
    }
    drop(stream);
    let Some(promtool) = promtool() else { return };
    let (ok, said) = promtool_check(&promtool, &body);
    assert!(ok, "promtool: {said}");
    // The check can fail: a counter without its help text is refused.
    let (ok, _) = promtool_check(&promtool, "# TYPE x_total counter\nx_total 1\n");
    assert!(!ok);
}

/// `upstream_up` follows the router: 1 while it answers, 0 once a command got no reply within
/// `command-timeout` (the router hung: no connection attempt failed, which is all the gauge
/// used to follow), 1 again once the router answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_up_falls_when_the_router_stops_answering_and_rises_when_it_is_back() {
    let s = setup_edited("", false, |t| {
        t.replace(
            "max-sessions = 4\n",
            "max-sessions = 4\ncommand-timeout = 1\n",
        )
    });
    let up = "tikguard_proxy_upstream_up{router=\"core-01\"}";
    // Nothing is known of the router before the proxy tries it.
    assert_eq!(value(&scrape(&s.metrics).await, up), None);
    let c = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    c.call(&["/system/identity/print"]).await.unwrap();
    assert_eq!(value(&scrape(&s.metrics).await, up), Some(1.0));
    let pid = s.emu.pid().to_string();
    let kill = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success())
    };
    kill("-STOP");
    let e = c.call(&["/system/identity/print"]).await;
    kill("-CONT");
    assert!(trap_message(&e.unwrap_err()).contains("did not answer"));
    assert_eq!(value(&scrape(&s.metrics).await, up), Some(0.0));
    c.call(&["/system/identity/print"]).await.unwrap();
    let body = scrape(&s.metrics).await;
    assert_eq!(value(&body, up), Some(1.0), "{body}");
    assert_eq!(
        value(
            &body,
            "tikguard_proxy_upstream_connects_total{router=\"core-01\"}"
        ),
        Some(2.0)
    );
}

/// A log the proxy cannot write (its file-size limit reached: `ulimit -f`, SIGXFSZ ignored so
/// the write fails with EFBIG): `log_write_failures_total` counts it, and commands are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_write_is_counted() {
    let s = setup_command(
        "",
        false,
        |t| t,
        |config| {
            // dash's `ulimit -f` counts 512-byte blocks: 16 KiB.
            let mut c = std::process::Command::new("sh");
            c.arg("-c")
                .arg("trap '' XFSZ; ulimit -f 32; exec \"$0\" proxy run --config \"$1\"")
                .arg(env!("CARGO_BIN_EXE_tikguard"))
                .arg(config)
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            c
        },
    );
    let c = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    let mut refused = None;
    for _ in 0..200 {
        if let Err(e) = c.call(&["/system/identity/print"]).await {
            refused = Some(trap_message(&e));
            break;
        }
    }
    let refused = refused.expect("the log never filled");
    assert!(refused.contains("audit log cannot be written"), "{refused}");
    let body = scrape(&s.metrics).await;
    assert_eq!(
        value(&body, "tikguard_proxy_log_write_failures_total"),
        Some(1.0),
        "{body}"
    );
}

/// A connection to the metrics listener from `source` (a loopback address).
async fn from(source: &str, to: &str) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{source}:0").parse().unwrap()).unwrap();
    sock.connect(to.parse().unwrap()).await.unwrap()
}

/// Whether the server closes `s` (without a response) within `within`.
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, s.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// A flood of idle connections to the metrics listener: one source holds at most 8, all
/// sources 64; the next is closed at once (and counted) while other sources are still served;
/// a connection that sends half a request is closed after the read timeout (5 s); once the
/// flood's connections time out, scraping works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_flood_is_bounded_per_source_and_in_all() {
    let s = setup("");
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(from("127.0.0.1", &s.metrics).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = from("127.0.0.1", &s.metrics).await;
    assert!(closed_within(&mut ninth, Duration::from_secs(2)).await);
    // Another source is still served.
    let mut other = from("127.0.0.2", &s.metrics).await;
    other
        .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    other.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.0 200"), "{resp}");
    // 64 in all: 8 from each of 127.0.0.2 to 127.0.0.8 fill it.
    for i in 2..=8 {
        for _ in 0..8 {
            held.push(from(&format!("127.0.0.{i}"), &s.metrics).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut past = from("127.0.0.9", &s.metrics).await;
    assert!(closed_within(&mut past, Duration::from_secs(2)).await);
    // Half a request, then nothing: closed by the read timeout, not held for 30 s.
    let started = Instant::now();
    let mut slow = held.pop().unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(8)).await);
    assert!(started.elapsed() < Duration::from_secs(8));
    // Every idle connection went the same way: scraping works again.
    for h in held.iter_mut() {
        assert!(closed_within(h, Duration::from_secs(3)).await);
    }
    let body = scrape(&s.metrics).await;
    assert!(
        value(&body, "tikguard_proxy_metrics_connections_refused_total").unwrap() >= 2.0,
        "{body}"
    );
}

/// CPU time a process has used, in clock ticks (user + system).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f[11] + f[12]
}

/// Out of file descriptors (`ulimit -n 40`, then more connections than fit): every accept
/// fails with EMFILE while connections wait in the backlog. The listeners pause between
/// failed accepts instead of retrying at once, which spun a core for as long as it lasted;
/// once descriptors are free the proxy serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_listeners_wait_instead_of_spinning() {
    let s = setup_command(
        "",
        false,
        |t| t,
        |config| {
            let mut c = std::process::Command::new("sh");
            c.arg("-c")
                .arg("ulimit -n 40; exec \"$0\" proxy run --config \"$1\"")
                .arg(env!("CARGO_BIN_EXE_tikguard"))
                .arg(config)
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            c
        },
    );
    let pid = s.proxy.0.id();
    let mut held = Vec::new();
    for _ in 0..60 {
        held.push(tokio::net::TcpStream::connect(&s.plain).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_ticks(pid) - before;
    // 200 ticks would be a core for the whole 2 s.
    assert!(
        used < 40,
        "{used} ticks of CPU in 2 s while out of descriptors"
    );
    drop(held);
    let mut served = false;
    for _ in 0..50 {
        if let Ok(c) = crm(&s.plain, "billing", CRM_PASSWORD).await {
            served = c.call(&["/system/identity/print"]).await.is_ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served);
}
