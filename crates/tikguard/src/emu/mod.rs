//! `tikguard emu`: a RouterOS API server emulated from an export, for tests and demos where no
//! router can run.
//!
//! The server accepts on the `api` (plain) and `api-ssl` (TLS, rustls) addresses given, runs one
//! task per connection, and keeps the router's state in [`router::Router`] behind one lock.
//! A connection that sends bytes the codec rejects is closed alone; others carry on.
//! Log lines go to `/log print` and, with `--syslog`, to a remote syslog over UDP as a router
//! with a remote logging action would send them.

pub mod query;
pub mod router;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use md5::{Digest, Md5};
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_api::server::Connection;
use routeros_api::Limits;
use routeros_config::{Config, Version};
use tokio::net::{TcpListener, UdpSocket};

use router::{reply, trap, LogEntry, Login, Router};

/// Where and how to serve.
pub struct Options {
    pub api: Option<SocketAddr>,
    pub api_ssl: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
    pub syslog: Option<SocketAddr>,
    /// BSD syslog framing (`<PRI>Mmm dd hh:mm:ss host ...`), as `bsd-syslog=yes` up to 7.17.
    pub syslog_bsd: bool,
}

/// A running emulator: its bound addresses and shared state.
pub struct Emulator {
    pub api: Option<SocketAddr>,
    pub api_ssl: Option<SocketAddr>,
    pub router: Arc<Mutex<Router>>,
}

/// Builds the router from an export and the passwords given.
pub fn router_from(
    config: Config,
    passwords: HashMap<String, String>,
    version: Option<Version>,
) -> Router {
    let version = version
        .or_else(|| config.version.clone())
        .unwrap_or_else(|| Version::new(7, 18, 0));
    Router::new(config, passwords, version)
}

/// A TLS server configuration from PEM certificate chain and key files.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("cannot read {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not fit: {e}"))?;
    Ok(Arc::new(cfg))
}

static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// Binds the listeners and serves until the process ends.
pub async fn start(router: Router, opts: Options) -> std::io::Result<Emulator> {
    let router = Arc::new(Mutex::new(router));
    let mut api = None;
    let mut api_ssl = None;
    if let Some(addr) = opts.api {
        let l = TcpListener::bind(addr).await?;
        api = Some(l.local_addr()?);
        let r = router.clone();
        tokio::spawn(async move {
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                s.set_nodelay(true).ok();
                let r = r.clone();
                tokio::spawn(async move { session(s, peer, r, "api").await });
            }
        });
    }
    if let Some((addr, cfg)) = opts.api_ssl {
        let l = TcpListener::bind(addr).await?;
        api_ssl = Some(l.local_addr()?);
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
        let r = router.clone();
        tokio::spawn(async move {
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                s.set_nodelay(true).ok();
                let (r, acceptor) = (r.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(s))
                            .await
                    {
                        session(tls, peer, r, "api-ssl").await;
                    }
                });
            }
        });
    }
    if let Some(target) = opts.syslog {
        let r = router.clone();
        let bsd = opts.syslog_bsd;
        tokio::spawn(async move { forward_syslog(r, target, bsd).await });
    }
    Ok(Emulator {
        api,
        api_ssl,
        router,
    })
}

/// Sends new log lines to the remote syslog every 50 ms.
async fn forward_syslog(router: Arc<Mutex<Router>>, target: SocketAddr, bsd: bool) {
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

/// `<PRI>topics message`, or with BSD framing `<PRI>Mmm dd hh:mm:ss identity topics message`.
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
            bsd_date(),
            identity,
            e.topics,
            e.message
        )
    } else {
        format!("<{pri}>{} {}", e.topics, e.message)
    }
}

fn bsd_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        d,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn legacy_expected(password: &str, challenge: &[u8; 16]) -> String {
    let mut h = Md5::new();
    h.update([0u8]);
    h.update(password.as_bytes());
    h.update(challenge);
    format!("00{}", hex::encode(h.finalize()))
}

fn challenge() -> [u8; 16] {
    // Unpredictable enough for an emulator: time and a per-process counter through MD5.
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Md5::new();
    h.update(t.to_le_bytes());
    h.update(SESSIONS.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.finalize().into()
}

async fn session<S>(stream: S, peer: SocketAddr, router: Arc<Mutex<Router>>, service: &'static str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let id = SESSIONS.fetch_add(1, Ordering::Relaxed);
    let ip: IpAddr = match peer.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let mut conn = Connection::new(stream, Limits::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Reply>();
    let mut login: Option<Login> = None;
    let mut pending_challenge: Option<[u8; 16]> = None;
    let legacy = !router
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .version
        .at_least(6, 43, 0);
    loop {
        tokio::select! {
            pushed = rx.recv() => {
                if let Some(r) = pushed {
                    conn.queue(&r);
                    while let Ok(r) = rx.try_recv() {
                        conn.queue(&r);
                    }
                    if conn.flush().await.is_err() {
                        break;
                    }
                }
            }
            sentence = conn.read_sentence() => {
                let words = match sentence {
                    Ok(Some(w)) => w,
                    // Closed, or garbage: this client alone is disconnected.
                    Ok(None) | Err(_) => break,
                };
                if words.is_empty() {
                    continue;
                }
                let req = match Request::parse(&words) {
                    Ok(r) => r,
                    Err(e) => {
                        for r in trap(&None, Some(5), &e.0) {
                            conn.queue(&r);
                        }
                        let _ = conn.flush().await;
                        continue;
                    }
                };
                let tag = req.tag.clone();
                let cmd = req.command.clone();
                let mut quit = false;
                let replies: Vec<Reply> = match &cmd[..] {
                    b"/quit" => {
                        quit = true;
                        vec![Reply {
                            kind: ReplyKind::Fatal,
                            tag: None,
                            attrs: vec![],
                            reason: Some(Bytes::from_static(b"session terminated on request")),
                        }]
                    }
                    b"/login" => {
                        let name = req.get("name").map(|b| String::from_utf8_lossy(b).into_owned());
                        let mut r = router.lock().unwrap_or_else(|p| p.into_inner());
                        match (legacy, name, req.get("password"), req.get("response")) {
                            (true, Some(user), _, Some(resp)) => match pending_challenge.take() {
                                Some(ch) => {
                                    let resp = resp.to_vec();
                                    match r.login(&user, |pw| legacy_expected(pw, &ch).as_bytes() == &resp[..], ip, service) {
                                        Some(l) => {
                                            login = Some(l);
                                            vec![reply(ReplyKind::Done, &tag, vec![])]
                                        }
                                        None => trap(&tag, None, "invalid user name or password (6)"),
                                    }
                                }
                                None => trap(&tag, None, "invalid user name or password (6)"),
                            },
                            (true, _, _, _) => {
                                let ch = challenge();
                                pending_challenge = Some(ch);
                                vec![reply(ReplyKind::Done, &tag, vec![("ret", hex::encode(ch).into_bytes())])]
                            }
                            (false, Some(user), Some(pw), _) => {
                                let pw = pw.to_vec();
                                match r.login(&user, |known| known.as_bytes() == &pw[..], ip, service) {
                                    Some(l) => {
                                        login = Some(l);
                                        vec![reply(ReplyKind::Done, &tag, vec![])]
                                    }
                                    None => trap(&tag, None, "invalid user name or password (6)"),
                                }
                            }
                            (false, _, _, _) => trap(&tag, None, "invalid user name or password (6)"),
                        }
                    }
                    b"/cancel" => {
                        let mut out = Vec::new();
                        if let Some(t) = req.get("tag") {
                            let cancelled = router.lock().unwrap_or_else(|p| p.into_inner()).cancel(id, t);
                            if cancelled {
                                let t = Some(t.clone());
                                out.push(reply(ReplyKind::Trap, &t, vec![("category", b"2".to_vec()), ("message", b"interrupted".to_vec())]));
                                out.push(reply(ReplyKind::Done, &t, vec![]));
                            }
                        }
                        out.push(reply(ReplyKind::Done, &tag, vec![]));
                        out
                    }
                    _ => match &login {
                        None => trap(&tag, None, "not logged in"),
                        Some(who) => router.lock().unwrap_or_else(|p| p.into_inner()).command(id, who, &req, &tx),
                    },
                };
                for r in &replies {
                    conn.queue(r);
                }
                if (!conn.has_buffered_sentence() || quit) && conn.flush().await.is_err() {
                    break;
                }
                if quit {
                    break;
                }
            }
        }
    }
    let mut r = router.lock().unwrap_or_else(|p| p.into_inner());
    r.drop_session(id);
    if let Some(l) = login {
        r.log(
            "system,info,account",
            format!("user {} logged out from {ip} via {service}", l.user),
        );
    }
}
