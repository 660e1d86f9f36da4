//! The audit log's checkpoints: the head of the chain (how many lines the file has and the hash
//! of the last), written by the proxy every N lines and seconds and at shutdown, to a file and
//! to standard error (the journal), optionally signed with an Ed25519 key.
//!
//! The chain proves the lines before a line were not changed, not that nothing came after the
//! last: deleting the tail, or editing a line and recomputing every later `prev`, leaves a
//! valid chain. A checkpoint pins the file's line N; [`verify`] finds a log shorter than a
//! checkpoint or whose line N is not the one checkpointed.
//!
//! A checkpoint names its file by `first`, the hash of the file's line 1: after a rotation
//! (SIGHUP) the journal holds checkpoints of several files, and each file is checked against
//! its own. A log that no checkpoint names (its first line replaced, or the whole file) fails.
//!
//! A signature (`sig`, with `key`, the public key) covers every field: whoever can write the log
//! and the checkpoint file but cannot read the key cannot make a checkpoint for a rewritten
//! log. It cannot stop an older signed checkpoint being put back: keep the journal's copies
//! (shipped off the machine) to compare with.
//!
//! Keys are Ed25519 ([RFC 8032]) through *ring*, which the TLS stack already uses; a private key
//! file is PKCS#8 (PEM or DER, as `tikguard proxy keygen` and `openssl genpkey -algorithm
//! ed25519` write it) or the raw 32-byte seed, and must not be readable by group or others.
//! Checkpoints hold hashes, never a secret.
//!
//! [RFC 8032]: https://www.rfc-editor.org/rfc/rfc8032

use std::io::{BufRead, Write};
use std::path::Path;

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

/// A private key the proxy signs checkpoints with.
pub struct Signer {
    pair: Ed25519KeyPair,
    public: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        write!(f, "Signer({})", self.public)
    }
}

impl Signer {
    /// Reads a private key file: PKCS#8 (PEM `PRIVATE KEY`, or DER) or a raw 32-byte seed.
    /// A file readable by its group or by others is refused: whoever reads the key can sign a
    /// checkpoint for a rewritten log.
    pub fn load(path: &Path) -> Result<Signer, String> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let show = |e: std::io::Error| format!("checkpoint-key {}: {e}", path.display());
        let mut f = std::fs::File::open(path).map_err(show)?;
        let meta = f.metadata().map_err(show)?;
        if !meta.is_file() {
            return Err(format!(
                "checkpoint-key {}: not a regular file",
                path.display()
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "checkpoint-key {}: readable by group or others (mode {mode:04o}); whoever reads it can sign checkpoints: `chmod 600` it",
                path.display()
            ));
        }
        let mut bytes = Vec::new();
        // A key file is small; a bigger one is not a key (and not read whole).
        Read::by_ref(&mut f)
            .take(16 << 10)
            .read_to_end(&mut bytes)
            .map_err(show)?;
        let pair = parse_private(&bytes)
            .map_err(|why| format!("checkpoint-key {}: {why}", path.display()))?;
        Ok(Signer::from_pair(pair))
    }

    fn from_pair(pair: Ed25519KeyPair) -> Signer {
        let public = hex::encode(pair.public_key().as_ref());
        Signer { pair, public }
    }

    /// The public key, hex (what `verify-log --public-key` takes).
    pub fn public_hex(&self) -> &str {
        &self.public
    }
}

fn parse_private(bytes: &[u8]) -> Result<Ed25519KeyPair, String> {
    use rustls_pki_types::pem::{PemObject, SectionKind};
    let not_ed25519 = |e: ring::error::KeyRejected| {
        format!("not an Ed25519 private key ({e}); make one with `tikguard proxy keygen FILE`")
    };
    if bytes.starts_with(b"-----BEGIN") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let (kind, der) = <(SectionKind, Vec<u8>)>::from_pem_slice(bytes)
            .map_err(|e| format!("not a PEM key: {e}"))?;
        if kind != SectionKind::PrivateKey {
            return Err(format!(
                "a PEM {kind:?}, not a `PRIVATE KEY` (PKCS#8); make one with `tikguard proxy keygen FILE`"
            ));
        }
        return Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(not_ed25519);
    }
    if bytes.len() == 32 {
        return Ed25519KeyPair::from_seed_unchecked(bytes).map_err(not_ed25519);
    }
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(not_ed25519)
}

/// Makes a new key pair: the private key to `path` (PKCS#8 PEM, mode 0600, never over an
/// existing file), and returns the public key (hex).
pub fn keygen(path: &Path) -> Result<String, String> {
    use base64::Engine;
    use ring::rand::SecureRandom;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| "the system's random source failed".to_string())?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|e| format!("the generated key does not parse: {e}"))?;
    // PKCS#8 v1 (RFC 8410 section 7, its example in 10.3): this prefix, then the seed. What
    // `openssl genpkey -algorithm ed25519` writes; OpenSSL 3.0 does not read ring's v2 form.
    const PKCS8_V1: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut pkcs8 = PKCS8_V1.to_vec();
    pkcs8.extend_from_slice(&seed);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pkcs8);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let show = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{}: already exists; a new key is never written over one (remove it first, and keep its public key to verify older checkpoints)",
                    path.display()
                )
            } else {
                show(e)
            }
        })?;
    // The umask may have taken bits away; never added any: 0600 exactly.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| f.write_all(pem.as_bytes()))
        .and_then(|()| f.sync_all())
        .map_err(show)?;
    Ok(Signer::from_pair(pair).public)
}

/// A public key from `--public-key`: 64 hex digits, or a file holding them or a PEM `PUBLIC
/// KEY` (`openssl pkey -pubout`).
pub fn public_key(arg: &str) -> Result<[u8; 32], String> {
    use rustls_pki_types::pem::PemObject;
    fn from_hex(s: &str) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).ok().map(|()| out)
    }
    if let Some(k) = from_hex(arg) {
        return Ok(k);
    }
    let bytes = std::fs::read(arg).map_err(|e| {
        format!("--public-key {arg}: neither 64 hex digits nor a readable file ({e})")
    })?;
    if let Some(k) = std::str::from_utf8(&bytes).ok().and_then(from_hex) {
        return Ok(k);
    }
    // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 section 4): this prefix, then the key.
    const SPKI: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let der = rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(&bytes)
        .map_err(|e| format!("--public-key {arg}: not 64 hex digits nor a PEM public key ({e})"))?;
    match der.as_ref().strip_prefix(&SPKI[..]) {
        Some(k) if k.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(k);
            Ok(out)
        }
        _ => Err(format!("--public-key {arg}: not an Ed25519 public key")),
    }
}

/// One checkpoint, as written (a JSON object on one line).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub time: String,
    /// The log's path, as configured.
    pub log: String,
    /// The hash of the file's line 1 (`None` while it has none): which file this is.
    #[serde(default)]
    pub first: Option<String>,
    /// Lines in the file, and the hash of the last.
    pub lines: u64,
    pub head: String,
    /// The signer's public key and the signature (hex), when the proxy has a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl Checkpoint {
    /// A checkpoint of now, signed when there is a key.
    pub fn new(
        log: &str,
        first: Option<&str>,
        lines: u64,
        head: &str,
        signer: Option<&Signer>,
    ) -> Checkpoint {
        let mut cp = Checkpoint {
            time: super::auditlog::now_rfc3339(),
            log: log.to_string(),
            first: first.map(String::from),
            lines,
            head: head.to_string(),
            key: None,
            sig: None,
        };
        if let Some(s) = signer {
            cp.key = Some(s.public.clone());
            cp.sig = Some(hex::encode(s.pair.sign(&cp.message()).as_ref()));
        }
        cp
    }

    /// The bytes signed: every field but the signature, in a fixed order, each on its own
    /// line; the log's path (the one field that could hold a newline) last.
    fn message(&self) -> Vec<u8> {
        format!(
            "tikguard proxy checkpoint 1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.time,
            self.first.as_deref().unwrap_or(""),
            self.lines,
            self.head,
            self.key.as_deref().unwrap_or(""),
            self.log
        )
        .into_bytes()
    }

    /// The checkpoint as a line (without its newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether the signature verifies with `key`; why not otherwise.
    fn check_signature(&self, key: &[u8; 32]) -> Result<(), String> {
        let Some(sig) = &self.sig else {
            return Err("not signed".into());
        };
        if let Some(k) = &self.key {
            if !k.eq_ignore_ascii_case(&hex::encode(key)) {
                return Err(format!(
                    "signed with another key ({}), not the one given",
                    crate::term::printable(k)
                ));
            }
        }
        let sig = hex::decode(sig).map_err(|_| "its signature is not hex".to_string())?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
            .verify(&self.message(), &sig)
            .map_err(|_| {
                "its signature does not verify: the checkpoint was edited after it was signed"
                    .to_string()
            })
    }
}

/// Writes `cp` to `path`, atomically (a new file, synced, renamed over the old; the directory
/// synced), with exactly `mode`.
pub fn write(path: &Path, cp: &Checkpoint, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let show = |e: std::io::Error| format!("{}: {e}", path.display());
    let tmp = std::path::PathBuf::from(format!("{}.tmp", path.display()));
    // A file or a link left at the temporary name (a crash, or someone else) is replaced, never
    // written through.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(show(e)),
        _ => {}
    }
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&tmp)
            .map_err(show)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|()| f.write_all(format!("{}\n", cp.to_line()).as_bytes()))
            .and_then(|()| f.sync_all())
            .map_err(show)?;
    }
    std::fs::rename(&tmp, path).map_err(show)?;
    super::logfile::sync_dir(path);
    Ok(())
}

/// At start, before a new checkpoint replaces it: whether the checkpoint left by the last run
/// (`cp`) still holds for the log, which has `lines` lines now. A new checkpoint covers every
/// line of the log: written over a log whose tail was changed while no proxy ran, it would
/// vouch (signed, with a key) for the change. So a checkpoint that does not hold is kept as
/// `CHECKPOINT.before-SECONDS` and said on standard error, and lines after it (written before a
/// crash, or added while no proxy ran: only the journal can tell) are counted there too. The
/// proxy starts either way: the log goes on, and the evidence is kept.
pub fn before_start(
    log: &Path,
    cp: &Path,
    lines: u64,
    signer: Option<&Signer>,
) -> Result<(), String> {
    if !cp.exists() {
        return Ok(());
    }
    let key = signer.and_then(|s| public_key(&s.public).ok());
    let why = match verify(log, cp, key.as_ref()) {
        Ok(Ok(held)) => {
            if lines > held.covered && held.covered > 0 {
                crate::warn_line!(
                    "tikguard proxy: audit log {}: lines {} to {lines} came after the last checkpoint (written before the proxy stopped without one, or added while no proxy ran; the journal's checkpoints tell)",
                    log.display(),
                    held.covered + 1
                );
            }
            return Ok(());
        }
        Ok(Err(why)) => why,
        // Unreadable: kept aside too, rather than replaced unread.
        Err(e) => e,
    };
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = std::path::PathBuf::from(format!("{}.before-{secs}", cp.display()));
    std::fs::rename(cp, &aside).map_err(|e| format!("{}: {e}", cp.display()))?;
    super::logfile::sync_dir(cp);
    crate::warn_line!(
        "tikguard proxy: audit log {}: the checkpoint of the last run does not hold ({}); kept as {}: the log was changed, rotated or replaced while no proxy ran",
        log.display(),
        crate::term::printable(&why),
        aside.display()
    );
    Ok(())
}

/// What [`verify`] found in an intact log.
#[derive(Debug, PartialEq, Eq)]
pub struct Held {
    /// Checkpoints of this file that hold (line N is the line checkpointed).
    pub held: usize,
    /// The most lines a checkpoint of this file covers.
    pub covered: u64,
    /// Checkpoints of other files (before or after a rotation), not compared.
    pub others: usize,
    /// Every checkpoint compared was signed and verified with the given key.
    pub signed: bool,
}

/// A checkpoint read from a file, with its line there.
#[derive(Debug)]
struct Read {
    line: usize,
    cp: Checkpoint,
}

/// The checkpoints in `path`: the proxy's checkpoint file (one), or the journal's lines
/// (`journalctl -u tikguard-proxy -o cat > F`: every line saying `audit log checkpoint {...}`,
/// other lines skipped), or any file of such JSON lines. `Ok(Err(why))` names a line that is
/// not a checkpoint.
fn read_checkpoints(path: &Path) -> Result<Result<Vec<Read>, String>, String> {
    const MARK: &str = "audit log checkpoint ";
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut r = std::io::BufReader::new(f);
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        // A checkpoint line is short; a longer line is read on, not kept whole.
        let read = std::io::Read::take(&mut r, 64 << 10)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        if buf.last() != Some(&b'\n') && read == 64 << 10 {
            r.skip_until(b'\n')
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        n += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        let json = if text.starts_with('{') {
            text
        } else if let Some(i) = text.find(MARK) {
            &text[i + MARK.len()..]
        } else {
            continue;
        };
        match serde_json::from_str::<Checkpoint>(json) {
            Ok(cp) => out.push(Read { line: n, cp }),
            Err(e) => {
                return Ok(Err(format!(
                    "{} line {n}: not a checkpoint ({e})",
                    path.display()
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no checkpoint in it (a line `{{\"time\":...,\"lines\":N,\"head\":...}}`, as the proxy writes to `checkpoint =` and the journal)",
            path.display()
        ));
    }
    Ok(Ok(out))
}

/// Checks `log` against the checkpoints in `checkpoints` ([`read_checkpoints`]). With `key`,
/// every checkpoint must carry a signature that verifies with it. Each checkpoint of this file
/// (same first line; a checkpoint without `first` is taken as this file's) must find the log at
/// least as long, with its line N hashing to the checkpointed head. `Ok(Err(why))` when not,
/// naming the checkpoint's line.
pub fn verify(
    log: &Path,
    checkpoints: &Path,
    key: Option<&[u8; 32]>,
) -> Result<Result<Held, String>, String> {
    let cps = match read_checkpoints(checkpoints)? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let at = |r: &Read| format!("{} line {}", checkpoints.display(), r.line);
    if let Some(key) = key {
        for r in &cps {
            if let Err(why) = r.cp.check_signature(key) {
                return Ok(Err(format!(
                    "{}: the checkpoint of {}: {why}",
                    at(r),
                    r.cp.time
                )));
            }
        }
    }
    let f = std::fs::File::open(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let mut line = Vec::new();
    let mut read_line = |line: &mut Vec<u8>| -> Result<bool, String> {
        line.clear();
        let n = reader
            .read_until(b'\n', line)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(false);
        }
        line.pop();
        Ok(true)
    };
    let first = if read_line(&mut line)? {
        Some(super::auditlog::line_hash(&line))
    } else {
        None
    };
    // Checkpoints of this file, by line number.
    let mut want: std::collections::BTreeMap<u64, Vec<&Read>> = Default::default();
    let mut others = 0;
    let mut named = 0;
    for r in &cps {
        if r.cp.lines == 0 {
            continue;
        }
        named += 1;
        match &r.cp.first {
            Some(f) if Some(f) != first.as_ref() => others += 1,
            _ => want.entry(r.cp.lines).or_default().push(r),
        }
    }
    if want.is_empty() && named > 0 {
        return Ok(Err(format!(
            "no checkpoint in {} is of this log (a checkpoint names its file by the hash of line 1): its first line was replaced, or the whole file; or give the checkpoints written while this file was the log (the journal's `audit log checkpoint` lines)",
            checkpoints.display()
        )));
    }
    let covered = want.keys().last().copied().unwrap_or(0);
    let mut n = 0u64;
    let mut have = first.is_some();
    while have {
        n += 1;
        if let Some(rs) = want.get(&n) {
            let hash = super::auditlog::line_hash(&line);
            for r in rs {
                if hash != r.cp.head {
                    return Ok(Err(format!(
                        "line {n} is not the line checkpointed at {} ({}): it, or a line before it, was edited and the chain rewritten",
                        r.cp.time,
                        at(r)
                    )));
                }
            }
        }
        if n >= covered {
            break;
        }
        have = read_line(&mut line)?;
    }
    if n < covered {
        let r = want[&covered][0];
        return Ok(Err(format!(
            "the log has {n} complete lines; the checkpoint of {} ({}) says {covered}: lines {} to {covered} were deleted",
            r.cp.time,
            at(r),
            n + 1
        )));
    }
    Ok(Ok(Held {
        held: want.values().map(|v| v.len()).sum(),
        covered,
        others,
        signed: key.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> (tempfile::TempDir, Signer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.key");
        let public = keygen(&path).unwrap();
        let s = Signer::load(&path).unwrap();
        assert_eq!(s.public_hex(), public);
        (dir, s)
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_an_edited_one_does_not() {
        let (_d, s) = signer();
        let key = public_key(s.public_hex()).unwrap();
        let cp = Checkpoint::new("/var/log/a.jsonl", Some("aa"), 7, "bb", Some(&s));
        assert_eq!(cp.check_signature(&key), Ok(()));
        let back: Checkpoint = serde_json::from_str(&cp.to_line()).unwrap();
        assert_eq!(back.check_signature(&key), Ok(()));
        for edit in [
            |c: &mut Checkpoint| c.lines = 8,
            |c: &mut Checkpoint| c.head = "bc".into(),
            |c: &mut Checkpoint| c.first = Some("ab".into()),
            |c: &mut Checkpoint| c.time = "2020-01-01T00:00:00Z".into(),
            |c: &mut Checkpoint| c.log = "/tmp/x".into(),
        ] {
            let mut c = cp.clone();
            edit(&mut c);
            assert!(c.check_signature(&key).unwrap_err().contains("edited"));
        }
        let mut unsigned = cp.clone();
        unsigned.sig = None;
        assert_eq!(unsigned.check_signature(&key), Err("not signed".into()));
    }

    #[test]
    fn a_checkpoint_signed_with_another_key_fails() {
        let (_d, s) = signer();
        let (_e, other) = signer();
        let cp = Checkpoint::new("l", None, 1, "h", Some(&s));
        let other_key = public_key(other.public_hex()).unwrap();
        assert!(cp
            .check_signature(&other_key)
            .unwrap_err()
            .contains("another key"));
        // The `key` field removed: the signature itself fails.
        let mut c = cp.clone();
        c.key = None;
        assert!(c.check_signature(&other_key).is_err());
    }

    #[test]
    fn a_key_readable_by_group_or_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.key");
        keygen(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = Signer::load(&path).unwrap_err();
            assert!(
                e.contains(&format!("mode {mode:04o}")) && e.contains("chmod 600"),
                "{e}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        Signer::load(&path).unwrap();
    }

    #[test]
    fn keygen_never_overwrites_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.key");
        keygen(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(keygen(&path).unwrap_err().contains("already exists"));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    /// The formats a key comes in: PEM PKCS#8 (v1 as OpenSSL and keygen write it), DER (v1, and
    /// v2 with the public key, as ring makes it), a raw seed; the public key as hex, or PEM
    /// SubjectPublicKeyInfo.
    #[test]
    fn keys_in_every_accepted_form_agree() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // RFC 8410 section 10.3's example key: PKCS#8 v1, as `openssl genpkey` writes it.
        let v1 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        // Its public key, from the RFC (section 10.1).
        let spki = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let seed = hex::decode("d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842")
            .unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            p
        };
        let from_pem = Signer::load(&write("v1.pem", v1.as_bytes())).unwrap();
        let from_seed = Signer::load(&write("seed", &seed)).unwrap();
        let der = {
            use rustls_pki_types::pem::PemObject;
            rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(v1.as_bytes())
                .unwrap()
                .secret_pkcs8_der()
                .to_vec()
        };
        let from_der = Signer::load(&write("v1.der", &der)).unwrap();
        let public = public_key(&write("pub.pem", spki.as_bytes()).display().to_string()).unwrap();
        assert_eq!(
            hex::encode(public),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
        for s in [&from_pem, &from_seed, &from_der] {
            assert_eq!(s.public_hex(), hex::encode(public));
        }
        let v2 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let from_v2 = Signer::load(&write("v2.der", v2.as_ref())).unwrap();
        assert_eq!(
            from_v2.public_hex(),
            hex::encode(
                Ed25519KeyPair::from_pkcs8(v2.as_ref())
                    .unwrap()
                    .public_key()
                    .as_ref()
            )
        );
        let hex_file = write("pub.hex", format!("{}\n", hex::encode(public)).as_bytes());
        assert_eq!(public_key(&hex_file.display().to_string()).unwrap(), public);
        // Not a key.
        assert!(Signer::load(&write("junk", b"hello")).is_err());
        let cert = write(
            "cert.pem",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        );
        assert!(Signer::load(&cert)
            .unwrap_err()
            .contains("not a `PRIVATE KEY`"));
        assert!(public_key("abc").is_err());
        // OpenSSL reads what keygen writes, and finds the same public key.
        if Path::new("/usr/bin/openssl").exists() {
            let key = dir.path().join("new.key");
            let public = keygen(&key).unwrap();
            let out = std::process::Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(&key)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let pem = write("new.pub", &out.stdout);
            assert_eq!(
                hex::encode(super::public_key(&pem.display().to_string()).unwrap()),
                public
            );
        }
    }

    /// A link planted at the temporary name (`audit.head.tmp`) is replaced, not written
    /// through; the checkpoint gets exactly the log's mode.
    #[test]
    fn a_link_at_the_temporary_name_is_not_written_through() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let head = dir.path().join("audit.head");
        std::os::unix::fs::symlink(&victim, dir.path().join("audit.head.tmp")).unwrap();
        let cp = Checkpoint::new("l", None, 0, "h", None);
        write(&head, &cp, 0o640).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(
            std::fs::read_to_string(&head).unwrap(),
            format!("{}\n", cp.to_line())
        );
        assert_eq!(
            std::fs::metadata(&head).unwrap().permissions().mode() & 0o7777,
            0o640
        );
    }

    #[test]
    fn checkpoints_are_read_from_the_journal_lines_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::new("l", None, 0, "h", None);
        let journal = dir.path().join("journal.txt");
        std::fs::write(
            &journal,
            format!(
                "Dec 04 tikguard[1]: tikguard proxy: listening\nDec 04 tikguard[1]: tikguard proxy: audit log checkpoint {}\n{}\n",
                cp.to_line(),
                cp.to_line()
            ),
        )
        .unwrap();
        let got = read_checkpoints(&journal).unwrap().unwrap();
        assert_eq!(got.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);
        std::fs::write(&journal, "x\n{\"time\": 1}\n").unwrap();
        let e = read_checkpoints(&journal).unwrap().unwrap_err();
        assert!(e.contains("line 2: not a checkpoint"), "{e}");
        std::fs::write(&journal, "nothing here\n").unwrap();
        assert!(read_checkpoints(&journal)
            .unwrap_err()
            .contains("no checkpoint"));
    }
}
