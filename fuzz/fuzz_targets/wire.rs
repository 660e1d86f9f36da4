//! The API decoder and the typed views accept any bytes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros_api::{Decoder, Limits, Reply, Request};

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new(Limits { max_word: 1 << 16, max_sentence: 1 << 17, max_words: 1024 });
    // Feed in two parts to exercise the incremental path.
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    d.feed(&data[..cut]);
    while let Ok(Some(s)) = d.next_sentence() {
        let _ = Reply::parse(&s);
        let _ = Request::parse(&s);
    }
    d.feed(&data[cut..]);
    while let Ok(Some(s)) = d.next_sentence() {
        let _ = Reply::parse(&s);
        let _ = Request::parse(&s);
    }
});
