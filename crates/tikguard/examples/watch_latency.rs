//! Detection to block on loopback: a login-failure line sent to `tikguard watch` over UDP, as a
//! router's remote logging sends it, until the address-list entry exists on `tikguard emu`
//! (seen through `listen` on the list). One failure blocks (`failures = 1`), one source per
//! line, one line at a time. Run by `bench/watch-latency.sh`.
//!
//! usage: watch_latency TIKGUARD-BINARY WORKDIR [N]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use routeros_api::{Client, Options, Security, Verify};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = PathBuf::from(&args[1]);
    let dir = PathBuf::from(&args[2]);
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1000);
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let pw = dir.join("admin.pass");
    std::fs::write(&pw, "bench\n").unwrap();
    let ssl = format!("127.0.0.1:{}", free_port());
    let emu = Command::new(&bin)
        .args([
            "emu",
            "examples/isp-core-v7.rsc",
            "--api-ssl",
            &ssl,
            "--tls-cert",
        ])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .arg("--password-file")
        .arg(format!("admin={}", pw.display()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _emu = Proc(emu);
    let cfg = dir.join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\nfailures = 1\nenumeration = 1000\nspray = 100000\n\n[[router]]\nname = \"emu\"\naddress = \"{ssl}\"\nca = \"{}\"\nuser = \"admin\"\npassword-file = \"{}\"\n",
            cert_path.display(),
            pw.display()
        ),
    )
    .unwrap();
    let mut watch = Command::new(&bin)
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(watch.stderr.take().unwrap()).lines();
    let udp = err
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("syslog-udp ")
        .unwrap()
        .to_string();
    std::thread::spawn(move || for _ in err {});
    let _watch = Proc(watch);

    let mut client = None;
    for _ in 0..100 {
        let o = Options::new(
            ssl.clone(),
            Security::Tls(Verify::Ca(routeros_api::tls::load_ca(&cert_path).unwrap())),
        );
        if let Ok(c) = Client::connect(&o).await {
            c.login("admin", "bench").await.unwrap();
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = client.expect("emulator up");
    let mut stream = client
        .stream(&["/ip/firewall/address-list/listen"])
        .await
        .unwrap();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let src = format!("198.18.{}.{}", i / 250, i % 250 + 1);
        let line =
            format!("<26>system,error,critical login failure for user admin from {src} via api");
        let t = Instant::now();
        sock.send_to(line.as_bytes(), &udp).await.unwrap();
        loop {
            let r = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("no block within 10 s")
                .unwrap()
                .unwrap();
            if r.get("address")
                .is_some_and(|a| a.as_ref() == src.as_bytes())
            {
                break;
            }
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "| detection to block, {n} sources one at a time | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
