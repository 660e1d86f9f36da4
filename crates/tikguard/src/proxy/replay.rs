//! `tikguard proxy check --replay SESSION`: a session `proxy record` wrote, decided command by
//! command under a configuration's policies, as the proxy would decide it
//! ([`super::policy::decide_request`]): allowed or denied, by which rule, and why.
//!
//! What the file cannot tell is said, not guessed:
//!
//! - An allowed command that changes items under `owner-prefix` or `items` is allowed only if
//!   the items meet them on the router, which a replay cannot look at: `condition` says so.
//! - Secrets were recorded as `***`, words over 64 KiB cut to their start, and the words of
//!   a sentence too big to record left out past the first 256. A denial that goes away when
//!   the secrets are left out depends on a value the file does not hold, and a decision on cut
//!   or missing words was made without them: `approximate` says which.
//!
//! The file is input like any other: a line that is not a recorded command is an error naming
//! the file, line and column; a line over [`MAX_LINE`] bytes is refused before it is parsed.

use std::io::BufRead;

use routeros_api::sentence::Request;
use serde::{Deserialize, Serialize};

use super::config::ProxyConfig;
use super::policy::{decide_request, Decision, Policy, OWNED_VERBS};
use super::record::REDACTED;

/// Longest line read (a recorded command: at most a few 64 KiB words, cut beyond).
pub const MAX_LINE: usize = 16 << 20;

#[derive(Deserialize)]
struct Line {
    client: String,
    words: Vec<Word>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Word {
    Text(String),
    Hex { hex: String },
    Cut { cut: String, bytes: u64 },
    LeftOut { left_out: u64 },
}

/// One recorded command, decided.
#[derive(Debug, Serialize)]
pub struct Replayed {
    /// 1-based line of the session file.
    pub line: usize,
    pub client: String,
    pub policy: String,
    /// The command as decided (`/ppp/secret/add`, the path in full).
    pub command: String,
    /// The words as recorded (a word that is not text, as lossy text).
    pub words: Vec<String>,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The deciding rule; `None` for the default deny (or a refusal before any rule).
    pub rule: Option<String>,
    /// Why it is denied.
    pub reason: Option<String>,
    /// What an allowed command still needs on the router.
    pub condition: Option<String>,
    /// Why the decision may differ with the values the file does not hold.
    pub approximate: Option<String>,
}

/// Decides every command of the session file `path` under `cfg`, each for the client that
/// sent it, or for `client` when given (`--as`).
pub fn replay(
    cfg: &ProxyConfig,
    path: &str,
    client: Option<&str>,
) -> Result<Vec<Replayed>, String> {
    let shown = crate::term::printable(path).into_owned();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for n in 1.. {
        buf.clear();
        let read = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{shown}: {e}"))?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_LINE {
            return Err(format!(
                "{shown}:{n}: line longer than {} MiB: not a recorded session",
                MAX_LINE >> 20
            ));
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line: Line = serde_json::from_slice(&buf).map_err(|e| {
            format!(
                "{shown}:{n}:{}: not a recorded command: {e}",
                e.column().max(1)
            )
        })?;
        out.push(decide_line(cfg, &shown, n, line, client)?);
    }
    Ok(out)
}

fn decide_line(
    cfg: &ProxyConfig,
    file: &str,
    n: usize,
    line: Line,
    client: Option<&str>,
) -> Result<Replayed, String> {
    let name = client.unwrap_or(&line.client);
    let Some(c) = cfg.client(name) else {
        return Err(format!(
            "{file}:{n}: client `{}` is not in the configuration; replay as one that is with --as CLIENT",
            crate::term::printable(name)
        ));
    };
    let policy = cfg.policy_of(c);
    let mut words = Vec::with_capacity(line.words.len());
    let mut cut = Vec::new();
    let mut left_out = 0;
    for w in &line.words {
        words.push(match w {
            Word::LeftOut { left_out: n } => {
                left_out += n;
                continue;
            }
            Word::Text(t) => t.as_bytes().to_vec(),
            Word::Hex { hex } => hex::decode(hex)
                .map_err(|e| format!("{file}:{n}: a hex word that is not hex: {e}"))?,
            Word::Cut { cut: start, bytes } => {
                cut.push(*bytes);
                start.as_bytes().to_vec()
            }
        });
    }
    let shown_words: Vec<String> = words
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let req = Request::parse(&routeros_api::Sentence::from_words(&words))
        .map_err(|e| format!("{file}:{n}: not a command: {}", e.0))?;
    let (cmd, _, decision) = decide_request(policy, &req);
    let mut approximate = (!cut.is_empty() || left_out > 0).then(|| {
        let mut why = Vec::new();
        if !cut.is_empty() {
            let sizes: Vec<String> = cut.iter().take(8).map(u64::to_string).collect();
            why.push(format!(
                "decided on the start of {} word(s) cut at recording ({}{} bytes)",
                cut.len(),
                sizes.join(", "),
                if cut.len() > 8 { ", ..." } else { "" }
            ));
        }
        if left_out > 0 {
            why.push(format!("{left_out} word(s) left out at recording"));
        }
        why.join("; ")
    });
    let mut out = Replayed {
        line: n,
        client: c.name.clone(),
        policy: policy.name.clone(),
        command: cmd.word(),
        words: shown_words,
        decision: "deny",
        rule: None,
        reason: None,
        condition: None,
        approximate: None,
    };
    match decision {
        Decision::Allow {
            rule,
            owner_prefix,
            items,
            ..
        } => {
            out.decision = "allow";
            out.rule = Some(rule);
            if OWNED_VERBS.contains(&cmd.verb.as_str()) {
                let mut needs = Vec::new();
                if let Some(p) = owner_prefix {
                    needs.push(format!("a comment starting with `{p}`"));
                }
                for (k, c) in &items {
                    needs.push(format!("`{k}` {}", c.describe()));
                }
                if !needs.is_empty() {
                    out.condition = Some(format!(
                        "if every item it names has, on the router, {}",
                        needs.join(" and ")
                    ));
                }
            }
        }
        Decision::Deny { rule, reason } => {
            out.rule = rule;
            out.reason = Some(reason);
            if let Some(keys) = without_unrecorded(policy, &req) {
                approximate = Some(format!(
                    "{} recorded as `{REDACTED}`; without {} the command is allowed, so the decision depends on the value",
                    keys.join(", "),
                    if keys.len() == 1 { "it" } else { "them" }
                ));
            }
        }
    }
    out.approximate = approximate;
    Ok(out)
}

/// The secrets recorded as `***` if leaving them out of `req` turns its denial into an
/// allowance.
fn without_unrecorded(policy: &Policy, req: &Request) -> Option<Vec<String>> {
    let hidden: Vec<String> = req
        .attrs
        .iter()
        .filter(|(_, v)| v.as_ref() == REDACTED.as_bytes())
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    if hidden.is_empty() {
        return None;
    }
    let mut less = req.clone();
    less.attrs
        .retain(|(_, v)| v.as_ref() != REDACTED.as_bytes());
    matches!(decide_request(policy, &less).2, Decision::Allow { .. }).then_some(hidden)
}

/// The replay as text: a line per command, then the counts.
pub fn text(file: &str, all: &[Replayed]) -> String {
    use crate::term::printable;
    let file = printable(file);
    let mut out = String::new();
    for r in all {
        let by = r.rule.as_deref().unwrap_or("the default deny");
        out.push_str(&format!(
            "{file}:{}: {} {} {} by {}",
            r.line,
            printable(&r.client),
            r.decision,
            printable(&r.command),
            printable(by)
        ));
        if let Some(reason) = &r.reason {
            out.push_str(&format!(": {}", printable(reason)));
        }
        if let Some(c) = &r.condition {
            out.push_str(&format!(" ({})", printable(c)));
        }
        if let Some(a) = &r.approximate {
            out.push_str(&format!(" [approximate: {}]", printable(a)));
        }
        out.push('\n');
    }
    let denied = all.iter().filter(|r| r.decision == "deny").count();
    out.push_str(&format!(
        "{file}: {} commands: {} allowed, {denied} denied\n",
        all.len(),
        all.len() - denied
    ));
    out
}

/// The replay as one JSON document.
pub fn json(file: &str, all: &[Replayed]) -> String {
    let denied = all.iter().filter(|r| r.decision == "deny").count();
    serde_json::json!({
        "file": file,
        "commands": all,
        "allowed": all.len() - denied,
        "denied": denied,
    })
    .to_string()
}
