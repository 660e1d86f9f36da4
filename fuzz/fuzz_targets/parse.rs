//! The parser and model accept any bytes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros_config::{dump::dump, Config};

fuzz_target!(|data: &[u8]| {
    let (config, _parsed) = Config::load(data.to_vec());
    let _ = dump(&config);
});
