//! The emulator answers as RouterOS does where CRMs and blockers depend on it. Each test is named
//! after the RouterOS fact it pins; the source is in the emulator's module docs
//! (`emu::router`, `emu::rules`, `emu::query`, `emu::session`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use routeros_api::server::ServerLimits;
use routeros_api::{Client, Error, Options, Security};
use routeros_config::Config;
use tikguard::emu;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/user group
add name=crm policy=read,write,api,!sensitive
/user
add name=billing group=crm
/ip service
set api max-sessions=3
/ppp profile
add name=plan-10M rate-limit=10M/10M
/ppp secret
add name=cust1 password=s3cr3t profile=plan-10M service=pppoe
add name=cust2 password=s3cr3t profile=default disabled=yes
/ip firewall address-list
add list=blocked address=203.0.113.7
/queue simple
add name=q-cust1 target=10.0.0.2/32 max-limit=10M/10M
/certificate
add name=api-cert common-name=router
/routing bgp connection
add name=upstream remote.address=192.0.2.1 local.role=ebgp tcp-md5-key=bgp-md5-secret
";

async fn start_with(limits: ServerLimits) -> emu::Emulator {
    let (config, p) = Config::load(EXPORT.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let pw: HashMap<String, String> = [("admin", "admin-pass"), ("billing", "billing-pass")]
        .iter()
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .collect();
    emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            limits,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn start() -> emu::Emulator {
    start_with(ServerLimits::default()).await
}

async fn login(addr: SocketAddr, user: &str, pass: &str) -> Client {
    let c = Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap();
    c.login(user, pass).await.unwrap();
    c
}

fn trap(r: Result<Vec<routeros_api::Reply>, Error>) -> (Option<u8>, String) {
    match r {
        Err(Error::Trap { category, message }) => (category, message),
        other => panic!("expected a trap, got {other:?}"),
    }
}

fn names(rows: &[routeros_api::Reply]) -> Vec<String> {
    rows.iter()
        .map(|r| String::from_utf8_lossy(r.get("name").unwrap()).into_owned())
        .collect()
}

/// Billing code filters with `?disabled=no`; the API prints booleans as `true`/`false`, and
/// RouterOS compares the values, not the spelling.
#[tokio::test]
async fn boolean_query_no_matches_what_the_api_prints_as_false() {
    let e = start().await;
    let c = login(e.api.unwrap(), "admin", "admin-pass").await;
    let on = c
        .call(&["/ppp/secret/print", "?disabled=no"])
        .await
        .unwrap();
    assert_eq!(names(&on), ["cust1"]);
    let off = c
        .call(&["/ppp/secret/print", "?disabled=true"])
        .await
        .unwrap();
    assert_eq!(names(&off), ["cust2"]);
    // The manual's `?#` rules: an index at the end of the word replaces the stack.
    let all = c
        .call(&["/ppp/secret/print", "?disabled=yes", "?disabled=no", "?#|"])
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}

/// `failure: secret with the same name already exists`; `failure: already have such entry`.
#[tokio::test]
async fn duplicates_of_unique_keys_are_refused() {
    let e = start().await;
    let c = login(e.api.unwrap(), "billing", "billing-pass").await;
    let (_, m) = trap(
        c.call(&["/ppp/secret/add", "=name=cust1", "=password=x"])
            .await,
    );
    assert_eq!(m, "failure: secret with the same name already exists");
    let (_, m) = trap(
        c.call(&[
            "/ip/firewall/address-list/add",
            "=list=blocked",
            "=address=203.0.113.7/32",
        ])
        .await,
    );
    assert_eq!(m, "failure: already have such entry");
    // Same address in another list is a different entry.
    c.call(&[
        "/ip/firewall/address-list/add",
        "=list=other",
        "=address=203.0.113.7",
    ])
    .await
    .unwrap();
    let (_, m) = trap(
        c.call(&["/queue/simple/add", "=name=q-cust1", "=target=10.0.0.3/32"])
            .await,
    );
    assert!(m.starts_with("failure:"), "{m}");
    // Renaming onto an existing name is refused; setting an item's own name is not.
    let (_, m) = trap(
        c.call(&["/ppp/secret/set", "=numbers=cust2", "=name=cust1"])
            .await,
    );
    assert_eq!(m, "failure: secret with the same name already exists");
    c.call(&["/ppp/secret/set", "=numbers=cust1", "=name=cust1"])
        .await
        .unwrap();
    assert_eq!(
        c.call(&["/ppp/secret/print"]).await.unwrap().len(),
        2,
        "nothing was added"
    );
}

/// `unknown parameter` for an argument the menu does not have (RouterOS' command tree).
#[tokio::test]
async fn unknown_parameters_are_refused_not_stored() {
    let e = start().await;
    let c = login(e.api.unwrap(), "billing", "billing-pass").await;
    for words in [
        &["/ppp/secret/add", "=name=new", "=bogusattr=1"][..],
        &[
            "/queue/simple/add",
            "=name=q2",
            "=target=10.0.0.9/32",
            "=max_limit=1",
        ][..],
        &["/ppp/secret/set", "=numbers=cust1", "=bogusattr=1"][..],
    ] {
        let (_, m) = trap(c.call(words).await);
        assert_eq!(m, "unknown parameter", "{words:?}");
    }
    let rows = c.call(&["/ppp/secret/print"]).await.unwrap();
    assert!(rows.iter().all(|r| r.get("bogusattr").is_none()));
    assert_eq!(rows.len(), 2);
    // Real arguments pass.
    c.call(&[
        "/queue/simple/add",
        "=name=q2",
        "=target=10.0.0.9/32",
        "=max-limit=5M/5M",
    ])
    .await
    .unwrap();
}

/// `!trap =category=1 =message=input does not match any value of profile`: what a CRM gets when
/// it suspends a subscriber by switching to a profile that does not exist.
#[tokio::test]
async fn references_to_missing_profiles_pools_and_groups_are_refused() {
    let e = start().await;
    let c = login(e.api.unwrap(), "admin", "admin-pass").await;
    let (cat, m) = trap(
        c.call(&[
            "/ppp/secret/set",
            "=numbers=cust1",
            "=profile=no-such-profile",
        ])
        .await,
    );
    assert_eq!(
        (cat, m.as_str()),
        (Some(1), "input does not match any value of profile")
    );
    let (_, m) = trap(
        c.call(&["/ppp/profile/add", "=name=p2", "=remote-address=no-pool"])
            .await,
    );
    assert_eq!(m, "input does not match any value of remote-address");
    let (_, m) = trap(
        c.call(&["/user/add", "=name=u2", "=group=nobody", "=password=x"])
            .await,
    );
    assert_eq!(m, "input does not match any value of group");
    let (_, m) = trap(
        c.call(&[
            "/ip/address/add",
            "=address=10.9.9.1/24",
            "=interface=nonexistent",
        ])
        .await,
    );
    assert_eq!(m, "input does not match any value of interface");
    // What exists, or is built in, is accepted.
    for words in [
        &["/ppp/secret/set", "=numbers=cust1", "=profile=default"][..],
        &["/ppp/secret/set", "=numbers=cust1", "=profile=plan-10M"][..],
        &["/ppp/profile/add", "=name=p3", "=remote-address=10.0.0.5"][..],
        &[
            "/ip/address/add",
            "=address=10.9.9.1/24",
            "=interface=ether2",
        ][..],
    ] {
        c.call(words).await.unwrap();
    }
}

/// The API manual: `/cancel` without `=tag=` "cancels all running commands".
#[tokio::test]
async fn cancel_without_a_tag_ends_every_running_listen() {
    let e = start().await;
    let addr = e.api.unwrap();
    let c = login(addr, "admin", "admin-pass").await;
    let mut a = c.stream(&["/ppp/secret/listen"]).await.unwrap();
    let mut b = c.stream(&["/ip/address/listen"]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.call(&["/cancel"]).await.unwrap();
    for s in [&mut a, &mut b] {
        let end = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(r) = s.next().await {
                if r.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(end.is_ok(), "a listen is still running after /cancel");
    }
}

/// `/ip service max-sessions` (7.16+): connections beyond it are refused.
#[tokio::test]
async fn max_sessions_is_enforced_per_service() {
    let e = start().await;
    let addr = e.api.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(login(addr, "admin", "admin-pass").await);
    }
    let fourth = Client::connect(&Options::new(addr.to_string(), Security::Plain)).await;
    let refused = match fourth {
        Err(_) => true,
        Ok(c) => c.login("admin", "admin-pass").await.is_err(),
    };
    assert!(refused, "a fourth session was accepted with max-sessions=3");
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    login(addr, "admin", "admin-pass").await;
}

/// `/user add =password=` sets the password the new user logs in with; it is never printed.
#[tokio::test]
async fn a_user_added_over_the_api_logs_in_with_its_password() {
    let e = start().await;
    let addr = e.api.unwrap();
    let c = login(addr, "admin", "admin-pass").await;
    c.call(&[
        "/user/add",
        "=name=ops",
        "=group=crm",
        "=password=ops-pass-1",
    ])
    .await
    .unwrap();
    let rows = c.call(&["/user/print", "?name=ops"]).await.unwrap();
    assert!(rows[0].get("password").is_none());
    login(addr, "ops", "ops-pass-1").await;
    c.call(&["/user/set", "=numbers=ops", "=password=ops-pass-2"])
        .await
        .unwrap();
    let old = Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap();
    assert!(old.login("ops", "ops-pass-1").await.is_err());
    login(addr, "ops", "ops-pass-2").await;
}

/// BGP's `tcp-md5-key` is a secret: hidden from a group without `sensitive`.
#[tokio::test]
async fn bgp_tcp_md5_key_is_shown_only_with_sensitive() {
    let e = start().await;
    let addr = e.api.unwrap();
    let crm = login(addr, "billing", "billing-pass").await;
    let rows = crm.call(&["/routing/bgp/connection/print"]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].get("tcp-md5-key").is_none(), "{:?}", rows[0]);
    let admin = login(addr, "admin", "admin-pass").await;
    let rows = admin
        .call(&["/routing/bgp/connection/print"])
        .await
        .unwrap();
    assert_eq!(rows[0].get("tcp-md5-key").unwrap(), &b"bgp-md5-secret"[..]);
}

async fn closed_within(s: &mut tokio::net::TcpStream, d: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(d, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// The API manual: before login, "the size and number of sentences" a client may send are
/// limited. A 1 MiB word, a ninth sentence, or 20 s without logging in end the connection; a
/// client that logs in meanwhile is answered.
#[tokio::test]
async fn before_login_size_count_and_time_are_limited() {
    let limits = ServerLimits {
        login_timeout: Duration::from_millis(500),
        ..ServerLimits::default()
    };
    let e = start_with(limits).await;
    let addr = e.api.unwrap();
    let mut big = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A word of 1 MiB announced: refused on its length prefix.
    big.write_all(&[0xE0, 0x10, 0x00, 0x00]).await.unwrap();
    big.write_all(&[b'x'; 1024]).await.unwrap();
    assert!(closed_within(&mut big, Duration::from_secs(2)).await);
    let mut chatty = tokio::net::TcpStream::connect(addr).await.unwrap();
    let sentence = routeros_api::encode_sentence(&["/system/resource/print"]);
    for _ in 0..9 {
        let _ = chatty.write_all(&sentence).await;
    }
    assert!(closed_within(&mut chatty, Duration::from_secs(2)).await);
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);
    // A client that logs in in time is not affected by the login deadline.
    let c = login(addr, "admin", "admin-pass").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!c.call(&["/ppp/secret/print"]).await.unwrap().is_empty());
}

/// RouterOS' command tree: `/certificate sign` names its certificate with `number` (singular);
/// `numbers` is an unknown parameter there (harden's live apply sent it until this was pinned).
#[tokio::test]
async fn certificate_sign_takes_number_not_numbers() {
    let e = start().await;
    let c = login(e.api.unwrap(), "admin", "admin-pass").await;
    let (_, m) = trap(c.call(&["/certificate/sign", "=numbers=api-cert"]).await);
    assert_eq!(m, "unknown parameter");
    c.call(&["/certificate/sign", "=number=api-cert"])
        .await
        .unwrap();
    let rows = c
        .call(&["/certificate/print", "?name=api-cert"])
        .await
        .unwrap();
    assert_eq!(rows[0].get("private-key").unwrap(), &b"true"[..]);
}

/// MikroTik's Firewall Filter manual: `place-before` puts a new rule in front of the given one
/// (order decides what a rule catches); an id that does not exist is refused.
#[tokio::test]
async fn place_before_orders_a_new_rule_and_is_not_stored() {
    let e = start().await;
    let c = login(e.api.unwrap(), "admin", "admin-pass").await;
    let add = |comment: &'static str, before: Option<String>| {
        let c = &c;
        async move {
            let mut w = vec![
                "/ip/firewall/filter/add".to_string(),
                "=chain=input".to_string(),
                "=action=accept".to_string(),
                format!("=comment={comment}"),
            ];
            if let Some(b) = before {
                w.push(format!("=place-before={b}"));
            }
            c.call_words(w.into_iter().map(String::into_bytes).collect())
                .await
                .map(|r| String::from_utf8_lossy(r.done.ret().unwrap()).into_owned())
        }
    };
    let first = add("first", None).await.unwrap();
    add("second", None).await.unwrap();
    add("top", Some(first)).await.unwrap();
    let rows = c.call(&["/ip/firewall/filter/print"]).await.unwrap();
    let order: Vec<String> = rows
        .iter()
        .map(|r| String::from_utf8_lossy(r.get("comment").unwrap()).into_owned())
        .collect();
    assert_eq!(order, ["top", "first", "second"]);
    assert!(rows.iter().all(|r| r.get("place-before").is_none()));
    assert!(add("nowhere", Some("*FFFF".into())).await.is_err());
}
