//! A router that streams `!re` without end: the client stops at `Options::max_reply`, says so,
//! and closes the connection, instead of holding everything it is sent.

use std::time::Duration;

use routeros_api::{encode_sentence, Client, Error, Options, Security, DEFAULT_MAX_REPLY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn an_endless_reply_is_cut_at_the_cap_and_the_connection_closed() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    // The hostile router: after the command arrives, `!re` sentences of 4 KiB for the first
    // tag the client gives (`1`), until writing fails; it returns how much it got out.
    let router = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 256];
        let _ = s.read(&mut buf).await.unwrap();
        let value = "x".repeat(4096);
        let re = encode_sentence(&["!re".to_string(), format!("=v={value}"), ".tag=1".into()]);
        let mut sent = 0usize;
        loop {
            let w = tokio::time::timeout(Duration::from_secs(5), s.write_all(&re)).await;
            match w {
                Ok(Ok(())) => sent += re.len(),
                // A write error (the client closed), or no reader any more (window full).
                _ => return sent,
            }
        }
    });
    let mut o = Options::new(addr.to_string(), Security::Plain);
    o.max_reply = 1 << 20;
    o.command_timeout = Duration::from_secs(30);
    let c = Client::connect(&o).await.unwrap();
    match c.call(&["/ip/firewall/address-list/print"]).await {
        Err(Error::ReplyTooLarge { limit }) => assert_eq!(limit, 1 << 20),
        other => panic!("expected ReplyTooLarge, got {:?}", other.map(|v| v.len())),
    }
    // The connection is closed: a later command fails at once, and the router's writes stop.
    match c.call(&["/system/resource/print"]).await {
        Err(Error::ReplyTooLarge { .. }) | Err(Error::Closed) => {}
        other => panic!(
            "expected the connection closed, got {:?}",
            other.map(|v| v.len())
        ),
    }
    // Still holding the client: nothing reads the socket any more, so the router's writes stop
    // (its window fills) within its 5 s write timeout.
    let sent = tokio::time::timeout(Duration::from_secs(20), router)
        .await
        .expect("the router's writes stop once the client closes")
        .unwrap();
    drop(c);
    // What the router got out before writes failed: the cap, plus what socket buffers hold.
    assert!(sent > 1 << 20, "{sent}");
    assert!(sent < 64 << 20, "{sent}");
}

#[test]
fn the_default_cap_is_64_mib() {
    assert_eq!(
        Options::new("x:1", Security::Plain).max_reply,
        DEFAULT_MAX_REPLY
    );
    assert_eq!(DEFAULT_MAX_REPLY, 64 << 20);
}
