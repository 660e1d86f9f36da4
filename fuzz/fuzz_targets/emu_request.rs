//! The emulator's command handling (queries, `?#` stacks, argument, reference and uniqueness
//! checks, edits) accepts any request sentence from a logged-in client without panicking.
#![no_main]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use routeros_api::{Decoder, Limits, Request};
use routeros_config::Config;
use tikguard::emu::router::{Login, Router, Sink};

const EXPORT: &str = "/ppp profile\nadd name=p1\n/ppp secret\nadd name=a profile=p1\n/ip firewall address-list\nadd list=l address=10.0.0.1\n";

fuzz_target!(|data: &[u8]| {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    let config = CONFIG.get_or_init(|| Config::load(EXPORT.as_bytes().to_vec()).0).clone();
    let mut router = tikguard::emu::router_from(config, HashMap::new(), None);
    let who = Login {
        user: "admin".into(),
        policies: ["read", "write", "sensitive", "api"].map(String::from).to_vec(),
    };
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let sink = Sink { tx, kick: Arc::new(tokio::sync::Notify::new()) };
    let mut d = Decoder::new(Limits { max_word: 1 << 12, max_sentence: 1 << 14, max_words: 64 });
    d.feed(data);
    while let Ok(Some(s)) = d.next_sentence() {
        if let Ok(req) = Request::parse(&s) {
            let _ = router.command(1, &who, &req, &sink);
        }
    }
});
