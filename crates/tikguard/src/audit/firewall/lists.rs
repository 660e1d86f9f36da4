//! The lists rules refer to: interface lists and static address-list entries.

use std::collections::{HashMap, HashSet};

use routeros_config::value::parse_addr;
use routeros_config::Config;

use crate::audit::addrset::AddrSet;

/// Interface lists with their members, from `/interface list` and `/interface list member`.
#[derive(Debug, Default)]
pub struct InterfaceLists {
    /// Each list's members as `/interface list member` gives them (and, for `dynamic` and a
    /// PPP profile's list, the dynamic interfaces [`InterfaceLists::add_dynamic`] adds).
    members: HashMap<String, HashSet<String>>,
    /// Each list's `include=` and `exclude=`, resolved when asked ([`InterfaceLists::contains`]).
    defs: HashMap<String, (Vec<String>, Vec<String>)>,
    /// Interface name to kind (`ppp`, `ethernet`, `wireless`, `vlan`), for the `all-ppp`-style
    /// names `in-interface=` accepts.
    kinds: HashMap<String, &'static str>,
    /// Lists Detect Internet fills at run time, with the list of the interfaces it monitors
    /// ([`InterfaceLists::member`]).
    detected: Vec<(String, String)>,
}

/// How deep `include=`/`exclude=` are followed: lists that include each other in a loop stop
/// there instead of recursing for ever.
const LIST_DEPTH: usize = 8;

/// PPP client menus, with the profile a client uses when it names none.
const PPP_CLIENTS: &[(&str, &str)] = &[
    ("/interface pppoe-client", "default"),
    ("/interface l2tp-client", "default-encryption"),
    ("/interface sstp-client", "default-encryption"),
    ("/interface ovpn-client", "default-encryption"),
    ("/interface pptp-client", "default-encryption"),
];

/// Menus whose interfaces are of a kind the `all-KIND` interface names match.
const KIND_MENUS: &[(&str, &str)] = &[
    ("/interface pppoe-client", "ppp"),
    ("/interface l2tp-client", "ppp"),
    ("/interface sstp-client", "ppp"),
    ("/interface ovpn-client", "ppp"),
    ("/interface pptp-client", "ppp"),
    ("/interface ethernet", "ethernet"),
    ("/interface wireless", "wireless"),
    ("/interface wifi", "wireless"),
    ("/interface wifiwave2", "wireless"),
    ("/interface vlan", "vlan"),
];

impl InterfaceLists {
    /// MikroTik's Interface Lists manual (https://help.mikrotik.com/docs/x/LADWAg): "include
    /// members are added to the interface list", "exclude members are removed from the list",
    /// then "statically configured members are added". The named lists may be the predefined
    /// `all`, `none`, `dynamic` ("interfaces that have a dynamic flag") and `static` (every
    /// other interface), whose members exist only at run time (real exports: `add include=dynamic name=VPN`, `add
    /// exclude=dynamic name=ISP`), whose members exist only at run time, or lists the export
    /// creates after this one; so membership is resolved when asked, not when read.
    pub fn from_config(c: &Config) -> InterfaceLists {
        let mut members: HashMap<String, HashSet<String>> = HashMap::new();
        for m in c.items("/interface list member") {
            if m.is_disabled() {
                continue;
            }
            if let (Some(l), Some(i)) = (m.get_str("list"), m.get_str("interface")) {
                members.entry(l).or_default().insert(i);
            }
        }
        // A PPP client joins its profile's `interface-list=` while it is up. The PPP AAA manual
        // documents the property for the profiles of `/ppp secret`; that a client's profile does
        // the same is what a real export relies on (`Defm/mikrobackups` anna: a list commented
        // "includes l2tp client interfaces when UP", filled only by its L2TP client's profile):
        // approximated. A client without `profile=` takes RouterOS' default profile for it
        // (`default` for PPPoE, `default-encryption` for the others), also approximated.
        for (menu, default) in PPP_CLIENTS {
            for i in c.items(menu) {
                if i.get("disabled") != Some(b"no") {
                    continue;
                }
                let Some(name) = i.get_str("name") else {
                    continue;
                };
                let profile = i.get_str("profile").unwrap_or_else(|| default.to_string());
                let list = c
                    .menu("/ppp profile")
                    .and_then(|m| m.by_name(&profile))
                    .and_then(|p| p.get_str("interface-list"))
                    .filter(|l| !l.is_empty() && l != "none");
                if let Some(l) = list {
                    members.entry(l).or_default().insert(name);
                }
            }
        }
        let mut defs = HashMap::new();
        for l in c.items("/interface list") {
            let Some(name) = l.get_str("name") else {
                continue;
            };
            let split = |key: &str| -> Vec<String> {
                l.get_str(key)
                    .unwrap_or_default()
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            defs.insert(name, (split("include"), split("exclude")));
        }
        let mut kinds = HashMap::new();
        for (menu, kind) in KIND_MENUS {
            for i in c.items(menu) {
                if let Some(n) = i.get_str("name") {
                    kinds.insert(n, *kind);
                }
            }
        }
        // MikroTik's Detect Internet manual (https://help.mikrotik.com/docs/x/MADxAg): the
        // interfaces of `detect-interface-list` (default `none`) are monitored, and those in
        // state LAN, WAN or Internet "will be dynamically added" to `lan-interface-list`,
        // `wan-interface-list`, `internet-interface-list`; "All layer 2 interfaces initially
        // have" state LAN. Which list a monitored interface is in depends on the moment.
        let menu = "/interface detect-internet";
        let mut detected = Vec::new();
        if let Some(watch) = c
            .setting(menu, "detect-interface-list")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .filter(|l| !l.is_empty() && l != "none")
        {
            for key in [
                "lan-interface-list",
                "wan-interface-list",
                "internet-interface-list",
            ] {
                if let Some(l) = c
                    .setting(menu, key)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .filter(|l| !l.is_empty() && l != "none")
                {
                    detected.push((l, watch.clone()));
                }
            }
        }
        InterfaceLists {
            members,
            defs,
            kinds,
            detected,
        }
    }

    /// The lists Detect Internet fills at run time (see [`InterfaceLists::from_config`]).
    pub fn detected_lists(&self) -> impl Iterator<Item = &str> {
        self.detected.iter().map(|(l, _)| l.as_str())
    }

    /// A dynamic interface the router creates at run time (a PPPoE subscriber's `<pppoe-NAME>`):
    /// a member of the built-in `dynamic` list and of `lists` (a PPP profile's
    /// `interface-list=`).
    pub fn add_dynamic(&mut self, iface: &str, kind: &'static str, lists: &[String]) {
        self.kinds.insert(iface.to_string(), kind);
        for l in std::iter::once("dynamic").chain(lists.iter().map(String::as_str)) {
            self.members
                .entry(l.to_string())
                .or_default()
                .insert(iface.to_string());
        }
    }

    /// Whether `in-interface=NAME` matches `iface`: the same name, or `all-ppp`,
    /// `all-ethernet`, `all-wireless`, `all-vlan` for an interface of that kind (firewall
    /// matcher values; real exports use `in-interface=all-ppp` on input rules).
    pub fn name_matches(&self, name: &str, iface: &str) -> bool {
        if name == iface {
            return true;
        }
        let Some(kind) = name.strip_prefix("all-") else {
            return false;
        };
        match self.kinds.get(iface) {
            Some(k) => *k == kind,
            // Board ports keep their default names (`ether1`, `sfp-sfpplus1`, `combo1`) and
            // appear under `/interface ethernet` only once something is set on them.
            None => kind == "ethernet" && is_board_port(iface),
        }
    }

    /// Whether `iface` is certainly in `list` at run time.
    pub fn contains(&self, list: &str, iface: &str) -> bool {
        self.member(list, iface) == Some(true)
    }

    /// Whether `iface` is in `list` at run time: `None` when that depends on the moment (a list
    /// Detect Internet fills, and an interface it monitors).
    pub fn member(&self, list: &str, iface: &str) -> Option<bool> {
        self.member_within(list, iface, LIST_DEPTH)
    }

    fn member_within(&self, list: &str, iface: &str, depth: usize) -> Option<bool> {
        match list {
            "all" => return Some(true),
            "none" => return Some(false),
            // Every interface without the dynamic flag (MikroTik's Interface Lists manual).
            "static" => return self.member_within("dynamic", iface, depth).map(|d| !d),
            _ => {}
        }
        if self.members.get(list).is_some_and(|s| s.contains(iface)) {
            return Some(true);
        }
        let Some(depth) = depth.checked_sub(1) else {
            return Some(false);
        };
        // Kleene's three values: unknown unless some list decides it.
        let any = |lists: &[String]| {
            let mut unknown = false;
            for l in lists {
                match self.member_within(l, iface, depth) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        };
        let detected = self
            .detected
            .iter()
            .any(|(l, watch)| l == list && self.member_within(watch, iface, depth) != Some(false));
        let Some((include, exclude)) = self.defs.get(list) else {
            return if detected { None } else { Some(false) };
        };
        let listed = match (any(include), any(exclude)) {
            (Some(false), _) | (_, Some(true)) => Some(false),
            (Some(true), Some(false)) => Some(true),
            _ => None,
        };
        match listed {
            Some(false) if detected => None,
            other => other,
        }
    }

    /// The members of `list` that can be named: its own, and those of the lists it includes
    /// less those it excludes. What `all` and `static` hold is every interface there is, which
    /// no export lists: a list including them is not enumerated through them.
    pub fn members(&self, list: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .named_members(list, LIST_DEPTH)
            .into_iter()
            .filter(|i| self.contains(list, i))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn named_members(&self, list: &str, depth: usize) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .get(list)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        if let (Some((include, _)), Some(depth)) = (self.defs.get(list), depth.checked_sub(1)) {
            for l in include {
                v.extend(self.named_members(l, depth));
            }
        }
        v
    }
}

/// `ether1`, `sfp1`, `sfp-sfpplus1`, `qsfpplus1-1`, `combo1`: RouterBOARD port default names.
fn is_board_port(name: &str) -> bool {
    ["ether", "sfp", "qsfp", "combo"].iter().any(|p| {
        name.strip_prefix(p)
            .and_then(|rest| rest.chars().last())
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Static entries of firewall address lists, per family.
#[derive(Debug, Default)]
pub struct AddressLists {
    lists: HashMap<String, (AddrSet, bool)>,
    /// Per list, how many enabled entries of this family it has (as written: overlapping
    /// entries each count).
    entries: HashMap<String, usize>,
    /// Lists an `add-src-to-address-list`/`add-dst-to-address-list` rule fills.
    filled: HashSet<String>,
    /// Per list, the entries written with a `timeout=` that passes ([`expires`]).
    expiring: HashMap<String, AddrSet>,
    v6: bool,
}

/// Whether an entry's `timeout=` removes it one day. MikroTik's Address-lists manual:
/// `timeout` is the "time after address will be removed from address list"; without one it
/// stays. `none-static`/`none-dynamic` (RouterOS 7) and a zero duration keep it; anything else
/// (a duration, or a value this cannot read) is taken to pass.
pub fn expires(timeout: &[u8]) -> bool {
    let t = timeout.trim_ascii();
    !(t.is_empty()
        || t.starts_with(b"none")
        || t.iter()
            .all(|b| matches!(b, b'0' | b's' | b'm' | b'h' | b'd' | b'w' | b':')))
}

impl AddressLists {
    pub fn from_config(c: &Config, v6: bool) -> AddressLists {
        let menu = if v6 {
            "/ipv6 firewall address-list"
        } else {
            "/ip firewall address-list"
        };
        let mut ranges: HashMap<String, (Vec<(u128, u128)>, bool)> = HashMap::new();
        let mut expiring: HashMap<String, Vec<(u128, u128)>> = HashMap::new();
        let mut entries: HashMap<String, usize> = HashMap::new();
        for e in c.items(menu) {
            if e.is_disabled() {
                continue;
            }
            let Some(list) = e.get_str("list") else {
                continue;
            };
            let timed = e.get("timeout").is_some_and(expires);
            let entry = ranges.entry(list.clone()).or_default();
            match e.get("address").and_then(parse_addr) {
                Some(a) if !a.negated && a.range.v6 == v6 => {
                    entry.0.push((a.range.start, a.range.end));
                    *entries.entry(list.clone()).or_default() += 1;
                    if timed {
                        expiring
                            .entry(list)
                            .or_default()
                            .push((a.range.start, a.range.end));
                    }
                }
                Some(_) => {}
                // A DNS name resolved at run time: unknown here.
                None => entry.1 = true,
            }
        }
        let fam = if v6 { "/ipv6 firewall" } else { "/ip firewall" };
        let filled = ["filter", "raw", "mangle"]
            .iter()
            .flat_map(|t| c.items(&format!("{fam} {t}")))
            .filter(|i| {
                matches!(
                    i.get("action"),
                    Some(b"add-src-to-address-list" | b"add-dst-to-address-list")
                )
            })
            .filter_map(|i| i.get_str("address-list"))
            .collect();
        AddressLists {
            lists: ranges
                .into_iter()
                .map(|(k, (r, unknown))| (k, (AddrSet::from_ranges(v6, r), unknown)))
                .collect(),
            entries,
            filled,
            expiring: expiring
                .into_iter()
                .map(|(k, r)| (k, AddrSet::from_ranges(v6, r)))
                .collect(),
            v6,
        }
    }

    /// Whether a list may hold other entries at run time than it holds now: rules add to it, it
    /// has no entries (something else fills it), or some of its entries expire. The defender
    /// counts on none of its entries being there, nor on any address being absent.
    pub fn filled_at_run_time(&self, name: &str) -> bool {
        self.written_at_run_time(name) || self.expiring.contains_key(name)
    }

    /// Whether something other than the configuration writes a list: rules add to it, or it has
    /// no entries.
    pub fn written_at_run_time(&self, name: &str) -> bool {
        self.filled.contains(name) || !self.has_entries(name)
    }

    /// A list's entries that expire ([`expires`]).
    pub fn expiring(&self, name: &str) -> AddrSet {
        self.expiring
            .get(name)
            .cloned()
            .unwrap_or_else(|| AddrSet::empty(self.v6))
    }

    /// The static entries of a list, and whether it also has entries unknown until run time.
    pub fn get(&self, name: &str) -> (AddrSet, bool) {
        self.lists
            .get(name)
            .cloned()
            .unwrap_or_else(|| (AddrSet::empty(self.v6), false))
    }

    /// Every list with static entries of this family and none unknown until run time: (name,
    /// its entries as a set, how many entries), in name order.
    pub fn known(&self) -> Vec<(&str, &AddrSet, usize)> {
        let mut v: Vec<(&str, &AddrSet, usize)> = self
            .lists
            .iter()
            .filter(|(_, (s, unknown))| !*unknown && !s.is_empty())
            .map(|(n, (s, _))| {
                (
                    n.as_str(),
                    s,
                    self.entries.get(n).copied().unwrap_or_default(),
                )
            })
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    pub fn has_entries(&self, name: &str) -> bool {
        self.lists
            .get(name)
            .is_some_and(|(s, unknown)| !s.is_empty() || *unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::expires;

    /// MikroTik's Address-lists manual, `timeout`: the entry is removed once it passes; none
    /// given, `none-static`/`none-dynamic` or a zero duration keep it.
    #[test]
    fn an_address_list_timeout_that_passes_expires_the_entry() {
        for t in ["1d", "00:05:00", "35w3d13h13m56s", "5m30s", "garbage"] {
            assert!(expires(t.as_bytes()), "{t}");
        }
        for t in ["", "none-static", "none-dynamic", "0s", "00:00:00", "0"] {
            assert!(!expires(t.as_bytes()), "{t}");
        }
    }
}
