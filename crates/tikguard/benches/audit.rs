//! Audit throughput (parse + model + exposure + shadowing + every rule) on generated exports
//! with 5,000, 50,000 and 200,000 input-chain rules, shaped like `bench/gen-export.py`'s; and
//! the audit and JSON report of an export whose input chain drops a 200,000-entry block list
//! and accepts the rest (`gen-export.py 3 --blocklist 200000`'s shape: reachable sets of
//! millions of prefixes, summarised in the report).
//! Run: `cargo bench -p tikguard --bench audit`.

use std::fmt::Write;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

/// A small deterministic generator (xorshift), so the bench needs no data files.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn export(n: usize) -> String {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let ports = [
        22u16, 53, 123, 161, 179, 443, 1701, 8291, 8728, 8729, 5678, 500, 4500,
    ];
    let mut s = String::from("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n/interface list\nadd name=WAN\nadd name=LAN\n/interface list member\nadd interface=sfp-sfpplus1 list=WAN\nadd interface=bridge list=LAN\n/ip firewall address-list\n");
    for i in 0..(n / 20).max(50) {
        let _ = writeln!(
            s,
            "add address=10.{}.{}.0/24 list=customers-{}",
            (i >> 8) & 255,
            i & 255,
            i % 10
        );
    }
    for i in 0..20 {
        let _ = writeln!(s, "add address=192.0.2.{i} list=mgmt");
    }
    s.push_str("/ip firewall filter\nadd action=accept chain=input connection-state=established,related,untracked\nadd action=drop chain=input connection-state=invalid\n");
    let mut written = 2;
    let mut chain = 0;
    while written < n - 1 {
        let k = r.next(100);
        let p = ports[r.next(ports.len() as u64) as usize];
        if k < 55 {
            let _ = writeln!(
                s,
                "add action=accept chain=input dst-port={p} protocol=tcp src-address={}.{}.{}.{}",
                1 + r.next(222),
                r.next(256),
                r.next(256),
                1 + r.next(254)
            );
            written += 1;
        } else if k < 70 {
            let _ = writeln!(s, "add action=accept chain=input src-address-list=customers-{} protocol=tcp dst-port={p}", r.next(10));
            written += 1;
        } else if k < 80 {
            let _ = writeln!(s, "add action=drop chain=input protocol=tcp dst-port={p} src-address-list=!mgmt log=yes");
            written += 1;
        } else if k < 90 && written < n - 6 {
            let _ = writeln!(s, "add action=jump chain=input jump-target=c{chain} in-interface-list=WAN protocol=tcp dst-port={p}\nadd action=return chain=c{chain} src-address-list=mgmt\nadd action=accept chain=c{chain} src-address={}.{}.0.0/16\nadd action=drop chain=c{chain}", 1 + r.next(222), r.next(256));
            chain += 1;
            written += 4;
        } else {
            let _ = writeln!(s, "add action=add-src-to-address-list address-list=scan address-list-timeout=1h chain=input protocol=tcp dst-port={}", 1 + r.next(65534));
            written += 1;
        }
    }
    s.push_str("add action=drop chain=input in-interface-list=!LAN\n");
    s
}

/// The input chain drops `m` scattered public addresses and ends with the default accept.
fn blocklist_export(m: usize) -> String {
    let mut r = Rng(0x2545_F491_4F6C_DD1D ^ m as u64);
    let mut s = String::from("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n/interface list\nadd name=WAN\n/interface list member\nadd interface=sfp-sfpplus1 list=WAN\n/ip firewall address-list\n");
    for _ in 0..m {
        let _ = writeln!(
            s,
            "add address={}.{}.{}.{} list=blocklist",
            11 + r.next(212),
            r.next(256),
            r.next(256),
            1 + r.next(254)
        );
    }
    s.push_str("/ip firewall filter\nadd action=drop chain=input src-address-list=blocklist\nadd action=accept chain=input connection-state=established,related,untracked\nadd action=drop chain=input connection-state=invalid\n");
    s
}

fn bench_blocklist(c: &mut Criterion) {
    let mut g = c.benchmark_group("blocklist");
    g.sample_size(10);
    let (config, _) = Config::load(blocklist_export(200_000).into_bytes());
    g.bench_function("audit-200k", |b| {
        b.iter(|| audit::run(&config, &WanChoice::default(), &Selection::default()))
    });
    let a = audit::run(&config, &WanChoice::default(), &Selection::default());
    let files = [audit::report::FileReport {
        path: "blocklist.rsc",
        version: None,
        audit: &a,
        diagnostics: &[],
        warnings: &[],
    }];
    g.bench_function("json-report-200k", |b| {
        b.iter(|| {
            let mut sink = std::io::sink();
            audit::report::json(&mut sink, &files, audit::report::Sets::Summarised)
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    for n in [5_000usize, 50_000, 200_000] {
        let text = export(n);
        g.bench_with_input(BenchmarkId::new("load+audit", n), &text, |b, t| {
            b.iter(|| {
                let (config, _) = Config::load(t.as_bytes().to_vec());
                audit::run(&config, &WanChoice::default(), &Selection::default())
            })
        });
        let (config, _) = Config::load(text.into_bytes());
        g.bench_with_input(BenchmarkId::new("audit-only", n), &config, |b, c| {
            b.iter(|| audit::run(c, &WanChoice::default(), &Selection::default()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_blocklist);
criterion_main!(benches);
