//! The proxy's reading of a client's request (path expansion, arguments, queries) and its
//! policy decision accept any sentence without panicking, under every built-in policy and one
//! with every kind of constraint.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use routeros_api::{Decoder, Limits, Request};
use tikguard::proxy::config::{self, ProxyConfig};
use tikguard::proxy::policy::{decide, Command};

const CONFIG: &str = r#"[proxy]
audit-log = "/dev/null"

[policy.all-kinds]
extends = "read-only"

[[policy.all-kinds.rule]]
path = "/ip/firewall/address-list"
verbs = ["add", "set", "remove"]
owner-prefix = "ucrm_"
args = { list = { enum = ["suspended"] }, address = { cidr = ["100.64.0.0/10", "2001:db8::/32"] }, comment = { regex = "^ucrm_[0-9]+$" }, timeout = { range = [0, 86400] } }
proplist = ["address", "list"]
query = ["list"]
"#;

fuzz_target!(|data: &[u8]| {
    static CFG: OnceLock<ProxyConfig> = OnceLock::new();
    let cfg = CFG.get_or_init(|| config::parse("fuzz.toml", CONFIG).expect("valid"));
    let mut d = Decoder::new(Limits { max_word: 1 << 12, max_sentence: 1 << 14, max_words: 64 });
    d.feed(data);
    while let Ok(Some(s)) = d.next_sentence() {
        if let Ok(req) = Request::parse(&s) {
            let mut cmd = Command::from_request(&req);
            let _ = cmd.expand();
            for p in cfg.policies.values() {
                let _ = decide(p, &cmd);
            }
        }
    }
});
