//! One client connection: login against the proxy's client table, then for each command a
//! decision, and either a denial (`!trap`, the session goes on) or forwarding on a leased
//! upstream connection, replies redacted and sent back under the client's own tag.
//!
//! Worst case, stated: connection buffers are bounded by the shared budget (64 MiB by default)
//! and the count of connections ([`super::server::MAX_CONNECTIONS`]); password checks run on
//! [`MAX_HASHING`] threads; `tests/proxy.rs` runs hostile clients and asserts the peak.
//!
//! Bounds, per connection (on top of [`routeros_api::server`]'s pre-login limits, budget and
//! write timeout): at most [`MAX_IN_FLIGHT`] commands in flight (more disconnects the client),
//! replies of its commands queue in one channel of [`super::forward::REPLY_QUEUE`] sentences (a full channel
//! stops reading from the router for this client only), at most [`super::forward::MAX_HELD`] final replies
//! wait for their log lines (more stops reading the client's commands until the log catches
//! up), an idle timeout of [`IDLE`] while no command runs, and the client's rate limit (one bucket per client, shared by its connections). A
//! client that breaks any of them is disconnected alone.
//!
//! Forwarding, the router's replies and the held final replies: [`super::forward`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_api::server::{Budget, Connection, ServerLimits};

use super::auditlog::AuditLog;
use super::config::{ClientCfg, ProxyConfig};
use super::forward::{entry, trap, Commands, Outcome, Up, MAX_HELD};
use super::policy::Command;
use super::upstream::Upstream;

/// A command at least this big (its words, framed) is charged to the shared memory budget
/// while the proxy holds copies of it; smaller ones are bounded by [`MAX_IN_FLIGHT`].
pub const BIG_COMMAND: usize = 64 << 10;
/// Copies of a big command the proxy holds at once: the sentence as read (whose values the
/// decision's arguments share), the words forwarded, and the upstream connection's write
/// buffer (the log keeps long values cut: [`super::auditlog::MAX_LOGGED_VALUE`]).
pub const COPIES: usize = 3;

/// Connections one client may have logged in at once (over all its sources and listeners):
/// past it, its logins fail, so that one client's credentials cannot take every connection
/// slot ([`super::server::MAX_CONNECTIONS`]) from the other clients.
pub const MAX_CLIENT_CONNECTIONS: usize = 64;

/// Connections from one source address not yet logged in, at once: past it the next is closed
/// at once. Without it one source, with no credential at all, could hold every connection slot
/// ([`super::server::MAX_CONNECTIONS`]) by opening 500 connections a second, each kept for the
/// login timeout.
pub const MAX_UNAUTHENTICATED_PER_SOURCE: usize = 32;

/// Commands a client may have running at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// A logged-in client with nothing running is disconnected after this long.
pub const IDLE: Duration = Duration::from_secs(600);

/// Threads that check Argon2 passwords, each with one reusable 19 MiB block buffer: a login
/// flood queues here and costs [`MAX_HASHING`] buffers, where a check per blocking task with
/// fresh memory measured 331 MiB of peak memory for 20 concurrent logins.
pub const MAX_HASHING: usize = 2;

type HashJob = (String, Bytes, tokio::sync::oneshot::Sender<bool>);

async fn verify_on_hashers(phc: String, password: Bytes) -> bool {
    static POOL: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::SyncSender<HashJob>>> =
        std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<HashJob>(1024);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..MAX_HASHING {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // One reusable block buffer per thread.
                    let mut blocks = Vec::new();
                    loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok((phc, password, reply)) = job else {
                            return;
                        };
                        let ok = super::verify_password_with(&phc, &password, &mut blocks);
                        let _ = reply.send(ok);
                    }
                });
        }
        std::sync::Mutex::new(tx)
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    let sent = pool
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .try_send((phc, password, reply));
    // A full queue (1024 logins waiting) refuses this one as a failed login.
    sent.is_ok() && answer.await.unwrap_or(false)
}

/// RouterOS' answer to a failed login (6.43+).
pub const BAD_LOGIN: &str = "invalid user name or password (6)";

/// What every session shares.
pub struct Shared {
    pub config: RwLock<Arc<ProxyConfig>>,
    pub upstreams: RwLock<HashMap<String, Arc<Upstream>>>,
    pub log: AuditLog,
    pub limits: ServerLimits,
    pub budget: Arc<Budget>,
    pub metrics: Arc<super::metrics::Metrics>,
    /// Set on SIGTERM: sessions finish the commands they have running, refuse new ones, and
    /// close.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Each client's rate-limit bucket, shared by all its connections (one per configured
    /// client name that logged in: bounded by the configuration).
    pub buckets: std::sync::Mutex<HashMap<String, Bucket>>,
    /// Failed-login lines, throttled.
    pub failures: Failures,
    /// Connections logged in, per client name (configured names only).
    pub seats: std::sync::Mutex<HashMap<String, usize>>,
    /// Connections not yet logged in, per source (entries removed at zero: bounded by the
    /// connections open).
    pub unauthenticated: std::sync::Mutex<HashMap<IpAddr, usize>>,
    /// `proxy record`: where each logged-in client's commands are written.
    pub recorder: Option<super::record::Recorder>,
    /// `proxy record --permissive`: the policy every client's commands are decided under.
    pub permissive: Option<super::policy::Policy>,
}

/// A connection's place among its source's [`MAX_UNAUTHENTICATED_PER_SOURCE`], given back
/// on drop (at login, or when it ends).
struct Waiting(Arc<Shared>, IpAddr);

impl Waiting {
    fn take(shared: &Arc<Shared>, ip: IpAddr) -> Option<Waiting> {
        let mut all = shared
            .unauthenticated
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let n = all.entry(ip).or_insert(0);
        if *n >= MAX_UNAUTHENTICATED_PER_SOURCE {
            return None;
        }
        *n += 1;
        Some(Waiting(shared.clone(), ip))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut all = self
            .0
            .unauthenticated
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = all.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                all.remove(&self.1);
            }
        }
    }
}

/// A logged-in connection's place among its client's [`MAX_CLIENT_CONNECTIONS`], given back
/// on drop.
struct Seat(Arc<Shared>, String);

impl Seat {
    fn take(shared: &Arc<Shared>, client: &str) -> Option<Seat> {
        let mut seats = shared.seats.lock().unwrap_or_else(|p| p.into_inner());
        let n = seats.entry(client.to_string()).or_insert(0);
        if *n >= MAX_CLIENT_CONNECTIONS {
            return None;
        }
        *n += 1;
        Some(Seat(shared.clone(), client.to_string()))
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut seats = self.0.seats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = seats.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                seats.remove(&self.1);
            }
        }
    }
}

impl Shared {
    /// Takes one token from `client`'s bucket (created full at its first command).
    fn take_token(&self, client: &ClientCfg) -> bool {
        let Some((rate, burst)) = client.rate else {
            return true;
        };
        let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = all.entry(client.name.clone()).or_insert_with(|| Bucket {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            at: Instant::now(),
        });
        // A reload may have changed the limit.
        b.rate = rate;
        b.burst = f64::from(burst);
        b.take()
    }
}

impl Shared {
    pub fn config(&self) -> Arc<ProxyConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn upstream(&self, router: &str) -> Option<Arc<Upstream>> {
        self.upstreams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(router)
            .cloned()
    }
}

/// Where a connection came in.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub peer: SocketAddr,
    /// The router of the listener, or `None` to route on `client@router`.
    pub router: Option<String>,
    /// `api` or `api-ssl`, for log lines.
    pub service: &'static str,
    /// The certificate the client presented, which the listener's `client-ca` verified: the
    /// connection logs in as the client it names only.
    pub client_cert: Option<super::clientcert::ClientCert>,
}

fn reply(kind: ReplyKind, tag: &Option<Bytes>, attrs: Vec<(&str, String)>) -> Reply {
    Reply::new(kind, tag, attrs)
}

/// A logged-in client.
pub struct Who {
    pub client: ClientCfg,
    pub router: String,
    /// This session's decision counters (`allow`, `deny`) and latency histogram, looked up
    /// once: the labels are fixed for a session, and a lookup hashes them.
    counters: (prometheus::IntCounter, prometheus::IntCounter),
    pub latency: prometheus::Histogram,
}

impl Who {
    /// Counts a decision.
    pub fn count(&self, decision: &str) {
        let (allow, deny) = &self.counters;
        if decision == "allow" {
            allow.inc()
        } else {
            deny.inc()
        }
    }
}

fn source_allowed(c: &ClientCfg, ip: IpAddr) -> bool {
    let (v6, n) = match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    };
    c.from
        .iter()
        .any(|&(f6, s, e)| f6 == v6 && s <= n && n <= e)
}

/// What a `/login` sentence leads to.
enum LoginStep {
    /// A pre-6.43 client asked for the MD5 challenge: answer `=ret=` with it.
    Challenge([u8; 16]),
    Ok(Who),
    /// What the log says (never the password).
    Failed(String, String),
}

/// Checks a login: `=name=` and `=password=` (6.43+), or the MD5 challenge before it.
async fn login(
    shared: &Shared,
    arrival: &Arrival,
    ip: IpAddr,
    req: &Request,
    pending: &mut Option<[u8; 16]>,
) -> LoginStep {
    let cfg = shared.config();
    let name = req
        .get("name")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let fail = |why: &str| LoginStep::Failed(name.clone(), why.to_string());
    let password = req.get("password").cloned();
    let response = req.get("response").cloned();
    if password.is_none() && response.is_none() {
        // `/login` alone: the first step of the pre-6.43 login.
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut ch = [0u8; 16];
        OsRng.fill_bytes(&mut ch);
        *pending = Some(ch);
        return LoginStep::Challenge(ch);
    }
    let (client_name, router) = match (&arrival.router, name.rsplit_once('@')) {
        (Some(r), _) => (name.clone(), r.clone()),
        (None, Some((c, r))) => (c.to_string(), r.to_string()),
        (None, None) => return fail("this listener routes on `client@router` logins"),
    };
    let Some(client) = cfg.client(&client_name).cloned() else {
        return fail("no such client");
    };
    if !source_allowed(&client, ip) {
        return fail("source address not in the client's `from`");
    }
    if !client.routers.iter().any(|r| r == &router) {
        return fail("router not allowed for this client");
    }
    match &arrival.client_cert {
        None if client.require_client_cert => return fail("client certificate required"),
        None => {}
        // Checked before the password: a credential used with another client's certificate
        // is refused whether or not the password is right, and costs no hashing.
        Some(cert) => {
            if let Err(why) = cert.admits(&client.name) {
                return fail(&why);
            }
        }
    }
    let ok = match (password, response) {
        (Some(password), _) => verify_on_hashers(client.password_hash.clone(), password).await,
        (None, Some(response)) => {
            let Some(ch) = pending.take() else {
                return fail("MD5 response without a challenge");
            };
            let Some(secret) = &client.legacy_password else {
                return fail("MD5 challenge login, and the client has no legacy-password-file");
            };
            match secret.read() {
                Ok(pw) => {
                    routeros_api::client::legacy_response(pw.as_bytes(), hex::encode(ch).as_bytes())
                        .is_ok_and(|expected| expected.as_bytes() == &response[..])
                }
                Err(e) => return fail(&format!("legacy password unreadable: {e}")),
            }
        }
        (None, None) => false,
    };
    if !ok {
        return fail("wrong password");
    }
    let m = &shared.metrics.commands;
    let counters = (
        m.with_label_values(&[&client.name, &router, "allow"]),
        m.with_label_values(&[&client.name, &router, "deny"]),
    );
    let latency = shared.metrics.latency.with_label_values(&[&router]);
    shared
        .metrics
        .rate_limited
        .with_label_values(&[&client.name]);
    LoginStep::Ok(Who {
        client,
        router,
        counters,
        latency,
    })
}

/// A failed login's user name as logged: at most [`MAX_LOGGED_NAME`] bytes.
fn short_name(user: &str) -> String {
    if user.len() <= MAX_LOGGED_NAME {
        return user.to_string();
    }
    let mut end = MAX_LOGGED_NAME;
    while !user.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &user[..end], user.len())
}

/// Longest user name a failed-login line carries.
pub const MAX_LOGGED_NAME: usize = 64;

/// Failed-login lines a source gets at once, then one per second; past that its failures are
/// counted, and the count goes into its next line. Sources tracked at once: past
/// [`FAILURE_SOURCES`] the table starts over (a flood from many sources costs lines, bounded by
/// the global rate, not memory).
pub const FAILURE_BURST: f64 = 10.0;
pub const FAILURE_SOURCES: usize = 4096;
/// Failed-login lines per second over all sources.
pub const FAILURE_LINES_PER_SECOND: f64 = 50.0;

/// Throttles failed-login lines (the log and standard error): a login flood grew the log by
/// 20 MB/s. Enough lines per source remain for `tikguard watch` or fail2ban to block it.
#[derive(Default)]
pub struct Failures(std::sync::Mutex<FailureState>);

#[derive(Default)]
struct FailureState {
    sources: HashMap<IpAddr, Bucket>,
    global: Option<Bucket>,
    skipped: HashMap<IpAddr, u64>,
}

pub enum Admit {
    /// Not logged one by one.
    Skip,
    /// Logged, with the count of this source's failures skipped before it.
    Line(u64),
}

impl Failures {
    pub fn admit(&self, ip: IpAddr) -> Admit {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let FailureState {
            sources,
            global,
            skipped,
        } = &mut *g;
        if sources.len() >= FAILURE_SOURCES && !sources.contains_key(&ip) {
            sources.clear();
            skipped.clear();
        }
        let now = Instant::now();
        let fresh = |rate: f64, burst: f64| Bucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        };
        let global =
            global.get_or_insert_with(|| fresh(FAILURE_LINES_PER_SECOND, FAILURE_LINES_PER_SECOND));
        let source = sources
            .entry(ip)
            .or_insert_with(|| fresh(1.0, FAILURE_BURST));
        if source.take() && global.take() {
            Admit::Line(skipped.remove(&ip).unwrap_or(0))
        } else {
            *skipped.entry(ip).or_insert(0) += 1;
            Admit::Skip
        }
    }
}

/// Token bucket for a client's rate limit.
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts a client connection as open until dropped.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.metrics.connections.dec();
    }
}

/// Serves one client connection until it leaves or breaks a limit.
pub async fn serve<S>(stream: S, arrival: Arrival, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let ip = match arrival.peer.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let limits = shared.limits.clone();
    shared.metrics.connections.inc();
    let _open = Open(shared.clone());
    let Some(waiting) = Waiting::take(&shared, ip) else {
        return;
    };
    let mut waiting = Some(waiting);
    let mut conn = Connection::new(stream, &limits, shared.budget.clone());
    let mut who: Option<Who> = None;
    let login_deadline = tokio::time::Instant::now() + limits.login_timeout;
    let mut idle_deadline = tokio::time::Instant::now() + IDLE;
    let mut cmds = Commands::default();
    let mut pending_challenge: Option<[u8; 16]> = None;
    let mut seat: Option<Seat> = None;
    let mut stopping = shared.stopping.clone();
    loop {
        if *stopping.borrow() && cmds.is_idle() {
            break;
        }
        // Commands queued for the router while more of the client's were buffered go out now,
        // in one write, before the session waits for anything.
        if !conn.has_buffered_sentence() {
            cmds.flush_upstream(&shared).await;
        }
        tokio::select! {
            _ = stopping.changed() => continue,
            _ = tokio::time::sleep_until(login_deadline), if who.is_none() => break,
            _ = tokio::time::sleep_until(idle_deadline), if who.is_some() && cmds.is_idle() => break,
            _ = tokio::time::sleep_until(cmds.next_deadline().map(tokio::time::Instant::from_std).unwrap_or_else(tokio::time::Instant::now)), if cmds.next_deadline().is_some() => {
                cmds.time_out(&shared);
            }
            up = Up::next(&mut cmds.up) => {
                let Some((utag, reply)) = up else { continue };
                let mut ok = cmds.on_reply(&shared, &mut conn, utag, reply).await.is_ok();
                // Whatever else the router has sent is passed on before one flush.
                for _ in 0..64 {
                    if !ok {
                        break;
                    }
                    let Some(Ok((utag, reply))) = cmds.up.as_mut().map(|u| u.try_reply()) else {
                        break;
                    };
                    ok = cmds.on_reply(&shared, &mut conn, utag, reply).await.is_ok();
                }
                if !ok || conn.flush().await.is_err() {
                    break;
                }
            }
            written = cmds.held.next() => {
                let Some(w) = &who else { continue };
                idle_deadline = tokio::time::Instant::now() + IDLE;
                if cmds.release(w, &mut conn, written).await.is_err() || conn.flush().await.is_err() {
                    break;
                }
            }
            sentence = conn.read_sentence(), if cmds.held.len() < MAX_HELD => {
                let words = match sentence {
                    Ok(Some(w)) => w,
                    // Closed, garbage, or over a limit: this client alone is disconnected.
                    Ok(None) | Err(_) => break,
                };
                if words.is_empty() {
                    continue;
                }
                idle_deadline = tokio::time::Instant::now() + IDLE;
                let req = match Request::parse(&words) {
                    Ok(r) => r,
                    Err(e) => {
                        let mut ok = true;
                        for r in trap(&None, Some(5), &e.0) {
                            ok &= conn.send(&r).await.is_ok();
                        }
                        if !ok || conn.flush().await.is_err() { break; }
                        continue;
                    }
                };
                let tag = req.tag.clone();
                let replies: Vec<Reply> = match &req.command[..] {
                    b"/quit" => {
                        let _ = conn.send(&Reply {
                            kind: ReplyKind::Fatal,
                            tag: None,
                            attrs: vec![],
                            reason: Some(Bytes::from_static(b"session terminated on request")),
                        }).await;
                        let _ = conn.flush().await;
                        break;
                    }
                    b"/login" if who.is_none() => {
                        let started = Instant::now();
                        let step = match login(&shared, &arrival, ip, &req, &mut pending_challenge).await {
                            LoginStep::Ok(w) => match Seat::take(&shared, &w.client.name) {
                                Some(s) => {
                                    seat = Some(s);
                                    waiting = None;
                                    LoginStep::Ok(w)
                                }
                                None => LoginStep::Failed(
                                    w.client.name.clone(),
                                    format!("the client has {MAX_CLIENT_CONNECTIONS} connections logged in already"),
                                ),
                            },
                            other => other,
                        };
                        match step {
                            LoginStep::Challenge(ch) => {
                                vec![reply(ReplyKind::Done, &tag, vec![("ret", hex::encode(ch))])]
                            }
                            LoginStep::Ok(w) => {
                                conn.set_limits(limits.after_login);
                                shared.metrics.logins.with_label_values(&["ok"]).inc();
                                let entry = entry(&w.client.name, ip, &w.router, "/login", &[], "allow", "login", "done".into(), started);
                                who = Some(w);
                                if shared.log.record(entry).await.is_err() { break; }
                                vec![reply(ReplyKind::Done, &tag, vec![])]
                            }
                            LoginStep::Failed(user, why) => {
                                shared.metrics.logins.with_label_values(&["failure"]).inc();
                                let user = short_name(&user);
                                match shared.failures.admit(ip) {
                                    Admit::Skip => {}
                                    Admit::Line(skipped) => {
                                        // The line RouterOS logs, for `tikguard watch` and fail2ban.
                                        crate::warn_line!(
                                            "system,error,critical login failure for user {} from {ip} via {}",
                                            crate::term::printable(&user), arrival.service
                                        );
                                        let router = arrival.router.clone().unwrap_or_default();
                                        let mut why = format!("login failure: {why}");
                                        if skipped > 0 {
                                            why.push_str(&format!(" ({skipped} earlier failures from this source not logged one by one)"));
                                        }
                                        let e = entry(&user, ip, &router, "/login", &[], "deny", "login", why, started);
                                        if shared.log.record(e).await.is_err() { break; }
                                    }
                                }
                                trap(&tag, None, BAD_LOGIN)
                            }
                        }
                    }
                    _ if who.is_none() => trap(&tag, None, "not logged in"),
                    _ if *stopping.borrow() => trap(&tag, Some(4), "tikguard proxy: shutting down"),
                    b"/login" => vec![reply(ReplyKind::Done, &tag, vec![])],
                    b"/cancel" => {
                        cmds.cancel(&shared, req.get("tag")).await;
                        vec![reply(ReplyKind::Done, &tag, vec![])]
                    }
                    _ => {
                        let w = who.as_ref().expect("logged in");
                        if cmds.count() >= MAX_IN_FLIGHT || cmds.in_flight.contains_key(&tag) && tag.is_some() {
                            break;
                        }
                        if let Some(r) = &shared.recorder {
                            r.record(&w.client.name, &w.router, &ip.to_string(), &req);
                        }
                        {
                            // The limit as configured now (a reload may change it).
                            let cfg = shared.config();
                            let current = cfg.client(&w.client.name).unwrap_or(&w.client);
                            if !shared.take_token(current) {
                                let cmd = Command::from_request(&req);
                                w.count("deny");
                                shared.metrics.rate_limited.with_label_values(&[&w.client.name]).inc();
                                let e = entry(&w.client.name, ip, &w.router, &cmd.word(), &cmd.args, "deny", "rate limit", "denied: rate limit".into(), Instant::now());
                                let written = shared.log.submit(e);
                                let out = trap(&tag, Some(4), &format!("tikguard proxy: rate limit of client {} exceeded", w.client.name));
                                cmds.hold(written, out);
                                continue;
                            }
                        }
                        // A big command's copies (the decision's, the words forwarded, the
                        // upstream write) are charged to the shared budget until it has left
                        // for the router; past the budget it is refused, not held.
                        let size: usize = words.words().map(|w| w.len() + 5).sum();
                        let hold = if size >= BIG_COMMAND {
                            match shared.budget.try_hold(size * COPIES) {
                                Some(h) => Some(h),
                                None => {
                                    let cmd = Command::from_request(&req);
                                    w.count("deny");
                                    let e = entry(&w.client.name, ip, &w.router, &cmd.word(), &cmd.args, "deny", "memory budget", format!("denied: memory budget ({size} bytes)"), Instant::now());
                                    let written = shared.log.submit(e);
                                    let out = trap(&tag, Some(4), "tikguard proxy: the proxy's memory budget is taken by other commands; try again");
                                    cmds.hold(written, out);
                                    continue;
                                }
                            }
                        } else {
                            None
                        };
                        match cmds.command(&shared, w, ip, &req, hold).await {
                            Outcome::Forwarded => Vec::new(),
                            Outcome::Answer(replies) => {
                                cmds.settle();
                                replies
                            }
                            Outcome::Logged(written, replies) => {
                                cmds.settle();
                                cmds.hold(written, replies);
                                Vec::new()
                            }
                        }
                    }
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
                if !conn.has_buffered_sentence() && conn.flush().await.is_err() {
                    break;
                }
            }
        }
    }
    // Commands still running upstream are cancelled with the connection's lease: a lease
    // with commands in flight is not reused.
    cmds.end(&shared).await;
    drop(seat);
    drop(waiting);
}
