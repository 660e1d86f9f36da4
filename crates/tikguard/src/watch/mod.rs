//! `tikguard watch`: login failures become blocks on the routers.
//!
//! - [`event`]: RouterOS login events from log lines, in every framing routers send.

pub mod event;
