//! The files a configuration names, read as `tikguard proxy run` reads them, for `proxy check`:
//! each one missing, unreadable, or holding what `run` would refuse, named with its path.
//!
//! The check may run on another machine than the service (the shipped example's `/etc`
//! paths), so these are warnings, not errors. Secrets are opened and parsed, never printed.
//!
//! - A listener's `cert`, `key` and `client-ca`: built into the listener's TLS acceptor
//!   ([`super::tls::acceptor`], what `run` and SIGHUP do), so a file that is not PEM, a key that
//!   does not fit its certificate, or an expired certificate is named.
//! - A router's `ca` (PEM certificates), `known-routers` (missing is fine: the first connection
//!   writes it, if its directory exists; a malformed line is named), `password-file` (readable,
//!   not empty) or `password-env` (set here).
//! - A client's `legacy-password-file`.
//! - Files holding secrets (`password-file`, `legacy-password-file`, a listener's `key`) that
//!   other users may read (any group or other permission bit).
//! - The audit log and its checkpoint: their directory exists, and the log, if there, is a
//!   regular file.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::config::{ProxyConfig, Secret, Verify};

fn shown(path: &str) -> std::borrow::Cow<'_, str> {
    crate::term::printable(path)
}

/// Why `path` cannot be read as a regular file, if it cannot.
fn unreadable(path: &str) -> Option<String> {
    match std::fs::File::open(path).and_then(|f| f.metadata()) {
        Err(e) => Some(e.to_string()),
        Ok(m) if !m.is_file() => Some("not a regular file".into()),
        Ok(_) => None,
    }
}

/// A secret's file that group or others may read: its mode.
fn too_open(path: &str) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!("holds a secret and other users may read it (mode {mode:04o}; chmod 600 it)")
    })
}

/// Every problem found, one line each (`WHAT PATH: PROBLEM`).
pub fn problems(cfg: &ProxyConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |what: &str, path: &str, problem: String| {
        out.push(format!("{what} {}: {problem}", shown(path)));
    };
    for r in &cfg.routers {
        match &r.verify {
            Verify::Ca(f) => {
                let what = format!("router {} ca", r.name);
                match unreadable(f) {
                    Some(p) => say(&what, f, p),
                    None => {
                        if let Err(e) = routeros_api::tls::load_ca(Path::new(f)) {
                            say(&what, f, without_path(&e, f));
                        }
                    }
                }
            }
            Verify::KnownRouters(f) => {
                let what = format!("router {} known-routers", r.name);
                if Path::new(f).exists() {
                    if let Some(p) = unreadable(f) {
                        say(&what, f, p);
                    } else if let Err(e) = routeros_api::tls::KnownRouters::new(f).check(
                        "",
                        None,
                        &routeros_api::Fingerprint([0; 32]),
                    ) {
                        say(&what, f, without_path(&e, f));
                    }
                } else if !parent_is_dir(f) {
                    say(
                        &what,
                        f,
                        "neither it nor its directory exists (the first connection records the router's certificate there)".into(),
                    );
                }
            }
            Verify::Pin(_) => {}
        }
        match &r.password {
            Secret::File(f) => {
                secret_file(&mut say, &format!("router {} password-file", r.name), f)
            }
            Secret::Env(v) => {
                if std::env::var_os(v).is_none() {
                    say(
                        &format!("router {} password-env", r.name),
                        &format!("${v}"),
                        "not set in this environment".into(),
                    );
                }
            }
        }
    }
    for l in &cfg.listeners {
        let Some(t) = &l.tls else { continue };
        let what = |f: &str| format!("listener {} {f}", l.address);
        let mut missing = false;
        for (name, f) in [("cert", &t.cert), ("key", &t.key)]
            .into_iter()
            .chain(t.client_ca.as_ref().map(|c| ("client-ca", c)))
        {
            if let Some(p) = unreadable(f) {
                say(&what(name), f, p);
                missing = true;
            }
        }
        if let Some(p) = too_open(&t.key) {
            say(&what("key"), &t.key, p);
        }
        if missing {
            continue;
        }
        match super::tls::acceptor(t) {
            Ok(s) if s.summary.contains("EXPIRED") => say(&what("cert"), &t.cert, s.summary),
            Ok(_) => {}
            Err(e) => out_of_acceptor(&mut say, &what, t, &e),
        }
    }
    for c in &cfg.clients {
        if let Some(Secret::File(f)) = &c.legacy_password {
            secret_file(
                &mut say,
                &format!("client {} legacy-password-file", c.name),
                f,
            );
        }
    }
    if let Some(k) = &cfg.checkpoint_key {
        // Loaded as `run` loads it: a key others may read is refused there.
        if let Err(e) = super::checkpoint::Signer::load(Path::new(k)) {
            let e = e
                .strip_prefix(&format!("checkpoint-key {k}: "))
                .unwrap_or(&e)
                .to_string();
            say("checkpoint-key", k, e);
        }
    }
    for (what, f) in [
        ("audit-log", Some(&cfg.audit_log)),
        ("checkpoint", cfg.checkpoint.as_ref()),
    ] {
        let Some(f) = f else { continue };
        if !parent_is_dir(f) {
            say(what, f, "its directory does not exist".into());
        } else if what == "audit-log" && Path::new(f).exists() {
            if let Some(p) = unreadable(f) {
                say(what, f, p);
            }
        }
    }
    out
}

/// A password file: readable, not empty, and not readable by others.
fn secret_file(say: &mut impl FnMut(&str, &str, String), what: &str, f: &str) {
    if let Some(p) = unreadable(f) {
        say(what, f, p);
        return;
    }
    if let Ok(text) = std::fs::read_to_string(f) {
        if text.trim_end_matches(['\n', '\r']).is_empty() {
            say(what, f, "empty".into());
        }
    }
    if let Some(p) = too_open(f) {
        say(what, f, p);
    }
}

/// Puts the acceptor's error under the file it names (the certificate, the key or the CA).
fn out_of_acceptor(
    say: &mut impl FnMut(&str, &str, String),
    what: &impl Fn(&str) -> String,
    t: &super::config::TlsCfg,
    e: &str,
) {
    let (name, f) = if e.contains(" do not fit") {
        ("key", &t.key)
    } else if t
        .client_ca
        .as_ref()
        .is_some_and(|ca| e.contains(&*shown(ca)))
    {
        ("client-ca", t.client_ca.as_ref().expect("checked"))
    } else if e.contains(&*shown(&t.key)) {
        ("key", &t.key)
    } else {
        ("cert", &t.cert)
    };
    say(&what(name), f, without_path(e, f));
}

/// An error text without its leading `cannot read PATH: ` or `PATH: ` (the line names it).
fn without_path(e: &str, path: &str) -> String {
    let path = shown(path);
    let e = e.strip_prefix("cannot read ").unwrap_or(e);
    e.strip_prefix(&*path)
        .map(|r| r.trim_start_matches(':').trim_start().to_string())
        .unwrap_or_else(|| e.to_string())
}

fn parent_is_dir(f: &str) -> bool {
    Path::new(f)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .is_dir()
}
