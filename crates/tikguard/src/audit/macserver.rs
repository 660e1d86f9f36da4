//! Where the MAC server (MAC telnet, and MAC winbox in its own menu) listens, in either of the
//! two forms RouterOS has had. It decides nothing else; TG112 and harden's layer-2 plan read it.
//!
//! - From 6.41: one setting, `allowed-interface-list` (default `all`).
//! - Before 6.41: one entry per interface, `add interface=ether2`, beside a default entry (flag
//!   `default=yes`, `interface=all`) that is on until disabled. Real exports in the corpus show
//!   exactly this: 6.39.2 (`dennyhalim/cfg` quickset) and 6.40.5 write
//!   `/tool mac-server set [ find default=yes ] disabled=yes` then `add interface=ether2`, and
//!   5.7 (`ylctat/Computer-Devices` RB493G) `set (unknown) disabled=no interface=all`; none of
//!   them has `allowed-interface-list`, which 6.41's schema introduced (harden's v6 argument set,
//!   [`crate::schema`]). Which form an export uses is read from its version header; without one,
//!   the later form.

use routeros_config::{Config, Item};

use super::firewall::InterfaceLists;

/// Where a MAC server menu lets layer-2 logins in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MacAccess {
    /// 6.41 and later: an interface list (`all`, `none`, `!WAN`, a name).
    List(String),
    /// Before 6.41: the default entry (every interface) on or off, and the interfaces that have
    /// an enabled entry of their own.
    PerInterface { all: bool, interfaces: Vec<String> },
}

/// Whether the export configures the MAC server per interface (RouterOS before 6.41).
pub fn per_interface_form(c: &Config) -> bool {
    c.version.as_ref().is_some_and(|v| !v.at_least(6, 41, 0))
}

/// The default entry of the per-interface form: flagged `default=yes`, or `interface=all`.
pub fn is_default_entry(i: &Item) -> bool {
    i.builtin || i.get("default") == Some(b"yes") || i.get("interface") == Some(b"all")
}

/// Where `menu` (`/tool mac-server` or `/tool mac-server mac-winbox`) lets logins in.
pub fn access(c: &Config, menu: &str) -> MacAccess {
    if !per_interface_form(c) {
        return MacAccess::List(
            c.setting(menu, "allowed-interface-list")
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_else(|| "all".into()),
        );
    }
    let items = c.items(menu);
    // Until an export says otherwise the default entry is on (every interface).
    let all = !items.iter().any(|i| is_default_entry(i) && i.is_disabled());
    let mut interfaces: Vec<String> = items
        .iter()
        .filter(|i| !is_default_entry(i) && !i.is_disabled())
        .filter_map(|i| i.get_str("interface"))
        .collect();
    interfaces.sort();
    interfaces.dedup();
    MacAccess::PerInterface { all, interfaces }
}

/// Whether an interface-list value (`all`, `none`, `!WAN`, a name) covers `iface`.
pub fn list_covers(lists: &InterfaceLists, list: &str, iface: &str) -> bool {
    match list.strip_prefix('!') {
        Some(l) => !lists.contains(l, iface),
        None => lists.contains(list, iface),
    }
}

impl MacAccess {
    /// Whether layer-2 logins are let in on `iface`.
    pub fn covers(&self, lists: &InterfaceLists, iface: &str) -> bool {
        match self {
            MacAccess::List(l) => list_covers(lists, l, iface),
            MacAccess::PerInterface { all, interfaces } => {
                *all || interfaces.iter().any(|i| i == iface)
            }
        }
    }

    /// As the table of who loses access shows it.
    pub fn describe(&self) -> String {
        match self {
            MacAccess::List(l) => format!("interface list {l}"),
            MacAccess::PerInterface { all: true, .. } => "every interface".into(),
            MacAccess::PerInterface { interfaces, .. } if interfaces.is_empty() => "none".into(),
            MacAccess::PerInterface { interfaces, .. } => interfaces.join(","),
        }
    }
}

/// Where neighbour discovery announces the router: `discover-interface-list` (default `all`).
/// Before 6.41 it is set per interface (`/ip neighbor discovery set ether1 discover=no`), which
/// is not read here: the list form's default stands for it.
pub fn discovery(c: &Config) -> MacAccess {
    MacAccess::List(
        c.setting("/ip neighbor discovery-settings", "discover-interface-list")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| "all".into()),
    )
}
