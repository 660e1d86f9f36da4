//! What should be listed on each router: watch's own blocks (from its detections and the state
//! file) and CrowdSec's decisions, merged per address. The routers' workers
//! ([`super::action`]) make each router's list match this, entry by entry as it changes and
//! in full whenever they (re)connect.
//!
//! Addresses are compared in one canonical form ([`canon`]): RouterOS lists an IPv4 host as
//! `203.0.113.9` and networks with their prefix, and CrowdSec sends `Ip` values without a
//! prefix and `Range` values with one.
//!
//! Memory, stated: at most [`MAX_CROWDSEC`] CrowdSec decisions are held (more are counted and
//! skipped, with a warning); watch's own blocks are bounded by the detector's source cap and
//! expire.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// CrowdSec decisions held at most (the community blocklist is some 15,000 to 50,000).
pub const MAX_CROWDSEC: usize = 200_000;

/// Comments of watch's own entries start so when no instance is named; reconciling touches no
/// other entry.
pub const COMMENT_PREFIX: &str = "tikguard-watch:";
/// Comments of entries that enforce CrowdSec decisions start so (after the instance's prefix).
pub const CROWDSEC_PREFIX: &str = "tikguard-watch: crowdsec";

/// The comment prefix of one watcher's entries: `tikguard-watch@INSTANCE:`. A second watcher
/// on the same routers (an HA pair, a test box) has another instance name, and neither removes
/// the other's entries.
pub fn instance_prefix(instance: &str) -> String {
    format!("tikguard-watch@{instance}:")
}

/// The canonical form of an address or prefix: IPv4 hosts without `/32`, networks with the
/// host bits cleared and their prefix, IPv6 always with a prefix (`/128` for a host).
/// `None` for anything else.
pub fn canon(text: &str) -> Option<String> {
    let (ip, len) = match text.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    match ip {
        IpAddr::V4(a) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return None;
            }
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let net = std::net::Ipv4Addr::from(u32::from(a) & mask);
            Some(if len == 32 {
                net.to_string()
            } else {
                format!("{net}/{len}")
            })
        }
        IpAddr::V6(a) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return None;
            }
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            let net = std::net::Ipv6Addr::from(u128::from(a) & mask);
            Some(format!("{net}/{len}"))
        }
    }
}

/// One address to list.
#[derive(Clone, Debug, Default)]
struct Want {
    v6: bool,
    /// watch's own blocks, by router: when each ends (ms since the epoch), why. A second
    /// router's block joins the first's; neither is lost.
    local: BTreeMap<String, (u64, String)>,
    /// CrowdSec decisions on this address: id → (ends, scenario). Enforced on every router.
    crowdsec: BTreeMap<i64, (u64, String)>,
}

/// What a router should list for an address: the family, when it ends, the comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub v6: bool,
    pub until_ms: u64,
    pub comment: String,
}

#[derive(Default)]
pub struct Wanted {
    map: HashMap<String, Want>,
    crowdsec_count: usize,
    /// Whether CrowdSec's decisions have been read at least once since start: until then a
    /// reconcile leaves entries that enforce them alone (they may still be wanted).
    pub crowdsec_known: bool,
    /// Decisions skipped because [`MAX_CROWDSEC`] were held.
    pub crowdsec_skipped: u64,
    /// This watcher's comment prefix ([`instance_prefix`]); [`COMMENT_PREFIX`] when empty.
    prefix: String,
}

impl Want {
    fn entry_for(&self, router: &str, now_ms: u64, prefix: &str) -> Option<Entry> {
        let local = self.local.get(router).filter(|(until, _)| *until > now_ms);
        let cs = self
            .crowdsec
            .values()
            .filter(|(until, _)| *until > now_ms)
            .max_by_key(|(until, _)| *until);
        match (local, cs) {
            (None, None) => None,
            (Some((u, c)), None) => Some((*u, c.clone())),
            (None, Some((u, s))) => Some((*u, format!("{prefix} crowdsec {s}"))),
            (Some((lu, c)), Some((cu, s))) => Some(if lu >= cu {
                (*lu, c.clone())
            } else {
                (*cu, format!("{prefix} crowdsec {s}"))
            }),
        }
        .map(|(until_ms, comment)| Entry {
            v6: self.v6,
            until_ms,
            comment,
        })
    }
}

/// A comment safe to send: control characters become spaces, at most 128 characters.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(128)
        .collect()
}

impl Wanted {
    /// Nothing wanted yet, for the watcher named `instance`.
    pub fn for_instance(instance: &str) -> Wanted {
        Wanted {
            prefix: instance_prefix(instance),
            ..Wanted::default()
        }
    }

    /// This watcher's comment prefix: its entries' comments start so, and only those are
    /// its own.
    pub fn prefix(&self) -> &str {
        if self.prefix.is_empty() {
            COMMENT_PREFIX
        } else {
            &self.prefix
        }
    }

    /// watch's own block of `address` (canonical) until `until_ms` on `routers`; on a router
    /// that already has one, the later end wins.
    pub fn block_local(&mut self, address: &str, until_ms: u64, routers: &[String], comment: &str) {
        let Some(key) = canon(address) else { return };
        let prefix = self.prefix().to_string();
        let w = self.map.entry(key.clone()).or_default();
        w.v6 = key.contains(':');
        for r in routers {
            let e = w.local.entry(r.clone()).or_insert((0, String::new()));
            if until_ms >= e.0 {
                *e = (until_ms, clean(&format!("{prefix} {comment}")));
            }
        }
    }

    /// Forgets watch's own block of `address` (an unblock) on `routers` (every router with
    /// `None`); the other routers' blocks and CrowdSec's stay.
    pub fn unblock_local(&mut self, address: &str, routers: Option<&[String]>) {
        let Some(key) = canon(address) else { return };
        if let Some(w) = self.map.get_mut(&key) {
            match routers {
                None => w.local.clear(),
                Some(only) => w.local.retain(|r, _| !only.contains(r)),
            }
            if w.crowdsec.is_empty() && w.local.is_empty() {
                self.map.remove(&key);
            }
        }
    }

    /// The routers watch's own block of `address` (canonical) is on.
    pub fn local_routers(&self, address: &str) -> Vec<String> {
        self.map
            .get(address)
            .map(|w| w.local.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The addresses of watch's own blocks.
    pub fn local_addresses(&self) -> Vec<String> {
        self.map
            .iter()
            .filter(|(_, w)| !w.local.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// watch's own blocks running on `router` at `now_ms`.
    pub fn local_count(&self, router: &str, now_ms: u64) -> usize {
        self.map
            .values()
            .filter(|w| w.local.get(router).is_some_and(|(u, _)| *u > now_ms))
            .count()
    }

    /// The block of watch's own that holds `address` (canonical), if any: the address itself,
    /// or a network containing it (a host inside a blocked IPv6 /64).
    pub fn local_holding(&self, address: &str) -> Option<String> {
        let (v6, start, end, _) = super::never::range_of(address)?;
        self.map
            .iter()
            .filter(|(_, w)| !w.local.is_empty())
            .find(|(k, _)| {
                super::never::range_of(k)
                    .is_some_and(|(kv6, ks, ke, _)| kv6 == v6 && ks <= start && end <= ke)
            })
            .map(|(k, _)| k.clone())
    }

    /// A CrowdSec decision; false when it was skipped (not an address, or the cap).
    pub fn crowdsec_add(&mut self, id: i64, value: &str, until_ms: u64, scenario: &str) -> bool {
        let Some(key) = canon(value) else {
            return false;
        };
        if !self
            .map
            .get(&key)
            .is_some_and(|w| w.crowdsec.contains_key(&id))
        {
            if self.crowdsec_count >= MAX_CROWDSEC {
                self.crowdsec_skipped += 1;
                return false;
            }
            self.crowdsec_count += 1;
        }
        let w = self.map.entry(key.clone()).or_default();
        w.v6 = key.contains(':');
        w.crowdsec.insert(id, (until_ms, clean(scenario)));
        true
    }

    /// A CrowdSec decision deleted (or expired); the canonical address it was on.
    pub fn crowdsec_delete(&mut self, id: i64, value: &str) -> Option<String> {
        let key = canon(value)?;
        let w = self.map.get_mut(&key)?;
        if w.crowdsec.remove(&id).is_some() {
            self.crowdsec_count -= 1;
        }
        if w.crowdsec.is_empty() && w.local.is_empty() {
            self.map.remove(&key);
        }
        Some(key)
    }

    /// Forgets every CrowdSec decision (before a startup stream gives them all again); the
    /// addresses they were on.
    pub fn crowdsec_clear(&mut self) -> Vec<String> {
        let mut touched = Vec::new();
        self.map.retain(|k, w| {
            if !w.crowdsec.is_empty() {
                touched.push(k.clone());
                w.crowdsec.clear();
            }
            !w.local.is_empty()
        });
        self.crowdsec_count = 0;
        touched
    }

    /// What `router` should list for `address` (canonical) at `now_ms`.
    pub fn get(&self, router: &str, address: &str, now_ms: u64) -> Option<Entry> {
        self.map
            .get(address)?
            .entry_for(router, now_ms, self.prefix())
    }

    /// Everything `router` should list at `now_ms`, by canonical address.
    pub fn for_router(&self, router: &str, now_ms: u64) -> HashMap<String, Entry> {
        self.map
            .iter()
            .filter_map(|(k, w)| {
                w.entry_for(router, now_ms, self.prefix())
                    .map(|e| (k.clone(), e))
            })
            .collect()
    }

    /// Drops what has ended.
    pub fn prune(&mut self, now_ms: u64) {
        let mut gone = 0;
        self.map.retain(|_, w| {
            let before = w.crowdsec.len();
            w.crowdsec.retain(|_, (until, _)| *until > now_ms);
            gone += before - w.crowdsec.len();
            w.local.retain(|_, (until, _)| *until > now_ms);
            !w.local.is_empty() || !w.crowdsec.is_empty()
        });
        self.crowdsec_count -= gone;
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_in_one_form_whatever_the_source_wrote() {
        assert_eq!(canon("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(canon("203.0.113.9/32").as_deref(), Some("203.0.113.9"));
        assert_eq!(canon("203.0.113.9/24").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(canon("2001:db8::1").as_deref(), Some("2001:db8::1/128"));
        assert_eq!(
            canon("2001:db8:1:2:3::/64").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        for bad in ["", "x", "1.2.3.4/33", "::/129", "1.2.3.4/", "DE"] {
            assert_eq!(canon(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_deleted_decision_leaves_the_local_block_and_other_decisions_in_place() {
        let mut w = Wanted::default();
        let r = ["core-01".to_string()];
        w.block_local("198.51.100.7", 5_000, &r, "5 failures via api");
        w.crowdsec_add(1, "198.51.100.7", 9_000, "crowdsecurity/ssh-bf");
        w.crowdsec_add(2, "203.0.113.0/24", 9_000, "manual");
        w.crowdsec_add(3, "203.0.113.0/24", 4_000, "manual");
        // The longest-running reason names the entry.
        let e = w.get("core-01", "198.51.100.7", 1_000).unwrap();
        assert_eq!(e.until_ms, 9_000);
        assert!(e.comment.starts_with(CROWDSEC_PREFIX));
        // CrowdSec applies on every router, local blocks on theirs.
        assert!(w.get("edge-02", "198.51.100.7", 1_000).is_some());
        w.crowdsec_delete(1, "198.51.100.7");
        assert!(w.get("edge-02", "198.51.100.7", 1_000).is_none());
        let e = w.get("core-01", "198.51.100.7", 1_000).unwrap();
        assert_eq!(
            (e.until_ms, e.comment.as_str()),
            (5_000, "tikguard-watch: 5 failures via api")
        );
        w.crowdsec_delete(2, "203.0.113.0/24");
        assert_eq!(w.get("x", "203.0.113.0/24", 1_000).unwrap().until_ms, 4_000);
        w.prune(4_500);
        assert!(w.get("x", "203.0.113.0/24", 4_600).is_none());
        assert_eq!(w.len(), 1);
        w.prune(6_000);
        assert!(w.is_empty());
        assert_eq!(w.crowdsec_count, 0);
    }

    /// A block on a second router joins the first's: both routers keep their entry.
    #[test]
    fn a_second_routers_block_merges_with_the_first() {
        let mut w = Wanted::default();
        w.block_local("198.51.100.7", 5_000, &["a".into()], "x");
        w.block_local("198.51.100.7", 3_000, &["b".into()], "y");
        assert_eq!(w.get("a", "198.51.100.7", 0).unwrap().until_ms, 5_000);
        assert_eq!(w.get("b", "198.51.100.7", 0).unwrap().until_ms, 3_000);
        assert_eq!(w.for_router("a", 0).len(), 1);
        assert_eq!(w.local_count("b", 0), 1);
        w.block_local("2001:db8:1:2::/64", 5_000, &["a".into()], "z");
        assert_eq!(
            w.local_holding("2001:db8:1:2::9/128").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(w.local_holding("2001:db8:1:3::9/128"), None);
    }

    #[test]
    fn crowdsec_decisions_are_capped_and_the_rest_counted() {
        let mut w = Wanted::default();
        for i in 0..MAX_CROWDSEC as i64 + 5 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000u32 + i as u32).to_string();
            w.crowdsec_add(i, &a, 10, "s");
        }
        assert_eq!(w.len(), MAX_CROWDSEC);
        assert_eq!(w.crowdsec_skipped, 5);
        // The same decision again is not a new one.
        assert!(w.crowdsec_add(0, "10.0.0.0", 20, "s"));
        assert_eq!(w.crowdsec_clear().len(), MAX_CROWDSEC);
        assert!(w.crowdsec_add(7, "10.0.0.7", 20, "s"));
    }

    #[test]
    fn comments_from_crowdsec_lose_control_characters_and_length() {
        let mut w = Wanted::default();
        w.crowdsec_add(
            1,
            "192.0.2.1",
            10,
            &format!("evil\r\n/system reset{}", "x".repeat(500)),
        );
        let c = w.get("r", "192.0.2.1", 0).unwrap().comment;
        assert!(!c.chars().any(char::is_control));
        assert!(c.chars().count() <= 128 + CROWDSEC_PREFIX.len() + 1);
    }
}
