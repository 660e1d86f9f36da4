//! Round trips against a router (the emulator in `bench/compare-api.sh`):
//! 10,000 sequential prints of one item, one print of 100,000 items, and 50,000 tagged commands
//! pipelined on one connection. Prints `name seconds` lines.
//!
//! usage: bench_client HOST:PORT USER PASSWORD-FILE

use std::sync::Arc;
use std::time::Instant;

use routeros_api::{Client, Options, Security};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (addr, user, pwfile) = (&args[1], &args[2], &args[3]);
    let password = std::fs::read_to_string(pwfile).unwrap().trim().to_string();
    let c = Client::connect(&Options::new(addr.clone(), Security::Plain))
        .await
        .unwrap();
    c.login(user, &password).await.unwrap();

    let t = Instant::now();
    for _ in 0..10_000 {
        let r = c.call(&["/ip/address/print"]).await.unwrap();
        assert_eq!(r.len(), 1);
    }
    println!("sequential-10k {:.3}", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let r = c.call(&["/ip/firewall/address-list/print"]).await.unwrap();
    assert_eq!(r.len(), 100_000);
    println!("print-100k {:.3}", t.elapsed().as_secs_f64());

    let c = Arc::new(c);
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50_000 {
        let c = c.clone();
        set.spawn(async move { c.call(&["/ip/address/print"]).await.map(|r| r.len()) });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), 1);
    }
    println!("pipelined-50k {:.3}", t.elapsed().as_secs_f64());
}
