//! The whole path on a parsed configuration: parse, model, every audit rule, the harden plan
//! and its proof. The first byte chooses the input: odd, the rest as an export (mutated from
//! the seeds, which `.ci/run` makes by putting byte 1 before real exports), even, as the choices of a random firewall (jumps, loops, returns, duplicates, lists,
//! negations; `crates/tikguard/tests/common/random_firewall.rs`). Run with libFuzzer's
//! `-timeout=` so that a hang is a crash.
#![no_main]

#[path = "../../crates/tikguard/tests/common/random_firewall.rs"]
mod random_firewall;

use libfuzzer_sys::fuzz_target;
use routeros_config::{Config, Version};
use tikguard::audit::{self, Selection, WanChoice};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text: Vec<u8> = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        random_firewall::export(&mut random_firewall::Choices::new(rest)).into_bytes()
    };
    let (config, _) = Config::load(text.clone());
    let audit = audit::run(&config, &WanChoice::default(), &Selection::default());
    for f in &audit.findings {
        let _ = (f.line, &f.evidence);
    }
    let intent = Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").expect("a prefix")],
        mgmt: vec![Prefix::parse("192.168.88.0/24").expect("a prefix")],
        wan: WanChoice::default(),
        api_port: None,
        cert: CertPlan::Generate,
        syslog: None,
        target: config
            .version
            .clone()
            .unwrap_or_else(|| Version::new(7, 18, 0)),
        api_user: None,
        create_api_user: false,
        password_in_script: None,
        api_group: None,
        replace_allow_lists: false,
        keep_plain_api: false,
        mgmt_interfaces: vec![],
    };
    let plan = harden::plan(&config, &intent);
    let _ = harden::prove(&text, &config, &plan.changes, &intent);
});
