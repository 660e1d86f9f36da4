//! `tikguard proxy`: a RouterOS API server in front of a router that forwards to it only what
//! each client's policy allows, over verified API-SSL, with a router credential the client
//! never sees, and logs every decision in a hash-chained file.
//!
//! - [`config`]: `proxy.toml`, with line and column in errors; built-in policies.
//! - [`files`]: the files a configuration names, checked as `run` reads them.
//! - [`policy`]: the decision, pure.
//! - [`auditlog`]: the hash-chained JSON lines log, and its verification.
//! - [`checkpoint`]: the log's signed checkpoints, and what they prove about its tail.
//! - [`logfile`]: the log's files: one writer, its own file, its mode, a cut last line.
//! - [`metrics`]: the Prometheus endpoint.
//! - [`upstream`]: verified connections to the routers, pooled, reconnected with backoff.
//! - [`session`]: one client connection: login, decide, forward, redact, log.
//! - [`server`]: listeners, reload on SIGHUP, drain on SIGTERM.
//! - [`record`]: `proxy record`'s session file; [`replay`]: `proxy check --replay`.
//! - [`tls`]: a TLS listener's certificate, re-read on SIGHUP.
//! - [`clientcert`]: the client a TLS client certificate names.

pub mod auditlog;
pub mod checkpoint;
pub mod clientcert;
pub mod config;
pub mod files;
pub mod forward;
pub mod logfile;
pub mod metrics;
pub mod policy;
pub mod record;
pub mod replay;
pub mod server;
pub mod session;
pub mod tls;
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

/// Most Argon2 memory a stored hash may ask for, in 1 KiB blocks (64 MiB); a hash asking for
/// more is refused rather than allowed to take it.
pub const MAX_HASH_BLOCKS: usize = 64 * 1024;

/// [`verify_password`] with a caller-owned block buffer, reused from one check to the next, so
/// that a thread checking passwords holds one buffer instead of leaving the allocator a fresh
/// 19 MiB per login (measured: +19 MiB of peak memory per login of a flood).
pub fn verify_password_with(phc: &str, password: &[u8], blocks: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::Output;
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(h.algorithm) else {
        return false;
    };
    let version = match h.version {
        Some(v) => match argon2::Version::try_from(v) {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => argon2::Version::default(),
    };
    let Ok(params) = argon2::Params::try_from(&h) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let n = params.block_count();
    if n > MAX_HASH_BLOCKS {
        return false;
    }
    blocks.resize(n, argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    let ok = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..])
        .is_ok();
    // `Output` compares in constant time.
    ok && Output::new(&out).is_ok_and(|o| o == expected)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reusable_buffer_check_agrees_with_the_plain_one() {
        let phc = super::hash_password("right").unwrap();
        let mut blocks = Vec::new();
        for (pw, want) in [("right", true), ("wrong", false), ("right", true)] {
            assert_eq!(super::verify_password(&phc, pw.as_bytes()), want);
            assert_eq!(
                super::verify_password_with(&phc, pw.as_bytes(), &mut blocks),
                want
            );
        }
        assert!(!super::verify_password_with(
            "not a hash",
            b"x",
            &mut blocks
        ));
    }
}
