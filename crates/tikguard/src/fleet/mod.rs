//! `tikguard fleet`: tikguard's jobs over an inventory of routers, concurrently, with one
//! answer for the whole fleet.
//!
//! [`inventory`] says which routers and how to reach them, [`run`] runs a [`jobs::Job`] over
//! them, [`result`] is what comes back, [`output`] writes the folder.

pub mod connect;
pub mod diff;
pub mod harden;
pub mod inventory;
pub mod jobs;
pub mod output;
pub mod page;
pub mod result;
pub mod run;
pub mod verbs;
