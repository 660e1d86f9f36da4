//! `tikguard watch`: login failures become blocks on the routers.
//!
//! - [`event`]: RouterOS login events from log lines, in every framing routers send.
//! - [`detect`]: windows, escalation, enumeration and spray, allowlist; bounded.
//! - [`input`]: syslog over UDP and TCP (newline and octet-counting framing).
//! - [`action`]: address-list blocks on the routers, queued and retried.
//! - [`config`]: the watcher's configuration file.
//! - [`run`]: the loop, and `replay` of a log file.
//! - [`state`]: the blocks, kept across restarts.

pub mod action;
pub mod config;
pub mod detect;
pub mod event;
pub mod input;
pub mod run;
pub mod state;
