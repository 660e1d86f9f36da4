//! What RouterOS refuses in `add` and `set`, so that the emulator refuses it too: arguments the
//! menu does not have, a second item with a key that must be unique, and references to profiles,
//! pools, lists, groups and interfaces that do not exist.
//!
//! Sources:
//! - arguments: RouterOS' own command tree (`/console/inspect`, 7.9 to 7.24, via
//!   [`crate::schema`]); the answer `unknown parameter` is what clients report from real routers
//!   (GideonLeGrange/mikrotik-java#15, mdshemul48/mikro-routeros#1). There is no tree for v6:
//!   arguments are not checked for 6.x (approximated).
//! - references: MikroTik's API manual shows `=interface=asdf` answered with `!trap =category=1
//!   =message=input does not match any value of interface`; the same message names the property
//!   for profiles (`/ppp secret set profile=`), pools, lists and groups.
//! - duplicates: `failure: secret with the same name already exists` for `/ppp secret`, and
//!   `failure: already have such entry` for an address-list entry with the same list and
//!   address, as CRMs and blockers match them in their error handling. For the other menus whose
//!   `name` must be unique the exact wording is not documented; the emulator answers `failure:
//!   item with such name already exists` (approximated).

use routeros_config::{Config, Item, Version};

use crate::audit::exposure::is_interface_menu;
use crate::schema;

/// Menus whose items must be unique on these keys, and RouterOS' answer.
const UNIQUE: &[(&str, &[&str], &str)] = &[
    (
        "/ppp secret",
        &["name"],
        "failure: secret with the same name already exists",
    ),
    (
        "/ip firewall address-list",
        &["list", "address"],
        "failure: already have such entry",
    ),
    (
        "/ipv6 firewall address-list",
        &["list", "address"],
        "failure: already have such entry",
    ),
    ("/queue simple", &["name"], NAME_TAKEN),
    ("/queue tree", &["name"], NAME_TAKEN),
    ("/ppp profile", &["name"], NAME_TAKEN),
    ("/ip pool", &["name"], NAME_TAKEN),
    ("/ipv6 pool", &["name"], NAME_TAKEN),
    ("/ip hotspot user", &["name"], NAME_TAKEN),
    ("/ip hotspot user profile", &["name"], NAME_TAKEN),
    ("/user", &["name"], NAME_TAKEN),
    ("/user group", &["name"], NAME_TAKEN),
    ("/interface list", &["name"], NAME_TAKEN),
    ("/certificate", &["name"], NAME_TAKEN),
    ("/system script", &["name"], NAME_TAKEN),
    ("/system scheduler", &["name"], NAME_TAKEN),
];

const NAME_TAKEN: &str = "failure: item with such name already exists";

/// What a property refers to.
enum Target {
    /// Items of these menus, by `name`, plus built-in names.
    Names(&'static [&'static str], &'static [&'static str]),
    /// A pool by name, or an address.
    PoolOrAddress,
    /// An interface of the configuration, or a physical port of the board.
    Interface,
}

/// `(menu, property, what it names)`.
const REFS: &[(&str, &str, Target)] = &[
    (
        "/ppp secret",
        "profile",
        Target::Names(&["/ppp profile"], PPP_PROFILES),
    ),
    (
        "/interface pppoe-server server",
        "default-profile",
        Target::Names(&["/ppp profile"], PPP_PROFILES),
    ),
    ("/ppp profile", "local-address", Target::PoolOrAddress),
    ("/ppp profile", "remote-address", Target::PoolOrAddress),
    (
        "/ip pool",
        "next-pool",
        Target::Names(&["/ip pool"], &["none"]),
    ),
    (
        "/ip dhcp-server",
        "address-pool",
        Target::Names(&["/ip pool"], &["static-only"]),
    ),
    (
        "/ip hotspot user",
        "profile",
        Target::Names(&["/ip hotspot user profile"], &["default"]),
    ),
    (
        "/ip hotspot user",
        "server",
        Target::Names(&["/ip hotspot"], &["all"]),
    ),
    (
        "/ip hotspot user profile",
        "address-pool",
        Target::Names(&["/ip pool"], &["none"]),
    ),
    (
        "/queue simple",
        "parent",
        Target::Names(&["/queue simple"], &["none"]),
    ),
    ("/user", "group", Target::Names(&["/user group"], &[])),
    (
        "/interface list member",
        "list",
        Target::Names(&["/interface list"], INTERFACE_LISTS),
    ),
    (
        "/ip firewall filter",
        "in-interface-list",
        Target::Names(&["/interface list"], INTERFACE_LISTS),
    ),
    (
        "/ip firewall filter",
        "out-interface-list",
        Target::Names(&["/interface list"], INTERFACE_LISTS),
    ),
    ("/ip address", "interface", Target::Interface),
    ("/ipv6 address", "interface", Target::Interface),
    ("/ip dhcp-client", "interface", Target::Interface),
    ("/ip dhcp-server", "interface", Target::Interface),
    ("/interface bridge port", "interface", Target::Interface),
    ("/interface list member", "interface", Target::Interface),
];

/// Built-in PPP profiles (MikroTik's PPP AAA manual).
const PPP_PROFILES: &[&str] = &["default", "default-encryption"];
/// Built-in interface lists (MikroTik's Interface Lists manual).
const INTERFACE_LISTS: &[&str] = &["all", "none", "dynamic", "static"];

/// Ports a board has without the export naming them: `ether1`, `sfp-sfpplus1`, `wlan1`, ...
fn is_board_port(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "ether",
        "sfp",
        "sfp-sfpplus",
        "sfp28-",
        "qsfp",
        "combo",
        "wlan",
        "wifi",
        "lte",
    ];
    name == "lo"
        || PREFIXES.iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
        })
        || (name.starts_with('<') && name.ends_with('>'))
}

/// A refusal: the trap's category and message.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub category: Option<u8>,
    pub message: String,
}

fn refuse(category: Option<u8>, message: impl Into<String>) -> Refusal {
    Refusal {
        category,
        message: message.into(),
    }
}

/// Checks the arguments of `verb` in `menu` against RouterOS' command tree.
pub fn check_arguments(
    version: &Version,
    menu: &str,
    verb: &str,
    args: &[String],
) -> Result<(), Refusal> {
    // RouterOS 6 has no command tree; the v6 table in `schema` lists only what harden emits,
    // not every argument a menu has, so it cannot refuse anything here.
    if schema::schema_version(version).is_none() {
        return Ok(());
    }
    for p in schema::check(version, menu, verb, args) {
        if let schema::Problem::UnknownArgument { .. } = p {
            return Err(refuse(None, "unknown parameter"));
        }
    }
    Ok(())
}

/// Checks that the values set name things that exist.
pub fn check_references(
    config: &Config,
    menu: &str,
    values: &[(String, Vec<u8>)],
) -> Result<(), Refusal> {
    for (key, value) in values {
        let Some((_, _, target)) = REFS.iter().find(|(m, k, _)| *m == menu && *k == key) else {
            continue;
        };
        let v = value.strip_prefix(b"!").unwrap_or(value);
        if v.is_empty() {
            continue;
        }
        let name = String::from_utf8_lossy(v);
        let named = |menus: &[&str]| {
            menus
                .iter()
                .any(|m| config.menu(m).is_some_and(|m| m.by_name(&name).is_some()))
        };
        let ok = match target {
            Target::Names(menus, builtins) => builtins.contains(&name.as_ref()) || named(menus),
            Target::PoolOrAddress => {
                routeros_config::value::parse_addr(v).is_some() || named(&["/ip pool"])
            }
            Target::Interface => {
                is_board_port(&name)
                    || config.menus().any(|m| {
                        is_interface_menu(&m.path)
                            && m.items.iter().any(|i| i.get("name") == Some(v))
                    })
            }
        };
        if !ok {
            return Err(refuse(
                Some(1),
                format!("input does not match any value of {key}"),
            ));
        }
    }
    Ok(())
}

/// Checks that the item as it would be after the change (`value` reads its properties) does
/// not repeat the unique key of another item of `menu`; `own_id` is the item being changed.
pub fn check_unique(
    config: &Config,
    menu: &str,
    value: impl Fn(&str) -> Option<Vec<u8>>,
    own_id: Option<u32>,
) -> Result<(), Refusal> {
    let Some((_, keys, message)) = UNIQUE.iter().find(|(m, _, _)| *m == menu) else {
        return Ok(());
    };
    let Some(mine) = keys
        .iter()
        .map(|k| value(k).map(|v| normalize(&v)))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(());
    };
    let key_of = |it: &Item| -> Option<Vec<Vec<u8>>> {
        keys.iter()
            .map(|k| it.get(k).map(normalize))
            .collect::<Option<Vec<_>>>()
    };
    let clash = config
        .items(menu)
        .iter()
        .filter(|it| Some(it.id) != own_id)
        .any(|it| key_of(it).as_ref() == Some(&mine));
    if clash {
        return Err(refuse(None, *message));
    }
    Ok(())
}

/// Values that mean the same: `10.0.0.1` and `10.0.0.1/32`.
fn normalize(v: &[u8]) -> Vec<u8> {
    v.strip_suffix(b"/32").unwrap_or(v).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_against_v7_trees_only() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let v7 = Version::new(7, 18, 0);
        assert!(check_arguments(&v7, "/ppp secret", "add", &args(&["name", "bogus"])).is_err());
        assert!(check_arguments(&v7, "/ppp secret", "add", &args(&["name", "profile"])).is_ok());
        // v6: `/user set password=` is real even though harden's v6 table does not list it.
        let v6 = Version::new(6, 49, 0);
        assert!(check_arguments(&v6, "/user", "set", &args(&["numbers", "password"])).is_ok());
    }

    #[test]
    fn board_ports_and_dynamic_interfaces_exist_without_the_export() {
        assert!(is_board_port("ether1") && is_board_port("sfp-sfpplus2"));
        assert!(is_board_port("<pppoe-alice>") && is_board_port("lo"));
        assert!(!is_board_port("ether") && !is_board_port("wan"));
    }

    #[test]
    fn interface_menus_are_those_that_create_interfaces() {
        assert!(is_interface_menu("/interface vlan") && is_interface_menu("/interface bridge"));
        assert!(is_interface_menu("/interface pppoe-client"));
        assert!(
            !is_interface_menu("/interface list") && !is_interface_menu("/interface bridge port")
        );
    }
}
