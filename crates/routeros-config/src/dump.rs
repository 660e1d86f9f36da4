//! A stable, readable rendering of a [`Config`], for snapshot tests and `tikguard parse --dump`.
//!
//! One line per item: `/menu [index] *id origin key=value ...`, values quoted when they need it.
//! Settings menus print their settings as `/menu settings key=value ...`. Secret values are
//! shown as `***`.

use std::fmt::Write;

use crate::escape::quote;
use crate::model::{Config, Item, Origin};

fn props(out: &mut String, menu: &str, item: &Item) {
    for p in &item.props {
        let v = crate::secrets::redact_in(menu, &p.key, p.value.as_bytes());
        let v = &*crate::secrets::redact_embedded(v);
        let plain = !v.is_empty()
            && v.iter()
                .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\\' && c != b'$');
        let _ = write!(out, " {}=", String::from_utf8_lossy(&p.key));
        if plain {
            out.push_str(&String::from_utf8_lossy(v));
        } else {
            out.push_str(&quote(v));
        }
    }
}

/// Renders the whole model.
pub fn dump(c: &Config) -> String {
    let mut out = String::new();
    if let Some(v) = &c.version {
        let _ = writeln!(out, "# version {v}");
    }
    for m in c.menus() {
        if !m.settings.props.is_empty() {
            let _ = write!(out, "{} settings", m.path);
            props(&mut out, &m.path, &m.settings);
            out.push('\n');
        }
        for (i, item) in m.items.iter().enumerate() {
            let origin = match item.origin {
                Origin::Default => "default",
                Origin::Implicit => "implicit",
                Origin::Added => "added",
            };
            let _ = write!(out, "{} [{i}] *{:X} {origin}", m.path, item.id);
            if item.builtin {
                out.push_str(" builtin");
            }
            props(&mut out, &m.path, item);
            out.push('\n');
        }
    }
    out
}
