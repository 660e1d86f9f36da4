//! The proxy's audit log: one JSON line per command, hash-chained, fsync'd before the client
//! sees the command's final reply.
//!
//! Each line carries `prev`, the SHA-256 (hex) of the previous line's bytes (without its
//! newline); the first line's `prev` is 64 zeros. Editing, deleting or reordering a line breaks
//! the chain at the line after it, which [`verify`] names.
//!
//! An allowed command has two lines. The first, outcome `forwarded`, with every argument and
//! query word, is on disk before the command leaves for the router: whatever the router may
//! have run is in the log, whatever happens to the client, the router or the proxy after it
//! (a client resetting its connection, `kill -9`). The second, written when the command ends,
//! carries its outcome (`done`, `trap: MESSAGE`, `lost: client gone`, `lost: router gone: ...`)
//! and `of`, the hash of its `forwarded` line; the command's final reply (`!done`/`!trap`) is
//! released to the client only after that line is on disk too. [`verify`] pairs them and names
//! the forwarded commands whose outcome was never written (the proxy stopped), which the router
//! may have run. A denied command has one line. Lines from many sessions are written and
//! fsync'd together (group commit).
//!
//! The chain proves the lines before a line were not changed, not that no lines came after the
//! last: deleting or rewriting the tail leaves a valid chain. The head (line count and hash of
//! the last line on disk) is written to a checkpoint file ([`AuditLog::set_checkpoint`]) every
//! N lines and at shutdown, and to standard error (the journal) with it, signed when the proxy
//! has a key; [`super::checkpoint`] says what it proves. Which file is written, with what mode,
//! by one proxy only, and what happens to a last line cut short by a crash:
//! [`super::logfile`].
//!
//! Arguments whose key is a secret (`password`, `secret`, keys, ...) are written as `***`, and
//! so are the values of query words naming one.

use std::io::{BufRead, Write};
use std::path::Path;

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One command's record.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub time: String,
    pub client: String,
    pub source: String,
    pub router: String,
    pub command: String,
    pub args: serde_json::Map<String, serde_json::Value>,
    /// The query words (`?name=x`, `?#|`), secrets' values as `***`.
    pub query: Vec<String>,
    /// For an outcome line, the hash of the command's `forwarded` line.
    pub of: Option<String>,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The deciding rule, or `default` for the default deny.
    pub rule: String,
    /// `forwarded`, then `done`, `trap: MESSAGE`, `lost: client gone`, `lost: router gone: ...`
    /// for an allowed command; `denied: REASON`; `not forwarded: ...`.
    pub outcome: String,
    pub latency_us: u64,
}

/// Whether an argument or query key holds a secret, written as `***`: a secret's name, or
/// an abbreviation of one of the fields hidden by default (`?pass=`, refused by the policy,
/// must not put the guess in the log either).
pub fn secret_key(k: &str) -> bool {
    // In any case: a name in another case is refused, and its value not logged either.
    let k = &k.to_ascii_lowercase();
    routeros_config::secrets::is_secret_key(k.as_bytes())
        || k == "secret"
        || k.ends_with("password")
        || k.ends_with("-key")
        || k == "community"
        || (!k.is_empty()
            && super::policy::DEFAULT_REDACT
                .iter()
                .any(|h| h.starts_with(k)))
}

/// Arguments as logged: secrets as `***`, other bytes as (lossy) text; a key given more than
/// once has every value, in order, in an array (nothing the client sent is left out).
///
/// A value longer than [`MAX_LOGGED_VALUE`] bytes is logged as its first bytes, its length and
/// its SHA-256 (`...(15728640 bytes, sha256 ab12...)`): a client sending 15 MiB words made a
/// line of that size per command, denied ones included, and the log grew with what the
/// client chose to send. The hash still names the exact value.
pub fn log_args<V: AsRef<[u8]>>(
    args: &[(String, V)],
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut map = serde_json::Map::new();
    for (k, v) in args {
        let shown = Value::String(if secret_key(k) {
            "***".to_string()
        } else {
            logged_value(v.as_ref())
        });
        match map.get_mut(k) {
            None => {
                map.insert(k.clone(), shown);
            }
            Some(Value::Array(all)) => all.push(shown),
            Some(first) => {
                let first = first.take();
                map.insert(k.clone(), Value::Array(vec![first, shown]));
            }
        }
    }
    map
}

/// Longest argument or query value logged whole.
pub const MAX_LOGGED_VALUE: usize = 4096;

/// A value as logged: whole up to [`MAX_LOGGED_VALUE`] bytes, else cut (see [`log_args`]).
pub fn logged_value(v: &[u8]) -> String {
    if v.len() <= MAX_LOGGED_VALUE {
        return String::from_utf8_lossy(v).into_owned();
    }
    let head = String::from_utf8_lossy(&v[..256]);
    // A character cut in two at the end shows as U+FFFD, which is fine in a log.
    format!("{head}...({} bytes, sha256 {})", v.len(), digest(v))
}

/// Query words as logged: the value of one naming a secret as `***` (`?password=***`).
pub fn log_query(queries: &[Bytes]) -> Vec<String> {
    queries
        .iter()
        .map(|q| {
            let text = String::from_utf8_lossy(q);
            let body = text.strip_prefix('?').unwrap_or(&text);
            let body = body.trim_start_matches(['-', '<', '>', '=']);
            match body.split_once('=') {
                Some((k, _)) if secret_key(k) => {
                    let cut = text.len() - body.len() + k.len() + 1;
                    format!("{}***", &text[..cut])
                }
                _ if q.len() > MAX_LOGGED_VALUE => logged_value(q),
                _ => text.into_owned(),
            }
        })
        .collect()
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

/// The hash of a line (without its newline) as `prev` and `of` name it.
pub fn line_hash(line: &[u8]) -> String {
    digest(line)
}

fn digest(line: &[u8]) -> String {
    // Into a fixed buffer: `hex::encode` builds its string a character at a time, a visible
    // part of each command's cost.
    let mut out = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(line), &mut out).expect("64 hex digits for 32 bytes");
    String::from_utf8_lossy(&out).into_owned()
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The log's state, under one lock.
struct State {
    /// Hash of the last line appended.
    prev: String,
    /// Lines appended and not yet handed to a write.
    buf: Vec<u8>,
    /// Lines appended so far, and lines known to be on disk (a count: line `n` is durable
    /// when `durable >= n`).
    appended: u64,
    durable: u64,
    /// A task is writing and syncing now (the leader of this group).
    syncing: bool,
    /// A write or sync failed: the file may end in a torn line, so nothing more is
    /// appended, and everything not yet durable fails (a restart truncates the torn line).
    failed: Option<String>,
    /// Tasks waiting for the group being written, woken when it is on disk (or failed).
    waiting: Vec<std::task::Waker>,
    /// Lines in the file minus lines appended to this log before it (when opened: the lines it
    /// had; after a reopen, minus those written to the previous file).
    base_lines: i64,
    /// The file written to (replaced by [`AuditLog::reopen`]).
    file: Arc<std::fs::File>,
    /// The hash of the last line on disk.
    durable_head: String,
    /// The hash of the current file's line 1, once it has one (which file a checkpoint is of).
    first: Option<String>,
}

/// What [`AuditLog::reopen`] found.
enum Swap {
    /// Lines are being written: sync and try again.
    Retry,
    /// The path is still the file written to.
    Same,
    /// A new file, started with the line of this sequence number.
    Marker(u64),
}

/// Where and how often the chain's head is written.
struct Checkpoint {
    path: std::path::PathBuf,
    every: u64,
    /// Lines (in the file) at the last checkpoint.
    last: u64,
    signer: Option<super::checkpoint::Signer>,
}

struct Inner {
    state: std::sync::Mutex<State>,
    path: String,
    checkpoint: std::sync::Mutex<Option<Checkpoint>>,
    /// The mode of every file the log makes (the log, its next file, checkpoints, torn lines).
    mode: u32,
    /// The log's one-writer lock, held while the log is.
    _lock: Option<super::logfile::Lock>,
    observer: std::sync::OnceLock<WriteObserver>,
}

/// Told of each write and sync of a group of lines: how long it took, and whether it failed
/// (the proxy's metrics).
pub type WriteObserver = Box<dyn Fn(std::time::Duration, bool) + Send + Sync>;

/// A handle to the log; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

impl AuditLog {
    /// Opens (or creates) the log with exactly `mode`, as its one writer ([`super::logfile`]:
    /// a second proxy on the same log is refused, and a last line cut short by a crash is moved
    /// aside into `FILE.torn-SECONDS` and reported on standard error: its command's final reply
    /// was never released, and the bytes are kept for whoever investigates).
    pub fn open(path: &Path, mode: u32) -> Result<AuditLog, String> {
        let lock = super::logfile::lock(path)?;
        let o = super::logfile::open(path, mode, false)?;
        let log = AuditLog::over(o.file, o.last.unwrap_or_else(|| ZERO.to_string()), path);
        {
            let mut st = log.inner.lock();
            st.base_lines = o.lines as i64;
            st.first = o.first;
        }
        // `over` made the Arc; nothing else holds it yet.
        let mut log = log;
        if let Some(inner) = Arc::get_mut(&mut log.inner) {
            inner.mode = mode;
            inner._lock = Some(lock);
        }
        Ok(log)
    }

    /// The log a configuration names, with its checkpoint file, key and timer (the timer is a
    /// task on the current runtime).
    pub fn from_config(cfg: &super::config::ProxyConfig) -> Result<AuditLog, String> {
        let log = AuditLog::open(Path::new(&cfg.audit_log), cfg.audit_log_mode)?;
        // A file size limit (`ulimit -f`, systemd's `LimitFSIZE=`) reached: SIGXFSZ would kill
        // the proxy (and a restart would die again at the next line); handled, the write fails
        // with EFBIG instead and the proxy refuses commands as for a full disk.
        let xfsz =
            tokio::signal::unix::SignalKind::from_raw(rustix::process::Signal::XFSZ.as_raw());
        if let Ok(mut s) = tokio::signal::unix::signal(xfsz) {
            tokio::spawn(async move { while s.recv().await.is_some() {} });
        }
        let Some(cp) = &cfg.checkpoint else {
            return Ok(log);
        };
        let signer = match &cfg.checkpoint_key {
            Some(k) => Some(super::checkpoint::Signer::load(Path::new(k))?),
            None => None,
        };
        log.set_checkpoint(Path::new(cp), cfg.checkpoint_lines, signer)?;
        let timer = log.clone();
        let every = std::time::Duration::from_secs(cfg.checkpoint_seconds);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = timer.checkpoint_if_new() {
                    crate::warn_line!("tikguard proxy: audit log checkpoint: {e}");
                }
            }
        });
        Ok(log)
    }

    /// A log appending to `file`, whose last line hashes to `prev`.
    fn over(file: std::fs::File, prev: String, path: &Path) -> AuditLog {
        AuditLog {
            inner: Arc::new(Inner {
                state: std::sync::Mutex::new(State {
                    durable_head: prev.clone(),
                    prev,
                    buf: Vec::new(),
                    appended: 0,
                    durable: 0,
                    syncing: false,
                    failed: None,
                    waiting: Vec::new(),
                    base_lines: 0,
                    first: None,
                    file: Arc::new(file),
                }),
                path: path.display().to_string(),
                checkpoint: std::sync::Mutex::new(None),
                mode: super::logfile::DEFAULT_MODE,
                _lock: None,
                observer: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Calls `f` after each write and sync (the first observer set stays).
    pub fn observe_writes(&self, f: WriteObserver) {
        let _ = self.inner.observer.set(f);
    }

    /// Writes the chain's head to `path` every `every` lines on disk (and whenever
    /// [`AuditLog::checkpoint`] is called), starting now; signed with `signer`'s key. The
    /// checkpoint already there is checked against the log first
    /// ([`super::checkpoint::before_start`]).
    pub fn set_checkpoint(
        &self,
        path: &Path,
        every: u64,
        signer: Option<super::checkpoint::Signer>,
    ) -> Result<(), String> {
        super::checkpoint::before_start(
            Path::new(&self.inner.path),
            path,
            self.head().0,
            signer.as_ref(),
        )?;
        *self
            .inner
            .checkpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Checkpoint {
            path: path.to_path_buf(),
            every: every.max(1),
            last: 0,
            signer,
        });
        self.checkpoint().map(|_| ())
    }

    /// Writes the head of what is on disk to the checkpoint file (atomically: a new file renamed
    /// over the old, synced) and to standard error; `None` without a checkpoint file.
    pub fn checkpoint(&self) -> Result<Option<String>, String> {
        Inner::checkpoint(&self.inner, 0)
    }

    /// [`AuditLog::checkpoint`] if lines reached the disk since the last one (for a timer).
    pub fn checkpoint_if_new(&self) -> Result<Option<String>, String> {
        Inner::checkpoint(&self.inner, 1)
    }

    /// [`AuditLog::reopen`]'s swap, under the lock: the new file and its first line.
    fn swap(&self) -> Result<Swap, String> {
        use std::os::unix::fs::MetadataExt;
        let path = Path::new(&self.inner.path);
        let mut st = self.inner.lock();
        if st.syncing || st.durable < st.appended {
            return Ok(Swap::Retry);
        }
        // The link itself, not what it names: a link at the path is refused below.
        if let Ok(now) = std::fs::symlink_metadata(path) {
            let old = st
                .file
                .metadata()
                .map_err(|e| format!("{}: {e}", self.inner.path))?;
            if now.ino() == old.ino() && now.dev() == old.dev() {
                return Ok(Swap::Same);
            }
        }
        // A file someone else made at the path, a link, or one with lines is not written to.
        let file = super::logfile::open(path, self.inner.mode, true)?.file;
        let before = st.lines();
        st.file = Arc::new(file);
        st.base_lines = -(st.durable as i64);
        st.first = None;
        let marker = Entry {
            time: now_rfc3339(),
            client: String::new(),
            source: String::new(),
            router: String::new(),
            command: String::new(),
            args: serde_json::Map::new(),
            query: Vec::new(),
            of: None,
            decision: "continue",
            rule: String::new(),
            outcome: format!("the log continues from the previous file, after its line {before}"),
            latency_us: 0,
        };
        Ok(Swap::Marker(st.append(&marker)))
    }

    /// Lines on disk and the hash of the last.
    pub fn head(&self) -> (u64, String) {
        let st = self.inner.lock();
        (st.lines(), st.durable_head.clone())
    }

    /// Reopens the log at its path, after a rotation moved the file away (SIGHUP): every line
    /// appended so far goes to the old file first, and the new one starts with a `continue`
    /// line whose `prev` is the old file's head (the chain goes on across files). Nothing
    /// happens when the path is still the file written to. A non-empty file of another name
    /// at the path is not appended to (its own chain would break): an error, and writing
    /// goes on to the old file.
    pub async fn reopen(&self) -> Result<(), String> {
        loop {
            self.sync().await?;
            // The old file's head, checkpointed (and in the journal) before it is left.
            Inner::checkpoint(&self.inner, 1)?;
            let seq = match self.swap()? {
                Swap::Retry => continue,
                Swap::Same => return Ok(()),
                Swap::Marker(seq) => seq,
            };
            Written {
                log: self.clone(),
                seq,
                hash: String::new(),
            }
            .await?;
            if let Some(cp) = self
                .inner
                .checkpoint
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_mut()
            {
                cp.last = 0;
            }
            return self.checkpoint().map(|_| ());
        }
    }

    /// Appends `entry` and waits until it is on disk.
    pub async fn record(&self, entry: Entry) -> Result<(), String> {
        self.submit(entry).wait().await
    }

    /// Appends `entry` to the chain (in memory) and returns what to wait on for it to be on
    /// disk: a session goes on with other work meanwhile. Lines reach the file in the order
    /// submitted.
    pub fn submit(&self, entry: Entry) -> Written {
        let mut st = self.inner.lock();
        if st.failed.is_some() {
            // A log that could not be written takes nothing more; this fails at once.
            return Written {
                log: self.clone(),
                seq: u64::MAX,
                hash: String::new(),
            };
        }
        let seq = st.append(&entry);
        Written {
            log: self.clone(),
            seq,
            hash: st.prev.clone(),
        }
    }
}

impl AuditLog {
    /// Waits until every line appended so far is on disk (at shutdown: lines whose replies
    /// were never released are not lost either).
    pub async fn sync(&self) -> Result<(), String> {
        let seq = self.inner.lock().appended;
        Written {
            log: self.clone(),
            seq,
            hash: String::new(),
        }
        .await
    }
}

impl State {
    /// Lines of the current file on disk.
    fn lines(&self) -> u64 {
        (self.base_lines + self.durable as i64).max(0) as u64
    }

    /// Appends `entry`'s line to the chain; its sequence number.
    fn append(&mut self, entry: &Entry) -> u64 {
        let line = serde_json::to_vec(&Line {
            time: &entry.time,
            client: &entry.client,
            source: &entry.source,
            router: &entry.router,
            command: &entry.command,
            args: &entry.args,
            query: &entry.query,
            of: entry.of.as_deref(),
            decision: entry.decision,
            rule: &entry.rule,
            outcome: &entry.outcome,
            latency_us: entry.latency_us,
            prev: &self.prev,
        })
        .unwrap_or_default();
        self.prev = digest(&line);
        if self.first.is_none() {
            // The file's line 1 (the file was empty, or a rotation just started it).
            self.first = Some(self.prev.clone());
        }
        self.buf.extend_from_slice(&line);
        self.buf.push(b'\n');
        self.appended += 1;
        self.appended
    }

    /// Whether line `seq` is on disk, or can no longer get there; `None` while it may.
    fn outcome(&self, seq: u64) -> Option<Result<(), String>> {
        if self.durable >= seq {
            Some(Ok(()))
        } else {
            self.failed.clone().map(Err)
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The checkpoint, when at least `min_new` lines reached the disk since the last one
    /// (`u64::MAX`: its `every`).
    fn checkpoint(inner: &Inner, min_new: u64) -> Result<Option<String>, String> {
        let mut cp = inner.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
        let Some(cp) = cp.as_mut() else {
            return Ok(None);
        };
        let (lines, head, first) = {
            let st = inner.lock();
            (st.lines(), st.durable_head.clone(), st.first.clone())
        };
        let min_new = if min_new == u64::MAX {
            cp.every
        } else {
            min_new
        };
        if lines < cp.last.saturating_add(min_new) {
            return Ok(None);
        }
        let record = super::checkpoint::Checkpoint::new(
            &inner.path,
            first.as_deref().filter(|_| lines > 0),
            lines,
            &head,
            cp.signer.as_ref(),
        );
        super::checkpoint::write(&cp.path, &record, inner.mode)?;
        let text = record.to_line();
        cp.last = lines;
        crate::warn_line!("tikguard proxy: audit log checkpoint {text}");
        Ok(Some(text))
    }
}

/// An entry on its way to disk ([`AuditLog::submit`]).
///
/// Group commit without a writer thread: whoever waits for a line that is not on disk while
/// no write is under way becomes the leader: it takes every line appended so far, writes them
/// and syncs once, on its own thread (moved off the runtime's scheduler for the duration), and
/// wakes the others. A sequential client pays its own write and sync and no hand-off between
/// threads (measured at about 70 µs of round trip on this machine); under load each sync
/// covers every line appended meanwhile.
pub struct Written {
    log: AuditLog,
    seq: u64,
    /// The hash of the line (what an outcome line's `of` names).
    hash: String,
}

impl Written {
    /// The hash of the line: an outcome line names its `forwarded` line by it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Waits until the entry is on disk.
    pub async fn wait(mut self) -> Result<(), String> {
        (&mut self).await
    }

    /// The outcome if it is known already, without waiting or writing.
    pub fn try_outcome(&mut self) -> Option<Result<(), String>> {
        self.log.inner.lock().outcome(self.seq)
    }

    /// Writes and syncs every line appended so far; the caller set `syncing`.
    fn lead(inner: &Inner, mut st: std::sync::MutexGuard<'_, State>) {
        let buf = std::mem::take(&mut st.buf);
        let upto = st.appended;
        let head = st.prev.clone();
        let file = st.file.clone();
        drop(st);
        let started = std::time::Instant::now();
        let write = || (&*file).write_all(&buf).and_then(|()| file.sync_data());
        // Off the scheduler while the disk works (a multi-threaded runtime hands this
        // worker's other tasks to another thread); inline elsewhere.
        let res = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(write),
            _ => write(),
        };
        if let Some(f) = inner.observer.get() {
            f(started.elapsed(), res.is_err());
        }
        let mut st = inner.lock();
        st.syncing = false;
        let ok = res.is_ok();
        match res {
            Ok(()) => {
                st.durable = upto;
                st.durable_head = head;
            }
            Err(e) => {
                if st.failed.is_none() {
                    // Once, for the journal: from now on every command is refused.
                    crate::warn_line!(
                        "tikguard proxy: audit log {}: {e}; every command is refused from now on (none is forwarded unlogged); restart the proxy once the log can be written (a cut last line is then kept aside)",
                        inner.path
                    );
                    st.failed = Some(format!("{}: {e}", inner.path));
                }
            }
        }
        let waiting = std::mem::take(&mut st.waiting);
        drop(st);
        for w in waiting {
            w.wake();
        }
        if ok {
            if let Err(e) = Inner::checkpoint(inner, u64::MAX) {
                crate::warn_line!("tikguard proxy: audit log checkpoint: {e}");
            }
        }
    }
}

impl std::future::Future for Written {
    type Output = Result<(), String>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let inner = self.log.inner.clone();
        loop {
            let mut st = inner.lock();
            if let Some(outcome) = st.outcome(self.seq) {
                return Poll::Ready(outcome);
            }
            if !st.syncing {
                st.syncing = true;
                Written::lead(&inner, st);
                continue;
            }
            // Another task is writing: it wakes this one when done.
            if !st.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                st.waiting.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
    }
}

/// A line as written: the entry's fields, then `prev` (no `flatten`, which serialises through
/// a map and was a measurable part of each command's cost).
#[derive(Serialize)]
struct Line<'a> {
    time: &'a str,
    client: &'a str,
    source: &'a str,
    router: &'a str,
    command: &'a str,
    args: &'a serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    query: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    of: Option<&'a str>,
    decision: &'a str,
    rule: &'a str,
    outcome: &'a str,
    latency_us: u64,
    prev: &'a str,
}

/// Where a log's chain breaks.
#[derive(Debug, PartialEq, Eq)]
pub enum Broken {
    /// Line N (1-based) is not a JSON object with a `prev`.
    Malformed { line: usize },
    /// Line N's `prev` is not the hash of line N-1: N-1 was edited, or lines between them were
    /// deleted, or they were reordered.
    Chain { line: usize },
    /// The file does not end with a newline: the last line was cut.
    Truncated { line: usize },
    /// Line N is an outcome whose `of` names no `forwarded` line before it still open.
    Unpaired { line: usize },
}

/// An intact log.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub lines: usize,
    /// Lines (1-based) of commands forwarded whose outcome was never written: the proxy
    /// stopped before they ended. The router may have run them.
    pub unanswered: Vec<usize>,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Malformed { line } => write!(f, "line {line} is not an audit log entry"),
            Broken::Chain { line } if *line == 1 => write!(
                f,
                "line 1 does not start the chain: lines before it were deleted, or it was edited"
            ),
            Broken::Chain { line } => write!(
                f,
                "line {line} does not follow line {}: line {} was edited, or lines between them were deleted or reordered",
                line - 1,
                line - 1
            ),
            Broken::Truncated { line } => write!(f, "line {line} is cut short"),
            Broken::Unpaired { line } => write!(
                f,
                "line {line} is the outcome of no forwarded command before it (its `of` names none, or one already ended)"
            ),
        }
    }
}

/// Checks a log's chain, and pairs each `forwarded` line with its outcome.
pub fn verify(path: &Path) -> Result<Result<Verified, Broken>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = std::io::BufReader::new(f);
    let mut prev = ZERO.to_string();
    let mut n = 0;
    let mut line = Vec::new();
    // Forwarded commands without an outcome yet: line hash -> line number.
    let mut open = std::collections::HashMap::new();
    let mut continued = false;
    loop {
        line.clear();
        let read = r
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            let mut unanswered: Vec<usize> = open.into_values().collect();
            unanswered.sort_unstable();
            return Ok(Ok(Verified {
                lines: n,
                unanswered,
            }));
        }
        n += 1;
        if line.last() != Some(&b'\n') {
            return Ok(Err(Broken::Truncated { line: n }));
        }
        line.pop();
        let v: serde_json::Value = match serde_json::from_slice(&line) {
            Ok(v) => v,
            Err(_) => return Ok(Err(Broken::Malformed { line: n })),
        };
        let Some(p) = v.get("prev").and_then(|p| p.as_str()) else {
            return Ok(Err(Broken::Malformed { line: n }));
        };
        // A file started after a rotation: its first line continues the previous file's chain
        // (whose forwarded commands may end here).
        if n == 1 && v.get("decision").and_then(|d| d.as_str()) == Some("continue") {
            continued = true;
        } else if p != prev {
            return Ok(Err(Broken::Chain { line: n }));
        }
        prev = digest(&line);
        if let Some(of) = v.get("of") {
            let known = of.as_str().and_then(|h| open.remove(h));
            if known.is_none() && !continued {
                return Ok(Err(Broken::Unpaired { line: n }));
            }
        } else if v.get("outcome").and_then(|o| o.as_str()) == Some("forwarded") {
            open.insert(prev.clone(), n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> Entry {
        Entry {
            time: now_rfc3339(),
            client: "billing".into(),
            source: "127.0.0.1".into(),
            router: "core-01".into(),
            command: "/ppp/secret/add".into(),
            args: log_args(&[
                ("name".into(), format!("u{i}").into_bytes()),
                ("password".into(), b"hunter2".to_vec()),
            ]),
            query: vec![],
            of: None,
            decision: "allow",
            rule: "policy crm-pppoe rule 1".into(),
            outcome: "done".into(),
            latency_us: 10,
        }
    }

    fn intact(lines: usize) -> Result<Verified, Broken> {
        Ok(Verified {
            lines,
            unanswered: vec![],
        })
    }

    /// Runs `f` on a single-threaded runtime, as the unit tests' sessions run.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn write(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            for i in 0..n {
                log.record(entry(i)).await.unwrap();
            }
        });
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn rewrite(path: &Path, lines: &[String]) {
        std::fs::write(
            path,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
    }

    #[test]
    fn an_intact_log_verifies_and_hides_secrets() {
        let (_d, path) = write(5);
        assert_eq!(verify(&path).unwrap(), intact(5));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hunter2") && text.contains("\"password\":\"***\""));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn reopening_continues_the_chain() {
        let (_d, path) = write(3);
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            log.record(entry(9)).await.unwrap();
        });
        assert_eq!(verify(&path).unwrap(), intact(4));
    }

    #[test]
    fn an_edited_line_is_named() {
        let (_d, path) = write(5);
        let mut l = lines(&path);
        l[2] = l[2].replace("u2", "u7");
        rewrite(&path, &l);
        assert_eq!(verify(&path).unwrap(), Err(Broken::Chain { line: 4 }));
    }

    #[test]
    fn a_deleted_line_is_named() {
        let (_d, path) = write(5);
        let mut l = lines(&path);
        l.remove(1);
        rewrite(&path, &l);
        assert_eq!(verify(&path).unwrap(), Err(Broken::Chain { line: 2 }));
        // The first line deleted.
        let (_d, path) = write(3);
        let mut l = lines(&path);
        l.remove(0);
        rewrite(&path, &l);
        assert_eq!(verify(&path).unwrap(), Err(Broken::Chain { line: 1 }));
    }

    #[test]
    fn reordered_lines_are_named() {
        let (_d, path) = write(5);
        let mut l = lines(&path);
        l.swap(2, 3);
        rewrite(&path, &l);
        assert_eq!(verify(&path).unwrap(), Err(Broken::Chain { line: 3 }));
    }

    #[test]
    fn a_cut_last_line_is_reported_and_kept_aside_on_reopen() {
        let (d, path) = write(3);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&path, &bytes).unwrap();
        let cut_at = bytes.iter().rposition(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(verify(&path).unwrap(), Err(Broken::Truncated { line: 3 }));
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            log.record(entry(5)).await.unwrap();
        });
        assert_eq!(verify(&path).unwrap(), intact(3));
        let aside: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".torn-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read(&aside[0]).unwrap(), &bytes[cut_at..]);
    }

    #[test]
    fn checkpoints_follow_the_head_and_catch_a_shorter_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let head = dir.path().join("audit.head");
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            log.set_checkpoint(&head, 4, None).unwrap();
            for i in 0..9 {
                log.record(entry(i)).await.unwrap();
            }
        });
        // Every 4 lines: the last at line 8.
        let cp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
        assert_eq!(cp["lines"], 8);
        assert!(super::super::checkpoint::verify(&path, &head, None)
            .unwrap()
            .is_ok());
        let l = lines(&path);
        rewrite(&path, &l[..7]);
        assert!(super::super::checkpoint::verify(&path, &head, None)
            .unwrap()
            .is_err());
    }

    #[test]
    fn concurrent_sessions_group_their_lines_into_one_intact_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            let tasks: Vec<_> = (0..8)
                .map(|t| {
                    let log = log.clone();
                    tokio::spawn(async move {
                        for i in 0..200 {
                            log.record(entry(t * 1000 + i)).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(verify(&path).unwrap(), intact(1600));
    }

    #[test]
    fn a_line_is_on_disk_only_once_someone_waits_and_then_with_the_lines_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            let mut first = log.submit(entry(1));
            let _second = log.submit(entry(2));
            let third = log.submit(entry(3));
            assert!(first.try_outcome().is_none(), "not yet written");
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
            third.wait().await.unwrap();
            assert_eq!(first.try_outcome(), Some(Ok(())));
        });
        assert_eq!(verify(&path).unwrap(), intact(3));
    }

    #[test]
    fn a_log_that_cannot_be_written_fails_this_command_and_every_later_one() {
        // /dev/full takes the open and fails every write with ENOSPC.
        let full = std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/full")
            .unwrap();
        block_on(async {
            let log = AuditLog::over(full, ZERO.to_string(), Path::new("/dev/full"));
            let e = log.record(entry(1)).await.unwrap_err();
            assert!(e.starts_with("/dev/full: "), "{e}");
            assert!(log.record(entry(2)).await.is_err());
            assert!(
                log.inner.lock().buf.is_empty(),
                "nothing kept for a broken log"
            );
        });
    }

    #[test]
    fn a_device_as_the_log_is_refused_without_reading_it() {
        let e = AuditLog::open(Path::new("/dev/zero"), 0o600).err().unwrap();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn verify_pairs_forwarded_lines_with_their_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            let fwd = |i| {
                let mut e = entry(i);
                e.outcome = "forwarded".into();
                log.submit(e)
            };
            let a = fwd(1);
            let _b = fwd(2);
            let mut out = entry(1);
            out.of = Some(a.hash().to_string());
            log.record(out).await.unwrap();
        });
        // Line 2 was forwarded and has no outcome.
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified {
                lines: 3,
                unanswered: vec![2]
            })
        );
        // An outcome naming no open forwarded line.
        block_on(async {
            let log = AuditLog::open(&path, 0o600).unwrap();
            let mut out = entry(3);
            out.of = Some("ab".repeat(32));
            log.record(out).await.unwrap();
        });
        assert_eq!(verify(&path).unwrap(), Err(Broken::Unpaired { line: 4 }));
    }

    /// A denied command's arguments are logged: a secret's name in another case (refused by
    /// the policy) keeps its value out of the log too, and a long value is cut to its first
    /// bytes, length and hash.
    #[test]
    fn secrets_in_any_case_are_hidden_and_long_values_cut() {
        let long = vec![b'a'; MAX_LOGGED_VALUE + 1];
        let args = log_args(&[
            ("PASSWORD".into(), b"hunter2".to_vec()),
            ("Secret".into(), b"s".to_vec()),
            ("comment".into(), long.clone()),
        ]);
        assert_eq!(args["PASSWORD"], "***");
        assert_eq!(args["Secret"], "***");
        let shown = args["comment"].as_str().unwrap();
        assert!(shown.len() < 400, "{}", shown.len());
        assert!(shown.ends_with(&format!(
            "...({} bytes, sha256 {})",
            long.len(),
            digest(&long)
        )));
        let q = [Bytes::from(format!(
            "?comment={}",
            "b".repeat(MAX_LOGGED_VALUE)
        ))];
        assert!(log_query(&q)[0].len() < 400);
    }

    #[test]
    fn every_argument_word_is_logged_and_query_secrets_hidden() {
        let args = log_args(&[
            ("comment".into(), b"ucrm_9".to_vec()),
            ("comment".into(), b"vip".to_vec()),
            ("private-key".into(), b"k".to_vec()),
        ]);
        assert_eq!(args["comment"], serde_json::json!(["ucrm_9", "vip"]));
        assert_eq!(args["private-key"], "***");
        let q: Vec<Bytes> = [
            "?password=hunter2",
            "?<password=h",
            "?name=a",
            "?#|",
            "?pass=x",
        ]
        .iter()
        .map(|w| Bytes::from(w.as_bytes().to_vec()))
        .collect();
        assert_eq!(
            log_query(&q),
            [
                "?password=***",
                "?<password=***",
                "?name=a",
                "?#|",
                "?pass=***"
            ]
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 27, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.starts_with("20"), "{t}");
    }
}
