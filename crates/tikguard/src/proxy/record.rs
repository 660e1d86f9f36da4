//! `tikguard proxy record`: the commands CRMs send, written to a session file while the proxy
//! forwards them, for `tikguard proxy check --replay` to decide under a policy not yet in use.
//!
//! One JSON line per command a logged-in client sent (not `/login`, `/cancel` or `/quit`):
//!
//! ```json
//! {"time":"...","client":"billing","router":"core-01","source":"198.51.100.20",
//!  "words":["/ppp/secret/add","=name=sub-1","=password=***","=comment=ucrm_1"]}
//! ```
//!
//! - Words as sent, the client's `.tag` left out: the command word, `=key=value` arguments,
//!   `?` query words.
//! - Secrets as `***`: an argument whose key is a secret (the audit log's
//!   [`super::auditlog::secret_key`]: passwords, shared secrets, keys, script `source`...) or a
//!   secret of its menu ([`super::policy::SECRETS_BY_PATH`]: an SNMP community's `name`), and the
//!   value of a query word naming one. The file is still the CRM's traffic: it is created
//!   0600, and an existing one that others may read is refused.
//! - A word that is not UTF-8 is `{"hex": "..."}`; a word over [`MAX_WORD`] bytes is
//!   `{"cut": "<its first 256 bytes>", "bytes": N}` (a policy constraint on the value is then
//!   decided on the start alone, and `--replay` says so).
//! - The file stops growing at [`MAX_BYTES`]: recording ends with a line on standard error and
//!   the proxy goes on forwarding. A write that fails ends recording the same way.

use std::io::Write;
use std::sync::Mutex;

use routeros_api::sentence::Request;
use serde_json::{json, Value};

use super::auditlog::{now_rfc3339, secret_key};

/// Longest word recorded whole.
pub const MAX_WORD: usize = 64 << 10;
/// Longest line recorded as it is: past it, words over [`CUT`] bytes are cut to it, and words
/// past the first [`KEPT_WORDS`] are left out (`{"left_out": N}` ends the words). A client
/// may send 16 MiB sentences of 65,536 words, which JSON escaping makes larger still: a line
/// `--replay` refuses (it reads lines up to 16 MiB) would have made the whole session
/// unreplayable.
pub const MAX_LINE: usize = 1 << 20;
/// What a word is cut to.
pub const CUT: usize = 256;
/// Words a line past [`MAX_LINE`] keeps (at most 256 words of 256 bytes, each six times its
/// size as JSON escapes at worst: under [`MAX_LINE`]).
pub const KEPT_WORDS: usize = 256;
/// Size at which a session file stops growing.
pub const MAX_BYTES: u64 = 256 << 20;
/// What a secret's value is recorded as.
pub const REDACTED: &str = "***";

/// An open session file.
pub struct Recorder {
    path: String,
    state: Mutex<State>,
}

struct State {
    /// `None` once recording ended (full, or a write failed).
    file: Option<std::fs::File>,
    written: u64,
}

impl Recorder {
    /// Opens `path` to append to (created 0600). A file that group or others may read, that
    /// is not a regular file, or that is one of `taken` (the audit log and its checkpoint,
    /// whose chain a session line would break) is refused.
    pub fn open(path: &str, taken: &[&str]) -> Result<Recorder, String> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let shown = crate::term::printable(path);
        if let Some(t) = taken.iter().find(|t| same_place(path, t)) {
            return Err(format!(
                "{shown}: that is {}, which the proxy writes itself",
                crate::term::printable(t)
            ));
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
            .map_err(|e| format!("{shown}: {e}"))?;
        let meta = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown}: not a regular file"));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(format!(
                "{shown}: other users may read it (mode {:04o}); a session file holds the CRM's commands: chmod 600 it or name a new file",
                meta.mode() & 0o777
            ));
        }
        Ok(Recorder {
            path: path.to_string(),
            state: Mutex::new(State {
                file: Some(file),
                written: meta.len(),
            }),
        })
    }

    /// Appends one command of `client`.
    pub fn record(&self, client: &str, router: &str, source: &str, req: &Request) {
        let render = |words: Vec<Value>| {
            let mut line = json!({
                "time": now_rfc3339(),
                "client": client,
                "router": router,
                "source": source,
                "words": words,
            })
            .to_string();
            line.push('\n');
            line
        };
        let mut line = render(words(req, MAX_WORD));
        if line.len() > MAX_LINE {
            let mut short = words(req, CUT);
            if short.len() > KEPT_WORDS {
                let left_out = short.len() - KEPT_WORDS;
                short.truncate(KEPT_WORDS);
                short.push(json!({ "left_out": left_out }));
            }
            line = render(short);
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let State { file, written } = &mut *st;
        let Some(f) = file.as_mut() else { return };
        let shown = crate::term::printable(&self.path);
        if *written + line.len() as u64 > MAX_BYTES {
            crate::warn_line!(
                "tikguard proxy: session file {shown} reached {} MiB; recording stopped, forwarding goes on",
                MAX_BYTES >> 20
            );
            *file = None;
            return;
        }
        match f.write_all(line.as_bytes()) {
            Ok(()) => *written += line.len() as u64,
            Err(e) => {
                crate::warn_line!(
                    "tikguard proxy: session file {shown}: {e}; recording stopped, forwarding goes on"
                );
                *file = None;
            }
        }
    }
}

/// Whether two paths name one file: the same file if both exist, else the same place.
fn same_place(a: &str, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return x.dev() == y.dev() && x.ino() == y.ino();
    }
    let place = |p: &str| {
        let p = std::path::Path::new(p);
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        Some((std::fs::canonicalize(dir).ok()?, p.file_name()?.to_owned()))
    };
    matches!((place(a), place(b)), (Some(x), Some(y)) if x == y)
}

/// A request's words as recorded (see the module), each cut past `max` bytes.
pub fn words(req: &Request, max: usize) -> Vec<Value> {
    // The menu in full (`/snmp/comm/add` is `/snmp/community/add`), as the policy sees it.
    let command = String::from_utf8_lossy(&req.command);
    let full = crate::schema::expand_api_path(&command).unwrap_or_else(|_| command.to_string());
    let path = full.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let by_path = |k: &str| {
        super::policy::SECRETS_BY_PATH
            .iter()
            .any(|(p, f)| *f == k && *p == path)
    };
    let mut out = Vec::with_capacity(1 + req.attrs.len() + req.queries.len());
    let word = |w: &[u8]| word(w, max);
    out.push(word(&req.command));
    for (k, v) in &req.attrs {
        let key = String::from_utf8_lossy(k);
        if secret_key(&key) || by_path(&key) {
            out.push(word(&[&b"="[..], k, b"=", REDACTED.as_bytes()].concat()));
        } else {
            out.push(word(&[&b"="[..], k, b"=", v].concat()));
        }
    }
    for q in &req.queries {
        let body = q.strip_prefix(b"?").unwrap_or(q);
        let ops = body
            .iter()
            .take_while(|b| matches!(b, b'-' | b'<' | b'>' | b'='))
            .count();
        match body[ops..].iter().position(|&b| b == b'=') {
            Some(i)
                if secret_key(&String::from_utf8_lossy(&body[ops..ops + i]))
                    || by_path(&String::from_utf8_lossy(&body[ops..ops + i])) =>
            {
                let keep = q.len() - body.len() + ops + i + 1;
                out.push(word(&[&q[..keep], REDACTED.as_bytes()].concat()));
            }
            _ => out.push(word(q)),
        }
    }
    out
}

fn word(w: &[u8], max: usize) -> Value {
    if w.len() > max {
        return json!({"cut": String::from_utf8_lossy(&w[..CUT]), "bytes": w.len()});
    }
    match std::str::from_utf8(w) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "hex": hex::encode(w) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(words: &[&[u8]]) -> Request {
        let owned: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
        Request::parse(&routeros_api::Sentence::from_words(&owned)).unwrap()
    }

    #[test]
    fn secrets_are_recorded_as_stars_and_everything_else_as_sent() {
        let r = req(&[
            b"/ppp/secret/add",
            b"=name=sub-1",
            b"=password=hunter2",
            b"=comment=ucrm_1",
            b".tag=7",
            b"?password=guess",
            b"?>remote-address=10.0.0.1",
        ]);
        let w = serde_json::to_string(&words(&r, MAX_WORD)).unwrap();
        assert_eq!(
            w,
            r#"["/ppp/secret/add","=name=sub-1","=password=***","=comment=ucrm_1","?password=***","?>remote-address=10.0.0.1"]"#
        );
        let r = req(&[b"/snmp/comm/add", b"=name=s3cret-community"]);
        assert_eq!(
            serde_json::to_string(&words(&r, MAX_WORD)).unwrap(),
            r#"["/snmp/comm/add","=name=***"]"#
        );
        let r = req(&[b"/system/script/add", b"=name=x", b"=source=/user add"]);
        assert!(!serde_json::to_string(&words(&r, MAX_WORD))
            .unwrap()
            .contains("user add"));
    }

    #[test]
    fn bytes_that_are_not_text_and_huge_words_are_recorded_without_loss_of_meaning() {
        let big = [b"=comment=".to_vec(), vec![b'a'; MAX_WORD + 1]].concat();
        let r = req(&[b"/ppp/secret/add", b"=name=\xff\xfe", &big]);
        let w = words(&r, MAX_WORD);
        assert_eq!(w[1], json!({"hex": hex::encode(b"=name=\xff\xfe")}));
        assert_eq!(w[2]["bytes"], json!(MAX_WORD + 10));
        assert!(w[2]["cut"].as_str().unwrap().starts_with("=comment=aaa"));
    }

    #[test]
    fn a_line_stays_short_enough_to_replay_whatever_the_client_sends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        let r = Recorder::open(p.to_str().unwrap(), &[]).unwrap();
        // 65,536 words of 255 control bytes: 16 MiB on the wire, 98 MiB as JSON.
        let mut words: Vec<Vec<u8>> = vec![b"/ppp/secret/print".to_vec()];
        for _ in 0..65_535 {
            words.push([b"?comment=".to_vec(), vec![7u8; 246]].concat());
        }
        let refs: Vec<&[u8]> = words.iter().map(|w| w.as_slice()).collect();
        r.record("billing", "core-01", "127.0.0.1", &req(&refs));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.len() <= MAX_LINE, "{}", text.len());
        let line: Value = serde_json::from_str(&text).unwrap();
        let w = line["words"].as_array().unwrap();
        assert_eq!(w.len(), KEPT_WORDS + 1);
        assert_eq!(w[KEPT_WORDS], json!({"left_out": 65_536 - KEPT_WORDS}));
    }

    #[test]
    fn a_session_file_is_0600_and_one_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        let r = Recorder::open(p.to_str().unwrap(), &[]).unwrap();
        r.record(
            "billing",
            "core-01",
            "127.0.0.1",
            &req(&[b"/ppp/active/print"]),
        );
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Recorder::open(p.to_str().unwrap(), &[]).err().unwrap();
        assert!(e.contains("mode 0644"), "{e}");
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(Recorder::open(link.to_str().unwrap(), &[]).is_err());
        // The audit log, named directly or another way, before it exists or after.
        let log = dir.path().join("audit.jsonl");
        let log = log.to_str().unwrap();
        let other_way = format!("{}/./audit.jsonl", dir.path().display());
        let e = Recorder::open(&other_way, &[log]).err().unwrap();
        assert!(e.contains("which the proxy writes itself"), "{e}");
        assert!(!std::path::Path::new(log).exists());
        std::fs::write(log, "").unwrap();
        assert!(Recorder::open(&other_way, &[log]).is_err());
    }
}
