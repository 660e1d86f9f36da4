//! Log lines to a remote syslog over UDP, as a router with a remote logging action sends them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use super::router::{LogEntry, Router};

/// Sends new log lines to the remote syslog every 50 ms.
pub async fn forward(router: Arc<Mutex<Router>>, target: SocketAddr, bsd: bool) {
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    }
    .parse()
    .expect("literal");
    let Ok(sock) = UdpSocket::bind(bind).await else {
        return;
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (lines, identity) = {
            let mut r = router.lock().unwrap_or_else(|p| p.into_inner());
            let identity = r
                .config
                .setting("/system identity", "name")
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| "MikroTik".into());
            (std::mem::take(&mut r.outbox), identity)
        };
        for e in lines {
            let _ = sock
                .send_to(syslog_line(&e, &identity, bsd).as_bytes(), target)
                .await;
        }
    }
}

/// `<PRI>topics message`, or with BSD framing `<PRI>Mmm dd hh:mm:ss identity topics message`
/// (the entry's time on the router's clock).
/// Facility `daemon` (3), RouterOS' default; severity from the topics.
pub fn syslog_line(e: &LogEntry, identity: &str, bsd: bool) -> String {
    let severity = if e.topics.contains("critical") {
        2
    } else if e.topics.contains("error") {
        3
    } else if e.topics.contains("warning") {
        4
    } else {
        6
    };
    let pri = 3 * 8 + severity;
    if bsd {
        format!(
            "<{pri}>{} {} {} {}",
            bsd_date(e.at_ms),
            identity,
            e.topics,
            e.message
        )
    } else {
        format!("<{pri}>{} {}", e.topics, e.message)
    }
}

/// `Mmm dd hh:mm:ss` of a time on the router's clock.
fn bsd_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (_, m, d) = crate::civil::civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(m - 1).clamp(0, 11) as usize],
        d,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}
