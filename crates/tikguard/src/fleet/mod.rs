//! `tikguard fleet`: tikguard's jobs over an inventory of routers, concurrently, with one
//! answer for the whole fleet.

pub mod diff;
pub mod inventory;
pub mod page;
pub mod result;
