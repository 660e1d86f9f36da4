//! UDP ingest: `tikguard watch` reading a router's syslog datagrams on loopback at a given rate
//! (or as fast as one core sends) while, with `flood`, a host that is no router (127.0.0.2)
//! floods the same port as fast as it can. Each router datagram is a login failure from its own
//! source (the detector's worst case: every line is a new source to track). watch's own count of
//! lines read from the router, printed when it stops (SIGTERM), is the measure; the unknown
//! sender's datagrams it counted, and what the kernel or watch's queue dropped, are reported
//! beside it. Run by `bench/watch-ingest.sh` and `bench/watch-routers.sh`.
//!
//! With ROUTERS above 1, that many routers (sources 127.0.1.1, 127.0.1.2, ...) each send their
//! share of LINES at their share of RATE, from sockets of their own, as routers do.
//!
//! usage: watch_ingest TIKGUARD-BINARY WORKDIR LINES [RATE-PER-SECOND, 0 = unpaced] [flood|no]
//!        [ROUTERS] [FLOODING-SOCKETS, default 1]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (bin, dir, n) = (&args[1], &args[2], args[3].parse::<u64>().unwrap());
    let rate: u64 = args.get(4).map_or(0, |r| r.parse().unwrap());
    let flood = args.get(5).is_some_and(|a| a == "flood");
    let routers: u64 = args.get(6).map_or(1, |r| r.parse().unwrap());
    let flooders: usize = args.get(7).map_or(1, |r| r.parse().unwrap());
    std::fs::create_dir_all(dir).unwrap();
    let cfg = format!("{dir}/ingest.toml");
    let source = |r: u64| {
        if routers == 1 {
            "127.0.0.1".to_string()
        } else {
            format!("127.0.1.{}", r + 1)
        }
    };
    // The routers' API is not there (port 1): their blocks wait, --keep-trying starts anyway.
    let mut text =
        String::from("[watch]\nsyslog-udp = \"127.0.0.1:0\"\nfailures = 5\nstate = \"\"\n");
    for r in 0..routers {
        text.push_str(&format!(
            "[[router]]\nname = \"core-{:02}\"\naddress = \"127.0.0.1:1\"\nsource = \"{}\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"UNSET\"\n",
            r + 1,
            source(r)
        ));
    }
    std::fs::write(&cfg, text).unwrap();
    let mut watch = Command::new(bin)
        .args(["watch", "run", "--keep-trying", "--config", &cfg])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(watch.stderr.take().unwrap()).lines();
    let udp = loop {
        let l = err.next().unwrap().unwrap();
        if let Some(a) = l.strip_prefix("syslog-udp ") {
            break a.to_string();
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooders: Vec<_> = (0..if flood { flooders } else { 0 })
        .map(|_| {
            let (udp, stop) = (udp.clone(), stop.clone());
            std::thread::spawn(move || {
                let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
                let line =
                    "<26>system,error,critical login failure for user admin from 198.51.100.9 via ssh";
                let mut sent = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for _ in 0..64 {
                        let _ = sock.send_to(line.as_bytes(), &udp);
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    let start = Instant::now();
    let senders: Vec<_> = (0..routers)
        .map(|r| {
            let (udp, from) = (udp.clone(), source(r));
            let (share, pace) = (n / routers, rate / routers);
            std::thread::spawn(move || {
                let sock = std::net::UdpSocket::bind(format!("{from}:0")).unwrap();
                for i in 0..share {
                    let a = std::net::Ipv4Addr::from(
                        0x0a00_0000u32.wrapping_add((r * share + i) as u32),
                    );
                    let line = format!(
                        "<26>Nov 30 12:00:00 core-{:02} system,error,critical login failure for user admin from {a} via api",
                        r + 1
                    );
                    sock.send_to(line.as_bytes(), &udp).unwrap();
                    let every = if pace > 0 && pace < 1000 { 1 } else { 100 };
                    if pace > 0 && i % every == every - 1 {
                        let due = Duration::from_secs_f64((i + 1) as f64 / pace as f64);
                        if let Some(wait) = due.checked_sub(start.elapsed()) {
                            std::thread::sleep(wait);
                        }
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let n = n / routers * routers;
    let sent_in = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let flooded = flood.then(|| flooders.into_iter().map(|t| t.join().unwrap()).sum::<u64>());
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &watch.id().to_string()])
        .status()
        .unwrap();
    let last = err
        .map_while(Result::ok)
        .find(|l| l.contains("stopping:"))
        .unwrap();
    let _ = watch.wait();
    let read: u64 = last
        .split("stopping: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let secs = sent_in.as_secs_f64();
    println!(
        "sent {n} lines in {secs:.2} s ({:.0} lines/s{}); watch read {read} ({:.1}%), {:.0} lines/s",
        n as f64 / secs,
        if rate > 0 {
            format!(", paced at {rate} in all by {routers} router(s)")
        } else {
            String::new()
        },
        100.0 * read as f64 / n as f64,
        read as f64 / secs
    );
    if let Some(f) = flooded {
        println!(
            "meanwhile 127.0.0.2 (no router) sent {f} datagrams ({:.0}/s)",
            f as f64 / secs
        );
    }
    println!("{last}");
}
