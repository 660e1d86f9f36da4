//! Every step has a timeout: a router that accepts and then says nothing does not hang the client.

use std::time::Duration;

use routeros_api::{Client, Error, Options, Security};

#[tokio::test]
async fn a_silent_router_times_out_the_command() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(s);
    });
    let mut o = Options::new(addr.to_string(), Security::Plain);
    o.command_timeout = Duration::from_millis(200);
    let c = Client::connect(&o).await.unwrap();
    let t = std::time::Instant::now();
    match c.login("admin", "x").await {
        Err(Error::Timeout(_)) => {}
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2));
    hold.abort();
}

#[tokio::test]
async fn a_closed_connection_is_an_error_not_a_hang() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        drop(s);
    });
    let c = Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap();
    match c.login("admin", "x").await {
        Err(Error::Closed) | Err(Error::Io(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connecting_to_nothing_fails_quickly() {
    // A port just released: connection refused, not a hang.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut o = Options::new(addr.to_string(), Security::Plain);
    o.connect_timeout = Duration::from_secs(1);
    assert!(matches!(
        Client::connect(&o).await,
        Err(Error::Io(_)) | Err(Error::Timeout(_))
    ));
}
