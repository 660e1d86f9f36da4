//! Typed readings of RouterOS property values.
//!
//! Values stay bytes in the model; these functions read them as what RouterOS means: `yes`/`no`,
//! numbers, durations (`1d10m`, `4w2d`, `00:05:00`), addresses with prefix, range and negation
//! (`!192.168.0.0/16`, `10.0.0.1-10.0.0.9`, `2001:db8::/32`), port lists (`8728,8729`,
//! `1000-2000`) and comma lists with per-entry negation (`local,!ftp,!policy`). Each returns
//! `None` for text it does not understand; callers decide what an unknown value means.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// `yes`/`no` (and `true`/`false`, which scripts use).
pub fn parse_bool(v: &[u8]) -> Option<bool> {
    match v {
        b"yes" | b"true" => Some(true),
        b"no" | b"false" => Some(false),
        _ => None,
    }
}

/// A plain decimal or `0x` hexadecimal integer.
pub fn parse_int(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    if let Some(h) = s.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).ok();
    }
    s.parse().ok()
}

/// A RouterOS duration: unit-suffixed parts (`4w2d`, `1d10m`, `1h30m5s`, `500ms`), a clock
/// (`00:05:00`, `1d 02:00:00` is not exported, `1d02:00:00` is), or bare seconds (`30`).
pub fn parse_duration(v: &[u8]) -> Option<Duration> {
    let s = std::str::from_utf8(v).ok()?.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return Some(Duration::from_secs(s.parse().ok()?));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    // A trailing clock, possibly after a `Nd`/`Nw` prefix: `1d02:00:00`.
    if let Some(colon) = rest.find(':') {
        let clock_start = rest[..colon]
            .rfind(|c: char| !c.is_ascii_digit())
            .map(|i| i + 1)
            .unwrap_or(0);
        let clock = &rest[clock_start..];
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let (sec, frac) = parts[2].split_once('.').unwrap_or((parts[2], ""));
        let sec: u64 = sec.parse().ok()?;
        if m > 59 || sec > 59 {
            return None;
        }
        // Checked: any client can send `5000000000000000:00:00`; too large is not a duration.
        let clock = h.checked_mul(3600)?.checked_add(m * 60 + sec)?;
        total = total.checked_add(Duration::from_secs(clock))?;
        if !frac.is_empty() {
            let digits = frac.len().min(9) as u32;
            let f: u64 = frac[..digits as usize].parse().ok()?;
            total = total.checked_add(Duration::from_nanos(f * 10u64.pow(9 - digits)))?;
        }
        rest = &rest[..clock_start];
    }
    while !rest.is_empty() {
        let d = rest.find(|c: char| !c.is_ascii_digit())?;
        if d == 0 {
            return None;
        }
        let n: u64 = rest[..d].parse().ok()?;
        let after = &rest[d..];
        let (unit, len) = if after.starts_with("ms") {
            (Duration::from_millis(1), 2)
        } else if after.starts_with("us") {
            (Duration::from_micros(1), 2)
        } else {
            let secs = match after.as_bytes()[0] {
                b'w' => 7 * 86400,
                b'd' => 86400,
                b'h' => 3600,
                b'm' => 60,
                b's' => 1,
                _ => return None,
            };
            (Duration::from_secs(secs), 1)
        };
        total = total.checked_add(unit.checked_mul(u32::try_from(n).ok()?)?)?;
        rest = &after[len..];
    }
    Some(total)
}

/// An inclusive range of addresses of one family, as RouterOS matchers write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrRange {
    pub v6: bool,
    /// For IPv4, the address in the low 32 bits.
    pub start: u128,
    pub end: u128,
}

impl AddrRange {
    pub fn v4(start: Ipv4Addr, end: Ipv4Addr) -> AddrRange {
        AddrRange {
            v6: false,
            start: u32::from(start) as u128,
            end: u32::from(end) as u128,
        }
    }

    pub fn v6(start: Ipv6Addr, end: Ipv6Addr) -> AddrRange {
        AddrRange {
            v6: true,
            start: u128::from(start),
            end: u128::from(end),
        }
    }

    /// Every address of the family.
    pub fn all(v6: bool) -> AddrRange {
        AddrRange {
            v6,
            start: 0,
            end: if v6 { u128::MAX } else { u32::MAX as u128 },
        }
    }
}

/// An address matcher value: a prefix, a range or one address, possibly negated with `!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrMatch {
    pub negated: bool,
    pub range: AddrRange,
}

fn prefix_range(addr: IpAddr, len: u8) -> Option<AddrRange> {
    match addr {
        IpAddr::V4(a) => {
            if len > 32 {
                return None;
            }
            let bits = u32::from(a);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Some(AddrRange {
                v6: false,
                start: (bits & mask) as u128,
                end: (bits | !mask) as u128,
            })
        }
        IpAddr::V6(a) => {
            if len > 128 {
                return None;
            }
            let bits = u128::from(a);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            Some(AddrRange {
                v6: true,
                start: bits & mask,
                end: bits | !mask,
            })
        }
    }
}

/// An interface address as `/ip address` and `/ipv6 address` hold it: the network it is in. An
/// IPv6 address written without a length is in its /64: RouterOS' default prefix length, which
/// `/export` therefore leaves out (in the corpus' RouterOS 7 exports, `/ipv6 address` entries are
/// written with /126, /127, /128, /48 and /80, and 25 without a length; never with /64).
pub fn parse_interface_addr(v: &[u8]) -> Option<AddrMatch> {
    let m = parse_addr(v)?;
    let bare = !v.contains(&b'/') && !v.contains(&b'-');
    if m.range.v6 && bare && !m.negated {
        let mask: u128 = u128::MAX << 64;
        return Some(AddrMatch {
            negated: false,
            range: AddrRange {
                v6: true,
                start: m.range.start & mask,
                end: m.range.start | !mask,
            },
        });
    }
    Some(m)
}

/// Parses `10.0.0.0/8`, `10.0.0.1`, `10.0.0.1-10.0.0.20`, `2001:db8::/32`, each optionally `!`.
///
/// RouterOS accepts a prefix with host bits set (`192.168.88.1/24`) and means the network; so
/// does this function.
pub fn parse_addr(v: &[u8]) -> Option<AddrMatch> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let (negated, s) = match s.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let range = if let Some((a, len)) = s.split_once('/') {
        prefix_range(a.parse().ok()?, len.parse().ok()?)?
    } else if let Some((a, b)) = s.split_once('-') {
        match (a.parse::<IpAddr>().ok()?, b.parse::<IpAddr>().ok()?) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => AddrRange::v4(a, b),
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => AddrRange::v6(a, b),
            _ => return None,
        }
    } else {
        let a: IpAddr = s.parse().ok()?;
        prefix_range(a, if a.is_ipv4() { 32 } else { 128 })?
    };
    Some(AddrMatch { negated, range })
}

/// A port matcher: a comma list of ports and ranges, possibly negated as a whole (`!22`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSet {
    pub negated: bool,
    pub ranges: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= port && port <= b) != self.negated
    }
}

/// Parses `8728`, `8728,8729`, `1000-2000,22`, `!22`.
pub fn parse_ports(v: &[u8]) -> Option<PortSet> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let (negated, s) = match s.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut ranges = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let r = match part.split_once('-') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => {
                let p = part.parse().ok()?;
                (p, p)
            }
        };
        if r.0 > r.1 {
            return None;
        }
        ranges.push(r);
    }
    Some(PortSet { negated, ranges })
}

/// One entry of a comma list, with its `!` negation split off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry<'a> {
    pub negated: bool,
    pub name: &'a [u8],
}

/// Splits a comma list (`local,telnet,!ftp`) into entries; empty entries are dropped.
pub fn parse_list(v: &[u8]) -> Vec<ListEntry<'_>> {
    v.split(|&c| c == b',')
        .filter(|e| !e.is_empty())
        .map(|e| match e.strip_prefix(b"!") {
            Some(rest) => ListEntry {
                negated: true,
                name: rest,
            },
            None => ListEntry {
                negated: false,
                name: e,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 interface address exported without a length is in its /64 (RouterOS' default,
    /// which exports omit); a written length, an IPv4 address or a range is kept as written.
    #[test]
    fn ipv6_interface_addresses_without_a_length_are_slash_64() {
        let r = |s: &str| parse_interface_addr(s.as_bytes()).unwrap().range;
        let a = r("2001:db8:1:2::1");
        assert_eq!(a.start, 0x2001_0db8_0001_0002u128 << 64);
        assert_eq!(
            a.end,
            (0x2001_0db8_0001_0002u128 << 64) | u128::from(u64::MAX)
        );
        assert_eq!(r("2001:db8::1/128").start, r("2001:db8::1/128").end);
        assert_eq!(r("192.168.88.1").start, r("192.168.88.1").end);
        assert_eq!(r("2001:db8::1-2001:db8::5").end & 0xff, 5);
    }

    #[test]
    fn bool_reads_yes_no() {
        assert_eq!(parse_bool(b"yes"), Some(true));
        assert_eq!(parse_bool(b"no"), Some(false));
        assert_eq!(parse_bool(b"maybe"), None);
    }

    #[test]
    fn int_reads_decimal_and_hex() {
        assert_eq!(parse_int(b"8729"), Some(8729));
        assert_eq!(parse_int(b"0x10"), Some(16));
        assert_eq!(parse_int(b"-1"), None);
    }

    #[test]
    fn duration_reads_units_clocks_and_seconds() {
        let d = |s: &str| parse_duration(s.as_bytes());
        assert_eq!(d("1d10m"), Some(Duration::from_secs(86400 + 600)));
        assert_eq!(d("4w2d"), Some(Duration::from_secs(30 * 86400)));
        assert_eq!(d("00:05:00"), Some(Duration::from_secs(300)));
        assert_eq!(d("1d02:00:00"), Some(Duration::from_secs(86400 + 7200)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("30"), Some(Duration::from_secs(30)));
        assert_eq!(d("1h30m5s"), Some(Duration::from_secs(5405)));
        assert_eq!(d("00:00:01.5"), Some(Duration::from_millis(1500)));
        assert_eq!(d("soon"), None);
        assert_eq!(d("1x"), None);
        assert_eq!(d("00:61:00"), None);
    }

    /// Durations too large to hold are no duration, not a panic (any API client may send them).
    #[test]
    fn a_duration_too_large_to_hold_is_none() {
        let d = |s: &str| parse_duration(s.as_bytes());
        assert_eq!(d("6000000000000000:00:00"), None);
        assert_eq!(d(&"4294967295w".repeat(8000)), None);
        assert_eq!(d("99999999999d"), None);
        assert!(d("9999999999999999999").is_some());
    }

    #[test]
    fn addr_reads_prefix_range_single_and_negation() {
        let a = parse_addr(b"!192.168.0.0/16").unwrap();
        assert!(a.negated);
        assert_eq!(
            a.range,
            AddrRange::v4(
                "192.168.0.0".parse().unwrap(),
                "192.168.255.255".parse().unwrap()
            )
        );
        // Host bits set: RouterOS means the network.
        let n = parse_addr(b"192.168.88.1/24").unwrap();
        assert_eq!(
            n.range.start,
            u32::from(Ipv4Addr::new(192, 168, 88, 0)) as u128
        );
        let r = parse_addr(b"10.0.0.1-10.0.0.9").unwrap();
        assert_eq!(r.range.end - r.range.start, 8);
        let one = parse_addr(b"10.1.2.3").unwrap();
        assert_eq!(one.range.start, one.range.end);
        let v6 = parse_addr(b"2001:db8::/32").unwrap();
        assert!(v6.range.v6);
        assert_eq!(v6.range.end - v6.range.start, (1u128 << 96) - 1);
        assert_eq!(
            parse_addr(b"0.0.0.0/0").unwrap().range,
            AddrRange::all(false)
        );
        assert!(parse_addr(b"10.0.0.9-10.0.0.1").is_none());
        assert!(parse_addr(b"10.0.0.0/33").is_none());
        assert!(parse_addr(b"lan").is_none());
    }

    #[test]
    fn ports_read_lists_ranges_and_negation() {
        let p = parse_ports(b"8728,8729,1000-2000").unwrap();
        assert!(p.contains(8729) && p.contains(1500) && !p.contains(22));
        let n = parse_ports(b"!22").unwrap();
        assert!(!n.contains(22) && n.contains(8728));
        assert!(parse_ports(b"2000-1000").is_none());
        assert!(parse_ports(b"ssh").is_none());
    }

    #[test]
    fn list_splits_and_negates_entries() {
        let l = parse_list(b"local,!ftp,,policy");
        assert_eq!(l.len(), 3);
        assert!(l[1].negated && l[1].name == b"ftp");
    }
}
