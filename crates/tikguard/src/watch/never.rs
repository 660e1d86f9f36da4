//! What watch never puts on a router's list, whoever asks (its own detector, `watch block`, a
//! CrowdSec decision): fail2ban's `ignoreself` and `ignoreip`, built in and always on.
//!
//! - Addresses that are no attacker's: loopback, link-local, unspecified (`0.0.0.0/8`, `::`),
//!   multicast, the IPv4 broadcast address. A log line naming one is a router's own service,
//!   a neighbour over MAC-winbox's link-local, or forged.
//! - The watcher's own addresses (read from the kernel: `/proc/self/net/fib_trie` and
//!   `/proc/self/net/if_inet6`, Linux), so that a second watcher with a wrong password cannot get
//!   its host blocked.
//! - Each router's own address (`address`'s host) and its syslog `source`.
//! - `allow` from the configuration.
//!
//! A target is refused when its range overlaps any of these (an IPv6 /64 holding the
//! watcher's address, `0.0.0.0/0`). CrowdSec ranges wider than `max-range` (/24 for IPv4,
//! /48 for IPv6 by default) are refused too: one decision must not cut off a whole network.

use std::net::IpAddr;

use super::config::WatchConfig;

/// One range never listed, and why.
#[derive(Clone, Debug)]
struct Range {
    v6: bool,
    start: u128,
    end: u128,
    why: String,
}

/// The ranges watch never lists, and the widest range it accepts from CrowdSec.
#[derive(Clone, Debug)]
pub struct Never {
    ranges: Vec<Range>,
    pub max_prefix_v4: u8,
    pub max_prefix_v6: u8,
}

/// (IPv6, first, last) of an address or prefix in text (`203.0.113.9`, `2001:db8::/64`), and
/// its prefix length.
pub fn range_of(text: &str) -> Option<(bool, u128, u128, u8)> {
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    let (v6, n, bits) = match a {
        IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32u8),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) if len.is_none() => (false, u128::from(u32::from(v4)), 32),
            _ => (true, u128::from(a), 128),
        },
    };
    let len = len.unwrap_or(bits);
    if len > bits {
        return None;
    }
    let host_bits = u32::from(bits - len);
    let host_mask: u128 = if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let start = n & !host_mask;
    Some((v6, start, start | host_mask, len))
}

fn builtin() -> Vec<(&'static str, &'static str)> {
    vec![
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
        ("::ffff:0:0/96", "IPv4-mapped"),
    ]
}

/// This host's addresses, as the kernel lists them (Linux; none elsewhere).
pub fn own_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    // `/proc/self/net/fib_trie`: a `|-- A.B.C.D` line followed by `/32 host LOCAL` is a local address.
    if let Ok(t) = std::fs::read_to_string("/proc/self/net/fib_trie") {
        let mut last: Option<IpAddr> = None;
        for line in t.lines() {
            let l = line.trim();
            if let Some(a) = l.strip_prefix("|-- ") {
                last = a.trim().parse().ok();
            } else if l.contains("/32 host LOCAL") {
                if let Some(a) = last {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
        }
    }
    // `/proc/self/net/if_inet6`: 32 hex digits, then index, prefix, scope, flags, name.
    if let Ok(t) = std::fs::read_to_string("/proc/self/net/if_inet6") {
        for line in t.lines() {
            if let Some(hex) = line.split_whitespace().next() {
                if let Ok(n) = u128::from_str_radix(hex, 16) {
                    let a = IpAddr::V6(std::net::Ipv6Addr::from(n));
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
        }
    }
    out
}

impl Never {
    /// The built-in ranges, `own` (the watcher's addresses), each router's address and
    /// source, and `allow`.
    pub fn new(cfg: &WatchConfig, own: &[IpAddr]) -> Never {
        let mut ranges = Vec::new();
        let mut push = |text: &str, why: String| {
            if let Some((v6, start, end, _)) = range_of(text) {
                ranges.push(Range {
                    v6,
                    start,
                    end,
                    why,
                });
            }
        };
        for (r, why) in builtin() {
            push(r, why.to_string());
        }
        for a in own {
            push(&a.to_string(), "this watcher's own address".into());
        }
        for r in &cfg.routers {
            let host = r
                .address
                .rsplit_once(':')
                .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
                .unwrap_or(&r.address);
            push(
                host,
                format!("router {}'s address", crate::term::printable(&r.name)),
            );
            push(
                &r.source.to_string(),
                format!("router {}'s source", crate::term::printable(&r.name)),
            );
        }
        for &(v6, start, end) in &cfg.rules.allow {
            ranges.push(Range {
                v6,
                start,
                end,
                why: "allow".into(),
            });
        }
        Never {
            ranges,
            max_prefix_v4: cfg.max_range_v4,
            max_prefix_v6: cfg.max_range_v6,
        }
    }

    /// Why `target` (an address or prefix) must not be listed, or `None` when it may be.
    pub fn refuses(&self, target: &str) -> Option<String> {
        let Some((v6, start, end, _)) = range_of(target) else {
            return Some("not an address or prefix".into());
        };
        self.ranges
            .iter()
            .find(|r| r.v6 == v6 && r.start <= end && start <= r.end)
            .map(|r| format!("it holds or is held by a range never blocked ({})", r.why))
    }

    /// As [`Never::refuses`], and ranges wider than `max-range` (CrowdSec decisions).
    pub fn refuses_range(&self, target: &str) -> Option<String> {
        if let Some((v6, _, _, len)) = range_of(target) {
            let min = if v6 {
                self.max_prefix_v6
            } else {
                self.max_prefix_v4
            };
            if len < min {
                return Some(format!("wider than max-range (/{min})"));
            }
        }
        self.refuses(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(allow: &str) -> Never {
        let text = format!(
            "[watch]\nallow = [{allow}]\n[[router]]\nname = \"r\"\naddress = \"10.0.0.1:8729\"\nsource = \"10.9.9.9\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"P\"\n"
        );
        let cfg = super::super::config::parse("w.toml", &text).unwrap();
        Never::new(&cfg, &["192.0.2.10".parse().unwrap()])
    }

    /// Every target the built-in list, the watcher, the routers and `allow` cover is refused,
    /// in every spelling; documentation addresses are not.
    #[test]
    fn what_is_never_blocked() {
        let n = never("\"198.51.100.0/24\"");
        for t in [
            "127.0.0.1",
            "127.0.0.1/32",
            "0.0.0.0",
            "0.0.0.0/0",
            "255.255.255.255",
            "224.0.0.5",
            "169.254.1.1",
            "::",
            "::/64",
            "::1",
            "fe80::/64",
            "fe80::1/128",
            "ff02::1",
            "::ffff:127.0.0.1",
            "192.0.2.10",
            "192.0.2.0/24",
            "10.0.0.1",
            "10.9.9.9",
            "198.51.100.7",
            "198.51.100.0/25",
        ] {
            assert!(n.refuses(t).is_some(), "{t}");
        }
        for t in ["203.0.113.9", "2001:db8:1:2::/64", "192.0.2.11", "10.0.0.2"] {
            assert_eq!(n.refuses(t), None, "{t}");
        }
        assert!(n
            .refuses("10.0.0.1")
            .unwrap()
            .contains("router r's address"));
    }

    /// An attacker's spellings of a protected address, as a block target (`watch block`, a
    /// CrowdSec decision): IPv4-mapped IPv6 of an allowed or own IPv4 address, a mapped
    /// range, a prefix holding an allowed host, a zone id, leading zeros, a port, a MAC
    /// address: each is refused, never listed in another form.
    #[test]
    fn an_attackers_spellings_of_a_protected_address_are_refused() {
        let n = never("\"10.20.0.0/16\", \"203.0.113.50\"");
        for t in [
            "::ffff:10.20.1.1",
            "::ffff:10.20.0.0/112",
            "::ffff:127.0.0.1",
            "::ffff:192.0.2.10",
            "::ffff:0.0.0.0/96",
            "203.0.113.0/24",
            "203.0.113.50/32",
            "10.0.0.0/8",
            "fe80::1%eth0",
            "010.20.0.1",
            "10.20.0.1:22",
            "[2001:db8::1]:22",
            "4c:5e:0c:11:22:33",
            "",
            " 203.0.113.9",
        ] {
            assert!(n.refuses(t).is_some(), "{t}");
            assert!(n.refuses_range(t).is_some(), "{t}");
        }
        for t in ["0.0.0.0/0", "::/0", "2000::/3", "203.0.112.0/23"] {
            assert!(n.refuses_range(t).is_some(), "{t}");
        }
        assert_eq!(n.refuses("203.0.113.51"), None);
    }

    #[test]
    fn crowdsec_ranges_wider_than_max_range_are_refused() {
        let n = never("");
        assert!(n.refuses_range("203.0.113.0/23").unwrap().contains("/24"));
        assert_eq!(n.refuses_range("203.0.113.0/24"), None);
        assert!(n.refuses_range("2001:db8::/47").is_some());
        assert_eq!(n.refuses_range("2001:db8::/48"), None);
        assert!(n.refuses_range("0.0.0.0/0").is_some());
    }
}
