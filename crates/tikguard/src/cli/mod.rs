//! One module per subcommand.

pub mod audit;
pub mod parse;
pub mod rules;
