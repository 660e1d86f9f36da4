//! Sets of source addresses as sorted, disjoint, inclusive intervals, one family per set.
//!
//! The exposure analysis reasons about *all* sources at once ("0.0.0.0/0 minus 10.0.0.0/8"), not
//! sample packets, so every firewall matcher becomes a set and every rule a set operation.
//! IPv4 addresses live in the low 32 bits of the `u128` domain.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use routeros_config::value::AddrRange;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrSet {
    pub v6: bool,
    /// Sorted, disjoint, non-adjacent inclusive ranges, shared: a rule that matches an address
    /// list holds the list's set, not a copy of it (a 200,000-rule export with thousand-entry
    /// lists spent an eighth of its time and most of its memory copying them).
    ranges: Arc<[(u128, u128)]>,
}

impl AddrSet {
    pub fn empty(v6: bool) -> AddrSet {
        AddrSet {
            v6,
            ranges: Arc::new([]),
        }
    }

    pub fn all(v6: bool) -> AddrSet {
        AddrSet {
            v6,
            ranges: Arc::new([(0, Self::max(v6))]),
        }
    }

    fn max(v6: bool) -> u128 {
        if v6 {
            u128::MAX
        } else {
            u32::MAX as u128
        }
    }

    pub fn from_range(r: AddrRange) -> AddrSet {
        AddrSet {
            v6: r.v6,
            ranges: Arc::new([(r.start, r.end)]),
        }
    }

    /// A set from ranges in any order, overlapping or not.
    pub fn from_ranges(v6: bool, mut rs: Vec<(u128, u128)>) -> AddrSet {
        rs.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(rs.len());
        for (a, b) in rs {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        AddrSet {
            v6,
            ranges: out.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_all(&self) -> bool {
        *self.ranges == [(0, Self::max(self.v6))]
    }

    /// How many addresses, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        self.ranges.iter().fold(0u128, |t, &(a, b)| {
            t.saturating_add(b - a).saturating_add(1)
        })
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn union(&self, o: &AddrSet) -> AddrSet {
        if o.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return o.clone();
        }
        let mut all = self.ranges.to_vec();
        all.extend_from_slice(&o.ranges);
        AddrSet::from_ranges(self.v6, all)
    }

    pub fn intersect(&self, o: &AddrSet) -> AddrSet {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < o.ranges.len() {
            let (a1, b1) = self.ranges[i];
            let (a2, b2) = o.ranges[j];
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        AddrSet {
            v6: self.v6,
            ranges: out.into(),
        }
    }

    pub fn complement(&self) -> AddrSet {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next: Option<u128> = Some(0);
        for &(a, b) in self.ranges.iter() {
            if let Some(n) = next {
                if a > n {
                    out.push((n, a - 1));
                }
            }
            next = b.checked_add(1);
        }
        if let Some(n) = next {
            if n <= Self::max(self.v6) {
                out.push((n, Self::max(self.v6)));
            }
        }
        AddrSet {
            v6: self.v6,
            ranges: out.into(),
        }
    }

    /// Whether both are the same shared set (a cheap sufficient test for equality).
    pub fn same(&self, o: &AddrSet) -> bool {
        self.v6 == o.v6 && Arc::ptr_eq(&self.ranges, &o.ranges)
    }

    pub fn minus(&self, o: &AddrSet) -> AddrSet {
        if o.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersect(&o.complement())
    }

    /// Whether every address of `o` is in this set.
    pub fn contains_set(&self, o: &AddrSet) -> bool {
        o.minus(self).is_empty()
    }

    /// The minimal list of CIDR prefixes covering exactly this set.
    pub fn to_prefixes(&self) -> Vec<String> {
        self.prefixes().map(|p| self.fmt_prefix(p.0, p.1)).collect()
    }

    /// The first `n` of [`AddrSet::to_prefixes`], without writing out the rest.
    pub fn first_prefixes(&self, n: usize) -> Vec<String> {
        self.prefixes()
            .take(n)
            .map(|p| self.fmt_prefix(p.0, p.1))
            .collect()
    }

    /// How many prefixes [`AddrSet::to_prefixes`] would write.
    pub fn prefix_count(&self) -> usize {
        self.prefixes().count()
    }

    /// The minimal CIDR prefixes covering exactly this set, in address order, as (first
    /// address, prefix length).
    pub fn prefixes(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        let bits: u32 = if self.v6 { 128 } else { 32 };
        self.ranges.iter().flat_map(move |&(a, b)| {
            let mut next = Some(a);
            std::iter::from_fn(move || {
                let start = next?;
                // The largest aligned block starting at `start` that stays within `b`.
                let mut size_log = if start == 0 {
                    bits
                } else {
                    start.trailing_zeros().min(bits)
                };
                while size_log > 0 && start.checked_add(span(size_log)).is_none_or(|e| e > b) {
                    size_log -= 1;
                }
                next = start
                    .checked_add(span(size_log))
                    .and_then(|e| e.checked_add(1))
                    .filter(|&n| n <= b);
                Some((start, bits - size_log))
            })
        })
    }

    /// A prefix of this set's family as text (`10.0.0.0/8`, `2001:db8::/32`).
    pub fn prefix_text(&self, (addr, len): (u128, u32)) -> String {
        self.fmt_prefix(addr, len)
    }

    /// Whether no address is in both sets. Looks each range of the smaller set up in the
    /// larger one: a handful of list entries against a set of millions of ranges costs a few
    /// binary searches, not a walk of the large set.
    pub fn is_disjoint(&self, o: &AddrSet) -> bool {
        let (small, big) = if self.ranges.len() <= o.ranges.len() {
            (self, o)
        } else {
            (o, self)
        };
        small.ranges.iter().all(|&(a, b)| {
            // The first range of `big` that ends at or after `a` must start after `b`.
            let i = big.ranges.partition_point(|r| r.1 < a);
            big.ranges.get(i).is_none_or(|r| r.0 > b)
        })
    }

    /// Whether every address of `o` is in this set, by lookups as in [`AddrSet::is_disjoint`]:
    /// each range of `o` must lie inside one range of this set (they are maximal).
    pub fn covers(&self, o: &AddrSet) -> bool {
        o.ranges.iter().all(|&(a, b)| self.covers_range(a, b))
    }

    /// Whether every address from `a` to `b` (inclusive) is in this set.
    pub fn covers_range(&self, a: u128, b: u128) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < a);
        self.ranges.get(i).is_some_and(|r| r.0 <= a && b <= r.1)
    }

    fn fmt_prefix(&self, addr: u128, len: u32) -> String {
        if self.v6 {
            format!("{}/{len}", Ipv6Addr::from(addr))
        } else {
            format!("{}/{len}", Ipv4Addr::from(addr as u32))
        }
    }
}

/// The last offset of an aligned block of 2^`size_log` addresses.
fn span(size_log: u32) -> u128 {
    if size_log >= 128 {
        u128::MAX
    } else {
        (1u128 << size_log) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use routeros_config::value::parse_addr;

    fn set(s: &str) -> AddrSet {
        AddrSet::from_range(parse_addr(s.as_bytes()).unwrap().range)
    }

    #[test]
    fn all_minus_a_private_block_is_the_expected_prefixes() {
        let s = AddrSet::all(false).minus(&set("10.0.0.0/8"));
        assert_eq!(
            s.to_prefixes(),
            [
                "0.0.0.0/5",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/1"
            ]
        );
        assert_eq!(AddrSet::all(false).to_prefixes(), ["0.0.0.0/0"]);
        assert_eq!(AddrSet::all(true).to_prefixes(), ["::/0"]);
        assert!(AddrSet::empty(false).to_prefixes().is_empty());
    }

    #[test]
    fn ranges_become_minimal_prefixes() {
        assert_eq!(
            set("10.0.0.1-10.0.0.6").to_prefixes(),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(set("2001:db8::/32").to_prefixes(), ["2001:db8::/32"]);
    }

    #[test]
    fn union_intersect_complement_agree() {
        let a = set("10.0.0.0/8");
        let b = set("10.1.0.0/16");
        let c = set("192.168.0.0/16");
        assert_eq!(a.union(&b), a);
        assert_eq!(a.intersect(&b), b);
        assert!(a.intersect(&c).is_empty());
        assert_eq!(a.complement().complement(), a);
        assert!(a.union(&a.complement()).is_all());
        assert!(a.contains_set(&b) && !b.contains_set(&a));
        // Adjacent ranges merge.
        assert_eq!(
            set("10.0.0.0/25").union(&set("10.0.0.128/25")),
            set("10.0.0.0/24")
        );
    }

    #[test]
    fn prefix_count_and_first_prefixes_agree_with_the_full_list() {
        let s = AddrSet::all(false)
            .minus(&set("10.0.0.1-10.0.0.6"))
            .minus(&set("192.0.2.7/32"));
        let all = s.to_prefixes();
        assert_eq!(s.prefix_count(), all.len());
        assert_eq!(s.first_prefixes(5), all[..5]);
        assert_eq!(s.first_prefixes(10_000), all);
        assert_eq!(AddrSet::all(true).prefix_count(), 1);
        assert_eq!(AddrSet::empty(true).prefix_count(), 0);
    }

    #[test]
    fn disjoint_and_covers_agree_with_the_set_operations() {
        let big = AddrSet::all(false)
            .minus(&set("10.0.0.0/8"))
            .minus(&set("192.0.2.0/24"))
            .minus(&set("198.51.100.7/32"));
        for probe in [
            "10.1.0.0/16",
            "10.0.0.0/7",
            "192.0.2.5/32",
            "198.51.100.6-198.51.100.8",
            "198.51.100.8/29",
            "0.0.0.0/0",
            "203.0.113.0/24",
        ] {
            let p = set(probe);
            assert_eq!(big.is_disjoint(&p), big.intersect(&p).is_empty(), "{probe}");
            assert_eq!(p.is_disjoint(&big), big.intersect(&p).is_empty(), "{probe}");
            assert_eq!(big.covers(&p), big.contains_set(&p), "{probe}");
        }
    }
}
