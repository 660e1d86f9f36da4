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
//! replies of its commands queue in one channel of [`REPLY_QUEUE`] sentences (a full channel
//! stops reading from the router for this client only), an idle timeout of [`IDLE`] while no
//! command runs, and the client's rate limit. A client that breaks any of them is disconnected
//! alone.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_api::server::{Budget, Connection, ServerLimits};
use tokio::sync::mpsc;

use super::auditlog::{log_args, now_rfc3339, AuditLog, Entry};
use super::config::{ClientCfg, ProxyConfig};
use super::policy::{decide, Command, Decision, OWNED_VERBS};
use super::upstream::{Lease, Upstream};

/// Commands a client may have running at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Reply sentences waiting to be written to one client.
pub const REPLY_QUEUE: usize = 256;
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
}

impl Shared {
    pub fn config(&self) -> Arc<ProxyConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn upstream(&self, router: &str) -> Option<Arc<Upstream>> {
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
    /// The client presented a certificate the listener's `client-ca` verified.
    pub client_cert: bool,
}

fn reply(kind: ReplyKind, tag: &Option<Bytes>, attrs: Vec<(&str, String)>) -> Reply {
    Reply::new(kind, tag, attrs)
}

fn trap(tag: &Option<Bytes>, category: Option<u8>, message: &str) -> Vec<Reply> {
    Reply::trap(tag, category, message)
}

/// A logged-in client.
struct Who {
    client: ClientCfg,
    router: String,
    /// This session's decision counters (`allow`, `deny`), looked up once: the labels are
    /// fixed for a session, and a lookup hashes them.
    counters: (prometheus::IntCounter, prometheus::IntCounter),
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
    if client.require_client_cert && !arrival.client_cert {
        return fail("client certificate required");
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
    LoginStep::Ok(Who {
        client,
        router,
        counters,
    })
}

/// One command's progress, from its forwarder task to the session.
enum Msg {
    Reply(Reply),
    /// The command with this client tag ended; `reuse` says whether the upstream connection
    /// is still good.
    Finished {
        key: Option<Bytes>,
        reuse: bool,
    },
}

struct InFlight {
    upstream_tag: Bytes,
}

/// Token bucket for a client's rate limit.
struct Bucket {
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

/// Counts a decision.
fn count(w: &Who, decision: &str) {
    let (allow, deny) = &w.counters;
    if decision == "allow" {
        allow.inc()
    } else {
        deny.inc()
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
    let mut conn = Connection::new(stream, &limits, shared.budget.clone());
    let (tx, mut rx) = mpsc::channel::<Msg>(REPLY_QUEUE);
    let mut who: Option<Who> = None;
    let login_deadline = tokio::time::Instant::now() + limits.login_timeout;
    let mut idle_deadline = tokio::time::Instant::now() + IDLE;
    let mut lease: Option<Lease> = None;
    let mut in_flight: HashMap<Option<Bytes>, InFlight> = HashMap::new();
    let mut bucket: Option<Bucket> = None;
    let mut pending_challenge: Option<[u8; 16]> = None;
    let mut stopping = shared.stopping.clone();
    loop {
        if *stopping.borrow() && in_flight.is_empty() {
            break;
        }
        // Commands queued for the router while more of the client's were buffered go out now,
        // in one write, before the session waits for anything.
        if !conn.has_buffered_sentence() {
            if let Some(l) = lease.as_mut() {
                if l.client().has_queued() && l.client().flush().await.is_err() {
                    // Their replies will not come: dropping the connection ends them with
                    // `Closed`, which gives their clients a trap.
                    l.discard();
                    lease = None;
                }
            }
        }
        tokio::select! {
            _ = stopping.changed() => continue,
            _ = tokio::time::sleep_until(login_deadline), if who.is_none() => break,
            _ = tokio::time::sleep_until(idle_deadline), if who.is_some() && in_flight.is_empty() => break,
            msg = rx.recv() => {
                let Some(msg) = msg else { continue };
                let mut msgs = vec![msg];
                while msgs.len() < 64 {
                    match rx.try_recv() {
                        Ok(m) => msgs.push(m),
                        Err(_) => break,
                    }
                }
                let mut ok = true;
                for m in msgs {
                    match m {
                        Msg::Reply(r) => {
                            if conn.send(&r).await.is_err() {
                                ok = false;
                                break;
                            }
                        }
                        Msg::Finished { key, reuse } => {
                            in_flight.remove(&key);
                            if !reuse {
                                if let Some(l) = lease.as_mut() {
                                    l.discard();
                                }
                                lease = None;
                            } else if in_flight.is_empty() {
                                // Nothing running: give the connection back to the pool.
                                lease = None;
                            }
                            idle_deadline = tokio::time::Instant::now() + IDLE;
                        }
                    }
                }
                if !ok || conn.flush().await.is_err() {
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
                        match login(&shared, &arrival, ip, &req, &mut pending_challenge).await {
                            LoginStep::Challenge(ch) => {
                                vec![reply(ReplyKind::Done, &tag, vec![("ret", hex::encode(ch))])]
                            }
                            LoginStep::Ok(w) => {
                                conn.set_limits(limits.after_login);
                                bucket = w.client.rate.map(|(rate, burst)| Bucket {
                                    rate,
                                    burst: f64::from(burst),
                                    tokens: f64::from(burst),
                                    at: Instant::now(),
                                });
                                shared.metrics.logins.with_label_values(&["ok"]).inc();
                                let entry = entry(&w.client.name, ip, &w.router, "/login", &[], "allow", "login", "done".into(), started);
                                who = Some(w);
                                if shared.log.record(entry).await.is_err() { break; }
                                vec![reply(ReplyKind::Done, &tag, vec![])]
                            }
                            LoginStep::Failed(user, why) => {
                                // The line RouterOS logs, for `tikguard watch` and fail2ban.
                                crate::warn_line!(
                                    "system,error,critical login failure for user {} from {ip} via {}",
                                    crate::term::printable(&user), arrival.service
                                );
                                shared.metrics.logins.with_label_values(&["failure"]).inc();
                                let router = arrival.router.clone().unwrap_or_default();
                                let e = entry(&user, ip, &router, "/login", &[], "deny", "login", format!("login failure: {why}"), started);
                                if shared.log.record(e).await.is_err() { break; }
                                trap(&tag, None, BAD_LOGIN)
                            }
                        }
                    }
                    _ if who.is_none() => trap(&tag, None, "not logged in"),
                    _ if *stopping.borrow() => trap(&tag, Some(4), "tikguard proxy: shutting down"),
                    b"/login" => vec![reply(ReplyKind::Done, &tag, vec![])],
                    b"/cancel" => {
                        let target = req.get("tag").cloned();
                        let victims: Vec<Bytes> = in_flight
                            .iter()
                            .filter(|(k, _)| target.is_none() || k.as_ref() == target.as_ref())
                            .map(|(_, f)| f.upstream_tag.clone())
                            .collect();
                        if let Some(l) = &lease {
                            for t in victims {
                                let word = format!("=tag={}", String::from_utf8_lossy(&t));
                                let _ = l.client().start(vec![b"/cancel".to_vec(), word.into_bytes()]).await;
                            }
                        }
                        vec![reply(ReplyKind::Done, &tag, vec![])]
                    }
                    _ => {
                        let w = who.as_ref().expect("logged in");
                        if in_flight.len() >= MAX_IN_FLIGHT || in_flight.contains_key(&tag) && tag.is_some() {
                            break;
                        }
                        if let Some(b) = bucket.as_mut() {
                            if !b.take() {
                                let cmd = Command::from_request(&req);
                                count(w, "deny");
                                let e = entry(&w.client.name, ip, &w.router, &cmd.word(), &cmd.args, "deny", "rate limit", "denied: rate limit".into(), Instant::now());
                                if shared.log.record(e).await.is_err() { break; }
                                let out = trap(&tag, Some(4), &format!("tikguard proxy: rate limit of client {} exceeded", w.client.name));
                                let mut ok = true;
                                for r in &out { ok &= conn.send(r).await.is_ok(); }
                                if !ok || conn.flush().await.is_err() { break; }
                                continue;
                            }
                        }
                        let more = conn.has_buffered_sentence();
                        match command(&shared, w, ip, &req, &mut lease, &tx, more).await {
                            Ok(Some(upstream_tag)) => {
                                in_flight.insert(tag.clone(), InFlight { upstream_tag });
                                Vec::new()
                            }
                            Ok(None) => Vec::new(),
                            Err(replies) => replies,
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
    if !in_flight.is_empty() {
        if let Some(l) = lease.as_mut() {
            l.discard();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    client: &str,
    ip: IpAddr,
    router: &str,
    command: &str,
    args: &[(String, Vec<u8>)],
    decision: &'static str,
    rule: &str,
    outcome: String,
    started: Instant,
) -> Entry {
    Entry {
        time: now_rfc3339(),
        client: client.to_string(),
        source: ip.to_string(),
        router: router.to_string(),
        command: command.to_string(),
        args: log_args(args),
        decision,
        rule: rule.to_string(),
        outcome,
        latency_us: started.elapsed().as_micros() as u64,
    }
}

/// Decides and starts one command. `Ok(Some(tag))`: forwarded, its replies come through `tx`;
/// `Err(replies)`: answered here (denied, or the router unreachable).
async fn command(
    shared: &Arc<Shared>,
    w: &Who,
    ip: IpAddr,
    req: &Request,
    lease: &mut Option<Lease>,
    tx: &mpsc::Sender<Msg>,
    more: bool,
) -> Result<Option<Bytes>, Vec<Reply>> {
    let started = Instant::now();
    let tag = req.tag.clone();
    let cfg = shared.config();
    let mut cmd = Command::from_request(req);
    let unknown = cmd.expand().err();
    // The word forwarded is the one decided on: the full path.
    let full_word = cmd.word();
    // `getall` is the old name of `print`.
    if cmd.verb == "getall" {
        cmd.verb = "print".into();
    }
    // The configuration as it is now: a reload applies to sessions already open, and a
    // client removed or no longer allowed this router gets nothing more.
    let Some(current) = cfg
        .client(&w.client.name)
        .filter(|c| c.routers.contains(&w.router))
    else {
        return Err(trap(
            &tag,
            Some(4),
            "tikguard proxy: this client is no longer configured for this router",
        ));
    };
    let Some(policy) = cfg.policies.get(&current.policy) else {
        return Err(trap(
            &tag,
            Some(4),
            "tikguard proxy: the client's policy is gone",
        ));
    };
    let deny_tag = tag.clone();
    let args = &cmd.args;
    let deny = |rule: Option<String>, reason: String| async move {
        let tag = deny_tag;
        count(w, "deny");
        let e = entry(
            &w.client.name,
            ip,
            &w.router,
            &cmd_word(req),
            args,
            "deny",
            rule.as_deref().unwrap_or("default"),
            format!("denied: {reason}"),
            started,
        );
        if shared.log.record(e).await.is_err() {
            return trap(
                &tag,
                Some(4),
                "tikguard proxy: the audit log cannot be written",
            );
        }
        trap(
            &tag,
            Some(4),
            &format!(
                "tikguard proxy: not allowed by policy {}: {reason}",
                policy.name
            ),
        )
    };
    if let Some(why) = unknown {
        return Err(deny(None, why).await);
    }
    let (rule, owner_prefix, redact) = match decide(policy, &cmd) {
        Decision::Deny { rule, reason } => return Err(deny(rule, reason).await),
        Decision::Allow {
            rule,
            owner_prefix,
            redact,
        } => (rule, owner_prefix, redact),
    };
    count(w, "allow");
    // The log entry of an allowed command, with its outcome.
    let logged_word = cmd.word();
    let allowed = |outcome: String| {
        entry(
            &w.client.name,
            ip,
            &w.router,
            &logged_word,
            &cmd.args,
            "allow",
            &rule,
            outcome,
            started,
        )
    };
    let Some(up) = shared.upstream(&w.router) else {
        return Err(trap(&tag, Some(4), "tikguard proxy: unknown router"));
    };
    if lease.is_none() {
        match up.lease().await {
            Ok(l) => *lease = Some(l),
            Err(e) => {
                let msg = format!("tikguard proxy: router {} unavailable: {e}", w.router);
                let _ = shared
                    .log
                    .record(allowed(format!("upstream lost: {e}")))
                    .await;
                return Err(trap(&tag, Some(4), &msg));
            }
        }
    }
    let l = lease.as_ref().expect("leased above");
    if let (Some(prefix), true) = (&owner_prefix, OWNED_VERBS.contains(&cmd.verb.as_str())) {
        if let Err(why) = owned(l, &cmd, prefix).await {
            return Err(deny(Some(rule.clone()), why).await);
        }
    }
    // Forward the client's words, its own `.tag` left out (the upstream connection tags).
    let words: Vec<Vec<u8>> = {
        let mut v = vec![full_word.into_bytes()];
        for (k, val) in &req.attrs {
            v.push([&b"="[..], k, b"=", val].concat());
        }
        for q in &req.queries {
            v.push(q.to_vec());
        }
        v
    };
    // With more of the client's commands already buffered, this one is queued and goes out
    // with them (the session flushes once the buffer is drained).
    let started_up = if more {
        l.client().queue(words)
    } else {
        l.client().start(words).await
    };
    let mut running = match started_up {
        Ok(r) => r,
        Err(e) => {
            let _ = shared
                .log
                .record(allowed(format!("upstream lost: {e}")))
                .await;
            if let Some(l) = lease.as_mut() {
                l.discard();
            }
            *lease = None;
            return Err(trap(
                &tag,
                Some(4),
                &format!("tikguard proxy: router {} connection lost: {e}", w.router),
            ));
        }
    };
    let upstream_tag = running.tag().clone();
    let tx = tx.clone();
    let log = shared.log.clone();
    let latency = shared.metrics.latency.with_label_values(&[&w.router]);
    let base = allowed(String::new());
    tokio::spawn(async move {
        let mut trap_msg: Option<String> = None;
        let reuse;
        loop {
            match running.next().await {
                Ok(mut r) => {
                    r.tag = tag.clone();
                    match r.kind {
                        ReplyKind::Re => {
                            r.attrs
                                .retain(|(k, _)| !redact.iter().any(|x| x.as_bytes() == &k[..]));
                        }
                        ReplyKind::Trap => {
                            trap_msg = Some(r.message().unwrap_or_default());
                        }
                        ReplyKind::Done => {
                            let mut e = base;
                            e.outcome = match &trap_msg {
                                Some(m) => format!("trap: {m}"),
                                None => "done".into(),
                            };
                            e.latency_us = started.elapsed().as_micros() as u64;
                            // The final reply waits for the log line to be on disk.
                            if log.record(e).await.is_err() {
                                reuse = false;
                                break;
                            }
                            latency.observe(started.elapsed().as_secs_f64());
                            let _ = tx.send(Msg::Reply(r)).await;
                            reuse = true;
                            break;
                        }
                        _ => {}
                    }
                    if tx.send(Msg::Reply(r)).await.is_err() {
                        reuse = false;
                        break;
                    }
                }
                Err(e) => {
                    // The router went away: the client gets a trap, its session stays.
                    let mut en = base;
                    en.outcome = format!("upstream lost: {e}");
                    en.latency_us = started.elapsed().as_micros() as u64;
                    let logged = log.record(en).await.is_ok();
                    if logged {
                        for r in trap(
                            &tag,
                            Some(4),
                            &format!("tikguard proxy: connection to the router lost: {e}"),
                        ) {
                            let _ = tx.send(Msg::Reply(r)).await;
                        }
                    }
                    reuse = false;
                    break;
                }
            }
        }
        let _ = tx.send(Msg::Finished { key: tag, reuse }).await;
    });
    Ok(Some(upstream_tag))
}

fn cmd_word(req: &Request) -> String {
    String::from_utf8_lossy(&req.command).into_owned()
}

/// Ownership: every item the command names (`.id`/`numbers`, comma lists; ids or names) must
/// exist and carry a comment starting with `prefix`, checked on the router first.
async fn owned(lease: &Lease, cmd: &Command, prefix: &str) -> Result<(), String> {
    let target = cmd.get(".id").or_else(|| cmd.get("numbers"));
    let Some(target) = target else {
        return Err(format!("`{}` without `.id` or `numbers`", cmd.verb));
    };
    let wanted: Vec<String> = String::from_utf8_lossy(target)
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if wanted.is_empty() || wanted.len() > 1000 {
        return Err("between 1 and 1000 items per command".into());
    }
    let mut words = vec![
        format!("{}/print", cmd.path).into_bytes(),
        b"=.proplist=.id,name,comment".to_vec(),
    ];
    for w in &wanted {
        let key = if w.starts_with('*') { ".id" } else { "name" };
        words.push(format!("?{key}={w}").into_bytes());
    }
    for _ in 1..wanted.len() {
        words.push(b"?#|".to_vec());
    }
    let items = lease
        .client()
        .call_words(words)
        .await
        .map_err(|e| format!("ownership check failed: {e}"))?
        .items;
    for w in &wanted {
        let item = items.iter().find(|i| {
            let key = if w.starts_with('*') { ".id" } else { "name" };
            i.get(key).is_some_and(|v| v.as_ref() == w.as_bytes())
        });
        match item {
            None => return Err(format!("no item {w}")),
            Some(i) => {
                let comment = i.get("comment").map(|c| c.as_ref()).unwrap_or(b"");
                if !comment.starts_with(prefix.as_bytes()) {
                    return Err(format!(
                        "item {w} is not owned: its comment does not start with `{prefix}`"
                    ));
                }
            }
        }
    }
    Ok(())
}
