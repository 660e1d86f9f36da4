//! TG121, a RoMON secret introduced in the three stages MikroTik's RoMON manual describes, one
//! stage a run (`--romon-secret-file FILE --romon-secret-stage 1|2|3`).
//!
//! RouterOS facts this relies on, from MikroTik's RoMON manual (help.mikrotik.com/docs/display/ROS/RoMON,
//! section "Secrets"), each pinned by a test in `tests/harden_romon.rs`:
//! - "When sending out, messages are hashed with the first secret in list if list is not empty
//!   and first is not 'empty secret' (empty string = \"\"), otherwise, messages are sent
//!   unhashed."
//! - "When received, unhashed messages are only accepted if a secret list is empty or contains
//!   'empty secret', hashed messages are accepted if they are hashed with any of the secrets in
//!   list."
//! - The manual's way in without an interruption, each step on every router before the next:
//!   `secrets="","mysecret"` (still sending unhashed, already accepting the secret), then
//!   `secrets="mysecret",""` (sending with the secret, still accepting unhashed), then
//!   `secrets="mysecret"`.
//! - "For each interface, if the interface-specific secret list is empty, a global secret list
//!   is used": a `/tool romon port` with secrets of its own is not changed by the global list
//!   (the note says so; ports are not read, as the live read does not carry them).
//!
//! A secret set on one router alone cuts it off from every peer that does not yet accept it,
//! so each stage says what must hold on every RoMON peer before the next.
//!
//! The secret is read from a file that only its owner may read, never from the command line,
//! and never shown: the script holds it (written 0600), what reaches a terminal, a report or
//! JSON shows `***` ([`masked`], [`scrub`]).

use std::os::unix::fs::PermissionsExt;

use routeros_config::Config;

use super::order::Phase;
use super::script::{Line, Stmt, Target, Val};
use super::{Change, Plan};

const MENU: &str = "/tool romon";

/// Shorter than this is TG121's short secret (the audit's rule), which stage 3 could not fix.
pub const MIN_LEN: usize = 12;

/// The secret and the stage this run takes. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct RomonSecret {
    secret: String,
    pub stage: u8,
}

impl std::fmt::Debug for RomonSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RomonSecret {{ secret: ***, stage: {} }}", self.stage)
    }
}

impl RomonSecret {
    /// A secret given as text (the file's first line), checked as [`read`] checks it.
    pub fn new(secret: &str, stage: u8) -> Result<RomonSecret, String> {
        if !(1..=3).contains(&stage) {
            return Err(format!("--romon-secret-stage {stage}: give 1, 2 or 3"));
        }
        if secret.is_empty() {
            return Err("--romon-secret-file: the file's first line is empty".into());
        }
        // `secrets` is a list whose elements are separated by commas: a comma would make the
        // secret two secrets, neither of them the one the other routers are given.
        if secret.contains(',') {
            return Err("--romon-secret-file: the secret holds a comma, which RouterOS' `secrets` list takes as the separator between two secrets; choose one without".into());
        }
        if secret.chars().any(char::is_control) {
            return Err("--romon-secret-file: the secret holds a control character; choose one of printable characters".into());
        }
        if secret.chars().count() < MIN_LEN {
            return Err(format!("--romon-secret-file: the secret is shorter than {MIN_LEN} characters (TG121 would still flag it)"));
        }
        Ok(RomonSecret {
            secret: secret.into(),
            stage,
        })
    }
}

/// Reads the secret: the file's first line, from a file only its owner may read (as the
/// project's other secret files, `proxy check`'s password files).
pub fn read(path: &str, stage: u8) -> Result<RomonSecret, String> {
    let shown = crate::term::printable(path);
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!("--romon-secret-file {shown}: holds a secret and other users may read it (mode {mode:04o}; chmod 600 it)"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    RomonSecret::new(first, stage)
}

/// The global list as the configuration has it: the elements of `secrets=` (an absent or
/// empty value is the empty list), or `None` when a live read hid it.
fn current(c: &Config) -> Option<Vec<String>> {
    let v = c.setting(MENU, "secrets").unwrap_or(b"");
    if crate::live::is_hidden(v) {
        return None;
    }
    Some(
        super::script::list_items(v)
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect(),
    )
}

/// The list a stage wants, from the list there is. A list already past the stage is left.
fn wanted(have: &[String], s: &str, stage: u8) -> Vec<String> {
    let mut v: Vec<String> = have.to_vec();
    match stage {
        // Send as before (the first element kept; the empty secret when there was none), and
        // accept the secret too.
        1 => {
            if v.is_empty() {
                v.push(String::new());
            }
            if !v.iter().any(|x| x == s) {
                v.push(s.into());
            }
        }
        // Send with the secret; keep accepting everything accepted before, unhashed included.
        2 => {
            if v.is_empty() {
                v.push(String::new());
            }
            v.retain(|x| x != s);
            v.insert(0, s.into());
        }
        // The secret alone: unhashed messages, and any older secret, no longer accepted.
        _ => v = vec![s.into()],
    }
    v
}

/// What must hold on every RoMON peer before the next stage, by stage.
fn before_next(stage: u8) -> &'static str {
    match stage {
        1 => "before stage 2, every RoMON router that reaches this one must have had stage 1 (its list accepts the secret): a router that sends with the secret is heard only by those",
        2 => "before stage 3, every RoMON router that reaches this one must have had stage 2 (it sends with the secret): after stage 3 this router no longer accepts unhashed messages",
        _ => "every RoMON router that reaches this one must have had stage 2 before this one takes stage 3, or they no longer hear each other",
    }
}

/// Plans the stage, or, without the flags, leaves the plan's note, which names them.
pub fn extend(plan: &mut Plan, c: &Config, r: Option<&RomonSecret>) -> Result<(), String> {
    let Some(r) = r else {
        return Ok(());
    };
    plan.notes.retain(|n| !n.starts_with("TG121 not planned"));
    let Some(have) = current(c) else {
        return Err("--romon-secret-file: the router did not show RoMON's secrets to this user (the `sensitive` policy is missing), so the list the stage starts from cannot be known; read it with a user that has `sensitive`".into());
    };
    let stage = r.stage;
    let want = wanted(&have, &r.secret, stage);
    if want == have {
        plan.notes.push(format!(
            "RoMON secret stage {stage} of 3 is already in place; {}",
            before_next(stage)
        ));
        return Ok(());
    }
    let enabled = c.setting(MENU, "enabled") == Some(b"yes");
    let what = match stage {
        1 => "still sending as before, now also accepting the secret",
        2 => "sending with the secret, still accepting unhashed messages",
        _ => "the secret alone: unhashed messages no longer accepted",
    };
    plan.notes.push(format!(
        "RoMON secret stage {stage} of 3 ({what}); {}; a `/tool romon port` given secrets of its own does not use this list (RoMON manual) and is left as it is",
        before_next(stage)
    ));
    plan.changes.push(Change {
        id: format!("romon-secret-stage-{stage}"),
        description: format!(
            "RoMON secret, stage {stage} of 3: {what} (the secret is in the script only)"
        ),
        fixes: if stage == 3 && enabled {
            vec!["TG121"]
        } else {
            vec![]
        },
        phase: Phase::Restrict,
        lines: vec![Stmt::set(MENU, Target::None).list("secrets", want).into()],
        guard: None,
        undo: vec![Stmt::set(MENU, Target::None).list("secrets", have).into()],
    });
    super::order::sort(&mut plan.changes);
    Ok(())
}

/// The changes as they may be shown: every RoMON `secrets=` value as `***`.
pub fn masked(changes: &[Change]) -> Vec<Change> {
    let hide = |lines: &mut Vec<Line>| {
        for l in lines {
            if let Line::Cmd(s) = l {
                if s.menu == MENU {
                    for (k, v) in &mut s.args {
                        if k == "secrets" {
                            *v = Val::Text("***".into());
                        }
                    }
                }
            }
        }
    };
    let mut out = changes.to_vec();
    for ch in &mut out {
        hide(&mut ch.lines);
        hide(&mut ch.undo);
    }
    out
}

/// Text to be shown with the secret, and its quoted form, replaced by `***` (a refusal that
/// quotes a line, say).
pub fn scrub(text: &str, r: Option<&RomonSecret>) -> String {
    match r {
        None => text.to_string(),
        Some(r) => text
            .replace(&super::script::value(&r.secret), "***")
            .replace(&r.secret, "***"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "correct-horse-battery";

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_manuals_three_stages_from_no_secret() {
        assert_eq!(wanted(&[], S, 1), v(&["", S]));
        assert_eq!(wanted(&v(&["", S]), S, 2), v(&[S, ""]));
        assert_eq!(wanted(&v(&[S, ""]), S, 3), v(&[S]));
        // Each stage again on its own result: nothing.
        for st in 1..=3 {
            let once = wanted(&[], S, st);
            assert_eq!(wanted(&once, S, st), once);
        }
        // A list already past a stage is not taken back.
        assert_eq!(wanted(&v(&[S, ""]), S, 1), v(&[S, ""]));
        assert_eq!(wanted(&v(&[S]), S, 2), v(&[S]));
    }

    #[test]
    fn a_list_is_written_as_the_manual_writes_it() {
        let line = Stmt::set(MENU, Target::None).list("secrets", v(&["", "mysecret"]));
        assert_eq!(line.render(), "/tool romon set secrets=\"\",mysecret");
        let line = Stmt::set(MENU, Target::None).list("secrets", vec![]);
        assert_eq!(line.render(), "/tool romon set secrets=\"\"");
        // A quote in a secret is escaped inside its own element.
        let line = Stmt::set(MENU, Target::None).list("secrets", v(&["a\"b$c", ""]));
        assert_eq!(line.render(), "/tool romon set secrets=\"a\\\"b\\$c\",\"\"");
    }

    #[test]
    fn the_parser_reads_a_written_list_back_as_its_elements() {
        for (list, want) in [
            (v(&["", S]), format!("\"\",{S}")),
            (v(&[S, ""]), format!("{S},\"\"")),
            (
                v(&["a\"b$c-0123456789", ""]),
                "\"a\\\"b\\$c-0123456789\",\"\"".into(),
            ),
        ] {
            let line = Stmt::set(MENU, Target::None).list("secrets", list.clone());
            let text = format!(
                "/tool romon\n{}\n",
                line.render().replacen("/tool romon ", "", 1)
            );
            let (c, _) = Config::load(text.into_bytes());
            assert_eq!(
                String::from_utf8_lossy(c.setting(MENU, "secrets").unwrap()),
                want
            );
            assert_eq!(current(&c).unwrap(), list);
        }
        // As the API returns it, and as a quoted whole: the same list.
        for raw in [format!(",{S}"), format!("\",{S}\"")] {
            let (c, _) = Config::load(format!("/tool romon\nset secrets={raw}\n").into_bytes());
            assert_eq!(current(&c).unwrap(), v(&["", S]), "{raw}");
        }
    }

    #[test]
    fn a_secret_with_the_list_separator_or_too_short_is_refused() {
        assert!(RomonSecret::new("abc,defghijklmn", 1)
            .unwrap_err()
            .contains("comma"));
        assert!(RomonSecret::new("short", 1)
            .unwrap_err()
            .contains("shorter"));
        assert!(RomonSecret::new(S, 4).is_err());
        assert!(RomonSecret::new("quote\"in-it-is-fine", 1).is_ok());
        assert!(!format!("{:?}", RomonSecret::new(S, 1).unwrap()).contains(S));
    }
}
