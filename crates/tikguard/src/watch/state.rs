//! Watch's state file: one JSON line per block and per unblock, appended and fsync'd, 0600.
//! On start the blocks still running are read back ([`StateFile::active`]), per address and
//! router, with their offence count (escalation goes on across restarts), and the routers'
//! lists are reconciled with them: what is missing is added with the time left, and entries of
//! watch's own (their comment starts with `tikguard-watch:`) that the state does not hold are
//! removed. Addresses are compared in canonical form ([`super::blocks::canon`]): an unblock
//! of `203.0.113.9/32` or of an uncompressed IPv6 address removes the block all the same.
//! Every writer holds the file's lock ([`StateFile::lock`]); while watch runs, [`super::keeper`]
//! writes it and compacts it.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One line of the state file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Record {
    Block {
        address: String,
        v6: bool,
        /// Routers it was put on.
        routers: Vec<String>,
        /// Milliseconds since the epoch when it ends.
        until_ms: u64,
        /// 1 for a first block of this source on these routers, 2 for the second...
        #[serde(default)]
        offence: u32,
    },
    Unblock {
        address: String,
        /// The routers it ends on (`watch unblock --router`); every router when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        routers: Option<Vec<String>>,
    },
}

impl Record {
    /// An unblock of `address` on every router.
    pub fn unblock(address: &str) -> Record {
        Record::Unblock {
            address: address.to_string(),
            routers: None,
        }
    }
}

/// Held by the running watch for its whole life: an exclusive `flock(2)` on `STATE.lock`
/// (beside the state file, 0600). A second watch on the same state file (a unit started twice,
/// a test run beside production with the same configuration) would compact the file under the
/// first and reconcile the same entries as its own; it is refused at start instead. The lock
/// goes with the process, however it ends (`kill -9` included): nothing stale is left behind.
/// `watch block` and `watch unblock` only append, and do not take it.
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the lock for `state`, or says which file another watch holds.
    pub fn take(state: &Path) -> Result<RunLock, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut p = state.as_os_str().to_owned();
        p.push(".lock");
        let p = PathBuf::from(p);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&p)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        use rustix::fs::{flock, FlockOperation};
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(format!(
                "state {}: another watch is running on this state file (it holds {}); each \
                 watcher needs its own `instance` and `state`",
                state.display(),
                p.display()
            )),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    }
}

/// Creates `path` anew, 0600 from its creation: a file left there (by a crash, or put there
/// with other permissions) is removed first, never reused, since opening an existing file keeps
/// its permissions whatever mode is asked.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: &Path) -> StateFile {
        StateFile {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length now (0 when it is missing).
    pub fn len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file opened (created 0600 when missing) and locked: an exclusive `flock(2)` on it,
    /// held until the guard is dropped. Every writer takes it (the running watch's appends and
    /// compaction, `watch block` and `watch unblock`), so an append made while the file is
    /// being compacted is neither lost with the old file nor written into it after it was read:
    /// a writer that got the lock on a file since renamed away opens the new one and locks again.
    pub fn lock(&self) -> Result<Locked<'_>, String> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let show = |e: std::io::Error| format!("{}: {e}", self.path.display());
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)
                .map_err(show)?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            let held = file.metadata().map_err(show)?;
            match std::fs::metadata(&self.path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                    return Ok(Locked { state: self, file })
                }
                // Renamed over (compacted) or removed meanwhile: take the file there now.
                _ => continue,
            }
        }
    }

    /// Appends records under the lock, one fsync for all; the file's length after.
    pub fn append_all(&self, records: &[Record]) -> Result<u64, String> {
        self.lock()?.append(records)
    }

    pub fn append(&self, r: &Record) -> Result<(), String> {
        self.append_all(std::slice::from_ref(r)).map(|_| ())
    }

    /// Rewrites the file with only the blocks still running at `now_ms`, under the lock; returns
    /// them. See [`Locked::compact`].
    pub fn compact(&self, now_ms: u64) -> Result<Running, String> {
        self.lock()?.compact(now_ms).map(|(active, _)| active)
    }

    /// Blocks still running at `now_ms`, by (canonical address, router): the last record for
    /// a pair wins, an unblock of an address ends it on the routers it names (every router when it
    /// names none). Lines that do not parse
    /// (a line cut by a crash, a damaged one) are skipped, and only they.
    pub fn active(&self, now_ms: u64) -> Result<Running, String> {
        // Bytes, not text: one damaged line (invalid UTF-8 after a torn write) must not cost
        // the others.
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let mut out: HashMap<(String, String), Active> = HashMap::new();
        for line in text.split(|&b| b == b'\n') {
            match serde_json::from_slice::<Record>(line) {
                Ok(Record::Block {
                    address,
                    v6,
                    routers,
                    until_ms,
                    offence,
                }) => {
                    let Some(address) = super::blocks::canon(&address) else {
                        continue;
                    };
                    for router in routers {
                        out.insert(
                            (address.clone(), router.clone()),
                            Active {
                                address: address.clone(),
                                router,
                                v6,
                                until_ms,
                                offence,
                            },
                        );
                    }
                }
                Ok(Record::Unblock { address, routers }) => {
                    if let Some(address) = super::blocks::canon(&address) {
                        out.retain(|(a, r), _| {
                            *a != address || routers.as_ref().is_some_and(|only| !only.contains(r))
                        });
                    }
                }
                Err(_) => {}
            }
        }
        out.retain(|_, a| a.until_ms > now_ms);
        Ok(out)
    }
}

/// The state file locked ([`StateFile::lock`]).
pub struct Locked<'a> {
    state: &'a StateFile,
    file: std::fs::File,
}

impl Locked<'_> {
    fn show(&self, e: std::io::Error) -> String {
        format!("{}: {e}", self.state.path.display())
    }

    /// The file's length.
    pub fn len(&self) -> Result<u64, String> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| self.show(e))
    }

    pub fn is_empty(&self) -> Result<bool, String> {
        self.len().map(|n| n == 0)
    }

    /// The records written after byte `from` (by `watch unblock` and `watch block`), and where
    /// the last complete line ends; at most 64 MiB at once.
    pub fn records_since(&self, from: u64) -> Result<(Vec<Record>, u64), String> {
        use std::io::{Read, Seek};
        let mut f = &self.file;
        let len = self.len()?;
        // A file rewritten shorter meanwhile: read it whole.
        let from = if from > len { 0 } else { from };
        f.seek(std::io::SeekFrom::Start(from))
            .map_err(|e| self.show(e))?;
        let mut text = Vec::new();
        f.take(64 << 20)
            .read_to_end(&mut text)
            .map_err(|e| self.show(e))?;
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let out = text[..complete]
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice::<Record>(line).ok())
            .collect();
        Ok((out, from + complete as u64))
    }

    /// Appends records, one fsync for all; the file's length after. After a line cut by a
    /// crash, a new line is started rather than the broken one extended.
    pub fn append(&self, records: &[Record]) -> Result<u64, String> {
        use std::os::unix::fs::FileExt;
        let mut text = Vec::new();
        let len = self.len()?;
        if len > 0 {
            let mut last = [0u8];
            self.file
                .read_at(&mut last, len - 1)
                .map_err(|e| self.show(e))?;
            if last[0] != b'\n' {
                text.push(b'\n');
            }
        }
        for r in records {
            text.extend(serde_json::to_vec(r).map_err(|e| e.to_string())?);
            text.push(b'\n');
        }
        (&self.file).write_all(&text).map_err(|e| self.show(e))?;
        self.file.sync_data().map_err(|e| self.show(e))?;
        self.len()
    }

    /// Rewrites the file with only the blocks still running at `now_ms` (atomically: a new file,
    /// 0600 from its creation, renamed over the old one), so that it does not grow without end;
    /// returns them and the new file's length. The lock goes with the old file: writers
    /// waiting on it then take the new one.
    pub fn compact(self, now_ms: u64) -> Result<(Running, u64), String> {
        let path = &self.state.path;
        let active = self.state.active(now_ms)?;
        let show = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut tmp = path.clone().into_os_string();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let mut f = create_private(&tmp).map_err(show)?;
        let mut text = Vec::new();
        for a in active.values() {
            let r = Record::Block {
                address: a.address.clone(),
                v6: a.v6,
                routers: vec![a.router.clone()],
                until_ms: a.until_ms,
                offence: a.offence,
            };
            text.extend(serde_json::to_vec(&r).map_err(|e| e.to_string())?);
            text.push(b'\n');
        }
        f.write_all(&text).map_err(show)?;
        f.sync_all().map_err(show)?;
        std::fs::rename(&tmp, path).map_err(show)?;
        // The rename itself on disk (best effort: not every file system syncs a directory).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((active, text.len() as u64))
    }
}

/// The blocks running, by (canonical address, router).
pub type Running = HashMap<(String, String), Active>;

/// A block running on one router, as the state file holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Active {
    /// Canonical ([`super::blocks::canon`]).
    pub address: String,
    pub router: String,
    pub v6: bool,
    pub until_ms: u64,
    pub offence: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state file damaged on disk (a torn write, a flipped byte making a line invalid UTF-8,
    /// NUL bytes left by a crash on some file systems) loses only the damaged lines: the blocks
    /// on the others still come back, and start-up is not refused.
    #[test]
    fn a_damaged_state_file_loses_only_its_damaged_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.jsonl");
        let s = StateFile::new(&p);
        let block = |a: &str| Record::Block {
            address: a.into(),
            v6: false,
            routers: vec!["r".into()],
            until_ms: 9_000,
            offence: 2,
        };
        s.append(&block("192.0.2.1")).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"op\":\"block\",\"address\":\"192.0.2.\xff\"}\n\0\0\0\n")
            .unwrap();
        s.append(&block("192.0.2.2")).unwrap();
        let active = s.active(1_000).unwrap();
        let mut got: Vec<_> = active.keys().map(|(a, _)| a.as_str()).collect();
        got.sort();
        assert_eq!(got, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(s.compact(1_000).unwrap().len(), 2);
        assert_eq!(s.active(1_000).unwrap().len(), 2);
    }

    #[test]
    fn blocks_survive_and_unblocks_and_expiry_remove_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateFile::new(&dir.path().join("state.jsonl"));
        let block = |a: &str, until: u64| Record::Block {
            address: a.into(),
            v6: false,
            routers: vec!["r".into()],
            until_ms: until,
            offence: 1,
        };
        s.append(&block("192.0.2.1", 1_000)).unwrap();
        s.append(&block("192.0.2.2", 5_000)).unwrap();
        s.append(&block("192.0.2.3", 5_000)).unwrap();
        s.append(&Record::Unblock {
            address: "192.0.2.3".into(),
            routers: None,
        })
        .unwrap();
        // A line cut by a crash.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("state.jsonl"))
            .unwrap()
            .write_all(b"{\"op\":\"blo")
            .unwrap();
        let active = s.active(2_000).unwrap();
        assert_eq!(
            active.keys().collect::<Vec<_>>(),
            [&("192.0.2.2".to_string(), "r".to_string())]
        );
        // Appending after the cut line starts a new line: the record is not lost.
        s.append(&block("192.0.2.4", 9_000)).unwrap();
        assert!(s
            .active(2_000)
            .unwrap()
            .contains_key(&("192.0.2.4".to_string(), "r".to_string())));
        // Compacting keeps exactly what is running.
        let lines = |p: &Path| std::fs::read_to_string(p).unwrap().lines().count();
        assert_eq!(lines(&dir.path().join("state.jsonl")), 6);
        let kept = s.compact(2_000).unwrap();
        assert_eq!(lines(&dir.path().join("state.jsonl")), 2);
        assert_eq!(s.active(2_000).unwrap(), kept);
        // An unblock in another spelling ends the block all the same.
        s.append(&Record::Unblock {
            address: "192.0.2.2/32".into(),
            routers: None,
        })
        .unwrap();
        s.append(&block("2001:db8::1", 9_000)).unwrap();
        s.append(&Record::Unblock {
            address: "2001:0db8:0000:0000:0000:0000:0000:0001".into(),
            routers: None,
        })
        .unwrap();
        assert_eq!(
            s.active(2_000).unwrap().keys().collect::<Vec<_>>(),
            [&("192.0.2.4".to_string(), "r".to_string())]
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("state.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// `watch block` and `watch unblock` append while the running watch compacts: every record
    /// appended is in the file afterwards (an append to the old file after it was read, or
    /// into the old file after the rename, would be lost).
    #[test]
    fn appends_made_while_the_file_is_compacted_are_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.jsonl");
        let n = 150;
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || {
                let s = StateFile::new(&p);
                for i in 0..n {
                    s.append(&Record::Block {
                        address: format!("192.0.2.{}", i % 100),
                        v6: false,
                        routers: vec![format!("r{}", i / 100)],
                        until_ms: 9_000,
                        offence: 1,
                    })
                    .unwrap();
                }
            })
        };
        let s = StateFile::new(&p);
        let mut compactions = 0;
        while !writer.is_finished() {
            s.compact(1_000).unwrap();
            compactions += 1;
        }
        writer.join().unwrap();
        assert!(compactions > 1);
        assert_eq!(s.active(1_000).unwrap().len(), n);
    }
}
