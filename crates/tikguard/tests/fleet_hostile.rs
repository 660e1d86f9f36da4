//! Routers that answer garbage or flood: each is reported as what it is, alone, within the
//! timeouts, and the run's memory stays bounded by the client's limits.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tikguard::fleet::connect::Timeouts;
use tikguard::fleet::inventory::{self, Defaults, Format};
use tikguard::fleet::jobs::Job;
use tikguard::fleet::run::{self, RunOptions};
use tokio::io::AsyncWriteExt;

async fn server(kind: &'static str) -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                match kind {
                    // An HTTP server where the API should be.
                    "garbage" => {
                        let _ = s
                            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                    // Endless bytes that look like one huge word.
                    "flood" => {
                        let _ = s.write_all(&[0xE0, 0xFF, 0xFF, 0xFF, 0xFF]).await;
                        let chunk = vec![b'a'; 64 << 10];
                        while s.write_all(&chunk).await.is_ok() {}
                    }
                    // Endless small valid-looking sentences that never finish the login.
                    _ => {
                        let mut sentence = vec![3u8];
                        sentence.extend_from_slice(b"!re");
                        sentence.push(5);
                        sentence.extend_from_slice(b"=a=bb");
                        sentence.push(0);
                        let many: Vec<u8> = sentence.repeat(4096);
                        while s.write_all(&many).await.is_ok() {}
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn garbage_and_floods_are_reported_and_bounded() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    std::env::set_var("FLEET_HOSTILE_PASS", "x");
    let (g, f, s) = rt.block_on(async {
        (
            server("garbage").await,
            server("flood").await,
            server("sentences").await,
        )
    });
    let csv = format!(
        "name,address,port\nplain-garbage,127.0.0.1,{}\nplain-flood,127.0.0.1,{}\nplain-sentences,127.0.0.1,{}\n",
        g.port(),
        f.port(),
        s.port()
    );
    let d = Defaults {
        password_env: Some("FLEET_HOSTILE_PASS".into()),
        plain: true,
        ..Defaults::default()
    };
    let mut routers = inventory::parse(&csv, Format::Csv, Path::new("x.csv"), &d)
        .unwrap()
        .routers;
    // The same servers spoken to with TLS.
    let tls_csv = csv.replace("plain-", "tls-");
    let d = Defaults {
        password_env: Some("FLEET_HOSTILE_PASS".into()),
        insecure_skip_verify: true,
        ..Defaults::default()
    };
    routers.extend(
        inventory::parse(&tls_csv, Format::Csv, Path::new("x.csv"), &d)
            .unwrap()
            .routers,
    );
    let opts = RunOptions {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            command: Duration::from_secs(2),
        },
        retries: 0,
        ..RunOptions::default()
    };
    let ran = rt.block_on(run::run(
        routers,
        Job::Exec(vec!["/system/resource/print".into()]),
        opts,
        None,
        Arc::new(()),
        std::future::pending(),
    ));
    let status = |n: &str| {
        ran.results
            .iter()
            .find(|r| r.name == n)
            .unwrap()
            .status
            .word()
    };
    assert_eq!(status("plain-garbage"), "protocol");
    assert_eq!(status("plain-flood"), "protocol");
    // Valid sentences forever: the login never finishes, so its timeout ends it.
    assert!(
        matches!(status("plain-sentences"), "timeout" | "protocol"),
        "{}",
        status("plain-sentences")
    );
    for n in ["tls-garbage", "tls-flood", "tls-sentences"] {
        assert!(
            matches!(status(n), "wrong-service" | "tls-error"),
            "{n}: {}",
            status(n)
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .map(|v| v.parse::<u64>().unwrap())
        })
        .unwrap();
    assert!(rss < 512 * 1024, "peak RSS {rss} KiB");
}
