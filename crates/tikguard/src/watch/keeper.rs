//! The state file while watch runs, kept by a thread of its own so that nothing on the receive
//! path waits on the disk: watch's records are appended in batches (one fsync each), the
//! records `watch block` and `watch unblock` append are read back and handed to the loop, and
//! the file is compacted when it has grown.
//!
//! Bound, stated: after each batch, a file longer than [`COMPACT_MIN`] and than twice its length
//! after the last compaction is compacted (only the blocks still running are kept;
//! [`super::state::Locked::compact`]). The file therefore stays under `max(COMPACT_MIN, 2 × the
//! running blocks' size)` plus one batch ([`BATCH`] records, some 160 bytes each); the running
//! blocks are bounded by `max-entries` per router. The thread also wakes each second, so
//! records appended by hand count as growth too.
//!
//! Every step holds the file's lock ([`super::state::StateFile::lock`]): the records others
//! appended are read before this watcher's own are appended, and before a compaction, so none
//! is lost or read twice, whoever writes meanwhile.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use super::state::{Record, StateFile};

/// Records waiting to be written, at most; past it a block is said and not kept.
pub const QUEUE: usize = 65_536;
/// Records written with one fsync, at most.
pub const BATCH: usize = 4096;
/// The file is never compacted below this length.
pub const COMPACT_MIN: u64 = 1 << 20;

/// What the loop gets from the keeper: records appended by others (`watch block`, `watch
/// unblock`) since the last read.
pub type FromOthers = tokio::sync::mpsc::Receiver<Vec<Record>>;

/// The running keeper: where to send records, and the thread to wait for at the end.
pub struct Keeper {
    pub tx: SyncSender<Record>,
    thread: std::thread::JoinHandle<()>,
}

impl Keeper {
    /// Starts keeping `state`, which is `len` bytes long after the compaction at start (the
    /// records before that are the loop's already).
    pub fn start(state: StateFile, len: u64) -> (Keeper, FromOthers) {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let (others_tx, others_rx) = tokio::sync::mpsc::channel(64);
        let thread = std::thread::Builder::new()
            .name("watch-state".into())
            .spawn(move || keep(state, len, rx, others_tx))
            .expect("a thread");
        (Keeper { tx, thread }, others_rx)
    }

    /// Writes what is queued and stops (waits at most `within`).
    pub async fn finish(self, within: Duration) {
        drop(self.tx);
        let t = self.thread;
        let _ = tokio::time::timeout(within, tokio::task::spawn_blocking(move || t.join())).await;
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn keep(
    state: StateFile,
    len: u64,
    rx: Receiver<Record>,
    others: tokio::sync::mpsc::Sender<Vec<Record>>,
) {
    let mut seen = len;
    let mut compacted = len;
    let mut open = true;
    while open {
        let mut batch = Vec::new();
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(r) => batch.push(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => open = false,
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Err(e) = step(&state, &batch, &mut seen, &mut compacted, &others) {
            crate::warn_line!("tikguard watch: {e}");
        }
    }
}

/// One turn, under the lock: others' records read, ours appended, compaction when due.
fn step(
    state: &StateFile,
    batch: &[Record],
    seen: &mut u64,
    compacted: &mut u64,
    others: &tokio::sync::mpsc::Sender<Vec<Record>>,
) -> Result<(), String> {
    let locked = state.lock()?;
    let len = locked.len()?;
    if len < *seen {
        // Rewritten shorter by someone else: read it whole.
        *seen = 0;
    }
    while *seen < len {
        let (records, end) = locked.records_since(*seen)?;
        if end == *seen {
            break; // Only a line cut by a crash is left.
        }
        *seen = end;
        if !records.is_empty() {
            // The loop reads these within a second; waiting for it here holds no receive path.
            let _ = others.blocking_send(records);
        }
    }
    if !batch.is_empty() {
        *seen = locked.append(batch)?;
    }
    if *seen > COMPACT_MIN.max(compacted.saturating_mul(2)) {
        let before = *seen;
        let (active, after) = locked.compact(now_ms())?;
        *seen = after;
        *compacted = after;
        crate::warn_line!(
            "tikguard watch: state file compacted: {before} bytes to {after} ({} running blocks)",
            active.len()
        );
    }
    Ok(())
}
