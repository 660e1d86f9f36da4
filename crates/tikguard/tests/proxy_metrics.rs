//! The proxy's Prometheus endpoint over real sockets: what it counts, that `promtool check
//! metrics` (Debian's `prometheus` package; CI installs it and sets PROMTOOL) accepts it, and
//! that its HTTP listener stays bounded under a flood.

use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
#[path = "common/proxy.rs"]
mod proxy_common;
use proxy_common::*;

/// The Prometheus endpoint counts decisions by client, router and decision, and what it serves
/// passes `promtool check metrics` (Debian's `prometheus` package; CI installs it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_decisions_and_pass_promtool() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = setup("");
    let c = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    c.call(&["/system/identity/print"]).await.unwrap();
    let _ = c.call(&["/user/print"]).await.unwrap_err();
    let _ = c.call(&["/user/print"]).await.unwrap_err();
    let mut http = tokio::net::TcpStream::connect(&s.metrics).await.unwrap();
    http.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    http.read_to_string(&mut resp).await.unwrap();
    let body = resp.split("\r\n\r\n").nth(1).unwrap().to_string();
    assert!(
        body.contains("tikguard_proxy_commands_total{client=\"billing\",decision=\"deny\",router=\"core-01\"} 2"),
        "{body}"
    );
    assert!(
        body.contains("tikguard_proxy_upstream_up{router=\"core-01\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("tikguard_proxy_command_seconds_bucket"),
        "{body}"
    );
    let promtool = match std::env::var_os("PROMTOOL") {
        Some(p) => PathBuf::from(p),
        None if Path::new("/usr/bin/promtool").exists() => PathBuf::from("/usr/bin/promtool"),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (see .ci/run)"
            );
            return;
        }
    };
    let check = |text: &str| {
        let mut child = std::process::Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, said) = check(&body);
    assert!(ok, "promtool: {said}");
    // The check can fail: a counter without its help text is refused.
    let (ok, _) = check("# TYPE x_total counter\nx_total 1\n");
    assert!(!ok);
}
