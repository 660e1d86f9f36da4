//! Decisions from login events: a pure state machine fed a clock (milliseconds), so tests replay
//! hours in microseconds.
//!
//! - **Windows**: `failures` login failures from one source within `window` block it for
//!   `block`. IPv6 sources count per /64 (one subscriber's or host's prefix), IPv4 per address.
//! - **Escalation**: each new block of a source already blocked before doubles the duration,
//!   up to `max_block`; a source's offences are remembered while it is tracked.
//! - **Enumeration**: `enumeration` distinct user names failing from one source within the
//!   window: an alert (the block follows the failure count as usual).
//! - **Spray**: one user name failing from `spray` distinct sources within the window: an
//!   alert naming the user (no single source has to reach the block threshold).
//! - **Allowlist**: sources in `allow` (management and CRM prefixes, backup and discovery
//!   tools that try several credentials) are never blocked and never counted.
//! - MAC sources (MAC-winbox) and logins without an address cannot be blocked by address and
//!   are not counted.
//!
//! - **Per router**: a source is counted on each router apart. A block on one router does not
//!   stop counting (and blocking) on another; spray alerts look across routers.
//!
//! Memory, stated: at most `max_sources` (router, source) pairs and `max_users` user names are
//! tracked, each with at most `failures` (sources) or `spray` (users) timestamps and
//! `enumeration` names. When a new source would exceed the cap, the one farthest from a block
//! goes first: fewest failures counted (a past offence counts as a full threshold), the oldest
//! among equals. A flood of sources failing once cannot evict an attacker one failure short of
//! his block. (Counts are ranked as they were last seen, not aged.) User names go oldest first.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;

use super::event::{Kind, LogEvent, Source};

/// The thresholds, as a fail2ban jail would give them.
#[derive(Clone, Debug)]
pub struct Rules {
    pub failures: u32,
    pub window_ms: u64,
    pub block_ms: u64,
    pub max_block_ms: u64,
    pub enumeration: usize,
    pub spray: usize,
    /// (IPv6, first, last) address ranges never blocked.
    pub allow: Vec<(bool, u128, u128)>,
    pub max_sources: usize,
    pub max_users: usize,
}

impl Default for Rules {
    /// 5 failures in 1 minute block for 1 day, doubling to at most 30 days; 5 user names from
    /// one source or one user from 10 sources in the window alert; 100,000 sources and 10,000
    /// user names tracked.
    fn default() -> Rules {
        Rules {
            failures: 5,
            window_ms: 60_000,
            block_ms: 86_400_000,
            max_block_ms: 30 * 86_400_000,
            enumeration: 5,
            spray: 10,
            allow: Vec::new(),
            max_sources: 100_000,
            max_users: 10_000,
        }
    }
}

/// What a source is counted as: an IPv4 address, or an IPv6 /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    V4(u32),
    V6Net(u64),
}

impl Key {
    pub fn of(ip: IpAddr) -> Key {
        match ip {
            IpAddr::V4(a) => Key::V4(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => Key::V4(u32::from(v4)),
                None => Key::V6Net((u128::from(a) >> 64) as u64),
            },
        }
    }

    /// The address or prefix to put on a router's address list: `203.0.113.9`,
    /// `2001:db8:1:2::/64`.
    pub fn address(&self) -> String {
        match self {
            Key::V4(a) => std::net::Ipv4Addr::from(*a).to_string(),
            Key::V6Net(n) => format!("{}/64", std::net::Ipv6Addr::from(u128::from(*n) << 64)),
        }
    }

    pub fn is_v6(&self) -> bool {
        matches!(self, Key::V6Net(_))
    }
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Block {
        key: Key,
        duration_ms: u64,
        /// Failures in the window that triggered it.
        failures: u32,
        /// 1 for a first block, 2 for the second...
        offence: u32,
        router: String,
        /// The first failure counted (ms).
        first_ms: u64,
    },
    /// Many user names from one source.
    Enumeration { key: Key, users: Vec<String> },
    /// One user name from many sources.
    Spray { user: String, sources: usize },
}

#[derive(Default)]
struct SourceState {
    /// Its place in [`Detector::rank`]: (score, sequence).
    rank: (u64, u64),
    failures: VecDeque<u64>,
    users: VecDeque<(u64, String)>,
    offences: u32,
    blocked_until: u64,
    enumeration_alerted_until: u64,
}

#[derive(Default)]
struct UserState {
    sources: VecDeque<(u64, Key)>,
    alerted_until: u64,
}

/// A source as counted on one router.
type Id = (u32, Key);

/// The detector's whole state.
pub struct Detector {
    rules: Rules,
    sources: HashMap<Id, SourceState>,
    /// Sources by how near they are to a block: the first is evicted first.
    rank: BTreeSet<(u64, u64, Id)>,
    seq: u64,
    router_ids: HashMap<String, u32>,
    users: HashMap<String, UserState>,
    user_order: VecDeque<String>,
}

fn allowed(rules: &Rules, ip: IpAddr) -> bool {
    let (v6, n) = match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u128::from(u32::from(v4))),
            None => (true, u128::from(a)),
        },
    };
    rules
        .allow
        .iter()
        .any(|&(a6, s, e)| a6 == v6 && s <= n && n <= e)
}

impl Detector {
    pub fn new(rules: Rules) -> Detector {
        Detector {
            rules,
            sources: HashMap::new(),
            rank: BTreeSet::new(),
            seq: 0,
            router_ids: HashMap::new(),
            users: HashMap::new(),
            user_order: VecDeque::new(),
        }
    }

    /// New thresholds (a configuration reload); what is counted stays.
    pub fn set_rules(&mut self, rules: Rules) {
        self.rules = rules;
    }

    /// Sources and user names tracked now.
    pub fn tracked(&self) -> (usize, usize) {
        (self.sources.len(), self.users.len())
    }

    fn router_id(&mut self, router: &str) -> u32 {
        if let Some(&id) = self.router_ids.get(router) {
            return id;
        }
        let id = self.router_ids.len() as u32;
        self.router_ids.insert(router.to_string(), id);
        id
    }

    fn source(&mut self, id: Id) -> &mut SourceState {
        if !self.sources.contains_key(&id) {
            while self.sources.len() >= self.rules.max_sources.max(1) {
                match self.rank.pop_first() {
                    Some((_, _, old)) => {
                        self.sources.remove(&old);
                    }
                    None => break,
                }
            }
            self.seq += 1;
            self.rank.insert((0, self.seq, id));
            self.sources.insert(
                id,
                SourceState {
                    rank: (0, self.seq),
                    ..SourceState::default()
                },
            );
        }
        self.sources.get_mut(&id).expect("inserted above")
    }

    /// Moves a source to its place by how near it is to a block.
    fn rerank(&mut self, id: Id) {
        self.seq += 1;
        let seq = self.seq;
        let threshold = u64::from(self.rules.failures);
        let Some(s) = self.sources.get_mut(&id) else {
            return;
        };
        let score = s.failures.len() as u64 + u64::from(s.offences) * threshold;
        let old = s.rank;
        s.rank = (score, seq);
        self.rank.remove(&(old.0, old.1, id));
        self.rank.insert((score, seq, id));
    }

    /// Forgets a source on every router: its count, its block and its offences (an unblock).
    pub fn forget(&mut self, key: Key) {
        self.forget_on(None, key);
    }

    /// Forgets a source on `routers` (every router with `None`).
    pub fn forget_on(&mut self, routers: Option<&[String]>, key: Key) {
        let only: Option<Vec<u32>> = routers.map(|names| {
            names
                .iter()
                .filter_map(|n| self.router_ids.get(n).copied())
                .collect()
        });
        let ids: Vec<Id> = self
            .sources
            .keys()
            .filter(|i| i.1 == key && only.as_ref().is_none_or(|o| o.contains(&i.0)))
            .copied()
            .collect();
        for id in ids {
            if let Some(s) = self.sources.remove(&id) {
                self.rank.remove(&(s.rank.0, s.rank.1, id));
            }
        }
    }

    /// Takes back a block the detector decided on `router` (the router did not confirm it):
    /// the source is no longer taken as blocked there, and the offence is not counted.
    pub fn undo_block(&mut self, router: &str, key: Key) {
        let id = (self.router_id(router), key);
        if let Some(s) = self.sources.get_mut(&id) {
            s.blocked_until = 0;
            s.offences = s.offences.saturating_sub(1);
        }
        self.rerank(id);
    }

    /// Sets a source's offences on `router` (read back from the state file), so that
    /// escalation goes on after a restart.
    pub fn restore(&mut self, router: &str, key: Key, offences: u32, blocked_until: u64) {
        let id = (self.router_id(router), key);
        let s = self.source(id);
        s.offences = s.offences.max(offences);
        s.blocked_until = s.blocked_until.max(blocked_until);
        self.rerank(id);
    }

    /// The offences counted for a source on `router`.
    pub fn offences(&self, router: &str, key: Key) -> u32 {
        self.router_ids
            .get(router)
            .and_then(|&r| self.sources.get(&(r, key)))
            .map_or(0, |s| s.offences)
    }

    fn user(&mut self, name: &str) -> &mut UserState {
        if !self.users.contains_key(name) {
            while self.users.len() >= self.rules.max_users.max(1) {
                match self.user_order.pop_front() {
                    Some(old) => {
                        self.users.remove(&old);
                    }
                    None => break,
                }
            }
            self.user_order.push_back(name.to_string());
        }
        self.users.entry(name.to_string()).or_default()
    }

    /// Feeds one event seen on `router` at `now_ms`; returns what to do.
    pub fn feed(&mut self, now_ms: u64, router: &str, ev: &LogEvent) -> Vec<Action> {
        let mut out = Vec::new();
        if ev.kind != Kind::LoginFailure && ev.kind != Kind::Denied {
            return out;
        }
        let Source::Ip(ip) = ev.source else {
            return out;
        };
        if allowed(&self.rules, ip) {
            return out;
        }
        let key = Key::of(ip);
        let rules = self.rules.clone();
        let since = now_ms.saturating_sub(rules.window_ms);
        let id = (self.router_id(router), key);
        let s = self.source(id);
        while s.failures.front().is_some_and(|&t| t < since) {
            s.failures.pop_front();
        }
        s.failures.push_back(now_ms);
        while s.failures.len() > rules.failures.max(1) as usize {
            s.failures.pop_front();
        }
        if ev.kind == Kind::LoginFailure {
            while s.users.front().is_some_and(|(t, _)| *t < since) {
                s.users.pop_front();
            }
            s.users.retain(|(_, u)| u != &ev.user);
            s.users.push_back((now_ms, ev.user.clone()));
            while s.users.len() > rules.enumeration.max(1) {
                s.users.pop_front();
            }
            if s.users.len() >= rules.enumeration
                && rules.enumeration > 1
                && now_ms >= s.enumeration_alerted_until
            {
                s.enumeration_alerted_until = now_ms + rules.window_ms;
                out.push(Action::Enumeration {
                    key,
                    users: s.users.iter().map(|(_, u)| u.clone()).collect(),
                });
            }
        }
        if s.failures.len() >= rules.failures as usize && now_ms >= s.blocked_until {
            s.offences += 1;
            let factor = 1u64 << (s.offences - 1).min(32);
            let duration_ms = rules
                .block_ms
                .saturating_mul(factor)
                .min(rules.max_block_ms);
            s.blocked_until = now_ms + duration_ms;
            let failures = s.failures.len() as u32;
            let first_ms = s.failures.front().copied().unwrap_or(now_ms);
            s.failures.clear();
            out.push(Action::Block {
                key,
                duration_ms,
                failures,
                offence: s.offences,
                router: router.to_string(),
                first_ms,
            });
        }
        self.rerank(id);
        if ev.kind == Kind::LoginFailure {
            let u = self.user(&ev.user);
            while u.sources.front().is_some_and(|(t, _)| *t < since) {
                u.sources.pop_front();
            }
            u.sources.retain(|(_, k)| *k != key);
            u.sources.push_back((now_ms, key));
            while u.sources.len() > rules.spray.max(1) {
                u.sources.pop_front();
            }
            if rules.spray > 1 && u.sources.len() >= rules.spray && now_ms >= u.alerted_until {
                u.alerted_until = now_ms + rules.window_ms;
                out.push(Action::Spray {
                    user: ev.user.clone(),
                    sources: u.sources.len(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(ip: &str, user: &str) -> LogEvent {
        LogEvent {
            kind: Kind::LoginFailure,
            user: user.into(),
            source: Source::Ip(ip.parse().unwrap()),
            via: "api".into(),
        }
    }

    fn blocks(actions: &[Action]) -> Vec<(String, u64, u32)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Block {
                    key,
                    duration_ms,
                    offence,
                    ..
                } => Some((key.address(), *duration_ms, *offence)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn five_failures_in_a_minute_block_for_a_day() {
        let mut d = Detector::new(Rules::default());
        for i in 0..4 {
            assert!(d
                .feed(i * 1000, "r", &fail("203.0.113.9", "admin"))
                .is_empty());
        }
        let a = d.feed(4000, "r", &fail("203.0.113.9", "admin"));
        assert_eq!(blocks(&a), [("203.0.113.9".to_string(), 86_400_000, 1)]);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_block() {
        let mut d = Detector::new(Rules::default());
        for i in 0..20 {
            let a = d.feed(i * 20_000, "r", &fail("203.0.113.9", "admin"));
            assert!(blocks(&a).is_empty(), "at {i}");
        }
    }

    #[test]
    fn ipv6_sources_count_per_64() {
        let mut d = Detector::new(Rules::default());
        let mut last = Vec::new();
        for i in 0..5 {
            last = d.feed(i, "r", &fail(&format!("2001:db8:1:2::{}", i + 1), "admin"));
        }
        assert_eq!(blocks(&last)[0].0, "2001:db8:1:2::/64");
    }

    #[test]
    fn repeat_offenders_are_blocked_longer_each_time() {
        let mut d = Detector::new(Rules::default());
        let mut durations = Vec::new();
        let mut t = 0;
        for _ in 0..7 {
            loop {
                t += 1000;
                let a = blocks(&d.feed(t, "r", &fail("198.51.100.1", "admin")));
                if let Some(b) = a.first() {
                    durations.push(b.1 / 86_400_000);
                    t += b.1; // the block expires
                    break;
                }
            }
        }
        assert_eq!(durations, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn enumeration_and_spray_alert() {
        let mut d = Detector::new(Rules::default());
        let mut enumeration = false;
        for (i, u) in ["admin", "root", "support", "user", "test"]
            .iter()
            .enumerate()
        {
            let a = d.feed(i as u64, "r", &fail("192.0.2.1", u));
            enumeration |= a
                .iter()
                .any(|a| matches!(a, Action::Enumeration { users, .. } if users.len() == 5));
        }
        assert!(enumeration);
        let mut spray = false;
        for i in 0..10 {
            let a = d.feed(
                100 + i,
                "r",
                &fail(&format!("198.18.0.{}", i + 1), "billing"),
            );
            spray |= a
                .iter()
                .any(|a| matches!(a, Action::Spray { user, sources: 10 } if user == "billing"));
            assert!(blocks(&a).is_empty(), "one failure each is not a block");
        }
        assert!(spray);
    }

    #[test]
    fn memory_stays_within_the_caps_under_a_million_sources() {
        let mut d = Detector::new(Rules {
            max_sources: 10_000,
            max_users: 1_000,
            ..Rules::default()
        });
        for i in 0..1_000_000u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            d.feed(u64::from(i), "r", &fail(&ip, &format!("u{}", i % 5000)));
        }
        let (s, u) = d.tracked();
        assert!(s <= 10_000 && u <= 1_000, "{s} sources, {u} users");
    }

    /// A block on one router does not stop the count on another: each router blocks the
    /// source on its own failures.
    #[test]
    fn each_router_counts_and_blocks_on_its_own() {
        let mut d = Detector::new(Rules::default());
        let mut got = Vec::new();
        for i in 0..5 {
            got.extend(blocks(&d.feed(i, "a", &fail("203.0.113.9", "admin"))));
        }
        assert_eq!(got.len(), 1);
        for i in 0..5 {
            got.extend(blocks(&d.feed(10 + i, "b", &fail("203.0.113.9", "admin"))));
        }
        assert_eq!(got.len(), 2, "blocked on b too");
    }

    /// A flood of sources failing once cannot evict a source one failure short of its block.
    #[test]
    fn a_flood_of_one_time_sources_does_not_evict_an_attacker_near_his_threshold() {
        let mut d = Detector::new(Rules {
            max_sources: 1_000,
            ..Rules::default()
        });
        for i in 0..4 {
            assert!(d.feed(i, "r", &fail("203.0.113.9", "admin")).is_empty());
        }
        for i in 0..110_000u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            d.feed(10 + u64::from(i % 50), "r", &fail(&ip, "x"));
        }
        let a = d.feed(100, "r", &fail("203.0.113.9", "admin"));
        assert_eq!(blocks(&a).len(), 1, "{a:?}");
        assert!(d.tracked().0 <= 1_000);
    }

    /// After an unblock the source is counted afresh: new failures block it again at once,
    /// not when the old block would have ended.
    #[test]
    fn a_forgotten_source_is_blocked_again_on_new_failures() {
        let mut d = Detector::new(Rules::default());
        for i in 0..5 {
            d.feed(i, "r", &fail("203.0.113.9", "admin"));
        }
        d.forget(Key::of("203.0.113.9".parse().unwrap()));
        let mut got = Vec::new();
        for i in 0..5 {
            got.extend(blocks(&d.feed(
                1_000 + i,
                "r",
                &fail("203.0.113.9", "admin"),
            )));
        }
        assert_eq!(got.len(), 1);
    }

    proptest::proptest! {
        /// Whatever sequence of events arrives, an allowlisted address is never blocked.
        #[test]
        fn an_allowlisted_source_is_never_blocked(
            events in proptest::collection::vec((0u8..4, 0u8..3, 0u64..5_000), 1..300)
        ) {
            let allow_net: u128 = u128::from(u32::from(std::net::Ipv4Addr::new(10, 255, 0, 0)));
            let mut d = Detector::new(Rules {
                failures: 2,
                allow: vec![(false, allow_net, allow_net + 255)],
                ..Rules::default()
            });
            let mut t = 0;
            for (src, user, dt) in events {
                t += dt;
                let ip = match src {
                    0 => "10.255.0.7",
                    1 => "10.255.0.200",
                    2 => "203.0.113.5",
                    _ => "2001:db8::5",
                };
                for a in d.feed(t, "r", &fail(ip, ["admin", "backup", ""][user as usize])) {
                    if let Action::Block { key, .. } = a {
                        proptest::prop_assert!(!key.address().starts_with("10.255.0."), "{key:?}");
                    }
                }
            }
        }
    }
}
