//! The proxy's cost, measured: the same workloads direct to `tikguard emu` (api-ssl) and through
//! `tikguard proxy` (plain on the client side, verified api-ssl to the emulator), in one run.
//! Run by `bench/compare-proxy.sh`, which prints the Markdown table for BENCHMARKS.md.
//!
//! usage: proxy_load TIKGUARD-BINARY WORKDIR

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routeros_api::{Client, Options, Security, Verify};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_line(child: &mut Child, prefix: &str) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let l = lines.next().unwrap().unwrap();
        if let Some(a) = l.strip_prefix(prefix) {
            // Keep the pipe drained so the child never blocks on stdout.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return a.to_string();
        }
    }
}

/// CPU time a process has used (user + system), in milliseconds (Linux' /proc, 10 ms ticks).
fn cpu_ms(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn connect(addr: &str, sec: Security, user: &str, pw: &str) -> Client {
    let mut o = Options::new(addr.to_string(), sec);
    o.command_timeout = Duration::from_secs(600);
    o.limits.max_sentence = 64 << 20;
    let c = Client::connect(&o).await.unwrap();
    c.login(user, pw).await.unwrap();
    c
}

async fn sequential(c: &Client, n: usize) -> Vec<Duration> {
    sequential_interleaved(&[c], n).await.remove(0)
}

/// `n` sequential prints on each client, taken in turns (one on each, then again), so that
/// the machine's load at any moment weighs on every path alike; sorted round trips per client.
async fn sequential_interleaved(clients: &[&Client], n: usize) -> Vec<Vec<Duration>> {
    let mut v = vec![Vec::with_capacity(n); clients.len()];
    for _ in 0..n {
        for (c, times) in clients.iter().zip(v.iter_mut()) {
            let t = Instant::now();
            c.call(&["/system/identity/print"]).await.unwrap();
            times.push(t.elapsed());
        }
    }
    for times in &mut v {
        times.sort();
    }
    v
}

/// `proxy_load relay TARGET`: a process that copies bytes between each connection and
/// TARGET, and nothing else: the least any process between client and router costs on this
/// machine (two more loopback hops), to read the proxy's figures against.
async fn relay(target: String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("relay {}", l.local_addr().unwrap());
    loop {
        let (mut a, _) = l.accept().await.unwrap();
        let target = target.clone();
        tokio::spawn(async move {
            let mut b = tokio::net::TcpStream::connect(&target).await.unwrap();
            let _ = (a.set_nodelay(true), b.set_nodelay(true));
            let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
        });
    }
}

async fn pipelined(clients: Vec<Arc<Client>>, per_client: usize, window: usize) -> Duration {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in clients {
        tasks.push(tokio::spawn(async move {
            let sem = Arc::new(tokio::sync::Semaphore::new(window));
            let mut inner = Vec::new();
            for _ in 0..per_client {
                let permit = sem.clone().acquire_owned().await.unwrap();
                let c = c.clone();
                inner.push(tokio::spawn(async move {
                    c.call(&["/system/identity/print"]).await.unwrap();
                    drop(permit);
                }));
            }
            for i in inner {
                i.await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    t.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "relay" {
        return relay(args[2].clone()).await;
    }
    let bin = PathBuf::from(&args[1]);
    let dir = PathBuf::from(&args[2]);
    // Where the proxy's audit log goes (its fsync is part of every command's cost).
    let log_dir = args
        .get(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.clone());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&log_dir).unwrap();

    // An export with 100,000 address-list entries, for the large print.
    let export = dir.join("load.rsc");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&export).unwrap());
        writeln!(f, "# 2025-01-01 00:00:00 by RouterOS 7.18").unwrap();
        writeln!(f, "/ip firewall address-list").unwrap();
        for i in 0..100_000u32 {
            writeln!(
                f,
                "add address=10.{}.{}.{} list=load",
                i >> 16,
                (i >> 8) & 255,
                i & 255
            )
            .unwrap();
        }
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let pw = dir.join("admin.pass");
    std::fs::write(&pw, "bench\n").unwrap();

    let mut emu = Command::new(&bin)
        .args(["emu"])
        .arg(&export)
        .args(["--api-ssl", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .arg("--password-file")
        .arg(format!("admin={}", pw.display()))
        .args(["--memory-budget", "1024"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let emu_addr = first_line(&mut emu, "api-ssl ");
    let emu_pid = emu.id();
    let _emu = Proc(emu);

    let hash = tikguard::proxy::hash_password("crm").unwrap();
    let cfg = dir.join("proxy.toml");
    std::fs::write(
        &cfg,
        format!(
            "[proxy]\naudit-log = \"{}\"\nmemory-budget = 1073741824\n\n[[router]]\nname = \"r\"\naddress = \"{emu_addr}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\nmax-sessions = 20\n\n[[listener]]\naddress = \"127.0.0.1:0\"\nrouter = \"r\"\n\n[[client]]\nname = \"crm\"\npassword-hash = \"{hash}\"\nfrom = [\"127.0.0.0/8\"]\npolicy = \"read-only\"\nrouters = [\"r\"]\n",
            log_dir.join("audit.jsonl").display(),
            cert_path.display(),
            pw.display()
        ),
    )
    .unwrap();
    let _ = std::fs::remove_file(log_dir.join("audit.jsonl"));
    let mut proxy = Command::new(&bin)
        .args(["proxy", "run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let proxy_addr = first_line(&mut proxy, "listening ");
    let proxy_pid = proxy.id();
    let _proxy = Proc(proxy);

    let tls = || {
        Security::Tls(Verify::Ca(
            routeros_api::tls::load_ca(Path::new(&cert_path)).unwrap(),
        ))
    };
    let direct = connect(&emu_addr, tls(), "admin", "bench").await;
    let via = connect(&proxy_addr, Security::Plain, "crm", "crm").await;

    // Warm up both paths.
    sequential(&direct, 200).await;
    sequential(&via, 200).await;

    // PROXY_LOAD_PROFILE=SECONDS: only pipelined load through the proxy, for that long, to
    // profile the proxy (`perf record -p PID`); prints the proxy's pid first.
    if let Some(secs) = std::env::var("PROXY_LOAD_PROFILE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        println!("proxy pid {proxy_pid}");
        let mut pcs = Vec::new();
        for _ in 0..10 {
            pcs.push(Arc::new(
                connect(&proxy_addr, Security::Plain, "crm", "crm").await,
            ));
        }
        let until = Instant::now() + Duration::from_secs(secs);
        let mut n = 0;
        // PROXY_LOAD_COMMANDS=N: exactly N pipelined commands instead (for instruction counts
        // under callgrind), then the proxy is stopped with SIGTERM so that it writes its
        // profile.
        let fixed: Option<usize> = std::env::var("PROXY_LOAD_COMMANDS")
            .ok()
            .and_then(|v| v.parse().ok());
        match fixed {
            Some(count) => {
                pipelined(pcs.clone(), count / 10, 32).await;
                n = count;
                drop(pcs);
                Command::new("kill")
                    .args(["-TERM", &proxy_pid.to_string()])
                    .status()
                    .unwrap();
                for _ in 0..600 {
                    if !Path::new(&format!("/proc/{proxy_pid}")).exists()
                        || std::fs::read_to_string(format!("/proc/{proxy_pid}/stat"))
                            .is_ok_and(|s| s.contains(") Z"))
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            None => {
                while Instant::now() < until {
                    pipelined(pcs.clone(), 1_000, 32).await;
                    n += 10_000;
                }
            }
        }
        println!(
            "{n} commands in {:.1} s",
            secs.min(until.elapsed().as_secs())
        );
        return;
    }

    // The floor: the same TLS session to the emulator through a process that only copies.
    let mut relay_proc = Command::new(std::env::current_exe().unwrap())
        .args(["relay", &emu_addr])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let relay_addr = first_line(&mut relay_proc, "relay ");
    let _relay = Proc(relay_proc);
    let relayed = connect(&relay_addr, tls(), "admin", "bench").await;
    sequential(&relayed, 200).await;

    let n = 10_000;
    let mut runs = sequential_interleaved(&[&direct, &relayed, &via], n).await;
    let (p, r, d) = (
        runs.pop().unwrap(),
        runs.pop().unwrap(),
        runs.pop().unwrap(),
    );
    let us = |x: Duration| x.as_secs_f64() * 1e6;
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let (d, r, p) = (
            us(percentile(&d, q)),
            us(percentile(&r, q)),
            us(percentile(&p, q)),
        );
        println!(
            "| {n} sequential prints, {name} | {d:.0} µs | {p:.0} µs | {:+.0} µs ({:+.0}%) |",
            p - d,
            (p / d - 1.0) * 100.0
        );
        println!(
            "| the same through a byte relay (the floor of any process in between), {name} | {d:.0} µs | {r:.0} µs | {:+.0} µs ({:+.0}%) |",
            r - d,
            (r / d - 1.0) * 100.0
        );
    }

    let t = Instant::now();
    let items = direct
        .call(&["/ip/firewall/address-list/print"])
        .await
        .unwrap()
        .len();
    let dt = t.elapsed();
    let t = Instant::now();
    let items_p = via
        .call(&["/ip/firewall/address-list/print"])
        .await
        .unwrap()
        .len();
    let pt = t.elapsed();
    assert_eq!(items, 100_000);
    assert_eq!(items_p, 100_000);
    println!(
        "| one print of {items} items | {:.0} ms | {:.0} ms | {:.0}% of direct throughput |",
        dt.as_secs_f64() * 1e3,
        pt.as_secs_f64() * 1e3,
        dt.as_secs_f64() / pt.as_secs_f64() * 100.0
    );

    let mut dcs = Vec::new();
    let mut pcs = Vec::new();
    for _ in 0..10 {
        dcs.push(Arc::new(connect(&emu_addr, tls(), "admin", "bench").await));
        pcs.push(Arc::new(
            connect(&proxy_addr, Security::Plain, "crm", "crm").await,
        ));
    }
    let me = std::process::id();
    let (e0, c0) = (cpu_ms(emu_pid), cpu_ms(me));
    let dt = pipelined(dcs, 5_000, 32).await;
    let (e1, c1, p1) = (cpu_ms(emu_pid), cpu_ms(me), cpu_ms(proxy_pid));
    let pt = pipelined(pcs, 5_000, 32).await;
    let (e2, c2, p2) = (cpu_ms(emu_pid), cpu_ms(me), cpu_ms(proxy_pid));
    // CPU per command, in µs: where the two cores go in each run.
    let per = |ms: u64| ms as f64 * 1000.0 / 50_000.0;
    println!(
        "| CPU per pipelined command (µs): client, emulator, proxy | {:.0}, {:.0}, - | {:.0}, {:.0}, {:.0} | |",
        per(c1 - c0),
        per(e1 - e0),
        per(c2 - c1),
        per(e2 - e1),
        per(p2 - p1)
    );
    println!(
        "| 50,000 pipelined prints, 10 clients | {:.0}/s | {:.0}/s | {:.0}% of direct throughput |",
        50_000.0 / dt.as_secs_f64(),
        50_000.0 / pt.as_secs_f64(),
        dt.as_secs_f64() / pt.as_secs_f64() * 100.0
    );

    // Memory per idle logged-in client connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(proxy_pid);
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(connect(&proxy_addr, Security::Plain, "crm", "crm").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(proxy_pid);
    println!("| memory per idle logged-in client (1,000 clients) | | {:.1} KiB | proxy RSS {} → {} KiB |",
        (after.saturating_sub(before)) as f64 / 1000.0, before, after);
    drop(idle);
}
