//! The audit log's files on disk: which file the proxy may write, with what mode, and one
//! proxy per log.
//!
//! - One writer: a proxy holds an exclusive `flock(2)` on `LOG.lock` (beside the log, 0600) for
//!   its whole life. A second proxy on the same log (a unit started twice, a test run beside
//!   production with the same configuration) would interleave its own chain into the file, and
//!   at start take the first one's line being written for a torn line and cut it; it is refused
//!   before it reads the log. The lock goes with the process however it ends (`kill -9`).
//! - Its own file: the log is opened without following a symbolic link, must be a regular file
//!   owned by the proxy's user, and is given exactly the configured mode (`audit-log-mode`,
//!   0640 by default: readable by the file's group, as Debian's logs are by `adm`; 0600 keeps
//!   the group out). The file's group is the proxy's group (the unit's `Group=tikguard`) or,
//!   in a setgid directory, the directory's. A file someone else owns could be rewritten
//!   by them behind the chain; a link could send the lines anywhere.
//! - A last line cut short (a crash mid-write, a full disk) is moved to `LOG.torn-SECONDS` and
//!   reported, never dropped silently.
//! - Starting on a big log reads it once, a line at a time (lines are counted, the first and
//!   last hashed): memory does not grow with the log.

use std::io::{BufRead, Read, Seek};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The default `audit-log-mode`.
pub const DEFAULT_MODE: u32 = 0o640;

/// Held for the proxy's life: the log's one writer.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Takes the lock of the log at `path`, or says that another proxy holds it.
pub fn lock(path: &Path) -> Result<Lock, String> {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    let p = PathBuf::from(p);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(nofollow())
        .open(&p)
        .map_err(|e| format!("{}: {e}", p.display()))?;
    use rustix::fs::{flock, FlockOperation};
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Lock { _file: file }),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(format!(
            "audit log {}: another tikguard proxy is writing it (it holds {}); each proxy needs its own audit-log",
            path.display(),
            p.display()
        )),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

fn nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// An open log: the file to append to, its lines, and the hashes of its first and last.
pub struct Opened {
    pub file: std::fs::File,
    pub lines: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Opens (or creates) the log for appending, checked as the module says; a torn last line is
/// moved aside. `fresh`: the path must hold no line yet (a reopen after a rotation), else it
/// is an error and nothing is changed.
pub fn open(path: &Path, mode: u32, fresh: bool) -> Result<Opened, String> {
    let show = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(nofollow())
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                format!(
                    "{}: a symbolic link; the audit log must be named by its own path",
                    path.display()
                )
            } else {
                show(e)
            }
        })?;
    let meta = file.metadata().map_err(show)?;
    // A device or a pipe would be read without end (`/dev/zero`), and cannot be truncated or
    // verified.
    if !meta.is_file() {
        return Err(format!(
            "{}: not a regular file; the audit log must be a file it can append to and verify",
            path.display()
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "{}: owned by user {}, not by the proxy's user ({me}); whoever owns it can rewrite it: move it away, or chown it",
            path.display(),
            meta.uid()
        ));
    }
    if fresh && meta.len() > 0 {
        return Err(format!(
            "{}: a non-empty file is at the log's path; still writing to the old file",
            path.display()
        ));
    }
    if meta.permissions().mode() & 0o7777 != mode {
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(show)?;
    }
    let keep = complete_len(&mut file, meta.len()).map_err(show)?;
    if keep < meta.len() {
        set_aside(path, &mut file, keep, meta.len(), mode)?;
    }
    let (lines, first, last) = scan(&mut file, keep).map_err(show)?;
    Ok(Opened {
        file,
        lines,
        first,
        last,
    })
}

/// The length of the file up to and with its last newline.
fn complete_len(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(std::io::SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Moves the bytes after `keep` to `LOG.torn-SECONDS` (synced), then cuts the log there.
fn set_aside(
    path: &Path,
    file: &mut std::fs::File,
    keep: u64,
    len: u64,
    mode: u32,
) -> Result<(), String> {
    let show = |e: std::io::Error| format!("{}: {e}", path.display());
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (aside, out) = (0..100)
        .find_map(|i| {
            let p = PathBuf::from(if i == 0 {
                format!("{}.torn-{secs}", path.display())
            } else {
                format!("{}.torn-{secs}.{i}", path.display())
            });
            match std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(mode)
                .custom_flags(nofollow())
                .open(&p)
            {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                r => Some((p, r)),
            }
        })
        .ok_or_else(|| format!("{}.torn-{secs}: 100 files of this name", path.display()))?;
    let mut out = out.map_err(|e| format!("{}: {e}", aside.display()))?;
    file.seek(std::io::SeekFrom::Start(keep)).map_err(show)?;
    out.set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| std::io::copy(&mut (&*file).take(len - keep), &mut out).map(|_| ()))
        .and_then(|()| out.sync_all())
        .map_err(|e| format!("{}: {e}", aside.display()))?;
    crate::warn_line!(
        "tikguard proxy: {} ended in a cut line ({} bytes); moved to {}",
        path.display(),
        len - keep,
        aside.display()
    );
    file.set_len(keep).map_err(show)?;
    file.sync_all().map_err(show)?;
    Ok(())
}

/// Lines in the first `len` bytes (which end with a newline), and the hashes of the first and
/// the last line.
fn scan(
    file: &mut std::fs::File,
    len: u64,
) -> std::io::Result<(u64, Option<String>, Option<String>)> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut r = std::io::BufReader::with_capacity(256 << 10, (&*file).take(len));
    let (mut line, mut last) = (Vec::new(), Vec::new());
    let mut lines = 0u64;
    let mut first = None;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line.pop();
        lines += 1;
        if lines == 1 {
            first = Some(super::auditlog::line_hash(&line));
        }
        std::mem::swap(&mut line, &mut last);
    }
    let last = (lines > 0).then(|| super::auditlog::line_hash(&last));
    Ok((lines, first, last))
}

/// Parses `audit-log-mode`: octal, the owner reading and writing, the group reading at most.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    let mode = u32::from_str_radix(digits, 8)
        .ok()
        .filter(|_| !digits.is_empty() && digits.len() <= 4)
        .ok_or_else(|| {
            format!("audit-log-mode `{text}`: expected an octal mode, \"0640\" or \"0600\"")
        })?;
    if mode & !0o640 != 0 || mode & 0o600 != 0o600 {
        return Err(format!(
            "audit-log-mode `{text}`: the log is read and written by its owner and read by its group at most (\"0640\" or \"0600\"); writable by others it proves nothing, readable by all it shows every command"
        ));
    }
    Ok(mode)
}

/// Syncs the directory holding `path` (after a file was created or renamed there).
pub fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_owner_read_write_and_group_read_at_most() {
        assert_eq!(parse_mode("0640"), Ok(0o640));
        assert_eq!(parse_mode("600"), Ok(0o600));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        for bad in [
            "0644", "0660", "0666", "0400", "0700", "4640", "rw", "", "06400",
        ] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_second_lock_on_the_same_log_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let first = lock(&log).unwrap();
        let e = lock(&log).unwrap_err();
        assert!(e.contains("another tikguard proxy"), "{e}");
        drop(first);
        lock(&log).unwrap();
    }

    #[test]
    fn the_log_gets_exactly_the_configured_mode_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        open(&log, 0o640, false).unwrap();
        assert_eq!(mode(&log), 0o640);
        // An existing file takes the configured mode.
        open(&log, 0o600, false).unwrap();
        assert_eq!(mode(&log), 0o600);
    }

    #[test]
    fn a_link_a_device_or_a_file_of_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        let link = dir.path().join("audit.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open(&link, 0o640, false).err().unwrap();
        assert!(e.contains("symbolic link"), "{e}");
        let e = open(Path::new("/dev/zero"), 0o640, false).err().unwrap();
        assert!(e.contains("not a regular file"), "{e}");
        if rustix::process::geteuid().is_root() {
            // Root can make a file another user owns.
            let theirs = dir.path().join("theirs.jsonl");
            std::fs::write(&theirs, "").unwrap();
            rustix::fs::chown(&theirs, Some(rustix::fs::Uid::from_raw(65534)), None).unwrap();
            let e = open(&theirs, 0o640, false).err().unwrap();
            assert!(e.contains("owned by user 65534"), "{e}");
        }
    }

    #[test]
    fn a_big_log_is_scanned_a_line_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("{{\"n\":{i}}}\n"));
        }
        std::fs::write(&log, &text).unwrap();
        let o = open(&log, 0o640, false).unwrap();
        assert_eq!(o.lines, 20_000);
        assert_eq!(
            o.first.as_deref(),
            Some(super::super::auditlog::line_hash(b"{\"n\":0}").as_str())
        );
        assert_eq!(
            o.last.as_deref(),
            Some(super::super::auditlog::line_hash(b"{\"n\":19999}").as_str())
        );
        // Not fresh: refused, and left as it was.
        assert!(open(&log, 0o640, true).err().unwrap().contains("non-empty"));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), text);
    }
}
