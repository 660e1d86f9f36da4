//! Parse + model throughput on a large export, built from the real exports of the shared corpus
//! (repeated to 50 MB). Run: `cargo bench -p routeros-config --bench parse`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routeros_config::{parse, Config};

const TARGET: usize = 50 << 20;

fn corpus_dir() -> PathBuf {
    std::env::var_os("TIKGUARD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus")
}

/// Real exports (those with a RouterOS header), concatenated and repeated to 50 MB.
fn big_export() -> Vec<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut seed = Vec::new();
    for f in files {
        let Ok(b) = std::fs::read(&f) else { continue };
        if b.windows(12).take(400).any(|w| w == b"by RouterOS ") {
            seed.extend_from_slice(&b);
            seed.push(b'\n');
        }
    }
    if seed.is_empty() {
        seed = include_bytes!("../../../examples/isp-core-v7.rsc").to_vec();
    }
    let mut out = Vec::with_capacity(TARGET + seed.len());
    while out.len() < TARGET {
        out.extend_from_slice(&seed);
    }
    out
}

fn bench(c: &mut Criterion) {
    let input = big_export();
    let mut g = c.benchmark_group("export-50MB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("parse", |b| b.iter(|| parse(input.clone())));
    g.bench_function("parse+model", |b| b.iter(|| Config::load(input.clone())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
