//! `tikguard harden`: the changes a configuration needs, as an idempotent `.rsc` script that is
//! proven, before it is shown, to fix what it claims and to keep the administrators and the CRM in
//! whatever line an import stops at.
//!
//! Where each decision lives:
//! - [`options`]: the command line's options, checked and planned for one configuration (shared
//!   by `harden` and `fleet harden`).
//! - [`intent`]: what the administrator asked for, checked (prefixes, not ranges; a version).
//! - [`plan`]: which changes the configuration needs (services, settings, users, logging); only
//!   what it needs, so planning the hardened result again gives nothing.
//! - [`crm`]: the CRM's groups and users.
//! - [`block`]: the firewall rules, where they go in the chain and which ports they cover.
//! - [`dynamic`]: `dynamic=no` in every `find` where RouterOS adds items itself.
//! - [`order`]: the order the changes run in, so that a stop after any line leaves access.
//! - placement and quoting: [`crate::ros`], shared with the audit's fix lines.
//! - [`script`]: rendering, guards, the rollback, and the one quoting function.
//! - [`layer2`]: MAC telnet, MAC winbox and discovery where management lives.
//! - [`foreign`]: items carrying harden's comment that it did not write, and entries of its
//!   own lists that do not last: refused.
//! - [`keep`]: the allow-lists the configuration has, kept unless `--replace-allow-lists`.
//! - [`proof`]: every prefix of the script applied to the export in memory, audited and checked
//!   for lockout over every packet of a connection; every command checked against RouterOS'
//!   command tree ([`crate::schema`]).
//! - [`losses`]: who could reach a service before and cannot after (the proof's table).
//! - [`romon`]: TG121's RoMON secret, in the manual's three stages, one a run.
//! - [`apply`]: `--apply`, the plan run on a live router over the API.
//!
//! The least-privilege API policy is [`crate::policy`]'s, shared with the audit.

pub mod apply;
pub mod block;
pub mod crm;
pub mod drift;
pub mod dynamic;
pub mod foreign;
pub mod intent;
pub mod keep;
pub mod layer2;
pub mod losses;
pub mod options;
pub mod order;
pub mod plan;
pub mod proof;
pub mod romon;
pub mod script;
pub mod tunnel;
pub mod used;

use serde::Serialize;

pub use intent::{CertPlan, Intent, Prefix, DEFAULT_API_USER};
pub use order::Phase;
pub use plan::plan;
pub use proof::{prove, prove_within, Proof, Refusal};
pub use script::{render, rollback};

use script::{Guard, Line};

pub use crate::ros::TAG;

/// One planned change.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub id: String,
    pub description: String,
    pub fixes: Vec<&'static str>,
    #[serde(skip)]
    pub phase: Phase,
    /// The commands, without guards.
    #[serde(skip)]
    pub lines: Vec<Line>,
    /// When the guarded script runs the change (absent for `set`s, which are idempotent).
    #[serde(skip)]
    pub guard: Option<Guard>,
    /// Commands that undo it.
    #[serde(skip)]
    pub undo: Vec<Line>,
}

/// The changes, in the order they run, and what was deliberately left alone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Things kept as they are and why (ports another feature needs, layer 2 access off).
    pub notes: Vec<String>,
    /// Items that carry the comment harden writes but are not what it writes (anyone with
    /// `write` can set a comment), or entries of its own lists that do not last: read back as
    /// the plan's they would be skipped, kept or removed as its own, so the proof refuses.
    #[serde(skip)]
    pub foreign: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The script's header: the command, what it was planned for, and for whom (`none` API
/// clients: the API is off and stays off).
pub fn header(command: &str, source: &str, intent: &Intent) -> String {
    let texts = |ps: &[Prefix]| {
        ps.iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let clients = if intent.api_clients.is_empty() {
        "none (the API stays off)".to_string()
    } else {
        texts(&intent.api_clients)
    };
    format!(
        "{command} for {source} (RouterOS {})\napi clients: {clients}; management: {}",
        intent.target,
        texts(&intent.mgmt)
    )
}
