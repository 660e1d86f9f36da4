//! Property: the emulator's command handling never panics on any request a logged-in client
//! can send, and never stores an argument RouterOS' command tree does not have. Requests are
//! built from real menus, verbs, arguments and query words mixed with arbitrary bytes.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use routeros_api::{encode_sentence, Decoder, Limits, Request};
use routeros_config::Config;
use tikguard::emu::router::{Login, Sink};

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/ppp profile
add name=p1
/ppp secret
add name=a profile=p1
/ip firewall address-list
add list=l address=10.0.0.1
/queue simple
add name=q1 target=10.0.0.2/32
";

fn word() -> impl Strategy<Value = Vec<u8>> {
    let fixed = prop::sample::select(vec![
        "=name=a",
        "=name=b",
        "=profile=p1",
        "=profile=nope",
        "=list=l",
        "=address=10.0.0.1",
        "=address=10.0.0.1/32",
        "=disabled=no",
        "=disabled=yes",
        "=bogus=1",
        "=.id=*1",
        "=.id=*1,*2",
        "=numbers=a",
        "=numbers=",
        "=.proplist=name,profile",
        "=count-only=",
        "=password=x",
        "=target=10.0.0.9/32",
        "=parent=none",
        "=value-name=comment",
        "?name=a",
        "?disabled=no",
        "?-name",
        "?>name=",
        "?<address=10.0.0.2",
        "?#|",
        "?#!",
        "?#&",
        "?#.",
        "?#0",
        "?#1.",
        "?#99999999999999999999",
        "?#",
        "?",
        "?=name=a",
        ".tag=7",
    ])
    .prop_map(|s| s.as_bytes().to_vec());
    prop_oneof![4 => fixed, 1 => prop::collection::vec(any::<u8>(), 0..12)]
}

fn command() -> impl Strategy<Value = Vec<u8>> {
    let menu = prop::sample::select(vec![
        "/ppp/secret",
        "/ppp/profile",
        "/ip/firewall/address-list",
        "/queue/simple",
        "/user",
        "/ip/service",
        "/log",
        "/system/resource",
        "/no/such",
    ]);
    let verb = prop::sample::select(vec![
        "print", "getall", "add", "set", "unset", "remove", "enable", "disable", "listen", "sign",
        "bogus",
    ]);
    (menu, verb).prop_map(|(m, v)| format!("{m}/{v}").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_is_answered_without_panicking(
        reqs in prop::collection::vec((command(), prop::collection::vec(word(), 0..8)), 1..12)
    ) {
        let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
        let mut router = tikguard::emu::router_from(config, HashMap::new(), None);
        let who = Login {
            user: "admin".into(),
            policies: ["read", "write", "sensitive", "api"].map(String::from).to_vec(),
        };
        let (tx, _rx) = tokio::sync::mpsc::channel(4);
        let sink = Sink { tx, kick: Arc::new(tokio::sync::Notify::new()) };
        for (cmd, words) in reqs {
            let mut all = vec![cmd];
            all.extend(words);
            let mut d = Decoder::new(Limits::default());
            d.feed(&encode_sentence(&all));
            let Ok(Some(s)) = d.next_sentence() else { continue };
            let Ok(req) = Request::parse(&s) else { continue };
            let replies = router.command(1, &who, &req, &sink);
            // Every command that answers ends with `!done` (listen streams instead).
            if !replies.is_empty() {
                prop_assert_eq!(replies.last().unwrap().kind, routeros_api::ReplyKind::Done);
            }
        }
        // Nothing the command tree lacks was stored.
        for menu in ["/ppp/secret", "/ppp/profile", "/queue/simple"] {
            let mut d = Decoder::new(Limits::default());
            d.feed(&encode_sentence(&[format!("{menu}/print")]));
            let req = Request::parse(&d.next_sentence().unwrap().unwrap()).unwrap();
            for r in router.command(1, &who, &req, &sink) {
                prop_assert!(r.attrs.iter().all(|(k, _)| k != &Bytes::from_static(b"bogus")));
            }
        }
    }
}
