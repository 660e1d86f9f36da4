//! A session's commands between the decision and the client: forwarding on the session's
//! leased upstream connection, the router's replies (redacted, under the client's tag), and the
//! final replies held until their audit line is on disk.
//!
//! One task per client connection does all of it: every command the session forwards has its
//! replies sent by the connection's reader into one channel per lease ([`Client::queue_to`]),
//! which the session reads. A command costs no task and no channel of its own, and none of the
//! hops between them (a reply used to cross two channels and two tasks).
//!
//! An allowed command's `forwarded` line is appended when it is decided, and the command waits
//! in [`Commands::pending`] until the line is on disk: the session's next write to the router
//! first waits for the last such line (one sync covers every command the client pipelined, and
//! other sessions' lines), so nothing reaches the router that the log does not hold. When the
//! command ends, its outcome line is appended and its final reply waits in [`Held`] (in the
//! order the lines were appended, the order they reach the disk) until that line is on disk.
//! A session that ends (the client gone) writes the outcome of what it had running, `lost:
//! client gone`, and of what it had not sent yet. Meanwhile the session reads, forwards and
//! streams other commands.
//!
//! The final reply waits for its outcome line to be on disk, at the cost of a second sync
//! in sequence (about +200 µs of p50 on this disk, BENCHMARKS.md, "Logged before forwarded"): releasing it once the line is
//! appended would leave a client that saw `!done` with a log that, after a crash, says only
//! "no outcome" for that command; with the wait, every command a client saw answered is in
//! the log as done (`kill_9_loses_no_command_a_client_saw_answered`). Under concurrency one
//! sync covers many sessions' lines, so the second sync costs sequential clients most.
//!
//! [`Client::queue_to`]: routeros_api::Client::queue_to

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_api::server::{ConnError, Connection};
use routeros_api::{Replies, ReplySink};
use tokio::io::{AsyncRead, AsyncWrite};

use super::auditlog::{log_args, log_query, now_rfc3339, AuditLog, Entry, Written};
use super::policy::{decide_request, Command, Constraint, Decision, OWNED_VERBS};
use super::session::{Shared, Who};
use super::upstream::Lease;

/// Reply sentences the router may have sent one session that it has not yet taken; a full
/// channel stops reading from the router for this session's connection only.
pub const REPLY_QUEUE: usize = 256;

/// Final replies held at once for their log lines; at this many the session stops reading
/// the client's commands until the log catches up (backpressure, not a disconnect).
pub const MAX_HELD: usize = 128;

/// The upstream connection a session holds while it has commands running, and the channel
/// their replies come on.
pub struct Up {
    pub lease: Lease,
    sink: ReplySink,
    replies: Replies,
}

impl Up {
    /// The next reply from the router for one of the session's commands (forever when the
    /// session holds no upstream connection).
    pub async fn next(up: &mut Option<Up>) -> Option<(Bytes, Result<Reply, routeros_api::Error>)> {
        match up.as_mut() {
            Some(u) => u.replies.recv().await,
            None => std::future::pending().await,
        }
    }

    /// A reply already waiting, if any.
    pub fn try_reply(
        &mut self,
    ) -> Result<(Bytes, Result<Reply, routeros_api::Error>), tokio::sync::mpsc::error::TryRecvError>
    {
        self.replies.try_recv()
    }
}

/// A forwarded command, by the tag the upstream connection gave it.
struct Forward {
    client_tag: Option<Bytes>,
    redact: Vec<String>,
    /// The outcome line (naming the `forwarded` line), its outcome filled in when the command
    /// ends.
    entry: Entry,
    started: Instant,
    trap: Option<String>,
    /// No reply for this long ends the command (`None`: it may stream without end).
    timeout: Option<std::time::Duration>,
    /// When the command times out, from its last reply (set when it is sent).
    deadline: Option<Instant>,
}

impl Forward {
    /// The command ended with `outcome`: its log line is appended, and `replies` are held
    /// for it; `observe` puts its latency in the histogram when they are released.
    fn end(self, log: &AuditLog, outcome: String, replies: Vec<Reply>, observe: bool) -> Release {
        let mut e = self.entry;
        e.outcome = outcome;
        e.latency_us = self.started.elapsed().as_micros() as u64;
        Release {
            written: log.submit(e),
            replies,
            ends: Some(self.client_tag),
            started: observe.then_some(self.started),
        }
    }
}

/// A command decided and logged as `forwarded`, not sent until that line is on disk.
struct Pending {
    words: Vec<Vec<u8>>,
    /// A big command's charge to the memory budget, held until it has left for the router.
    hold: Option<routeros_api::server::Hold>,
    forward: Forward,
    written: Written,
}

/// Replies waiting for their log line to be on disk.
struct Release {
    written: Written,
    replies: Vec<Reply>,
    /// The client's tag of the forwarded command this ends.
    ends: Option<Option<Bytes>>,
    /// When an allowed command started, for the latency histogram.
    started: Option<Instant>,
}

/// What one session has running and holding.
#[derive(Default)]
pub struct Commands {
    pub up: Option<Up>,
    /// The client's tags of forwarded commands not yet finished, with their upstream tags.
    pub in_flight: HashMap<Option<Bytes>, Bytes>,
    /// Forwarded commands the router has not yet ended, by upstream tag.
    running: HashMap<Bytes, Forward>,
    /// Allowed commands whose `forwarded` line is not yet known to be on disk, in order;
    /// their client tags are in `in_flight` (with an empty upstream tag).
    pending: Vec<Pending>,
    pub held: Held,
}

/// Final replies in the order their log lines were appended.
#[derive(Default)]
pub struct Held(VecDeque<Release>);

impl Held {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Waits for the oldest held line to be on disk (forever when nothing is held).
    pub async fn next(&mut self) -> Result<(), String> {
        match self.0.front_mut() {
            Some(r) => (&mut r.written).await,
            None => std::future::pending().await,
        }
    }
}

/// The outcome of one command's decision.
pub enum Outcome {
    /// Forwarded: its replies come on the session's upstream channel.
    Forwarded,
    /// Answered at once, with nothing to log.
    Answer(Vec<Reply>),
    /// Answered once its log line is on disk.
    Logged(Written, Vec<Reply>),
}

pub fn trap(tag: &Option<Bytes>, category: Option<u8>, message: &str) -> Vec<Reply> {
    Reply::trap(tag, category, message)
}

#[allow(clippy::too_many_arguments)]
pub fn entry(
    client: &str,
    ip: IpAddr,
    router: &str,
    command: &str,
    args: &[(String, Bytes)],
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
        query: Vec::new(),
        of: None,
        decision,
        rule: rule.to_string(),
        outcome,
        latency_us: started.elapsed().as_micros() as u64,
    }
}

impl Commands {
    /// Whether nothing is running or held.
    pub fn is_idle(&self) -> bool {
        self.count() == 0 && self.held.is_empty()
    }

    /// Commands taken and not yet ended, one by one: untagged commands all share one key of
    /// `in_flight`, and counting its keys let a client pipeline 1,098 untagged commands at
    /// once past [`super::session::MAX_IN_FLIGHT`].
    pub fn count(&self) -> usize {
        self.running.len() + self.pending.len()
    }

    /// Sends the commands decided since the last write to the router, in one write, once their
    /// `forwarded` lines are on disk (waiting for the last covers them all: lines reach the
    /// disk in order). A log that cannot be written sends none of them; a failed write ends
    /// every command running on the connection.
    pub async fn flush_upstream(&mut self, shared: &Shared) {
        // Big commands' charges, given back once their words are written to the router.
        let mut holds = Vec::new();
        if let Some(last) = self.pending.last_mut() {
            let durable = (&mut last.written).await;
            let pending = std::mem::take(&mut self.pending);
            if durable.is_err() {
                for p in pending {
                    let replies = trap(
                        &p.forward.client_tag,
                        Some(4),
                        "tikguard proxy: the audit log cannot be written; the command was not sent",
                    );
                    self.held.0.push_back(Release {
                        written: p.written,
                        replies,
                        ends: Some(p.forward.client_tag),
                        started: None,
                    });
                }
                return;
            }
            for mut p in pending {
                holds.extend(p.hold.take());
                let queued = match self.up.as_ref() {
                    Some(u) if !u.lease.client().is_closed() => {
                        u.lease.client().queue_to(p.words, &u.sink)
                    }
                    _ => Err(routeros_api::Error::Closed),
                };
                match queued {
                    Ok(utag) => {
                        self.in_flight
                            .insert(p.forward.client_tag.clone(), utag.clone());
                        let mut f = p.forward;
                        f.deadline = f.timeout.map(|t| Instant::now() + t);
                        self.running.insert(utag, f);
                    }
                    Err(e) => {
                        let replies = trap(
                            &p.forward.client_tag,
                            Some(4),
                            &format!("tikguard proxy: connection to the router lost: {e}"),
                        );
                        let rel = p.forward.end(
                            &shared.log,
                            format!("lost: router gone: {e}"),
                            replies,
                            false,
                        );
                        self.held.0.push_back(rel);
                    }
                }
            }
        }
        let Some(u) = self.up.as_ref() else { return };
        if !u.lease.client().has_queued() {
            return;
        }
        if let Err(e) = u.lease.client().flush().await {
            self.lose_all(shared, &e);
        }
        drop(holds);
    }

    /// When the first running command times out, if any does.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running.values().filter_map(|f| f.deadline).min()
    }

    /// A command got no reply within its router's `command-timeout`: the router (or the
    /// connection) is taken as hung, and every command running on the connection ends as if
    /// it were lost, outcome `lost: router timeout`.
    pub fn time_out(&mut self, shared: &Shared) {
        let now = Instant::now();
        if !self
            .running
            .values()
            .any(|f| f.deadline.is_some_and(|d| d <= now))
        {
            return;
        }
        let mut lost: Vec<(Bytes, Forward)> = self.running.drain().collect();
        lost.sort_by(|(a, _), (b, _)| (a.len(), a).cmp(&(b.len(), b)));
        for (_, f) in lost {
            let secs = f.timeout.map(|t| t.as_secs()).unwrap_or(0);
            let replies = trap(
                &f.client_tag,
                Some(4),
                &format!("tikguard proxy: the router did not answer within {secs} s"),
            );
            let rel = f.end(
                &shared.log,
                format!("lost: router timeout ({secs} s without a reply)"),
                replies,
                false,
            );
            self.held.0.push_back(rel);
        }
        if let Some(mut u) = self.up.take() {
            u.lease.upstream().answering(false);
            u.lease.discard();
        }
    }

    /// The upstream connection broke: every command running on it gets a trap (after its log
    /// line), and the connection is not reused. The client's session stays.
    pub fn lose_all(&mut self, shared: &Shared, e: &routeros_api::Error) {
        let mut lost: Vec<(Bytes, Forward)> = self.running.drain().collect();
        // In the order the commands were sent, for a log that reads naturally.
        lost.sort_by(|(a, _), (b, _)| (a.len(), a).cmp(&(b.len(), b)));
        for (_, f) in lost {
            let replies = trap(
                &f.client_tag,
                Some(4),
                &format!("tikguard proxy: connection to the router lost: {e}"),
            );
            let rel = f.end(
                &shared.log,
                format!("lost: router gone: {e}"),
                replies,
                false,
            );
            self.held.0.push_back(rel);
        }
        if let Some(mut u) = self.up.take() {
            u.lease.upstream().answering(false);
            u.lease.discard();
        }
    }

    /// One reply from the router: streamed to the client now (`!re`, `!trap`, `!empty`), or,
    /// for `!done`, held until the command's log line is on disk.
    pub async fn on_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        shared: &Shared,
        out: &mut Connection<S>,
        utag: Bytes,
        reply: Result<Reply, routeros_api::Error>,
    ) -> Result<(), ConnError> {
        let mut r = match reply {
            Ok(r) => r,
            Err(e) => {
                self.lose_all(shared, &e);
                return Ok(());
            }
        };
        if let Some(u) = &self.up {
            u.lease.upstream().answering(true);
        }
        if r.kind == ReplyKind::Done {
            let Some(f) = self.running.remove(&utag) else {
                return Ok(());
            };
            r.tag = f.client_tag.clone();
            let outcome = match &f.trap {
                Some(m) => format!("trap: {m}"),
                None => "done".into(),
            };
            let rel = f.end(&shared.log, outcome, vec![r], true);
            self.held.0.push_back(rel);
            self.settle();
            return Ok(());
        }
        let Some(f) = self.running.get_mut(&utag) else {
            return Ok(());
        };
        f.deadline = f.timeout.map(|t| Instant::now() + t);
        r.tag = f.client_tag.clone();
        match r.kind {
            ReplyKind::Re => {
                let redact = &f.redact;
                r.attrs
                    .retain(|(k, _)| !redact.iter().any(|x| x.as_bytes() == &k[..]));
            }
            ReplyKind::Trap => f.trap = Some(r.message().unwrap_or_default()),
            ReplyKind::Done | ReplyKind::Empty | ReplyKind::Fatal => {}
        }
        out.send(&r).await
    }

    /// Sends the held replies whose lines are on disk: the oldest (whose outcome `first` is),
    /// then every one after it that is ready too.
    pub async fn release<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        w: &Who,
        out: &mut Connection<S>,
        first: Result<(), String>,
    ) -> Result<(), ConnError> {
        let mut outcome = Some(first);
        loop {
            let Some(res) = outcome
                .take()
                .or_else(|| self.held.0.front_mut()?.written.try_outcome())
            else {
                return Ok(());
            };
            let rel = self.held.0.pop_front().expect("front present");
            if let Some(tag) = &rel.ends {
                self.in_flight.remove(tag);
            }
            match res {
                Ok(()) => {
                    if let Some(t) = rel.started {
                        w.latency.observe(t.elapsed().as_secs_f64());
                    }
                    for r in &rel.replies {
                        out.send(r).await?;
                    }
                }
                Err(_) => {
                    // Nothing the log does not show reaches the client; it learns why.
                    let tag = rel.replies.first().and_then(|r| r.tag.clone());
                    for r in trap(
                        &tag,
                        Some(4),
                        "tikguard proxy: the audit log cannot be written",
                    ) {
                        out.send(&r).await?;
                    }
                }
            }
        }
    }

    /// Decides one command and forwards it (queued: the session flushes once the client's
    /// buffered commands are read), or answers it.
    pub async fn command(
        &mut self,
        shared: &Arc<Shared>,
        w: &Who,
        ip: IpAddr,
        req: &Request,
        hold: Option<routeros_api::server::Hold>,
    ) -> Outcome {
        let started = Instant::now();
        let tag = req.tag.clone();
        let cfg = shared.config();
        // The configuration as it is now: a reload applies to sessions already open, and a
        // client removed or no longer allowed this router gets nothing more.
        let Some(current) = cfg
            .client(&w.client.name)
            .filter(|c| c.routers.contains(&w.router))
        else {
            return Outcome::Answer(trap(
                &tag,
                Some(4),
                "tikguard proxy: this client is no longer configured for this router",
            ));
        };
        // `proxy record --permissive` decides every client's commands under one policy.
        let Some(policy) = shared
            .permissive
            .as_ref()
            .or_else(|| cfg.policies.get(&current.policy))
        else {
            return Outcome::Answer(trap(
                &tag,
                Some(4),
                "tikguard proxy: the client's policy is gone",
            ));
        };
        // The word forwarded is the one decided on: the full path.
        let (cmd, full_word, decision) = decide_request(policy, req);
        let deny = |rule: Option<String>, reason: String| {
            w.count("deny");
            let e = entry(
                &w.client.name,
                ip,
                &w.router,
                &String::from_utf8_lossy(&req.command),
                &cmd.args,
                "deny",
                rule.as_deref().unwrap_or("default"),
                format!("denied: {reason}"),
                started,
            );
            let e = Entry {
                query: log_query(&req.queries),
                ..e
            };
            let written = shared.log.submit(e);
            Outcome::Logged(
                written,
                trap(
                    &tag,
                    Some(4),
                    &format!(
                        "tikguard proxy: not allowed by policy {}: {reason}",
                        policy.name
                    ),
                ),
            )
        };
        let (rule, owner_prefix, redact) = match decision {
            Decision::Deny { rule, reason } => return deny(rule, reason),
            Decision::Allow {
                rule,
                owner_prefix,
                redact,
                items,
            } => (rule, (owner_prefix, items), redact),
        };
        w.count("allow");
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
        let lost = |e: String, message: String| {
            let written = shared.log.submit(allowed(format!("not forwarded: {e}")));
            Outcome::Logged(written, trap(&tag, Some(4), &message))
        };
        // A connection that ended while idle in the session is not used again.
        if self
            .up
            .as_ref()
            .is_some_and(|u| u.lease.client().is_closed())
        {
            self.lose_all(shared, &routeros_api::Error::Closed);
        }
        if self.up.is_none() {
            let Some(upstream) = shared.upstream(&w.router) else {
                return Outcome::Answer(trap(&tag, Some(4), "tikguard proxy: unknown router"));
            };
            let share = current
                .upstream_sessions
                .unwrap_or_else(|| upstream.default_share());
            match upstream.lease(&w.client.name, share).await {
                Ok(lease) => {
                    let (sink, replies) = tokio::sync::mpsc::channel(REPLY_QUEUE);
                    self.up = Some(Up {
                        lease,
                        sink,
                        replies,
                    });
                }
                Err(e) => {
                    let msg = format!("tikguard proxy: router {} unavailable: {e}", w.router);
                    return lost(e.to_string(), msg);
                }
            }
        }
        let (owner_prefix, items) = owner_prefix;
        let checked = owner_prefix.is_some() || !items.is_empty();
        if checked && OWNED_VERBS.contains(&cmd.verb.as_str()) {
            // Commands decided before this one reach the router before its check.
            self.flush_upstream(shared).await;
            let Some(u) = self.up.as_ref() else {
                let msg = format!("tikguard proxy: router {} connection lost", w.router);
                return lost("connection lost".into(), msg);
            };
            if let Err(why) = owned(&u.lease, &cmd, owner_prefix.as_deref(), &items).await {
                return deny(Some(rule.clone()), why);
            }
        }
        // Forward the client's words, its own `.tag` left out (the upstream connection tags).
        let mut words = Vec::with_capacity(1 + req.attrs.len() + req.queries.len());
        words.push(full_word.into_bytes());
        for (k, val) in &req.attrs {
            words.push([&b"="[..], k, b"=", val].concat());
        }
        for q in &req.queries {
            words.push(q.to_vec());
        }
        // The `forwarded` line, with every argument and query word; the command goes to the
        // router once it is on disk (`flush_upstream`).
        let written = shared.log.submit(Entry {
            query: log_query(&req.queries),
            ..allowed("forwarded".into())
        });
        // Its outcome line names it, and repeats neither arguments nor queries.
        let base = Entry {
            of: Some(written.hash().to_string()),
            ..entry(
                &w.client.name,
                ip,
                &w.router,
                &logged_word,
                &[],
                "allow",
                &rule,
                String::new(),
                started,
            )
        };
        // Commands that stream for as long as they run have no timeout.
        let streams = cmd.verb == "listen"
            || ["follow", "follow-only"]
                .iter()
                .any(|k| cmd.get(k).is_some());
        let timeout = cfg
            .router(&w.router)
            .filter(|_| !streams)
            .map(|r| r.command_timeout);
        self.in_flight.insert(tag.clone(), Bytes::new());
        self.pending.push(Pending {
            words,
            hold,
            forward: Forward {
                client_tag: tag,
                redact,
                entry: base,
                started,
                trap: None,
                timeout,
                deadline: None,
            },
            written,
        });
        Outcome::Forwarded
    }

    /// With nothing running, the upstream connection goes back to the pool.
    pub fn settle(&mut self) {
        if self.running.is_empty()
            && self.pending.is_empty()
            && self
                .up
                .as_ref()
                .is_some_and(|u| !u.lease.client().has_queued())
        {
            self.up = None;
        }
    }

    /// Holds `replies` until `written` is on disk.
    pub fn hold(&mut self, written: Written, replies: Vec<Reply>) {
        self.held.0.push_back(Release {
            written,
            replies,
            ends: None,
            started: None,
        });
    }

    /// `/cancel` (of one tag, or of all): sent on to the router for the commands it names
    /// (after the commands decided before it).
    pub async fn cancel(&mut self, shared: &Shared, target: Option<&Bytes>) {
        self.flush_upstream(shared).await;
        let Some(u) = &self.up else { return };
        let victims: Vec<&Bytes> = self
            .in_flight
            .iter()
            .filter(|(k, _)| target.is_none() || k.as_ref() == target)
            .map(|(_, t)| t)
            .filter(|t| self.running.contains_key(*t))
            .collect();
        for t in victims {
            let word = format!("=tag={}", String::from_utf8_lossy(t));
            let _ = u
                .lease
                .client()
                .start(vec![b"/cancel".to_vec(), word.into_bytes()])
                .await;
        }
    }

    /// The session ends (the client gone, or a limit broken): the outcome of every command
    /// it had running is `lost: client gone` (the router may have run it), of every command not
    /// yet sent `not sent: client gone`, on disk before this returns; a connection with commands
    /// still running is not reused.
    pub async fn end(&mut self, shared: &Shared) {
        let mut any = false;
        for p in std::mem::take(&mut self.pending) {
            let _ = p.forward.end(
                &shared.log,
                "not sent: client gone".into(),
                Vec::new(),
                false,
            );
            any = true;
        }
        let mut lost: Vec<(Bytes, Forward)> = self.running.drain().collect();
        lost.sort_by(|(a, _), (b, _)| (a.len(), a).cmp(&(b.len(), b)));
        if !lost.is_empty() {
            if let Some(u) = self.up.as_mut() {
                u.lease.discard();
            }
        }
        for (_, f) in lost {
            let _ = f.end(&shared.log, "lost: client gone".into(), Vec::new(), false);
            any = true;
        }
        if any {
            let _ = shared.log.sync().await;
        }
    }
}

/// Ownership and item constraints: every item the command names (`.id`/`numbers`, comma
/// lists; ids or names) must exist, carry a comment starting with `prefix` when there is one,
/// and meet `items` (`list` of an address-list entry) as it is on the router, checked there
/// first.
async fn owned(
    lease: &Lease,
    cmd: &Command,
    prefix: Option<&str>,
    items_must: &[(String, Constraint)],
) -> Result<(), String> {
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
    let mut proplist = ".id,name,comment".to_string();
    for (k, _) in items_must {
        proplist.push(',');
        proplist.push_str(k);
    }
    let mut words = vec![
        format!("{}/print", cmd.path).into_bytes(),
        format!("=.proplist={proplist}").into_bytes(),
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
                if let Some(prefix) = prefix {
                    if !comment.starts_with(prefix.as_bytes()) {
                        return Err(format!(
                            "item {w} is not owned: its comment does not start with `{prefix}`"
                        ));
                    }
                }
                for (k, c) in items_must {
                    let v = i.get(k).map(|v| v.as_ref()).unwrap_or(b"");
                    if !c.holds(v) {
                        return Err(format!(
                            "item {w} may not be changed: its `{k}` is not {}",
                            c.describe()
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}
