//! The allow-lists a plan keeps: those the configuration has ([`crate::audit::keep`]), or none
//! with `--replace-allow-lists`.

use routeros_config::Config;

pub use crate::audit::keep::*;

use super::intent::Intent;

/// The allow-lists the configuration has; nothing with `--replace-allow-lists`.
pub fn kept(c: &Config, intent: &Intent) -> Kept {
    if intent.replace_allow_lists {
        return Kept::default();
    }
    known(c)
}
