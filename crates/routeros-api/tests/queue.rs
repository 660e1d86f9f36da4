//! Queued commands: [`Client::queue`] holds a command until the next write, which sends every
//! queued sentence in order in one write; a dropped client ends its running commands.

use std::time::Duration;

use routeros_api::wire::{encode_sentence, Decoder};
use routeros_api::{Client, Error, Options, Security};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that records what arrives in each read, and answers every sentence with `!done`
/// under its tag.
async fn recorder() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Vec<Vec<Vec<u8>>>>,
) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut dec = Decoder::new(Default::default());
        let mut buf = vec![0u8; 65536];
        loop {
            let n = s.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            dec.feed(&buf[..n]);
            let mut got = Vec::new();
            while let Ok(Some(sentence)) = dec.next_sentence() {
                got.push(sentence.words().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
            for words in &got {
                let tag = words
                    .iter()
                    .find(|w| w.starts_with(b".tag="))
                    .cloned()
                    .unwrap();
                s.write_all(&encode_sentence(&[b"!done".to_vec(), tag]))
                    .await
                    .unwrap();
            }
            let _ = tx.send(got);
        }
    });
    (addr, rx)
}

async fn plain(addr: std::net::SocketAddr) -> Client {
    Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap()
}

#[tokio::test]
async fn queued_commands_go_out_together_in_order_with_the_next_write() {
    let (addr, mut reads) = recorder().await;
    let c = plain(addr).await;
    let mut a = c.queue(vec![b"/one".to_vec()]).unwrap();
    let mut b = c.queue(vec![b"/two".to_vec()]).unwrap();
    // Nothing is written while only queued.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), reads.recv())
            .await
            .is_err()
    );
    assert!(c.has_queued());
    let mut third = c.start(vec![b"/three".to_vec()]).await.unwrap();
    assert!(!c.has_queued());
    let got = reads.recv().await.unwrap();
    let commands: Vec<&[u8]> = got.iter().map(|w| &w[0][..]).collect();
    assert_eq!(
        commands,
        [&b"/one"[..], b"/two", b"/three"],
        "one read, in order"
    );
    for r in [&mut a, &mut b, &mut third] {
        assert_eq!(r.next().await.unwrap().kind, routeros_api::ReplyKind::Done);
    }
    // flush() alone sends what is queued, and nothing when nothing is.
    let mut d = c.queue(vec![b"/four".to_vec()]).unwrap();
    c.flush().await.unwrap();
    c.flush().await.unwrap();
    assert_eq!(reads.recv().await.unwrap()[0][0], b"/four");
    assert_eq!(d.next().await.unwrap().kind, routeros_api::ReplyKind::Done);
}

#[tokio::test]
async fn dropping_the_client_ends_its_running_commands() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });
    let c = plain(addr).await;
    let mut running = c.start(vec![b"/silent".to_vec()]).await.unwrap();
    drop(c);
    match tokio::time::timeout(Duration::from_secs(2), running.next()).await {
        Ok(Err(Error::Closed)) => {}
        other => panic!("a running command must end when its client is dropped: {other:?}"),
    }
    hold.abort();
}

#[tokio::test]
async fn commands_queued_to_one_sink_reply_there_under_their_tags() {
    let (addr, mut reads) = recorder().await;
    let c = plain(addr).await;
    let (sink, mut replies) = tokio::sync::mpsc::channel(8);
    let a = c.queue_to(vec![b"/one".to_vec()], &sink).unwrap();
    let b = c.queue_to(vec![b"/two".to_vec()], &sink).unwrap();
    assert_ne!(a, b);
    c.flush().await.unwrap();
    assert_eq!(reads.recv().await.unwrap().len(), 2, "one write");
    let mut got = Vec::new();
    for _ in 0..2 {
        let (tag, r) = replies.recv().await.unwrap();
        let r = r.unwrap();
        assert_eq!(r.kind, routeros_api::ReplyKind::Done);
        assert_eq!(r.tag.as_ref(), Some(&tag), "paired with the command's tag");
        got.push(tag);
    }
    assert_eq!(got, [a, b], "in the order the router sent them");
}

#[tokio::test]
async fn a_connection_that_ends_gives_each_command_on_a_sink_its_error() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (close_tx, close_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut dec = Decoder::new(Default::default());
        let mut buf = vec![0u8; 65536];
        // Answers the first command, then closes once told to.
        let mut answered = false;
        while !answered {
            let n = s.read(&mut buf).await.unwrap();
            dec.feed(&buf[..n]);
            if let Ok(Some(sentence)) = dec.next_sentence() {
                let words: Vec<Vec<u8>> = sentence.words().map(<[u8]>::to_vec).collect();
                let tag = words.iter().find(|w| w.starts_with(b".tag=")).unwrap();
                s.write_all(&encode_sentence(&[b"!done".to_vec(), tag.clone()]))
                    .await
                    .unwrap();
                answered = true;
            }
        }
        let _ = close_rx.await;
        drop(s);
    });
    let c = plain(addr).await;
    let (sink, mut replies) = tokio::sync::mpsc::channel(1);
    let done = c.queue_to(vec![b"/answered".to_vec()], &sink).unwrap();
    let x = c.queue_to(vec![b"/silent".to_vec()], &sink).unwrap();
    let y = c.queue_to(vec![b"/silent".to_vec()], &sink).unwrap();
    c.flush().await.unwrap();
    let (tag, r) = replies.recv().await.unwrap();
    assert_eq!(
        (tag, r.unwrap().kind),
        (done, routeros_api::ReplyKind::Done)
    );
    close_tx.send(()).unwrap();
    // A channel of one: the second error waits for room instead of being lost.
    let mut ended = Vec::new();
    for _ in 0..2 {
        let (tag, r) = tokio::time::timeout(Duration::from_secs(5), replies.recv())
            .await
            .expect("an error for each command still running")
            .unwrap();
        assert!(matches!(r, Err(Error::Closed)), "{r:?}");
        ended.push(tag);
    }
    ended.sort();
    let mut want = vec![x, y];
    want.sort();
    assert_eq!(
        ended, want,
        "the answered command's route ended with its !done"
    );
    assert!(c.is_closed());
    assert!(c.queue_to(vec![b"/late".to_vec()], &sink).is_err());
}
