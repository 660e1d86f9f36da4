//! `tikguard watch`: login failures become blocks on the routers.
//!
//! - [`event`]: RouterOS login events from log lines, in every framing routers send.
//! - [`detect`]: windows, escalation, enumeration and spray, allowlist; bounded.

pub mod detect;
pub mod event;
