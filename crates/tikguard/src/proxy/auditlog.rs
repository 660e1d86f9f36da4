//! The proxy's audit log: one JSON line per command, hash-chained, fsync'd before the client
//! sees the command's final reply.
//!
//! Each line carries `prev`, the SHA-256 (hex) of the previous line's bytes (without its
//! newline); the first line's `prev` is 64 zeros. Editing, deleting or reordering a line breaks
//! the chain at the line after it, which [`verify`] names.
//!
//! When a line is written: when the command finishes (`!done`, `!trap`, denied, or cut off by
//! the router's loss), and the final reply (`!done`/`!trap`) is released to the client only
//! after the line is on disk. `!re` items of a print stream before that; a client that got the
//! final reply of a command always finds it in the log, even after `kill -9`. Lines from many
//! sessions are written and fsync'd together (group commit).
//!
//! Arguments whose key is a secret (`password`, `secret`, keys, ...) are written as `***`.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// One command's record.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub time: String,
    pub client: String,
    pub source: String,
    pub router: String,
    pub command: String,
    pub args: serde_json::Map<String, serde_json::Value>,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The deciding rule, or `default` for the default deny.
    pub rule: String,
    /// `done`, `trap: MESSAGE`, `denied: REASON`, `upstream lost: ...`.
    pub outcome: String,
    pub latency_us: u64,
}

/// Arguments as logged: secrets as `***`, other bytes as (lossy) text.
pub fn log_args(args: &[(String, Vec<u8>)]) -> serde_json::Map<String, serde_json::Value> {
    args.iter()
        .map(|(k, v)| {
            let shown = if routeros_config::secrets::is_secret_key(k.as_bytes())
                || k == "secret"
                || k.ends_with("password")
            {
                "***".to_string()
            } else {
                String::from_utf8_lossy(v).into_owned()
            };
            (k.clone(), serde_json::Value::String(shown))
        })
        .collect()
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

fn digest(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Job {
    entry: Entry,
    done: oneshot::Sender<Result<(), String>>,
}

/// A handle to the log writer; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<Job>,
}

impl AuditLog {
    /// Opens (or creates, 0600) the log and starts its writer. A last line cut short by a crash
    /// is removed: its command's final reply was never released.
    pub fn open(path: &Path) -> Result<AuditLog, String> {
        let show = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut prev = ZERO.to_string();
        if path.exists() {
            let bytes = std::fs::read(path).map_err(show)?;
            let keep = match bytes.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => 0,
            };
            if keep < bytes.len() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(show)?;
                f.set_len(keep as u64).map_err(show)?;
                f.sync_all().map_err(show)?;
            }
            if let Some(last) = bytes[..keep]
                .split(|&b| b == b'\n')
                .rev()
                .find(|l| !l.is_empty())
            {
                prev = digest(last);
            }
        }
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(show)?
        };
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || writer(file, prev, rx, shown))
            .map_err(|e| e.to_string())?;
        Ok(AuditLog { tx })
    }

    /// Appends `entry` and waits until it is on disk.
    pub async fn record(&self, entry: Entry) -> Result<(), String> {
        self.submit(entry).await.wait().await
    }

    /// Hands `entry` to the writer (waiting only for room in its queue) and returns what to
    /// wait on for it to be on disk: a session goes on with other work meanwhile. The writer
    /// writes entries in the order submitted and acknowledges them in that order.
    pub async fn submit(&self, entry: Entry) -> Written {
        let (done, wait) = oneshot::channel();
        if let Err(e) = self.tx.send(Job { entry, done }).await {
            let _ = e.0.done.send(Err("audit log writer stopped".to_string()));
        }
        Written(wait)
    }
}

/// An entry on its way to disk ([`AuditLog::submit`]).
pub struct Written(oneshot::Receiver<Result<(), String>>);

impl Written {
    /// Waits until the entry is on disk.
    pub async fn wait(self) -> Result<(), String> {
        self.0
            .await
            .map_err(|_| "audit log writer stopped".to_string())?
    }

    /// The outcome if it is known already, without waiting.
    pub fn try_outcome(&mut self) -> Option<Result<(), String>> {
        match self.0.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => {
                Some(Err("audit log writer stopped".to_string()))
            }
        }
    }
}

impl std::future::Future for Written {
    type Output = Result<(), String>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| {
            r.map_err(|_| "audit log writer stopped".to_string())
                .and_then(|x| x)
        })
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
    decision: &'a str,
    rule: &'a str,
    outcome: &'a str,
    latency_us: u64,
    prev: &'a str,
}

/// Group commit: every job waiting is written, then one fsync, then all are acknowledged.
fn writer(mut file: std::fs::File, mut prev: String, mut rx: mpsc::Receiver<Job>, path: String) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while let Ok(j) = rx.try_recv() {
            jobs.push(j);
            if jobs.len() >= 1024 {
                break;
            }
        }
        let mut buf = Vec::new();
        for j in &jobs {
            let e = &j.entry;
            let line = serde_json::to_vec(&Line {
                time: &e.time,
                client: &e.client,
                source: &e.source,
                router: &e.router,
                command: &e.command,
                args: &e.args,
                decision: e.decision,
                rule: &e.rule,
                outcome: &e.outcome,
                latency_us: e.latency_us,
                prev: &prev,
            })
            .unwrap_or_default();
            prev = digest(&line);
            buf.extend_from_slice(&line);
            buf.push(b'\n');
        }
        let res = file
            .write_all(&buf)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("{path}: {e}"));
        for j in jobs {
            let _ = j.done.send(res.clone());
        }
    }
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
        }
    }
}

/// Checks a log's chain; `Ok(lines)` when intact.
pub fn verify(path: &Path) -> Result<Result<usize, Broken>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = std::io::BufReader::new(f);
    let mut prev = ZERO.to_string();
    let mut n = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = r
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            return Ok(Ok(n));
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
        if p != prev {
            return Ok(Err(Broken::Chain { line: n }));
        }
        prev = digest(&line);
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
            decision: "allow",
            rule: "policy crm-pppoe rule 1".into(),
            outcome: "done".into(),
            latency_us: 10,
        }
    }

    fn write(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let log = AuditLog::open(&path).unwrap();
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
        assert_eq!(verify(&path).unwrap(), Ok(5));
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let log = AuditLog::open(&path).unwrap();
            log.record(entry(9)).await.unwrap();
        });
        assert_eq!(verify(&path).unwrap(), Ok(4));
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
    fn a_cut_last_line_is_reported_and_dropped_on_reopen() {
        let (_d, path) = write(3);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(verify(&path).unwrap(), Err(Broken::Truncated { line: 3 }));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let log = AuditLog::open(&path).unwrap();
            log.record(entry(5)).await.unwrap();
        });
        assert_eq!(verify(&path).unwrap(), Ok(3));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 27, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.starts_with("20"), "{t}");
    }
}
