//! Parser and typed model for MikroTik RouterOS exports and scripts.
//!
//! ```
//! let (config, parsed) = routeros_config::Config::load(&b"/ip service\nset telnet disabled=yes\n"[..]);
//! assert!(parsed.diagnostics.is_empty());
//! let telnet = config.menu("/ip service").unwrap().by_name("telnet").unwrap();
//! assert!(telnet.is_disabled());
//! // Services an export does not mention keep RouterOS' defaults.
//! assert!(!config.menu("/ip service").unwrap().by_name("api").unwrap().is_disabled());
//! ```
//!
//! - [`parse`] reads bytes into spanned [`Statement`]s and [`Diagnostic`]s; it never fails or
//!   panics.
//! - [`Config`] applies the statements on top of RouterOS' defaults.
//! - [`value`] reads property values as booleans, durations, addresses, ports and lists.
//!
//! The crate does no I/O: callers hand it bytes.

#![forbid(unsafe_code)]

pub mod defaults;
pub mod dump;
pub mod escape;
pub mod model;
pub mod secrets;
pub mod span;
pub mod syntax;
pub mod value;
pub mod version;

pub use model::{Config, Item, Menu, Origin, Property};
pub use span::{LineCol, LineIndex, Span};
pub use syntax::{
    parse, Arg, Command, Diagnostic, Parsed, Statement, StatementKind, Value, ValueKind,
};
pub use version::Version;
