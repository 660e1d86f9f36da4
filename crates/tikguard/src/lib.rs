//! tikguard: lock down the management plane of MikroTik RouterOS routers.
//!
//! The binary's subcommands live in [`cli`], one file each; the work they do lives in a folder per
//! job ([`audit`]). Parsing RouterOS text is the `routeros-config` crate's.

#![forbid(unsafe_code)]

pub mod audit;
pub mod civil;
pub mod cli;
pub mod emu;
pub mod exporter;
pub mod fleet;
pub mod harden;
pub mod input;
pub mod live;
pub mod menus;
pub mod policy;
pub mod probe;
pub mod proxy;
pub mod ros;
pub mod schema;
pub mod term;
pub mod watch;
