//! `tikguard emu` under hostile clients, as a process whose memory is read from /proc: its peak
//! resident set (VmHWM) stays under the stated bound while a normal client keeps being answered.
//!
//! The hostile clients (all at once, on loopback):
//! - 100 connections that announce words just under 16 MiB before logging in and send them;
//! - 12 logged-in clients that each send a 15 MiB word (the post-login limit is 16 MiB), so that
//!   together they would hold 180 MiB against a 64 MiB budget;
//! - 5 logged-in `listen` clients that never read, while changes are made;
//! - one logged-in client pipelining 2,000 prints of a 3,000-entry address list without reading
//!   (about 400 MB of replies if they were held).
//!
//! Before these bounds: 1.66 GB for the first, 399 MB for the third, 446 MB in 5 s for the last.
//! Bound stated in `emu::session`: the 64 MiB budget, plus per connection a fixed read buffer and
//! listen queue, plus the configuration; asserted here as a peak under 160 MiB.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use routeros_api::{encode_sentence, Client, Options, Security};
use tokio::io::AsyncWriteExt;

mod common;
use common::{tikguard, Proc};

const BOUND_MIB: u64 = 160;

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn export() -> String {
    let mut s = String::from("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/ip service\nset api max-sessions=1000\n/ip firewall address-list\n");
    for i in 0..3000 {
        s.push_str(&format!(
            "add list=subscribers address=10.{}.{}.{} comment=\"subscriber {i} of the test plan\"\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    s
}

async fn login(addr: SocketAddr) -> Client {
    let c = Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap();
    c.login("admin", "bounds-pass").await.unwrap();
    c
}

/// A raw connection logged in by hand, for clients that then misbehave.
async fn raw_login(addr: SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&encode_sentence(&[
        "/login",
        "=name=admin",
        "=password=bounds-pass",
    ]))
    .await
    .unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].windows(5).any(|w| w == b"!done"), "login failed");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_stay_within_the_memory_bound_while_a_normal_client_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let rsc = dir.path().join("big.rsc");
    std::fs::write(&rsc, export()).unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "bounds-pass\n").unwrap();
    let mut child = tikguard()
        .args(["emu", "--api", "127.0.0.1:0", "--password-file"])
        .arg(format!("admin={}", pw.display()))
        .arg(&rsc)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let pid = child.id();
    let _emu = Proc(child);
    let addr: SocketAddr = first.strip_prefix("api ").unwrap().parse().unwrap();
    let normal = login(addr).await;
    let base = status_kib(pid, "VmRSS:");

    let mut tasks = Vec::new();
    // 100 pre-login clients announcing (16 MiB - 1) words and sending them.
    for _ in 0..100 {
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
                return;
            };
            let mut prefix = Vec::new();
            routeros_api::encode_len((16 << 20) - 1, &mut prefix);
            let _ = s.write_all(&prefix).await;
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..16 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }));
    }
    // 12 logged-in clients each sending one 15 MiB word.
    for _ in 0..12 {
        tasks.push(tokio::spawn(async move {
            let mut s = raw_login(addr).await;
            let mut prefix = Vec::new();
            routeros_api::encode_len(15 << 20, &mut prefix);
            let _ = s.write_all(&prefix).await;
            let chunk = vec![b'='; 1 << 20];
            for _ in 0..15 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(20)).await;
        }));
    }
    // 5 logged-in listeners that never read.
    let mut listeners = Vec::new();
    for _ in 0..5 {
        let mut s = raw_login(addr).await;
        s.write_all(&encode_sentence(&[
            "/ip/firewall/address-list/listen",
            ".tag=l",
        ]))
        .await
        .unwrap();
        listeners.push(s);
    }
    // One client pipelining 2,000 prints without reading.
    let mut pipeliner = raw_login(addr).await;
    tasks.push(tokio::spawn(async move {
        let print = encode_sentence(&["/ip/firewall/address-list/print"]);
        for _ in 0..2000 {
            if pipeliner.write_all(&print).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(20)).await;
    }));

    // Meanwhile: changes for the listeners, and the normal client must be answered.
    let deadline = Instant::now() + Duration::from_secs(12);
    let mut peak = 0;
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut i = 0u32;
    while Instant::now() < deadline {
        let t = Instant::now();
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            normal.call(&[
                "/ip/firewall/address-list/add".to_string(),
                "=list=churn".to_string(),
                format!("=address=172.16.{}.{}", i / 256, i % 256),
            ]),
        )
        .await;
        assert!(
            matches!(r, Ok(Ok(_))),
            "the normal client was not answered: {r:?}"
        );
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            normal.call(&["/system/resource/print"]),
        )
        .await;
        assert!(matches!(r, Ok(Ok(_))), "the normal client was not answered");
        slowest = slowest.max(t.elapsed());
        answered += 1;
        i += 1;
        peak = peak.max(status_kib(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hwm = status_kib(pid, "VmHWM:");
    eprintln!(
        "emu RSS: base {} MiB, sampled peak {} MiB, VmHWM {} MiB; normal client: {answered} round trips, slowest {slowest:?}",
        base / 1024,
        peak / 1024,
        hwm / 1024
    );
    assert!(
        hwm / 1024 < BOUND_MIB,
        "peak RSS {} MiB is over the stated bound of {BOUND_MIB} MiB",
        hwm / 1024
    );
    assert!(answered > 10);
    drop(listeners);
    for t in tasks {
        t.abort();
    }
}
