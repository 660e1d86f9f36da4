//! Syslog input: UDP datagrams and TCP streams (newline or octet-counting framing, RFC 6587),
//! each message tagged with the sender's address, which identifies the router.
//!
//! Who is read: only the configured routers' `source` addresses ([`Sources`]). A datagram or
//! connection from any other address is counted ([`Counters::unknown_sender`]) and dropped
//! before it is parsed or queued, so an unknown sender can neither decide a block nor fill the
//! queue that routers' lines wait in. A UDP source address can still be forged by anyone on the
//! path: `confirm = true` has watch ask the router itself before blocking.
//!
//! On Linux the UDP socket also carries a kernel filter ([`source_filter`]: classic BPF, as
//! `SO_ATTACH_FILTER` takes it, replaced on each reload) that drops datagrams from any other
//! source before they are queued on the socket: a flood from an unknown sender then takes no
//! room in the socket's receive buffer, where it made the kernel drop routers' datagrams (10% of
//! 2,000 router lines/s lost to one unpaced sender, before). Those drops are the kernel's to
//! count: [`Counters::kernel_drops`] reads the socket's drop count (`/proc/self/net/udp`,
//! `drops`), which also holds datagrams dropped with the buffer full.
//!
//! One UDP datagram is one message (RFC 5426: "each syslog UDP datagram MUST contain only one
//! syslog message"): a newline inside it starts nothing.
//!
//! Bounds, stated: a datagram or line longer than [`MAX_LINE`] is dropped (counted); a TCP
//! client holds at most that much unfinished, must finish a line it began within
//! [`TCP_PARTIAL`] (a minimum rate: a byte now and then does not hold a slot), is closed after
//! [`TCP_IDLE`] without a complete line and after [`TCP_LIFETIME`] in all; at most
//! [`MAX_TCP_PER_SOURCE`] connections per router and [`MAX_TCP`] in all are served at once
//! (more are closed at accept). Lines go to the detector through a bounded queue of [`QUEUE`];
//! when it is full, UDP lines are dropped (counted) and TCP clients wait (backpressure).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

pub const MAX_LINE: usize = 8 * 1024;
pub const TCP_IDLE: Duration = Duration::from_secs(300);
pub const TCP_PARTIAL: Duration = Duration::from_secs(10);
pub const TCP_LIFETIME: Duration = Duration::from_secs(3600);
pub const MAX_TCP: usize = 256;
pub const MAX_TCP_PER_SOURCE: usize = 4;
pub const QUEUE: usize = 65_536;

/// What the inputs dropped.
#[derive(Default, Debug)]
pub struct Counters {
    pub oversized: AtomicU64,
    pub queue_full: AtomicU64,
    /// Datagrams and connections from an address that is no configured router's `source`,
    /// seen by watch (not those the kernel filter dropped: [`Counters::kernel_drops`]).
    pub unknown_sender: AtomicU64,
    /// The UDP socket's inode (0: none), to find its drop count.
    pub udp_inode: AtomicU64,
}

impl Counters {
    /// Datagrams the kernel dropped at the UDP socket: unknown senders' (the filter), or any
    /// with the receive buffer full. Read from `/proc/self/net/udp` and `udp6` (`drops`, the
    /// socket's `sk_drops`); 0 when there is no UDP socket or the file cannot be read.
    pub fn kernel_drops(&self) -> u64 {
        let ino = self.udp_inode.load(Ordering::Relaxed);
        if ino == 0 {
            return 0;
        }
        for f in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            for line in text.lines().skip(1) {
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                let cols: Vec<&str> = line.split_whitespace().collect();
                if cols.get(9).and_then(|i| i.parse::<u64>().ok()) == Some(ino) {
                    return cols.get(12).and_then(|d| d.parse().ok()).unwrap_or(0);
                }
            }
        }
        0
    }
}

/// Classic BPF instructions (`linux/filter.h`).
const LD_B_ABS: u16 = 0x30;
const LD_W_ABS: u16 = 0x20;
const RSH_K: u16 = 0x74;
const JEQ_K: u16 = 0x15;
const JA: u16 = 0x05;
const RET_K: u16 = 0x06;
/// `SKF_NET_OFF`: offsets from the network (IP) header, as a UDP socket's filter sees the
/// datagram from its UDP header.
const NET: u32 = 0xfff0_0000;
/// A filter holds at most this many instructions (`BPF_MAXINSNS`).
pub const MAX_FILTER: usize = 4096;

/// The kernel filter that accepts only datagrams whose IP source is one of `sources` (IPv4,
/// IPv4-mapped IPv6 written as IPv4 on the wire, IPv6): the IP version from the header's first
/// byte, then the source address (IPv4 at byte 12, IPv6 bytes 8 to 23) compared with each.
/// `None` when it would be longer than the kernel takes ([`MAX_FILTER`]: some 2,000 IPv4 or 450
/// IPv6 routers); watch then filters alone.
pub fn source_filter(
    sources: &std::collections::HashSet<IpAddr>,
) -> Option<Vec<(u16, u8, u8, u32)>> {
    let mut v4: Vec<u32> = Vec::new();
    let mut v6: Vec<[u32; 4]> = Vec::new();
    for s in sources {
        match s {
            IpAddr::V4(a) => v4.push(u32::from(*a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(m) => v4.push(u32::from(m)),
                None => {
                    let o = a.octets();
                    let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
                    v6.push([w(0), w(4), w(8), w(12)]);
                }
            },
        }
    }
    v4.sort_unstable();
    v6.sort_unstable();
    const ACCEPT: u32 = u32::MAX;
    let mut p = vec![
        (LD_B_ABS, 0, 0, NET),
        (RSH_K, 0, 0, 4),
        // IPv4: on to its block; else jump over it.
        (JEQ_K, 1, 0, 4),
        (JA, 0, 0, (2 + 2 * v4.len()) as u32),
        (LD_W_ABS, 0, 0, NET + 12),
    ];
    for a in &v4 {
        p.push((JEQ_K, 0, 1, *a));
        p.push((RET_K, 0, 0, ACCEPT));
    }
    p.push((RET_K, 0, 0, 0));
    // IPv6 (A still holds the version here).
    p.push((JEQ_K, 1, 0, 6));
    p.push((RET_K, 0, 0, 0));
    for a in &v6 {
        for (i, w) in a.iter().enumerate() {
            p.push((LD_W_ABS, 0, 0, NET + 8 + 4 * i as u32));
            // On a mismatch, to the next address's block.
            p.push((JEQ_K, 0, (7 - 2 * i) as u8, *w));
        }
        p.push((RET_K, 0, 0, ACCEPT));
    }
    p.push((RET_K, 0, 0, 0));
    (p.len() <= MAX_FILTER).then_some(p)
}

/// Puts [`source_filter`] for `sources` on the UDP socket (replacing the one there); false when
/// it cannot (too many routers, or not Linux), and watch filters alone.
pub fn filter_udp(sock: &tokio::net::UdpSocket, sources: &Sources) -> bool {
    let prog = {
        let s = sources.read().unwrap_or_else(|p| p.into_inner());
        source_filter(&s)
    };
    let Some(prog) = prog else {
        let _ = socket2::SockRef::from(sock).detach_filter();
        return false;
    };
    let prog: Vec<socket2::SockFilter> = prog
        .into_iter()
        .map(|(code, jt, jf, k)| socket2::SockFilter::new(code, jt, jf, k))
        .collect();
    socket2::SockRef::from(sock).attach_filter(&prog).is_ok()
}

/// The addresses syslog is read from: the configured routers' `source`s (replaced on a
/// configuration reload).
pub type Sources = Arc<std::sync::RwLock<std::collections::HashSet<IpAddr>>>;

fn known(sources: &Sources, ip: IpAddr) -> bool {
    sources
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&ip)
}

/// A message and who sent it.
#[derive(Debug)]
pub struct Line {
    /// The router's `source` (syslog's sender address, or the followed router's).
    pub from: IpAddr,
    pub text: String,
    /// Read from the router over the API (`follow`): its own log, nothing to confirm.
    pub via_api: bool,
}

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

/// Serves UDP syslog on `sock` until the task is dropped: one datagram, one message.
pub async fn udp(
    sock: Arc<tokio::net::UdpSocket>,
    tx: mpsc::Sender<Line>,
    counters: Arc<Counters>,
    sources: Sources,
) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let from = sender(from);
        if !known(&sources, from) {
            counters.unknown_sender.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if n > MAX_LINE {
            counters.oversized.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        let text = text.trim_end_matches(['\n', '\r', '\0']);
        if text.trim().is_empty() {
            continue;
        }
        let line = Line {
            from,
            text: text.to_string(),
            via_api: false,
        };
        if tx.try_send(line).is_err() {
            counters.queue_full.fetch_add(1, Ordering::Relaxed);
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
    /// Whether part of a frame is held.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

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
    sources: Sources,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_TCP));
    let per_source: Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>> =
        Arc::default();
    loop {
        let Ok((mut s, from)) = listener.accept().await else {
            continue;
        };
        let from = sender(from);
        if !known(&sources, from) {
            counters.unknown_sender.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue;
        };
        {
            let mut n = per_source.lock().unwrap_or_else(|p| p.into_inner());
            let c = n.entry(from).or_default();
            if *c >= MAX_TCP_PER_SOURCE {
                continue;
            }
            *c += 1;
        }
        let (tx, counters, per_source) = (tx.clone(), counters.clone(), per_source.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let deadline = tokio::time::Instant::now() + TCP_LIFETIME;
            let mut framer = Framer::default();
            let mut buf = [0u8; 8192];
            let mut line_by = tokio::time::Instant::now() + TCP_IDLE;
            let mut partial_since: Option<tokio::time::Instant> = None;
            loop {
                let mut until = line_by.min(deadline);
                if let Some(t) = partial_since {
                    until = until.min(t + TCP_PARTIAL);
                }
                let n = match tokio::time::timeout_at(until, s.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => break,
                };
                let Ok(lines) = framer.feed(&buf[..n]) else {
                    counters.oversized.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                let now = tokio::time::Instant::now();
                let ended = !lines.is_empty();
                if ended {
                    line_by = now + TCP_IDLE;
                }
                // A line begun must end soon, whatever trickles in meanwhile.
                partial_since = if framer.pending() {
                    Some(partial_since.filter(|_| !ended).unwrap_or(now))
                } else {
                    None
                };
                let mut gone = false;
                for l in lines {
                    let line = Line {
                        from,
                        text: l,
                        via_api: false,
                    };
                    if tx.send(line).await.is_err() {
                        gone = true;
                        break;
                    }
                }
                if gone {
                    break;
                }
            }
            let mut n = per_source.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = n.get_mut(&from) {
                *c -= 1;
                if *c == 0 {
                    n.remove(&from);
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

    /// The kernel filter on a dual-stack socket (`[::]`): a datagram is delivered only from a
    /// configured source, IPv4 (its header IPv4 on the wire) or IPv6; a reload's new sources
    /// replace the old ones.
    #[tokio::test]
    async fn the_kernel_filter_lets_only_the_routers_sources_through() {
        let sock = bind_udp("[::]:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let sources: Sources = Arc::new(std::sync::RwLock::new(
            ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()].into(),
        ));
        assert!(filter_udp(&sock, &sources));
        let send = |from: &str, to: &str, what: &str| {
            let c = std::net::UdpSocket::bind(format!("{from}:0")).unwrap();
            c.send_to(what.as_bytes(), format!("{to}:{port}")).unwrap();
        };
        let got = || async {
            let mut out = Vec::new();
            let mut buf = [0u8; 64];
            while let Ok(Ok((n, _))) =
                tokio::time::timeout(Duration::from_millis(300), sock.recv_from(&mut buf)).await
            {
                out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            out.sort();
            out
        };
        send("127.0.0.2", "127.0.0.1", "unknown v4");
        send("127.0.0.1", "127.0.0.1", "router v4");
        send("[::1]", "[::1]", "router v6");
        assert_eq!(got().await, ["router v4", "router v6"]);
        *sources.write().unwrap() = ["127.0.0.2".parse().unwrap()].into();
        assert!(filter_udp(&sock, &sources));
        send("127.0.0.2", "127.0.0.1", "now a router");
        send("127.0.0.1", "127.0.0.1", "no longer");
        send("[::1]", "[::1]", "no longer v6");
        assert_eq!(got().await, ["now a router"]);
    }

    #[test]
    fn a_filter_past_the_kernels_length_is_not_made() {
        let many: std::collections::HashSet<IpAddr> = (0..3000u32)
            .map(|i| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)))
            .collect();
        assert!(source_filter(&many).is_none());
        let some: std::collections::HashSet<IpAddr> = many.into_iter().take(2000).collect();
        assert!(source_filter(&some).is_some_and(|p| p.len() <= MAX_FILTER));
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
