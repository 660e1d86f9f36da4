//! Reaching one router of the inventory: its address, verification and credential as
//! [`routeros_api::Options`], and every failure sorted into a [`Status`] (refused, timeout, TLS
//! mismatch, bad login...), so that a fleet of failures reads as a table, not as error text.

use std::time::Duration;

use routeros_api::{Client, Error, Fingerprint, Options, Security, Verify};

use super::inventory::{Router, Tls};
use super::result::{Phase, Status};

/// Per-router limits.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    pub command: Duration,
}

/// The client's options for `r`.
pub fn options(r: &Router, t: Timeouts) -> Result<Options, Status> {
    let security = match &r.tls {
        Tls::Plain => Security::Plain,
        Tls::InsecureSkipVerify => Security::Tls(Verify::InsecureSkipVerification),
        Tls::Ca(path) => Security::Tls(Verify::Ca(
            routeros_api::tls::load_ca(path).map_err(|detail| Status::Config { detail })?,
        )),
        Tls::Pin(pin) => Security::Tls(Verify::Pin(Fingerprint::parse(pin).ok_or_else(|| {
            Status::Config {
                detail: format!("pin `{pin}` is not a SHA-256 fingerprint"),
            }
        })?)),
        Tls::KnownRouters(file) => Security::Tls(Verify::TrustOnFirstUse(match file {
            Some(f) => f.clone(),
            None => default_known_routers().map_err(|detail| Status::Config { detail })?,
        })),
    };
    let mut opts = Options::new(r.address(), security);
    opts.connect_timeout = t.connect;
    opts.command_timeout = t.command;
    Ok(opts)
}

/// `~/.config/tikguard/known_routers`, as `tikguard exec` uses.
pub fn default_known_routers() -> Result<std::path::PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set; give --known-routers")?;
    let dir = std::path::PathBuf::from(home).join(".config/tikguard");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir.join("known_routers"))
}

/// Connects (no login).
pub async fn connect(r: &Router, t: Timeouts) -> Result<Client, Status> {
    let opts = options(r, t)?;
    Client::connect(&opts)
        .await
        .map_err(|e| classify(&e, Phase::Connect))
}

/// Connects and logs in with the router's credential.
pub async fn login(r: &Router, t: Timeouts) -> Result<Client, Status> {
    // Read the credential first: a missing one is not worth a connection.
    let password = r
        .credential
        .read()
        .map_err(|detail| Status::Config { detail })?;
    let client = connect(r, t).await?;
    client
        .login(&r.user, &password)
        .await
        .map_err(|e| classify(&e, Phase::Login))?;
    Ok(client)
}

/// Sorts a client error into a status; `phase` is where it happened.
pub fn classify(e: &Error, phase: Phase) -> Status {
    let detail = e.to_string();
    match e {
        Error::Io(m) if m.contains("refused") => Status::Refused,
        // Once connected, a broken connection is the router's answer, not the network's reach.
        Error::Io(_) if phase != Phase::Connect => Status::Protocol { detail },
        Error::Io(_) => Status::Unreachable { detail },
        Error::Timeout(what) => Status::Timeout {
            during: if what.contains("connecting") {
                Phase::Connect
            } else if what.contains("TLS") {
                Phase::Tls
            } else if phase == Phase::Login {
                Phase::Login
            } else {
                Phase::Command
            },
        },
        Error::KnownRouterMismatch { .. } => Status::TlsMismatch { detail },
        Error::Tls(m) if m.starts_with("no answer to the TLS handshake") => {
            Status::Timeout { during: Phase::Tls }
        }
        Error::Tls(m) if m == routeros_api::tls::NOT_TLS => Status::WrongService { detail },
        Error::Tls(m)
            if m.contains("does not match the pinned")
                || m.contains("you pinned the CA")
                || m.contains("certificate") =>
        {
            Status::TlsMismatch { detail }
        }
        Error::Tls(_) => Status::TlsError { detail },
        Error::Trap { .. } | Error::Fatal(_) if phase == Phase::Login => {
            Status::BadLogin { detail }
        }
        Error::Closed if phase == Phase::Login => Status::Protocol {
            detail: "the router closed the connection during the login".into(),
        },
        Error::Trap { .. } => Status::JobRefused { detail },
        Error::Config(_) => Status::Config { detail },
        Error::ReplyTooLarge { .. } => Status::Protocol { detail },
        Error::Wire(_) | Error::Protocol(_) | Error::Fatal(_) | Error::Closed => {
            Status::Protocol { detail }
        }
    }
}

/// Whether another attempt may help: the network, not the router's answer. A bad login is never
/// retried (a retry is one more failed login in the router's log, and lockout tools count them),
/// nor a certificate mismatch.
pub fn retryable(s: &Status) -> bool {
    match s {
        // A reply past the client's cap (routeros_api::Error::ReplyTooLarge) would only be
        // read to the cap again.
        Status::Protocol { detail } => !detail.contains(REPLY_TOO_LARGE),
        _ => matches!(
            s,
            Status::Timeout { .. } | Status::Refused | Status::Unreachable { .. }
        ),
    }
}

/// What [`routeros_api::Error::ReplyTooLarge`] says, to tell it among protocol errors.
const REPLY_TOO_LARGE: &str = "reply to one command passed";
