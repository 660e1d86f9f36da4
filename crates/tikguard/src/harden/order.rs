//! The order the script runs in.
//!
//! RouterOS runs an imported script line by line and stops at the first error (a name that
//! exists already, "this is configured elsewhere", a value the version rejects). Every line can
//! therefore be the last one that ran, and each prefix of the script must leave management and
//! the CRM with access. The phases below make that true by construction; the proof checks it on
//! every prefix ([`super::proof`]):
//!
//! 1. [`Phase::Prepare`]: the certificate (signed, and waited for) and the address lists. Nothing
//!    here changes who gets in.
//! 2. [`Phase::Accept`]: the accepts for the API clients and management, at the top of `input`.
//! 3. [`Phase::ApiSsl`]: api-ssl enabled with its certificate, for the API clients and management.
//!    From here the CRM can use api-ssl while the plaintext API still works.
//! 4. [`Phase::Restrict`]: other services limited to management, clear-text services off,
//!    settings, groups and users, logging. Management is accepted above every drop by now.
//! 5. [`Phase::Stage`]: brute-force staging (adds to lists, drops nothing).
//! 6. [`Phase::Drop`]: the final drop of management ports (both families, every interface), then
//!    the block-list drop (placed above the staging but below the accepts).
//! 7. [`Phase::Last`]: rules that accept the API from anyone disabled, then the plaintext API
//!    disabled: only after api-ssl has its certificate and its accept.

/// When a change runs; changes keep their planned order within a phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    #[default]
    Prepare,
    Accept,
    ApiSsl,
    Restrict,
    Stage,
    Drop,
    Last,
}

/// Sorts changes by phase, keeping the planned order within each.
pub fn sort(changes: &mut [super::Change]) {
    changes.sort_by_key(|c| c.phase);
}
