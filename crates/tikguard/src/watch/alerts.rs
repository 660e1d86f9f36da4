//! `alerts-file`: every alert line appended to a file, by a thread of its own from a queue of
//! [`QUEUE`] lines, so a slow or failing disk never holds the loop that reads the routers' lines
//! (past the queue, lines are dropped and counted).
//!
//! The file is created 0600 (the user names tried are in it, and people type passwords there)
//! and reopened on SIGHUP, so logrotate moves it away and `systemctl reload tikguard-watch` (or
//! `kill -HUP`) in its `postrotate` starts a new one, as the proxy's log does; nothing is lost
//! at the turn: lines before the signal are in the old file, lines after it in the new one. The
//! file's size is logrotate's to bound (`size`, `rotate`); watch itself does not cut it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

/// Alert lines waiting for the file, at most.
pub const QUEUE: usize = 4096;

enum Msg {
    Line(String),
    Reopen,
}

/// The alerts file's writer.
pub struct AlertsFile {
    tx: SyncSender<Msg>,
    thread: std::thread::JoinHandle<()>,
    /// Lines dropped with the queue full.
    pub dropped: Arc<AtomicU64>,
    /// A reopen asked while the queue was full: done before the next line.
    reopen: Arc<std::sync::atomic::AtomicBool>,
}

fn open(path: &str) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl AlertsFile {
    /// Opens (creates) `path` now, so that a path that cannot be written stops start-up, and
    /// starts its writer.
    pub fn start(path: &str) -> Result<AlertsFile, String> {
        let mut file = open(path).map_err(|e| format!("alerts-file {path}: {e}"))?;
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let path = path.to_string();
        let reopen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let asked = reopen.clone();
        let thread = std::thread::Builder::new()
            .name("watch-alerts".into())
            .spawn(move || {
                // Said once per failure, not once per line, until a write works again.
                let mut failing = false;
                for m in rx {
                    if asked.swap(false, Ordering::Relaxed) {
                        if let Ok(f) = open(&path) {
                            file = f;
                        }
                    }
                    let done = match m {
                        Msg::Line(l) => writeln!(file, "{l}").and_then(|()| file.flush()),
                        Msg::Reopen => open(&path).map(|f| file = f),
                    };
                    match done {
                        Ok(()) => failing = false,
                        Err(e) if !failing => {
                            failing = true;
                            crate::warn_line!("tikguard watch: alerts-file {path}: {e}");
                        }
                        Err(_) => {}
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(AlertsFile {
            tx,
            thread,
            dropped: Arc::default(),
            reopen,
        })
    }

    /// Queues a line; dropped (counted) when the queue is full.
    pub fn line(&self, l: String) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.tx.try_send(Msg::Line(l))
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The file is opened again at its path (after logrotate moved it), once the lines queued
    /// before are written.
    pub fn reopen(&self) {
        // Never waits: with the queue full, the writer reopens before its next line.
        if self.tx.try_send(Msg::Reopen).is_err() {
            self.reopen.store(true, Ordering::Relaxed);
        }
    }

    /// Writes what is queued and stops (waits at most `within`).
    pub async fn finish(self, within: std::time::Duration) {
        drop(self.tx);
        let t = self.thread;
        let _ = tokio::time::timeout(within, tokio::task::spawn_blocking(move || t.join())).await;
    }
}
