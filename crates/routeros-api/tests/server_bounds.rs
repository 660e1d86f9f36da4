//! The server framing's bounds over real loopback sockets: the budget ends the connection that
//! would exceed it and no other, a client that does not read its replies is dropped after the
//! write timeout, and limits before login refuse large words on their length prefix.

use std::time::Duration;

use routeros_api::sentence::{Reply, ReplyKind};
use routeros_api::server::{Budget, ConnError, Connection, ServerLimits};
use routeros_api::{encode_len, encode_sentence, Limits};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, s) = tokio::join!(TcpStream::connect(addr), l.accept());
    (c.unwrap(), s.unwrap().0)
}

fn limits() -> ServerLimits {
    ServerLimits {
        write_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    }
}

#[tokio::test]
async fn the_budget_ends_the_connection_that_would_exceed_it_alone() {
    let budget = Budget::new(4 << 20);
    let (mut big_client, big_server) = pair().await;
    let (mut small_client, small_server) = pair().await;
    let mut big = Connection::new(big_server, &limits(), budget.clone());
    big.set_limits(Limits::default());
    let mut small = Connection::new(small_server, &limits(), budget.clone());
    small.set_limits(Limits::default());
    // 8 MiB announced and sent: more than the whole budget.
    tokio::spawn(async move {
        let mut p = Vec::new();
        encode_len(8 << 20, &mut p);
        big_client.write_all(&p).await.unwrap();
        let _ = big_client.write_all(&vec![b'x'; 8 << 20]).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    match big.read_sentence().await {
        Err(ConnError::Budget { cap, .. }) => assert_eq!(cap, 4 << 20),
        other => panic!("expected the budget to end it, got {other:?}"),
    }
    drop(big);
    assert_eq!(budget.used(), 0, "a closed connection gives its bytes back");
    small_client
        .write_all(&encode_sentence(&["/system/resource/print"]))
        .await
        .unwrap();
    let s = small.read_sentence().await.unwrap().unwrap();
    assert_eq!(s.word(0), b"/system/resource/print");
    assert!(budget.used() > 0 && budget.used() <= budget.cap());
}

#[tokio::test]
async fn a_client_that_does_not_read_its_replies_is_dropped_after_the_write_timeout() {
    let (_client, server) = pair().await;
    let mut conn = Connection::new(server, &limits(), Budget::new(64 << 20));
    let row = Reply {
        kind: ReplyKind::Re,
        tag: None,
        attrs: vec![(
            bytes::Bytes::from_static(b"comment"),
            bytes::Bytes::from(vec![b'c'; 1000]),
        )],
        reason: None,
    };
    let t = std::time::Instant::now();
    let ended = loop {
        if let Err(e) = conn.send(&row).await {
            break e;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "never stalled");
    };
    assert!(matches!(ended, ConnError::Stalled), "{ended:?}");
    // What it queued stayed near the high-water mark; the kernel holds the rest.
    assert!(conn.held() < 1 << 20, "held {}", conn.held());
}

#[tokio::test]
async fn before_login_a_large_word_is_refused_on_its_length_prefix() {
    let (mut client, server) = pair().await;
    let budget = Budget::new(64 << 20);
    let mut conn = Connection::new(server, &ServerLimits::default(), budget.clone());
    let mut p = Vec::new();
    encode_len((16 << 20) - 1, &mut p);
    client.write_all(&p).await.unwrap();
    match conn.read_sentence().await {
        Err(ConnError::Wire(e)) => assert!(e.to_string().contains("4096"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(budget.used() < 64 << 10, "reserved {} bytes", budget.used());
}

/// The API manual limits "the number of sentences" before login: the connection counts them
/// and ends at one more than [`ServerLimits::sentences_before_login`]; a login
/// (`set_limits`) lifts the count.
#[tokio::test]
async fn sentences_before_login_are_counted_until_login() {
    let limits = ServerLimits::default();
    let n = limits.sentences_before_login;
    let (mut client, server) = pair().await;
    let mut conn = Connection::new(server, &limits, Budget::new(64 << 20));
    let one = encode_sentence(&["/system/identity/print"]);
    client.write_all(&one.repeat(n + 1)).await.unwrap();
    for _ in 0..n {
        assert!(conn.read_sentence().await.unwrap().is_some());
    }
    match conn.read_sentence().await {
        Err(ConnError::TooManyBeforeLogin) => {}
        other => panic!("{other:?}"),
    }
    // Logged in after the first sentence: no count any more.
    let (mut client, server) = pair().await;
    let mut conn = Connection::new(server, &limits, Budget::new(64 << 20));
    client.write_all(&one.repeat(n * 4)).await.unwrap();
    assert!(conn.read_sentence().await.unwrap().is_some());
    conn.set_limits(Limits::default());
    for _ in 1..n * 4 {
        assert!(conn.read_sentence().await.unwrap().is_some());
    }
}
