//! Watch's state file: one JSON line per block and per unblock, appended and fsync'd, 0600.
//! On start the blocks still running are read back ([`active`]) and the routers' lists are
//! reconciled with them: what is missing is added with the time left, and entries of watch's own
//! (their comment starts with `tikguard-watch:`) that the state does not hold are removed.

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
    },
    Unblock {
        address: String,
    },
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

    pub fn append(&self, r: &Record) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let show = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(show)?;
        let mut line = Vec::new();
        // After a line cut by a crash, start a new one rather than extend the broken one.
        let len = f.metadata().map_err(show)?.len();
        if len > 0 {
            use std::os::unix::fs::FileExt;
            let mut last = [0u8];
            f.read_at(&mut last, len - 1).map_err(show)?;
            if last[0] != b'\n' {
                line.push(b'\n');
            }
        }
        line.extend(serde_json::to_vec(r).map_err(|e| e.to_string())?);
        line.push(b'\n');
        f.write_all(&line).map_err(show)?;
        f.sync_data().map_err(show)
    }

    /// Rewrites the file with only the blocks still running at `now_ms` (atomically: a new file
    /// renamed over the old one, 0600), so that it does not grow without end; returns them.
    pub fn compact(&self, now_ms: u64) -> Result<HashMap<String, Record>, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let active = self.active(now_ms)?;
        if !self.path.exists() {
            return Ok(active);
        }
        let show = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(show)?;
        let mut text = Vec::new();
        for r in active.values() {
            text.extend(serde_json::to_vec(r).map_err(|e| e.to_string())?);
            text.push(b'\n');
        }
        f.write_all(&text).map_err(show)?;
        f.sync_all().map_err(show)?;
        std::fs::rename(&tmp, &self.path).map_err(show)?;
        Ok(active)
    }

    /// Blocks still running at `now_ms`, by address (the last record for an address wins).
    /// Lines that do not parse (a line cut by a crash) are skipped.
    pub fn active(&self, now_ms: u64) -> Result<HashMap<String, Record>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let mut out = HashMap::new();
        for line in text.lines() {
            match serde_json::from_str::<Record>(line) {
                Ok(r @ Record::Block { .. }) => {
                    if let Record::Block { address, .. } = &r {
                        out.insert(address.clone(), r.clone());
                    }
                }
                Ok(Record::Unblock { address }) => {
                    out.remove(&address);
                }
                Err(_) => {}
            }
        }
        out.retain(|_, r| matches!(r, Record::Block { until_ms, .. } if *until_ms > now_ms));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_survive_and_unblocks_and_expiry_remove_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateFile::new(&dir.path().join("state.jsonl"));
        let block = |a: &str, until: u64| Record::Block {
            address: a.into(),
            v6: false,
            routers: vec!["r".into()],
            until_ms: until,
        };
        s.append(&block("192.0.2.1", 1_000)).unwrap();
        s.append(&block("192.0.2.2", 5_000)).unwrap();
        s.append(&block("192.0.2.3", 5_000)).unwrap();
        s.append(&Record::Unblock {
            address: "192.0.2.3".into(),
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
        assert_eq!(active.keys().collect::<Vec<_>>(), ["192.0.2.2"]);
        // Appending after the cut line starts a new line: the record is not lost.
        s.append(&block("192.0.2.4", 9_000)).unwrap();
        assert!(s.active(2_000).unwrap().contains_key("192.0.2.4"));
        // Compacting keeps exactly what is running.
        let lines = |p: &Path| std::fs::read_to_string(p).unwrap().lines().count();
        assert_eq!(lines(&dir.path().join("state.jsonl")), 6);
        let kept = s.compact(2_000).unwrap();
        assert_eq!(lines(&dir.path().join("state.jsonl")), 2);
        assert_eq!(s.active(2_000).unwrap(), kept);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("state.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
