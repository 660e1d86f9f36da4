//! `tikguard proxy`: a RouterOS API server in front of a router that forwards to it only what
//! each client's policy allows, over verified API-SSL, with a router credential the client
//! never sees, and logs every decision in a hash-chained file.
//!
//! - [`config`]: `proxy.toml`, with line and column in errors; built-in policies.
//! - [`policy`]: the decision, pure.
//! - [`auditlog`]: the hash-chained JSON lines log, and its verification.
//! - [`metrics`]: the Prometheus endpoint.
//! - [`upstream`]: verified connections to the routers, pooled, reconnected with backoff.
//! - [`session`]: one client connection: login, decide, forward, redact, log.
//! - [`server`]: listeners, reload on SIGHUP, drain on SIGTERM.

pub mod auditlog;
pub mod config;
pub mod metrics;
pub mod policy;
pub mod server;
pub mod session;
pub mod upstream;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// An Argon2id PHC string for a client's password (`tikguard proxy hash-password`).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a PHC string.
pub fn verify_password(phc: &str, password: &[u8]) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password, &h).is_ok())
        .unwrap_or(false)
}
