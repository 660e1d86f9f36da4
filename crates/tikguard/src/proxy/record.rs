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
    /// Opens `path` to append to (created 0600). A file that group or others may read, or
    /// that is not a regular file, is refused.
    pub fn open(path: &str) -> Result<Recorder, String> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let shown = crate::term::printable(path);
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
        let mut line = json!({
            "time": now_rfc3339(),
            "client": client,
            "router": router,
            "source": source,
            "words": words(req),
        })
        .to_string();
        line.push('\n');
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

/// A request's words as recorded (see the module).
pub fn words(req: &Request) -> Vec<Value> {
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

fn word(w: &[u8]) -> Value {
    if w.len() > MAX_WORD {
        return json!({"cut": String::from_utf8_lossy(&w[..256]), "bytes": w.len()});
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
        let w = serde_json::to_string(&words(&r)).unwrap();
        assert_eq!(
            w,
            r#"["/ppp/secret/add","=name=sub-1","=password=***","=comment=ucrm_1","?password=***","?>remote-address=10.0.0.1"]"#
        );
        let r = req(&[b"/snmp/comm/add", b"=name=s3cret-community"]);
        assert_eq!(
            serde_json::to_string(&words(&r)).unwrap(),
            r#"["/snmp/comm/add","=name=***"]"#
        );
        let r = req(&[b"/system/script/add", b"=name=x", b"=source=/user add"]);
        assert!(!serde_json::to_string(&words(&r))
            .unwrap()
            .contains("user add"));
    }

    #[test]
    fn bytes_that_are_not_text_and_huge_words_are_recorded_without_loss_of_meaning() {
        let big = [b"=comment=".to_vec(), vec![b'a'; MAX_WORD + 1]].concat();
        let r = req(&[b"/ppp/secret/add", b"=name=\xff\xfe", &big]);
        let w = words(&r);
        assert_eq!(w[1], json!({"hex": hex::encode(b"=name=\xff\xfe")}));
        assert_eq!(w[2]["bytes"], json!(MAX_WORD + 10));
        assert!(w[2]["cut"].as_str().unwrap().starts_with("=comment=aaa"));
    }

    #[test]
    fn a_session_file_is_0600_and_one_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        let r = Recorder::open(p.to_str().unwrap()).unwrap();
        r.record(
            "billing",
            "core-01",
            "127.0.0.1",
            &req(&[b"/ppp/active/print"]),
        );
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Recorder::open(p.to_str().unwrap()).err().unwrap();
        assert!(e.contains("mode 0644"), "{e}");
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(Recorder::open(link.to_str().unwrap()).is_err());
    }
}
