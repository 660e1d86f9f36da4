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
//! Memory, stated: at most `max_sources` sources and `max_users` user names are tracked, each
//! with at most `failures` (sources) or `spray` (users) timestamps and `enumeration` names; when
//! a new one would exceed the cap, the one tracked longest is forgotten first (its block on the
//! router stays; only its escalation history goes).

use std::collections::{HashMap, VecDeque};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The detector's whole state.
pub struct Detector {
    rules: Rules,
    sources: HashMap<Key, SourceState>,
    source_order: VecDeque<Key>,
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
            source_order: VecDeque::new(),
            users: HashMap::new(),
            user_order: VecDeque::new(),
        }
    }

    /// Sources and user names tracked now.
    pub fn tracked(&self) -> (usize, usize) {
        (self.sources.len(), self.users.len())
    }

    fn source(&mut self, key: Key) -> &mut SourceState {
        if !self.sources.contains_key(&key) {
            while self.sources.len() >= self.rules.max_sources.max(1) {
                match self.source_order.pop_front() {
                    Some(old) => {
                        self.sources.remove(&old);
                    }
                    None => break,
                }
            }
            self.source_order.push_back(key);
        }
        self.sources.entry(key).or_default()
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
        let s = self.source(key);
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
