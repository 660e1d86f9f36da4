//! One module per subcommand.

pub mod audit;
pub mod connect;
pub mod emu;
pub mod exec;
pub mod harden;
pub mod parse;
pub mod probe;
pub mod rules;
