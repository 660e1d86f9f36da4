//! One client connection of the emulator: admission (`max-sessions`), login, and the command
//! loop, within the limits of [`routeros_api::server`].
//!
//! Worst case, stated: connections per service are capped by the service's `max-sessions`
//! (RouterOS 7.16+, default 20; 20 before 7.16 too, approximated). Until it logs in a connection
//! may hold at most one 8 KiB sentence, send 8 sentences and take 20 s; then it is closed. Every
//! byte a connection buffers (receive buffer, queued replies) is charged to the server's
//! [`Budget`]; the one that would exceed it is closed alone. A `listen` whose session has
//! [`ServerLimits::listen_queue`] replies unread ends that session; replies the client does not
//! read within [`ServerLimits::write_timeout`] end it too. So the emulator holds at most the
//! budget in connection buffers, plus per connection a fixed read buffer (16 KiB), TLS state and
//! its listen queue, plus the configuration.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use md5::{Digest, Md5};
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_api::server::{Budget, Connection, ServerLimits};
use routeros_config::value::parse_int;

use super::router::{reply, trap, Login, Router, Sink};

/// State every connection shares.
pub struct Shared {
    pub router: Arc<Mutex<Router>>,
    pub limits: ServerLimits,
    pub budget: Arc<Budget>,
    open: Mutex<HashMap<&'static str, usize>>,
    /// Every client is taken as coming from this address ([`super::Options::clients_as`]).
    pub clients_as: std::sync::OnceLock<IpAddr>,
}

/// A connection counted against its service's `max-sessions` until dropped.
pub struct Admitted {
    shared: Arc<Shared>,
    service: &'static str,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.shared.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(self.service) {
            *n = n.saturating_sub(1);
        }
    }
}

static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// RouterOS' default `max-sessions` (MikroTik's IP Services manual).
const DEFAULT_MAX_SESSIONS: usize = 20;

impl Shared {
    pub fn new(router: Arc<Mutex<Router>>, limits: ServerLimits, budget: usize) -> Arc<Shared> {
        Arc::new(Shared {
            router,
            limits,
            budget: Budget::new(budget),
            open: Mutex::new(HashMap::new()),
            clients_as: std::sync::OnceLock::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection to `service` unless it already has `max-sessions` open.
    pub fn admit(self: &Arc<Self>, service: &'static str) -> Option<Admitted> {
        let max = {
            let r = self.lock();
            r.config
                .menu("/ip service")
                .and_then(|m| m.by_name(service))
                .and_then(|s| s.get("max-sessions"))
                .and_then(parse_int)
                .map(|n| n as usize)
                .unwrap_or(DEFAULT_MAX_SESSIONS)
        };
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(service).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Admitted {
            shared: self.clone(),
            service,
        })
    }
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

const BAD_LOGIN: &str = "invalid user name or password (6)";

/// Answers `/login`: the 6.43+ form, or the MD5 challenge before 6.43.
fn login(
    shared: &Shared,
    req: &Request,
    pending_challenge: &mut Option<[u8; 16]>,
    ip: IpAddr,
    service: &'static str,
) -> (Vec<Reply>, Option<Login>) {
    let tag = &req.tag;
    let mut r = shared.lock();
    let legacy = !r.version.at_least(6, 43, 0);
    let name = req
        .get("name")
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let ok = |l: Option<Login>| match l {
        Some(l) => (vec![reply(ReplyKind::Done, tag, vec![])], Some(l)),
        None => (trap(tag, None, BAD_LOGIN), None),
    };
    match (legacy, name, req.get("password"), req.get("response")) {
        (true, Some(user), _, Some(resp)) => match pending_challenge.take() {
            Some(ch) => {
                let resp = resp.to_vec();
                ok(r.login(
                    &user,
                    |pw| legacy_expected(pw, &ch).as_bytes() == &resp[..],
                    ip,
                    service,
                ))
            }
            None => (trap(tag, None, BAD_LOGIN), None),
        },
        (true, _, _, _) => {
            let ch = challenge();
            *pending_challenge = Some(ch);
            (
                vec![reply(
                    ReplyKind::Done,
                    tag,
                    vec![("ret", hex::encode(ch).into_bytes())],
                )],
                None,
            )
        }
        (false, Some(user), Some(pw), _) => {
            let pw = pw.to_vec();
            ok(r.login(&user, |known| known.as_bytes() == &pw[..], ip, service))
        }
        (false, _, _, _) => (trap(tag, None, BAD_LOGIN), None),
    }
}

/// Serves one admitted connection until the client leaves or breaks a limit.
pub async fn serve<S>(stream: S, peer: SocketAddr, shared: Arc<Shared>, service: &'static str)
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
    let ip = shared.clients_as.get().copied().unwrap_or(ip);
    let limits = &shared.limits;
    let mut conn = Connection::new(stream, limits, shared.budget.clone());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Reply>(limits.listen_queue.max(1));
    let sink = Sink {
        tx,
        kick: Arc::new(tokio::sync::Notify::new()),
    };
    let mut who: Option<Login> = None;
    let mut pending_challenge: Option<[u8; 16]> = None;
    let login_deadline = tokio::time::Instant::now() + limits.login_timeout;
    let kick = sink.kick.clone();
    loop {
        tokio::select! {
            _ = kick.notified() => break,
            _ = tokio::time::sleep_until(login_deadline), if who.is_none() => break,
            pushed = rx.recv() => {
                let Some(r) = pushed else { continue };
                let mut res = conn.send(&r).await;
                while let (Ok(()), Ok(r)) = (&res, rx.try_recv()) {
                    res = conn.send(&r).await;
                }
                if res.is_err() || conn.flush().await.is_err() {
                    break;
                }
            }
            sentence = conn.read_sentence() => {
                let words = match sentence {
                    Ok(Some(w)) => w,
                    // Closed, garbage, or over a limit: this client alone is disconnected.
                    Ok(None) | Err(_) => break,
                };
                if words.is_empty() {
                    continue;
                }
                let (replies, quit) = match Request::parse(&words) {
                    Ok(req) => {
                        let (replies, quit, logged_in) = handle(&shared, &req, &mut who, &mut pending_challenge, ip, service, id, &sink);
                        if logged_in {
                            conn.set_limits(limits.after_login);
                        }
                        (replies, quit)
                    }
                    Err(e) => (trap(&None, Some(5), &e.0), false),
                };
                let mut ok = true;
                for r in &replies {
                    if conn.send(r).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                if !ok {
                    break;
                }
                // Replies to pipelined requests go out together; `/quit`'s `!fatal` at once.
                if (quit || !conn.has_buffered_sentence()) && conn.flush().await.is_err() {
                    break;
                }
                if quit {
                    break;
                }
            }
        }
    }
    let mut r = shared.lock();
    r.drop_session(id);
    if let Some(l) = who {
        r.log(
            "system,info,account",
            format!("user {} logged out from {ip} via {service}", l.user),
        );
    }
}

/// One request: its replies, whether the session ends, and whether it just logged in.
#[allow(clippy::too_many_arguments)]
fn handle(
    shared: &Shared,
    req: &Request,
    who: &mut Option<Login>,
    pending_challenge: &mut Option<[u8; 16]>,
    ip: IpAddr,
    service: &'static str,
    id: u64,
    sink: &Sink,
) -> (Vec<Reply>, bool, bool) {
    let tag = &req.tag;
    match &req.command[..] {
        b"/quit" => (
            vec![Reply {
                kind: ReplyKind::Fatal,
                tag: None,
                attrs: vec![],
                reason: Some(Bytes::from_static(b"session terminated on request")),
            }],
            true,
            false,
        ),
        b"/login" => {
            let (replies, l) = login(shared, req, pending_challenge, ip, service);
            let logged_in = l.is_some();
            if l.is_some() {
                *who = l;
            }
            (replies, false, logged_in)
        }
        b"/cancel" if who.is_some() => {
            let ended = shared.lock().cancel(id, req.get("tag").map(|t| &t[..]));
            let mut out = Vec::new();
            for t in ended {
                out.push(reply(
                    ReplyKind::Trap,
                    &t,
                    vec![
                        ("category", b"2".to_vec()),
                        ("message", b"interrupted".to_vec()),
                    ],
                ));
                out.push(reply(ReplyKind::Done, &t, vec![]));
            }
            out.push(reply(ReplyKind::Done, tag, vec![]));
            (out, false, false)
        }
        _ => match who {
            None => (trap(tag, None, "not logged in"), false, false),
            Some(l) => (shared.lock().command(id, l, req, sink), false, false),
        },
    }
}
