//! `tikguard watch`: login failures become blocks on the routers.
//!
//! - [`event`]: RouterOS login events from log lines, in every framing routers send.
//! - [`detect`]: windows, escalation, enumeration and spray, allowlist; bounded.
//! - [`input`]: syslog over UDP and TCP (newline and octet-counting framing), routers only.
//! - [`metrics`]: the Prometheus endpoint.
//! - [`never`]: what is never blocked, whoever asks.
//! - [`blocks`]: what each router should list: watch's blocks and CrowdSec's decisions.
//! - [`action`]: each router's list kept as [`blocks`] says, reconciled on every (re)connect.
//! - [`crowdsec`]: CrowdSec's Local API, as a bouncer and as a machine.
//! - [`follow`]: routers' logs streamed over the API (`/log/print follow-only`).
//! - [`fleet`]: each router's tasks, started, stopped and restarted by reloads.
//! - [`webhook`]: alerts POSTed to a URL, retried.
//! - [`alerts`]: alerts appended to a file, reopened on SIGHUP.
//! - [`http`]: the HTTP client of the two above.
//! - [`config`]: the watcher's configuration file.
//! - [`run`]: the loop.
//! - [`reload`]: routers checked at start and on SIGHUP.
//! - [`replay`]: a log file read with the thresholds, nothing blocked.
//! - [`clock`]: when a log line says it was written (for `replay`).
//! - [`state`]: the blocks, kept across restarts.
//! - [`keeper`]: the state file while watch runs (batched writes, others' records, compaction).

pub mod action;
pub mod alerts;
pub mod blocks;
pub mod clock;
pub mod config;
pub mod confirm;
pub mod crowdsec;
pub mod detect;
pub mod event;
pub mod fleet;
pub mod follow;
pub mod http;
pub mod input;
pub mod keeper;
pub mod metrics;
pub mod never;
pub mod reload;
pub mod replay;
pub mod run;
pub mod state;
pub mod webhook;
