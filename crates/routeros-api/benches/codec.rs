//! Codec throughput: decoding and encoding typical `!re` sentences (an address-list entry as
//! RouterOS sends it). Run: `cargo bench -p routeros-api --bench codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routeros_api::{encode_sentence, Decoder, Limits, Reply};

fn typical(i: usize) -> Vec<Vec<u8>> {
    vec![
        b"!re".to_vec(),
        b".tag=7".to_vec(),
        format!("=.id=*{i:X}").into_bytes(),
        b"=list=customers".to_vec(),
        format!(
            "=address=10.{}.{}.{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        )
        .into_bytes(),
        b"=creation-time=2025-06-01 12:00:00".to_vec(),
        b"=dynamic=false".to_vec(),
        b"=disabled=false".to_vec(),
    ]
}

fn bench(c: &mut Criterion) {
    const N: usize = 100_000;
    let mut stream = Vec::new();
    for i in 0..N {
        stream.extend(encode_sentence(&typical(i)));
    }
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("decode 100k !re", |b| {
        b.iter(|| {
            let mut d = Decoder::new(Limits::default());
            d.feed(&stream);
            let mut n = 0;
            while let Some(s) = d.next_sentence().unwrap() {
                n += s.len();
            }
            n
        })
    });
    g.bench_function("decode+parse 100k !re", |b| {
        b.iter(|| {
            let mut d = Decoder::new(Limits::default());
            d.feed(&stream);
            let mut n = 0;
            while let Some(s) = d.next_sentence().unwrap() {
                n += Reply::parse(&s).unwrap().attrs.len();
            }
            n
        })
    });
    let sentences: Vec<Vec<Vec<u8>>> = (0..N).map(typical).collect();
    g.bench_function("encode 100k !re", |b| {
        b.iter(|| {
            sentences
                .iter()
                .map(|s| encode_sentence(s).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
