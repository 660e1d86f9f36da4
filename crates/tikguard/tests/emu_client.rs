//! The client against the emulator over real sockets on 127.0.0.1, plain and TLS (certificates
//! made with rcgen). Each test names the RouterOS behaviour it relies on.

use std::collections::HashMap;
use std::net::SocketAddr;

use routeros_api::{Client, Error, Fingerprint, Options, Security, Verify};
use routeros_config::{Config, Version};
use tikguard::emu;

mod common;

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/user group
add name=ro policy=read,api,!write
add name=noapi policy=read,write,ssh,!api
/user
add name=reader group=ro
add name=shell group=noapi
add name=remote group=full address=192.0.2.0/24
/ip address
add address=192.168.88.1/24 interface=bridge comment=lan
add address=10.0.0.1/30 interface=ether1 comment=wan
/ppp secret
add name=cust1 password=s3cr3t profile=default
";

fn passwords() -> HashMap<String, String> {
    ["admin", "reader", "shell", "remote"]
        .iter()
        .map(|u| (u.to_string(), format!("{u}-pass")))
        .collect()
}

async fn start(
    export: &str,
    version: Option<&str>,
    tls: bool,
) -> (emu::Emulator, Option<Fingerprint>, Vec<u8>) {
    let (config, p) = Config::load(export.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let router = emu::router_from(
        config,
        passwords(),
        version.map(|v| Version::parse(v).unwrap()),
    );
    let mut opts = emu::Options {
        api: Some("127.0.0.1:0".parse().unwrap()),
        api_ssl: None,
        syslog: None,
        syslog_bsd: false,
        ..Default::default()
    };
    let mut fp = None;
    let mut ca_pem = Vec::new();
    if tls {
        let (cfg, f, ca) = common::ca_signed_server_config();
        let ca = ca.into_bytes();
        opts.api_ssl = Some(("127.0.0.1:0".parse().unwrap(), cfg));
        fp = Some(f);
        ca_pem = ca;
    }
    (emu::start(router, opts).await.unwrap(), fp, ca_pem)
}

async fn client(addr: SocketAddr, security: Security) -> Result<Client, Error> {
    Client::connect(&Options::new(addr.to_string(), security)).await
}

async fn admin(addr: SocketAddr) -> Client {
    let c = client(addr, Security::Plain).await.unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    c
}

fn val(r: &routeros_api::Reply, k: &str) -> String {
    String::from_utf8_lossy(r.get(k).unwrap_or_else(|| panic!("no {k} in {r:?}"))).into_owned()
}

#[tokio::test]
async fn login_succeeds_and_a_wrong_password_gets_routeros_trap_and_is_logged() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    match c.login("admin", "nope").await {
        Err(Error::Trap { message, .. }) => {
            assert_eq!(message, "invalid user name or password (6)")
        }
        other => panic!("{other:?}"),
    }
    c.login("admin", "admin-pass").await.unwrap();
    let log = c.call(&["/log/print"]).await.unwrap();
    let lines: Vec<(String, String)> = log
        .iter()
        .map(|r| (val(r, "topics"), val(r, "message")))
        .collect();
    assert!(lines.contains(&(
        "system,error,critical".into(),
        "login failure for user admin from 127.0.0.1 via api".into()
    )));
    assert!(lines.contains(&(
        "system,info,account".into(),
        "user admin logged in from 127.0.0.1 via api".into()
    )));
}

#[tokio::test]
async fn print_with_proplist_and_stack_queries() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    let all = c.call(&["/ip/address/print"]).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(val(&all[0], ".id"), "*1");
    assert_eq!(val(&all[0], "disabled"), "false");
    let wan = c
        .call(&[
            "/ip/address/print",
            "?comment=wan",
            "=.proplist=address,interface",
        ])
        .await
        .unwrap();
    assert_eq!(wan.len(), 1);
    assert_eq!(val(&wan[0], "address"), "10.0.0.1/30");
    assert!(wan[0].get(".id").is_none() && wan[0].get("comment").is_none());
    let either = c
        .call(&[
            "/ip/address/print",
            "?interface=bridge",
            "?interface=ether1",
            "?#|",
        ])
        .await
        .unwrap();
    assert_eq!(either.len(), 2);
    let none = c
        .call(&[
            "/ip/address/print",
            "?interface=bridge",
            "?interface=ether1",
        ])
        .await
        .unwrap();
    assert!(none.is_empty());
    let resp = c
        .call_words(vec![
            b"/ip/address/print".to_vec(),
            b"=count-only=".to_vec(),
        ])
        .await
        .unwrap();
    assert_eq!(resp.done.ret().map(|b| b.to_vec()), Some(b"2".to_vec()));
}

#[tokio::test]
async fn the_query_builder_speaks_the_emulators_stack() {
    use routeros_api::Query;
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    let q = Query::new()
        .eq("comment", "lan")
        .eq("comment", "wan")
        .or()
        .has("address")
        .and();
    let mut words = vec!["/ip/address/print".to_string()];
    words.extend(q.words().iter().cloned());
    assert_eq!(c.call(&words).await.unwrap().len(), 2);
    let q = Query::new().eq("interface", "bridge").negate();
    let mut words = vec!["/ip/address/print".to_string()];
    words.extend(q.words().iter().cloned());
    let r = c.call(&words).await.unwrap();
    assert_eq!((r.len(), val(&r[0], "comment")), (1, "wan".to_string()));
}

#[tokio::test]
async fn add_set_unset_disable_enable_remove() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    let resp = c
        .call_words(vec![
            b"/ip/address/add".to_vec(),
            b"=address=172.16.0.1/24".to_vec(),
            b"=interface=ether2".to_vec(),
            b"=comment=x=y".to_vec(),
        ])
        .await
        .unwrap();
    let id = String::from_utf8(resp.done.ret().unwrap().to_vec()).unwrap();
    assert_eq!(id, "*3");
    c.call(&[
        "/ip/address/set",
        &format!("=.id={id}"),
        "=interface=ether3",
    ])
    .await
    .unwrap();
    c.call(&["/ip/address/disable", &format!("=.id={id}")])
        .await
        .unwrap();
    let got = c
        .call(&["/ip/address/print", &format!("?.id={id}")])
        .await
        .unwrap();
    assert_eq!(
        (
            val(&got[0], "interface"),
            val(&got[0], "disabled"),
            val(&got[0], "comment")
        ),
        ("ether3".into(), "true".into(), "x=y".into())
    );
    c.call(&["/ip/address/enable", &format!("=.id={id}")])
        .await
        .unwrap();
    c.call(&[
        "/ip/address/unset",
        &format!("=.id={id}"),
        "=value-name=comment",
    ])
    .await
    .unwrap();
    let got = c
        .call(&["/ip/address/print", &format!("?.id={id}")])
        .await
        .unwrap();
    assert_eq!(val(&got[0], "disabled"), "false");
    assert!(got[0].get("comment").is_none());
    c.call(&["/ip/address/remove", "=.id=*1,*3"]).await.unwrap();
    assert_eq!(c.call(&["/ip/address/print"]).await.unwrap().len(), 1);
    match c.call(&["/ip/address/remove", "=.id=*99"]).await {
        Err(Error::Trap { message, .. }) => assert_eq!(message, "no such item"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_command_is_category_0_no_such_command_prefix() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    match c.call(&["/no/such/menu/print"]).await {
        Err(Error::Trap { category, message }) => {
            assert_eq!(
                (category, message.as_str()),
                (Some(0), "no such command prefix")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn empty_print_answers_empty_from_7_18_only() {
    // RouterOS 7.18 added `!empty` for a print that finds nothing.
    let (e, _, _) = start(EXPORT, Some("7.18"), false).await;
    let c = admin(e.api.unwrap()).await;
    // `!empty` comes before the `!done` (wire trace in pear2/Net_RouterOS#80).
    let r = c
        .call_words(vec![b"/ip/route/print".to_vec()])
        .await
        .unwrap();
    assert_eq!(r.done.kind, routeros_api::ReplyKind::Done);
    assert!(r.items.is_empty() && r.empty);
    let (e, _, _) = start(EXPORT, Some("7.16"), false).await;
    let c = admin(e.api.unwrap()).await;
    let r = c
        .call_words(vec![b"/ip/route/print".to_vec()])
        .await
        .unwrap();
    assert!(r.items.is_empty() && !r.empty);
}

#[tokio::test]
async fn policies_read_write_sensitive_and_api_are_enforced() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let addr = e.api.unwrap();
    let r = client(addr, Security::Plain).await.unwrap();
    r.login("reader", "reader-pass").await.unwrap();
    assert_eq!(r.call(&["/ip/address/print"]).await.unwrap().len(), 2);
    match r
        .call(&["/ip/address/add", "=address=1.1.1.1/32", "=interface=lo"])
        .await
    {
        Err(Error::Trap { message, .. }) => assert_eq!(message, "not enough permissions (9)"),
        other => panic!("{other:?}"),
    }
    // Without `sensitive` the PPP secret's password is not shown; admin (full) sees it.
    let s = r.call(&["/ppp/secret/print"]).await.unwrap();
    assert!(s[0].get("password").is_none());
    let a = admin(addr).await;
    assert_eq!(
        val(
            &a.call(&["/ppp/secret/print"]).await.unwrap()[0],
            "password"
        ),
        "s3cr3t"
    );
    // User passwords are never printed.
    assert!(a
        .call(&["/user/print"])
        .await
        .unwrap()
        .iter()
        .all(|u| u.get("password").is_none()));
    // A group without `api` cannot log in over the API.
    let s = client(addr, Security::Plain).await.unwrap();
    assert!(matches!(
        s.login("shell", "shell-pass").await,
        Err(Error::Trap { .. })
    ));
}

#[tokio::test]
async fn user_and_service_address_restrict_where_logins_come_from() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    // `remote` may only log in from 192.0.2.0/24; we are 127.0.0.1.
    assert!(matches!(
        c.login("remote", "remote-pass").await,
        Err(Error::Trap { .. })
    ));
    let restricted = format!("{EXPORT}/ip service set api address=10.0.0.0/8\n");
    let (e, _, _) = start(&restricted, None, false).await;
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    assert!(matches!(
        c.login("admin", "admin-pass").await,
        Err(Error::Trap { .. })
    ));
    let disabled = format!("{EXPORT}/ip service set api disabled=yes\n");
    let (e, _, _) = start(&disabled, None, false).await;
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    assert!(matches!(
        c.login("admin", "admin-pass").await,
        Err(Error::Trap { .. })
    ));
}

#[tokio::test]
async fn legacy_md5_login_before_6_43() {
    // Before 6.43 `/login` answers `=ret=` with a challenge; the client falls back to MD5.
    let (e, _, _) = start(EXPORT, Some("6.40.8"), false).await;
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    assert_eq!(c.call(&["/ip/address/print"]).await.unwrap().len(), 2);
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    assert!(matches!(
        c.login("admin", "wrong").await,
        Err(Error::Trap { .. })
    ));
}

#[tokio::test]
async fn many_tagged_commands_interleave_on_one_connection() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    let futs = (0..200).map(|i| {
        let c = &c;
        async move {
            if i % 2 == 0 {
                c.call(&["/ip/address/print", "?comment=lan"])
                    .await
                    .map(|r| r.len())
            } else {
                c.call(&["/ip/address/print"]).await.map(|r| r.len())
            }
        }
    });
    let results = futures_join(futs).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), if i % 2 == 0 { 1 } else { 2 });
    }
}

async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out = Vec::new();
    for f in set {
        out.push(f.await);
    }
    out
}

#[tokio::test]
async fn listen_streams_changes_and_cancel_interrupts() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let addr = e.api.unwrap();
    let watcher = admin(addr).await;
    let writer = admin(addr).await;
    let mut stream = watcher.stream(&["/ip/address/listen"]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    writer
        .call(&[
            "/ip/address/add",
            "=address=10.1.1.1/24",
            "=interface=ether5",
        ])
        .await
        .unwrap();
    let added = stream.next().await.unwrap().unwrap();
    assert_eq!(val(&added, "address"), "10.1.1.1/24");
    writer
        .call(&["/ip/address/remove", "=.id=*3"])
        .await
        .unwrap();
    let removed = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (val(&removed, ".id"), val(&removed, ".dead")),
        ("*3".into(), "true".into())
    );
    stream.cancel().await.unwrap();
    assert!(
        stream.next().await.is_none(),
        "the stream ends after cancel"
    );
}

#[tokio::test]
async fn quit_is_fatal_and_garbage_disconnects_only_its_sender() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let addr = e.api.unwrap();
    let good = admin(addr).await;
    // A client that sends a control byte where a length belongs.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut bad = tokio::net::TcpStream::connect(addr).await.unwrap();
    bad.write_all(&[0xF8, 1, 2, 3, 4, 5]).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(std::time::Duration::from_secs(2), bad.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "the garbage sender is disconnected");
    assert_eq!(good.call(&["/ip/address/print"]).await.unwrap().len(), 2);
    let c = admin(addr).await;
    match c.call(&["/quit"]).await {
        Err(Error::Fatal(reason)) => assert_eq!(reason, "session terminated on request"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tls_with_pin_ca_and_trust_on_first_use() {
    let (e, fp, ca_pem) = start(EXPORT, None, true).await;
    let addr = e.api_ssl.unwrap();
    let fp = fp.unwrap();
    // Pinned fingerprint.
    let c = client(addr, Security::Tls(Verify::Pin(fp))).await.unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    assert_eq!(c.fingerprint(), Some(fp));
    assert_eq!(c.call(&["/ip/address/print"]).await.unwrap().len(), 2);
    // A wrong pin is refused.
    let wrong = Fingerprint([7; 32]);
    assert!(matches!(
        client(addr, Security::Tls(Verify::Pin(wrong))).await,
        Err(Error::Tls(_))
    ));
    // CA verification with the router's IP in its certificate.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let ca = routeros_api::tls::load_ca(&ca_file).unwrap();
    let c = client(addr, Security::Tls(Verify::Ca(ca))).await.unwrap();
    c.login("admin", "admin-pass").await.unwrap();
    // Trust on first use records, then matches, then a different certificate is a hard error.
    let known = dir.path().join("known_routers");
    client(addr, Security::Tls(Verify::TrustOnFirstUse(known.clone())))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&known).unwrap();
    assert_eq!(text.trim(), format!("{addr} {fp}"));
    client(addr, Security::Tls(Verify::TrustOnFirstUse(known.clone())))
        .await
        .unwrap();
    std::fs::write(
        &known,
        format!("# comment\n{addr} {}\n", Fingerprint([1; 32])),
    )
    .unwrap();
    match client(addr, Security::Tls(Verify::TrustOnFirstUse(known.clone()))).await {
        Err(Error::KnownRouterMismatch { line, file, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(file, known.display().to_string());
        }
        other => panic!("{:?}", other.err()),
    }
}

#[tokio::test]
async fn login_events_reach_a_remote_syslog() {
    let recv = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let router = emu::router_from(config, passwords(), None);
    let e = emu::start(
        router,
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            api_ssl: None,
            syslog: Some(recv.local_addr().unwrap()),
            syslog_bsd: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = client(e.api.unwrap(), Security::Plain).await.unwrap();
    let _ = c.login("admin", "bad").await;
    let mut buf = [0u8; 512];
    let (n, _) = tokio::time::timeout(std::time::Duration::from_secs(3), recv.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    // Facility daemon (3), severity critical (2): PRI 26; RouterOS' plain remote format.
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "<26>system,error,critical login failure for user admin from 127.0.0.1 via api"
    );
}

/// `/log/print =follow-only=` streams each new log entry, and only new ones; `?topics=` filters
/// the stream (the schema of every 7.x release lists `follow` and `follow-only` for
/// `/log/print`; log-tailing clients send exactly these words).
#[tokio::test]
async fn log_print_follow_only_streams_new_entries_matching_the_query() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let addr = e.api.unwrap();
    let tail = admin(addr).await; // Its own login is logged before the stream starts.
    let mut all = tail.stream(&["/log/print", "=follow-only="]).await.unwrap();
    let mut critical = tail
        .stream(&[
            "/log/print",
            "=follow-only=",
            "?topics=system,error,critical",
        ])
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let c = client(addr, Security::Plain).await.unwrap();
    assert!(c.login("ghost user", "nope").await.is_err());
    let _ok = admin(addr).await;
    let first = all.next().await.unwrap().unwrap();
    assert_eq!(
        val(&first, "message"),
        "login failure for user ghost user from 127.0.0.1 via api"
    );
    assert_eq!(val(&first, "topics"), "system,error,critical");
    let second = all.next().await.unwrap().unwrap();
    assert!(val(&second, "message").starts_with("user admin logged in from 127.0.0.1 via api"));
    let only = critical.next().await.unwrap().unwrap();
    assert_eq!(val(&only, ".id"), val(&first, ".id"));
    critical.cancel().await.unwrap();
    assert!(
        critical.next().await.is_none(),
        "the stream ends after cancel"
    );
    all.cancel().await.unwrap();
}

/// An address-list `timeout` no clock can count (a number of seconds past what `Instant` holds,
/// an hours field whose seconds overflow, parts whose sum overflows), sent by any API client,
/// is taken without a panic: each command is answered, the entry is listed, and the session and
/// the emulator go on answering.
#[tokio::test]
async fn an_address_list_timeout_too_large_for_the_clock_is_answered_not_a_panic() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await;
    let sum = "4294967295w".repeat(8000);
    let huge = [
        "9999999999999999999",
        "99999999999d",
        "6000000000000000:00:00",
        sum.as_str(),
    ];
    for (i, t) in huge.iter().enumerate() {
        let got = c
            .call(&[
                "/ip/firewall/address-list/add",
                "=list=huge",
                &format!("=address=192.0.2.{}", i + 1),
                &format!("=timeout={t}"),
            ])
            .await;
        assert!(
            matches!(got, Ok(_) | Err(Error::Trap { .. })),
            "timeout={}: {got:?}",
            &t[..t.len().min(40)]
        );
    }
    let listed = c
        .call(&["/ip/firewall/address-list/print", "?list=huge"])
        .await
        .unwrap();
    assert!(!listed.is_empty());
    // Another client is served as before.
    let other = admin(e.api.unwrap()).await;
    assert!(other.call(&["/system/identity/print"]).await.is_ok());
}

/// `/system/clock/print` gives `date` in 7.10's `yyyy-mm-dd` and `time`; `/system/clock/set`
/// moves the clock, and `/log/print` then shows an entry logged before by its age, as the Log
/// manual says: the time alone today, `mmm/dd hh:mm:ss` on an earlier day of the year.
#[tokio::test]
async fn the_clock_reads_and_sets_and_log_times_follow_it() {
    let (e, _, _) = start(EXPORT, None, false).await;
    let c = admin(e.api.unwrap()).await; // Its login is logged now.
    let clock = c.call(&["/system/clock/print"]).await.unwrap();
    let date = val(&clock[0], "date");
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-',
        "7.18 prints yyyy-mm-dd: {date}"
    );
    let time = val(&c.call(&["/log/print"]).await.unwrap()[0], "time");
    assert_eq!(time.len(), 8, "logged today: hh:mm:ss, not {time}");
    let v = Version::parse("7.18.2").unwrap();
    let tomorrow = emu::clock::host_ms() + 86_400_000;
    c.call(&[
        "/system/clock/set",
        &format!("=date={}", emu::clock::date_text(tomorrow, &v)),
    ])
    .await
    .unwrap();
    let clock = c.call(&["/system/clock/print"]).await.unwrap();
    assert_eq!(val(&clock[0], "date"), emu::clock::date_text(tomorrow, &v));
    let time = val(&c.call(&["/log/print"]).await.unwrap()[0], "time");
    let yesterday = emu::clock::log_time(emu::clock::host_ms(), tomorrow, &v);
    // Unless the year turned meanwhile, `mmm/dd hh:mm:ss`.
    assert_eq!(time[..7], yesterday[..7], "{time}");
    assert!(
        c.call(&["/system/clock/set", "=time=25:00:00"])
            .await
            .is_err(),
        "an hour past 23 is refused"
    );
}
