//! What a RouterOS router prints that its export leaves out: an export lists only differences
//! from the defaults, while `print` over the API shows every value. The emulator serves an
//! export, so it adds these back where RouterOS would show them.
//!
//! - Settings menus always answer one record with their values, mentioned or not
//!   ([`settings`]).
//! - Built-in items (`set [ find default=yes ]` in an export) carry the `default` flag and
//!   their name ([`builtin_name`]).
//! - `disabled` is `yes` by default on wireless interfaces and PPP-family clients
//!   ([`disabled_by_default`]).
//! - RouterOS 6 ships the `ipv6` package disabled: its menus do not exist ([`ipv6_package_off`]).

use routeros_config::{Config, Version};

/// Menus whose items are disabled unless the export says `disabled=no`:
/// - wireless interfaces: they start disabled (the default configuration script enables
///   `wlan1` with `disabled=no`); the exports of the shared corpus write `disabled=no` on a
///   legacy wireless interface 12 times and `disabled=yes` never, which an export of
///   differences from the defaults does only when the default is `yes`. Audit rule TG124
///   reads them so;
/// - PPP-family clients: RouterOS creates them disabled, so an export shows `disabled=no` on
///   an enabled one and nothing on a disabled one (ROUTEROS.md, "Defaults that exports omit";
///   the exposure's WAN detection reads them so).
pub fn disabled_by_default(menu: &str) -> bool {
    matches!(
        menu,
        "/interface wireless"
            | "/interface wifi"
            | "/interface wifiwave2"
            | "/interface pppoe-client"
            | "/interface l2tp-client"
            | "/interface sstp-client"
            | "/interface ovpn-client"
            | "/interface pptp-client"
    )
}

/// The name RouterOS prints for a menu's built-in item (`Flags: * - default`), when the export
/// selected it with `[ find default=yes ]` and so never named it: the wireless security profile
/// is `name="default"` (`/interface wireless security-profiles print detail` on a router:
/// `0 * name="default" mode=...`, flag `*` = default).
pub fn builtin_name(menu: &str) -> Option<&'static str> {
    match menu {
        "/interface wireless security-profiles" => Some("default"),
        _ => None,
    }
}

/// The values a settings menu shows before any configuration, for the settings menus whose
/// defaults are documented; the export's `set` overrides them.
///
/// `/ipv6 settings`: MikroTik's IP Settings manual (help.mikrotik.com/docs/x/CQErDg, "IPv6
/// Settings"): `forward` default `yes`, `accept-redirects` and `accept-router-advertisements`
/// default `yes-if-forwarding-disabled`; `disable-ipv6` (default `no`) exists from RouterOS 7.
pub fn settings(menu: &str, version: &Version) -> Vec<(&'static str, &'static str)> {
    match menu {
        "/ipv6 settings" => {
            let mut v = vec![
                ("forward", "yes"),
                ("accept-redirects", "yes-if-forwarding-disabled"),
                ("accept-router-advertisements", "yes-if-forwarding-disabled"),
            ];
            if version.at_least(7, 0, 0) {
                v.push(("disable-ipv6", "no"));
            }
            v
        }
        // MikroTik's DNS manual (wiki.mikrotik.com/wiki/Manual:IP/DNS, Properties):
        // `allow-remote-requests (yes | no; Default: no)`.
        "/ip dns" => vec![("allow-remote-requests", "no")],
        // MikroTik's RoMON manual: `enabled` default `no`, `secrets` default empty.
        "/tool romon" => vec![("enabled", "no"), ("secrets", "")],
        // MikroTik's SNMP manual (help.mikrotik.com/docs/x/ToDmAg), `/snmp print` on a new
        // router: `enabled: no`, `contact`, `location` and `engine-id` empty, `trap-version: 1`.
        "/snmp" => vec![
            ("enabled", "no"),
            ("contact", ""),
            ("location", ""),
            ("engine-id", ""),
            ("trap-version", "1"),
        ],
        _ => Vec::new(),
    }
}

/// Whether `menu` belongs to RouterOS 6's `ipv6` package and that package is off: RouterOS 6
/// ships it disabled (ROUTEROS.md, "IPv6 is on in v7 (off by default in v6: ipv6 package
/// disabled)"), so an export of a v6 router that shows no `/ipv6` menu at all had it off, and
/// the router answers its menus as unknown (`no such command prefix`).
pub fn ipv6_package_off(config: &Config, version: &Version, menu: &str) -> bool {
    (menu == "/ipv6" || menu.starts_with("/ipv6 "))
        && !version.at_least(7, 0, 0)
        && !config.menus().any(|m| m.path.starts_with("/ipv6"))
}
