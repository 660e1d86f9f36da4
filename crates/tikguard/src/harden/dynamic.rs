//! Items RouterOS adds by itself are never a plan's target.
//!
//! - Firewall filter/nat/mangle/raw, IPv4 and IPv6: MikroTik's Firewall Filter manual lists the
//!   `dynamic` flag ("D", rules "dynamically added by services": hotspot, UPnP, and from v7
//!   the "special dummy rule to show fasttrack counters"); such rules cannot be changed, moved,
//!   or placed before (ROUTEROS.md, `place-before`).
//! - Address lists: the Address-lists manual lists `dynamic (yes, no)` among an entry's
//!   properties; an entry added by `add-src-to-address-list`/`add-dst-to-address-list`, or
//!   written with `timeout=`, is held in RAM only and printed with `D` ("two new dynamic
//!   entries appeared in the address list (marked with a status of 'D')"; the v2.9-v6 wiki
//!   page shows the same `Flags: X - disabled, D - dynamic`).
//! - Interface list members: a PPP profile's `interface-list` adds the PPP interface to the
//!   list while the session lasts (PPP AAA manual), printed with `D`.
//!
//! RouterOS' command trees (`/console/inspect`, 7.9 to 7.24) name only `where` as `find`'s
//! argument, not the properties it takes, so the trees cannot confirm `dynamic` per menu;
//! what they do show is the `dynamic`/`static` flags of `print` in `/ip firewall
//! filter|nat|mangle|raw` in every 7.x tree. A `find where` takes an item's properties and its
//! flags alike (MikroTik's Scripting manual, `find`), and the manuals above give `dynamic` for
//! every menu here on v6 and v7; there is no v6 command tree, and the v6 argument table
//! ([`crate::schema`]) checks arguments, never `find` properties.
//!
//! So every `find` of a change, its undo and its guard, in these menus, takes `dynamic=no`: a
//! dynamic item with a comment or address the plan looks for is neither changed nor taken for
//! the item the plan means; `--apply`, which resolves every find before it changes anything
//! ([`super::apply::unresolved`]), stops with the router as it was when the only match is
//! dynamic; and the guard of an address-list `add` no longer skips the add because a timed
//! entry with the same list and address is there (an entry that is gone once its timeout
//! passes: RouterOS keeps one entry per list and address, so the add then fails with "already
//! have such entry" and an import stops there (MikroTik's Scripting manual: "command lines are
//! executed one by one until the end of the script or until a runtime error occurs"), early
//! and with access kept, instead of leaving
//! management's access resting on an entry that expires).

use super::script::{Cond, Line, Target, Val};
use super::Change;

/// Menus whose items RouterOS may add itself.
pub const MENUS: &[&str] = &[
    "/ip firewall filter",
    "/ip firewall nat",
    "/ip firewall mangle",
    "/ip firewall raw",
    "/ipv6 firewall filter",
    "/ipv6 firewall nat",
    "/ipv6 firewall mangle",
    "/ipv6 firewall raw",
    "/ip firewall address-list",
    "/ipv6 firewall address-list",
    "/interface list member",
];

fn static_only(menu: &str, conds: &mut Vec<Cond>) {
    if MENUS.contains(&menu) && !conds.iter().any(|c| c.key == "dynamic") {
        conds.push(Cond::eq("dynamic", "no"));
    }
}

/// Adds `dynamic=no` to every `find` of the changes, their undo and their guards, in the menus
/// where RouterOS adds items itself.
pub fn exclude(changes: &mut [Change]) {
    for ch in changes {
        for line in ch.lines.iter_mut().chain(ch.undo.iter_mut()) {
            let Line::Cmd(stmt) = line else { continue };
            if let Target::Find(conds) | Target::Every(conds) = &mut stmt.target {
                static_only(&stmt.menu, conds);
            }
            for (_, v) in &mut stmt.args {
                if let Val::Pick(conds) = v {
                    static_only(&stmt.menu, conds);
                }
            }
        }
        if let Some(g) = &mut ch.guard {
            for (menu, conds) in g.absent.iter_mut().chain(g.present.iter_mut()) {
                static_only(menu, conds);
            }
        }
    }
}
