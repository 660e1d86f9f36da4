//! Syslog input: UDP datagrams and TCP streams (newline or octet-counting framing, RFC 6587),
//! each line tagged with the sender's address, which identifies the router.
//!
//! Bounds, stated: a datagram or line longer than [`MAX_LINE`] is dropped (counted); a TCP
//! client holds at most that much unfinished, is closed after [`TCP_IDLE`] without a complete
//! line, and at most [`MAX_TCP`] TCP clients are served at once (more are closed at accept).
//! Lines go to the detector through a bounded queue of [`QUEUE`]; when it is full, UDP lines
//! are dropped (counted) and TCP clients wait (backpressure).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

pub const MAX_LINE: usize = 8 * 1024;
pub const TCP_IDLE: Duration = Duration::from_secs(60);
pub const MAX_TCP: usize = 256;
pub const QUEUE: usize = 65_536;

/// What the inputs dropped.
#[derive(Default, Debug)]
pub struct Counters {
    pub oversized: AtomicU64,
    pub queue_full: AtomicU64,
}

/// A line and who sent it.
pub type Line = (IpAddr, String);

fn sender(a: SocketAddr) -> IpAddr {
    match a.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The socket buffer asked for UDP syslog: bursts from many routers wait in the kernel rather
/// than being dropped (Linux grants at most `net.core.rmem_max`, 208 KiB by default; raise it
/// for floods). 4 MiB holds some 15,000 datagrams.
pub const UDP_RCVBUF: usize = 4 << 20;

/// Binds the UDP syslog socket with [`UDP_RCVBUF`].
pub fn bind_udp(addr: &str) -> std::io::Result<tokio::net::UdpSocket> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let s = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // Best effort: a smaller buffer than asked still works.
    let _ = s.set_recv_buffer_size(UDP_RCVBUF);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    tokio::net::UdpSocket::from_std(s.into())
}

/// Serves UDP syslog on `sock` until the task is dropped.
pub async fn udp(sock: tokio::net::UdpSocket, tx: mpsc::Sender<Line>, counters: Arc<Counters>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        if n > MAX_LINE {
            counters.oversized.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            if tx.try_send((sender(from), line.to_string())).is_err() {
                counters.queue_full.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// A TCP frame longer than [`MAX_LINE`]: the client is disconnected.
#[derive(Debug, PartialEq, Eq)]
pub struct Oversized;

/// Splits a TCP syslog stream: octet-counting (`LEN SP MSG`) when a frame starts with a digit,
/// else newline-terminated.
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    /// Feeds bytes; returns the complete lines, or `Err` when a frame is over [`MAX_LINE`].
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<String>, Oversized> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            if self.buf.first().is_some_and(u8::is_ascii_digit) {
                let Some(sp) = self.buf.iter().position(|&b| b == b' ') else {
                    if self.buf.len() > 10 {
                        return Err(Oversized);
                    }
                    break;
                };
                let len: usize = std::str::from_utf8(&self.buf[..sp])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Oversized)?;
                if len > MAX_LINE {
                    return Err(Oversized);
                }
                if self.buf.len() < sp + 1 + len {
                    break;
                }
                let line = String::from_utf8_lossy(&self.buf[sp + 1..sp + 1 + len]).into_owned();
                self.buf.drain(..sp + 1 + len);
                out.push(line.trim_end_matches(['\r', '\n']).to_string());
            } else {
                let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                    if self.buf.len() > MAX_LINE {
                        return Err(Oversized);
                    }
                    break;
                };
                let line = String::from_utf8_lossy(&self.buf[..nl]).into_owned();
                self.buf.drain(..=nl);
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    out.push(line.to_string());
                }
            }
        }
        Ok(out)
    }
}

/// Serves TCP syslog on `listener` until the task is dropped.
pub async fn tcp(
    listener: tokio::net::TcpListener,
    tx: mpsc::Sender<Line>,
    counters: Arc<Counters>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_TCP));
    loop {
        let Ok((mut s, from)) = listener.accept().await else {
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let (tx, counters) = (tx.clone(), counters.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut framer = Framer::default();
            let mut buf = [0u8; 8192];
            loop {
                let n = match tokio::time::timeout(TCP_IDLE, s.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return,
                };
                let Ok(lines) = framer.feed(&buf[..n]) else {
                    counters.oversized.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                for l in lines {
                    if tx.send((sender(from), l)).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_and_octet_counting_framing() {
        let mut f = Framer::default();
        assert_eq!(f.feed(b"<26>a b\n<26>c").unwrap(), ["<26>a b"]);
        assert_eq!(f.feed(b" d\r\n").unwrap(), ["<26>c d"]);
        let mut f = Framer::default();
        assert_eq!(f.feed(b"7 <26>x y6 <26>z").unwrap(), ["<26>x y"]);
        assert_eq!(f.feed(b"w").unwrap(), ["<26>zw"]);
    }

    #[test]
    fn a_line_that_never_ends_is_refused_at_the_cap() {
        let mut f = Framer::default();
        let chunk = vec![b'a'; 4096];
        assert!(f.feed(&chunk).is_ok());
        assert!(f.feed(&chunk).is_ok());
        assert!(f.feed(&chunk).is_err());
        let mut f = Framer::default();
        assert!(f.feed(b"99999999 x").is_err());
    }
}
