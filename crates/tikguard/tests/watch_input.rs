//! `tikguard watch` end to end: who is believed. Senders that are no router, crafted and hostile
//! lines, floods over UDP and TCP, and `confirm` (asking the router itself), over real sockets
//! on loopback; the harness is `common/watch.rs`.

use common::peak_kib;
use std::time::Duration;

mod common;
#[path = "common/watch.rs"]
mod watch_harness;
use watch_harness::*;

/// Hostile input, at once: garbage and oversized datagrams, TCP clients that never finish a
/// line, and a million distinct failing sources. watch stays within its stated memory bound
/// (detector caps, the bounded line queue, [`input`] limits: under 200 MiB here), and a real
/// attack sent afterwards is still blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_syslog_input_leaves_watch_bounded_and_working() {
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let udp = r.udp.clone();
    let tcp = r.tcp.clone().unwrap();
    // TCP clients that send half a line and stall.
    let mut stalled = Vec::new();
    for _ in 0..50 {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(&tcp).unwrap();
        c.write_all(b"<26>system,error,critical login failure for user x from 192")
            .unwrap();
        stalled.push(c);
    }
    let sent = tokio::task::spawn_blocking(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut x: u32 = 0x9e37_79b9;
        let mut junk = [0u8; 512];
        for _ in 0..2_000 {
            for b in junk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            sock.send_to(&junk, &udp).unwrap();
        }
        let big = vec![b'A'; 60_000];
        for _ in 0..200 {
            sock.send_to(&big, &udp).unwrap();
            // One at a time: a socket buffer holds few of these.
            std::thread::sleep(Duration::from_millis(1));
        }
        // A million sources, each failing once: every one is tracked until the cap evicts.
        for i in 0..1_000_000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let line =
                format!("<26>system,error,critical login failure for user u{i} from {a} via api");
            sock.send_to(line.as_bytes(), &udp).unwrap();
            if i % 20_000 == 0 {
                // Let the receiver drain now and then, so that most lines are processed
                // rather than dropped at a full socket buffer.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        1_000_000
    })
    .await
    .unwrap();
    assert_eq!(sent, 1_000_000);
    // The flood drains; then a real attack.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    send_syslog(&r.udp, &failures_from("198.51.100.99", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.99"]).await,
        ["198.51.100.99"]
    );
    let peak = peak_kib(r.watch.0.id());
    eprintln!("watch peak RSS: {} MiB", peak / 1024);
    assert!(peak < 200 * 1024, "watch peaked at {} MiB", peak / 1024);
    drop(stalled);
    // The flood was read, not only dropped: the bound held under real load (a tenth of it at
    // least; on a loaded machine the kernel drops more of the rest at a full socket buffer).
    let mut r = r;
    let last = stop_watch(&mut r.watch, &r.said);
    eprintln!("{last}");
    let read: u64 = last
        .split("stopping: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(read > 100_000, "{last}");
    let oversized: u64 = last
        .split(" oversized")
        .next()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(oversized > 0, "oversized datagrams are counted: {last}");
}

/// Any host that can send a datagram to watch's port is no router: its lines decide nothing
/// (no block on any router, even with `block-everywhere`; no alert, no state), a TCP
/// connection from it is closed at once, and both are counted when watch stops (the datagrams
/// as the kernel filter's drops).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_is_no_router_decides_nothing_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (alerts, state) = (dir.path().join("alerts.jsonl"), dir.path().join("s.jsonl"));
    let extra = format!(
        "block-everywhere = true\nsyslog-tcp = \"127.0.0.1:0\"\nalerts-file = \"{}\"\nstate = \"{}\"\n",
        alerts.display(),
        state.display()
    );
    let mut r = start_with("", &extra);
    send_syslog_from("127.0.0.2", &r.udp, &failures_from("198.51.100.80", 10));
    {
        use std::io::{Read, Write};
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(
            &"127.0.0.2:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        sock.connect(
            &r.tcp
                .clone()
                .unwrap()
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        let mut c: std::net::TcpStream = sock.into();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let lines = failures_from("198.51.100.81", 10).join("\n") + "\n";
        let _ = c.write_all(lines.as_bytes());
        let mut buf = [0u8; 16];
        // Closed by watch: end of stream (or a reset), not a timeout.
        match c.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the connection stayed open: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    assert!(std::fs::read_to_string(&alerts)
        .unwrap_or_default()
        .is_empty());
    assert!(!std::fs::read_to_string(&state)
        .unwrap_or_default()
        .contains("198.51.100.8"));
    // The router's own lines are still read.
    send_syslog(&r.udp, &failures_from("198.51.100.82", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.82"]).await,
        ["198.51.100.82"]
    );
    let last = stop_watch(&mut r.watch, &r.said);
    // The TCP connection by watch; the 10 datagrams by the kernel filter, before watch.
    assert_eq!(stopping_count(&last, " from unknown senders"), 1, "{last}");
    assert_eq!(
        stopping_count(&last, " UDP datagrams dropped by the kernel"),
        10,
        "{last}"
    );
}

/// One datagram is one message, and only the topics RouterOS logs a login failure with make
/// it one: a DHCP lease whose host name carries a newline and a failure, a script's `:log`,
/// and a datagram packed with many failure lines are not a block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_messages_from_a_router_are_not_login_failures() {
    let r = start("");
    let fail = |a: &str| format!("login failure for user admin from {a} via ssh");
    let mut lines = Vec::new();
    for _ in 0..5 {
        lines.push(format!(
            "<30>dhcp,info defconf assigned 10.0.0.5 to 00:11:22:33:44:55 x\n<26>system,error,critical {}",
            fail("198.51.100.83")
        ));
        lines.push(format!("<27>script,error {}", fail("198.51.100.84")));
    }
    // Three failure lines in one datagram: one message, not three.
    lines.push(
        (0..3)
            .map(|_| format!("<26>system,error,critical {}", fail("198.51.100.85")))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    send_syslog(&r.udp, &lines);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    // Two more real lines: the packed datagram counted once, so three in all now.
    send_syslog(&r.udp, &failures_from("198.51.100.85", 2));
    assert_eq!(
        until_listed(&r, &["198.51.100.85"]).await,
        ["198.51.100.85"]
    );
}

/// `confirm = true`: a block decided on syslog lines stands only when the router's own log
/// holds the failures. Lines the router never logged (as if forged with its source address)
/// block nothing and are alerted as unconfirmed; a real client's failures are blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_confirm_only_what_the_router_logged_is_blocked() {
    let r = start_setup(Setup {
        router: "confirm = true\n",
        ..Setup::default()
    });
    send_syslog(&r.udp, &failures_from("198.51.100.90", 3));
    // The router is asked (a login, a `/log/print`) and answers.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    let mut r = r;
    let mut out = String::new();
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " not confirmed"), 1, "{last}");
    std::io::Read::read_to_string(&mut r.watch.0.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.lines()
            .any(|l| l.contains("\"unconfirmed\"") && l.contains("198.51.100.90")),
        "{out}"
    );
}

/// `confirm = true` weighs when the router logged the failures: lines forged with the router's
/// source now, naming a client whose failures the router logged an hour ago (its clock set an
/// hour on since), are not confirmed; the same client failing now is, although the router's
/// clock is an hour ahead of watch's (ages are read on the router's own clock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_confirm_a_failure_logged_an_hour_ago_does_not_confirm_lines_received_now() {
    let r = start_setup(Setup {
        router: "confirm = true\n",
        no_syslog: true,
        ..Setup::default()
    });
    // The router logs three failures; watch hears nothing of them.
    fail_logins(&r.api, 3).await;
    // An hour passes on the router's clock.
    let c = admin(&r.ssl, &r.ca).await;
    let later = tikguard::emu::clock::host_ms() + 3_600_000;
    let v = routeros_config::Version::new(7, 12, 1);
    c.call(&[
        "/system/clock/set",
        &format!("=date={}", tikguard::emu::clock::date_text(later, &v)),
        &format!("=time={}", tikguard::emu::clock::time_text(later)),
    ])
    .await
    .unwrap();
    // Lines forged now with the router's source name that client.
    send_syslog(&r.udp, &failures_from(CLIENT, 3));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        listed(&r.ssl, &r.ca).await.is_empty(),
        "an hour-old failure confirmed lines received now"
    );
    // The client fails now: the router logs it (an hour ahead of watch's clock) and says so.
    fail_logins(&r.api, 3).await;
    send_syslog(&r.udp, &failures_from(CLIENT, 3));
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    let mut r = r;
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " not confirmed"), 1, "{last}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut r.watch.0.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.lines()
            .any(|l| l.contains("\"unconfirmed\"") && l.contains("holds 0 of these failures")),
        "{out}"
    );
}

/// An unknown sender flooding watch's port (as fast as one socket sends, for two seconds)
/// costs no line of a configured router: two attackers the router reports meanwhile are both
/// blocked, and nothing was dropped at the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_an_unknown_sender_costs_the_routers_no_line() {
    let mut r = start("");
    let udp = r.udp.clone();
    let flood = tokio::task::spawn_blocking(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        let line =
            "<26>system,error,critical login failure for user admin from 198.51.100.120 via ssh";
        let until = std::time::Instant::now() + Duration::from_secs(2);
        let mut n = 0u64;
        while std::time::Instant::now() < until {
            for _ in 0..100 {
                let _ = sock.send_to(line.as_bytes(), &udp);
                n += 1;
            }
        }
        n
    });
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        send_syslog(&r.udp, &failures_from("198.51.100.121", 1));
        send_syslog(&r.udp, &failures_from("198.51.100.122", 1));
    }
    let sent = flood.await.unwrap();
    assert_eq!(
        until_listed(&r, &["198.51.100.121", "198.51.100.122"]).await,
        ["198.51.100.121", "198.51.100.122"]
    );
    let last = stop_watch(&mut r.watch, &r.said);
    eprintln!("{sent} datagrams sent by the flood; {last}");
    assert_eq!(
        stopping_count(&last, " dropped with the queue full"),
        0,
        "{last}"
    );
    assert!(
        stopping_count(&last, " UDP datagrams dropped by the kernel") > 0,
        "{last}"
    );
}

/// Every line a router sends is read while an unknown sender floods the same port as fast as two
/// sockets send: the kernel filter on the socket drops the flood before it takes room in the
/// receive buffer (before it, the flood filled the buffer and the kernel dropped the router's
/// datagrams with it: 10% of them at 2,000 lines/s). The flood is counted as kernel drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_router_line_is_read_while_an_unknown_sender_floods() {
    let mut r = start("");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let floods: Vec<_> = (0..2)
        .map(|_| {
            let (udp, stop) = (r.udp.clone(), stop.clone());
            std::thread::spawn(move || {
                let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
                let line = "<26>system,error,critical login failure for user admin from 198.51.100.125 via ssh";
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for _ in 0..64 {
                        let _ = sock.send_to(line.as_bytes(), &udp);
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // 2,000 lines from the router at 1,000 a second.
    let sent = 2000;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = std::time::Instant::now();
    for i in 0..sent {
        let line = format!("<30>system,info filter rule {i} changed by admin");
        sock.send_to(line.as_bytes(), &r.udp).unwrap();
        if i % 10 == 9 {
            let due = Duration::from_millis(i + 1);
            if let Some(w) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(w);
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let flooded: u64 = floods.into_iter().map(|t| t.join().unwrap()).sum();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last = stop_watch(&mut r.watch, &r.said);
    eprintln!("{flooded} datagrams flooded; {last}");
    assert!(stopping_count(&last, " other)") >= sent, "{last}");
    assert_eq!(
        stopping_count(&last, " dropped with the queue full"),
        0,
        "{last}"
    );
    assert!(
        stopping_count(&last, " UDP datagrams dropped by the kernel") > flooded / 2,
        "{last}"
    );
}

/// TCP syslog from a router: at most a few connections per source (more are closed at once),
/// and a line begun must end within the partial-line limit however slowly bytes trickle in, so
/// clients sending a byte now and then cannot hold the slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_syslog_is_capped_per_source_and_a_trickle_is_closed() {
    use std::io::{Read, Write};
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let tcp = r.tcp.clone().unwrap();
    let closed = |c: &mut std::net::TcpStream| {
        c.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut b = [0u8; 1];
        match c.read(&mut b) {
            Ok(0) => true,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => true,
            _ => false,
        }
    };
    let mut held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(&tcp).unwrap())
        .collect();
    let mut fifth = std::net::TcpStream::connect(&tcp).unwrap();
    assert!(
        closed(&mut fifth),
        "a fifth connection from one router is closed"
    );
    for c in &mut held {
        assert!(!closed(c), "the first four stay");
    }
    // One of them trickles a line a byte every second: closed within the limit (10 s).
    let started = std::time::Instant::now();
    let c = &mut held[0];
    let line =
        b"<26>system,error,critical login failure for user admin from 198.51.100.140 via ssh";
    let mut gone = false;
    for b in line.iter() {
        if c.write_all(&[*b]).is_err() || closed(c) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    assert!(gone, "a trickling client is closed");
    let took = started.elapsed();
    // Not before the limit; after it, as soon as watch gets to it (a loaded machine delays
    // both its timer and this loop by seconds: the bound is that it is closed, not held).
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(25),
        "closed after {took:?}"
    );
    // A router's whole lines still go through.
    let mut c = std::net::TcpStream::connect(&tcp).unwrap();
    let lines = failures_from("198.51.100.141", 3).join("\n") + "\n";
    c.write_all(lines.as_bytes()).unwrap();
    assert_eq!(
        until_listed(&r, &["198.51.100.141"]).await,
        ["198.51.100.141"]
    );
}

/// `confirm = true` abused: lines forged with the router's source name 600 addresses that
/// never failed, each one a block to confirm. watch must neither log in to the router once per
/// address (600 logins, one after another) nor let the forged questions crowd out the real
/// attacker's: one login and one `/log/print` answer every question waiting, and the real
/// client failing during the flood is blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_flood_costs_few_logins_and_does_not_hide_a_real_attacker() {
    let mut r = start_setup(Setup {
        router: "confirm = true\n",
        ..Setup::default()
    });
    let mut forged = Vec::new();
    for i in 0..600u32 {
        forged.extend(failures_from(
            &format!("10.{}.{}.7", 20 + i / 250, i % 250 + 1),
            3,
        ));
    }
    send_syslog(&r.udp, &forged);
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(listed(&r.ssl, &r.ca).await.len(), 1);
    // The router's own log counts watch's logins.
    let c = admin(&r.ssl, &r.ca).await;
    let log = c.call(&["/log/print"]).await.unwrap();
    let logins = log
        .iter()
        .filter(|i| {
            i.get("message")
                .is_some_and(|m| String::from_utf8_lossy(m).starts_with("user admin logged in"))
        })
        .count();
    assert!(logins < 40, "{logins} logins for one flood");
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(stopping_count(&last, " not confirmed"), 600, "{last}");
}

/// A router's TCP syslog lines cut anywhere across TCP segments (newline framing, and an
/// octet-counted frame cut inside its length) are read whole: the source they name is blocked,
/// and nothing is made of the pieces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_lines_cut_across_segments_are_read_whole() {
    use std::io::Write;
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let tcp = r.tcp.clone().unwrap();
    let mut c = std::net::TcpStream::connect(&tcp).unwrap();
    c.set_nodelay(true).unwrap();
    let line = "<26>system,error,critical login failure for user admin from 198.51.100.44 via ssh";
    let framed = format!("{}\n{}\n{} {line}", line, line, line.len());
    for piece in [
        &framed[..10],
        &framed[10..60],
        &framed[60..line.len() + 1],
        &framed[line.len() + 1..2 * line.len() + 3],
        &framed[2 * line.len() + 3..2 * line.len() + 4],
        &framed[2 * line.len() + 4..],
    ] {
        c.write_all(piece.as_bytes()).unwrap();
        c.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(
        until_listed(&r, &["198.51.100.44"]).await,
        ["198.51.100.44"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(listed(&r.ssl, &r.ca).await.len(), 1);
}

/// Many TCP connections from many addresses that are no router (127.0.0.2 to 127.0.1.45, held
/// open) take no slot: each is closed at accept, and the router's own TCP lines are read and
/// blocked on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_from_many_unknown_addresses_take_no_slot() {
    use std::io::{Read, Write};
    let r = start_with("", "syslog-tcp = \"127.0.0.1:0\"\n");
    let tcp: std::net::SocketAddr = r.tcp.clone().unwrap().parse().unwrap();
    let mut held = Vec::new();
    for i in 0..300u32 {
        let from = std::net::Ipv4Addr::new(127, 0, (2 + i / 250) as u8, (2 + i % 250) as u8);
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.bind(&std::net::SocketAddr::from((from, 0)).into())
            .unwrap();
        s.connect(&tcp.into()).unwrap();
        let mut c: std::net::TcpStream = s.into();
        let _ = c.write_all(
            b"<26>system,error,critical login failure for user a from 198.51.100.45 via ssh\n",
        );
        held.push(c);
    }
    // Each was closed by watch.
    let mut closed = 0;
    for c in &mut held {
        c.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut b = [0u8; 1];
        match c.read(&mut b) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            _ => {}
        }
    }
    assert_eq!(closed, held.len());
    let mut c = std::net::TcpStream::connect(tcp).unwrap();
    for _ in 0..3 {
        c.write_all(
            b"<26>system,error,critical login failure for user admin from 198.51.100.46 via ssh\n",
        )
        .unwrap();
    }
    assert_eq!(
        until_listed(&r, &["198.51.100.46"]).await,
        ["198.51.100.46"]
    );
    assert!(!listed(&r.ssl, &r.ca)
        .await
        .iter()
        .any(|(a, _)| a == "198.51.100.45"));
}
