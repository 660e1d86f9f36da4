//! The lists rules refer to: interface lists and static address-list entries.

use std::collections::{HashMap, HashSet};

use routeros_config::value::parse_addr;
use routeros_config::Config;

use crate::audit::addrset::AddrSet;

/// Interface lists with their members, from `/interface list` and `/interface list member`.
#[derive(Debug, Default)]
pub struct InterfaceLists {
    members: HashMap<String, HashSet<String>>,
    /// Lists that include the built-in `all` (minus their `exclude=` members).
    universal: HashMap<String, HashSet<String>>,
}

impl InterfaceLists {
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
        // `include=`/`exclude=` of other lists, one level deep as RouterOS allows.
        let mut extra: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for l in c.items("/interface list") {
            let Some(name) = l.get_str("name") else {
                continue;
            };
            let inc = l.get_str("include").unwrap_or_default();
            let exc = l.get_str("exclude").unwrap_or_default();
            let split = |s: &str| -> Vec<String> {
                s.split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            extra.push((name, split(&inc), split(&exc)));
        }
        let mut universal: HashMap<String, HashSet<String>> = HashMap::new();
        for (name, inc, exc) in extra {
            if inc.iter().any(|i| i == "all") {
                let excluded: HashSet<String> = exc
                    .iter()
                    .flat_map(|e| members.get(e).cloned().unwrap_or_default())
                    .collect();
                universal.insert(name.clone(), excluded);
            }
            let mut set = members.get(&name).cloned().unwrap_or_default();
            for i in inc {
                set.extend(members.get(&i).cloned().unwrap_or_default());
            }
            for e in exc {
                for x in members.get(&e).cloned().unwrap_or_default() {
                    set.remove(&x);
                }
            }
            members.insert(name, set);
        }
        InterfaceLists { members, universal }
    }

    pub fn contains(&self, list: &str, iface: &str) -> bool {
        match list {
            "all" => true,
            "none" => false,
            _ => {
                if let Some(excluded) = self.universal.get(list) {
                    return !excluded.contains(iface);
                }
                self.members.get(list).is_some_and(|s| s.contains(iface))
            }
        }
    }

    pub fn members(&self, list: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .get(list)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// Static entries of firewall address lists, per family.
#[derive(Debug, Default)]
pub struct AddressLists {
    lists: HashMap<String, (AddrSet, bool)>,
    /// Lists an `add-src-to-address-list`/`add-dst-to-address-list` rule fills.
    filled: HashSet<String>,
    v6: bool,
}

impl AddressLists {
    pub fn from_config(c: &Config, v6: bool) -> AddressLists {
        let menu = if v6 {
            "/ipv6 firewall address-list"
        } else {
            "/ip firewall address-list"
        };
        let mut ranges: HashMap<String, (Vec<(u128, u128)>, bool)> = HashMap::new();
        for e in c.items(menu) {
            if e.is_disabled() {
                continue;
            }
            let Some(list) = e.get_str("list") else {
                continue;
            };
            let entry = ranges.entry(list).or_default();
            match e.get("address").and_then(parse_addr) {
                Some(a) if !a.negated && a.range.v6 == v6 => {
                    entry.0.push((a.range.start, a.range.end))
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
            filled,
            v6,
        }
    }

    /// Whether a list may hold entries added at run time.
    pub fn filled_at_run_time(&self, name: &str) -> bool {
        self.filled.contains(name) || !self.has_entries(name)
    }

    /// The static entries of a list, and whether it also has entries unknown until run time.
    pub fn get(&self, name: &str) -> (AddrSet, bool) {
        self.lists
            .get(name)
            .cloned()
            .unwrap_or_else(|| (AddrSet::empty(self.v6), false))
    }

    pub fn has_entries(&self, name: &str) -> bool {
        self.lists
            .get(name)
            .is_some_and(|(s, unknown)| !s.is_empty() || *unknown)
    }
}
