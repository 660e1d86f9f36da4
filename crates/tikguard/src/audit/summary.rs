//! How a large reachable set is written in a report.
//!
//! A firewall that drops an address list of 200,000 scattered entries and accepts the rest lets
//! in "0.0.0.0/0 except those entries": as CIDR prefixes that is millions of them (a 200,000-entry
//! list gave 2.7 million, and a JSON report of 586 MB). Past [`LIMIT`] prefixes a set is written
//! as a summary instead: how many prefixes and addresses, its largest prefixes, and, where the
//! configuration's own address lists say what the set is, that form:
//!
//! - `base` except lists: the set is `base` minus every entry of the lists (a drop of the lists
//!   before an accept of `base`);
//! - `base` plus lists: the set is `base` and every entry of the lists (an accept of the lists).
//!
//! A form is only given when it is exact: the set is computed back from `base` and the lists and
//! compared. Which lists the firewall's rules named does not matter to that; the set is what the
//! analysis decided, and the form is one true way to write it. Lists count by their static
//! entries, as the analysis does (lists with DNS names are never used: their content is known
//! only at run time).

use serde::Serialize;

use super::addrset::AddrSet;
use super::firewall::AddressLists;

/// Prefixes a report writes for one set before it writes a summary instead.
pub const LIMIT: usize = 64;

/// The largest prefixes a summary names.
pub const LARGEST: usize = 8;

/// Address lists a form may name; a set that needs more is summarised without one.
const MAX_LISTS: usize = 16;

/// Lists, the largest first, a plus form tries one by one.
const MAX_TRIED: usize = 64;

/// A large set, summarised (JSON `reachable_summary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetSummary {
    /// The prefix list beside it (`reachable_from`) holds only the first [`LIMIT`] prefixes.
    pub truncated: bool,
    /// How many prefixes the whole set is.
    pub prefix_count: usize,
    /// How many addresses, in decimal (an IPv6 count can pass what a JSON number holds exactly).
    pub address_count: String,
    /// The widest prefixes, widest first (then in address order).
    pub largest: Vec<String>,
    /// With `except_lists` or `plus_lists`: the set is exactly (`base` and every entry of
    /// `plus_lists`) minus every entry of `except_lists`. Absent when no such form is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Vec<String>>,
    pub except_lists: Vec<ListRef>,
    pub plus_lists: Vec<ListRef>,
}

/// An address list a summary's form names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListRef {
    pub name: String,
    /// Its static entries of the set's family.
    pub entries: usize,
}

impl SetSummary {
    /// The summary of `set` when it has more than [`LIMIT`] prefixes, with the form `lists`
    /// (the set's family) give it, if any.
    pub fn of(set: &AddrSet, lists: &AddressLists) -> Option<SetSummary> {
        let prefix_count = set.prefix_count();
        if prefix_count <= LIMIT {
            return None;
        }
        let (base, except_lists, plus_lists) = match except_form(set, lists) {
            Some((base, l)) => (Some(base), l, Vec::new()),
            None => match plus_form(set, lists) {
                Some((base, l)) => (Some(base), Vec::new(), l),
                None => (None, Vec::new(), Vec::new()),
            },
        };
        Some(SetSummary {
            truncated: true,
            prefix_count,
            address_count: address_count(set),
            largest: largest(set, LARGEST),
            base: base.map(|b| b.to_prefixes()),
            except_lists,
            plus_lists,
        })
    }

    /// One line for a person: the form when known (`0.0.0.0/0 except list `blocklist` (200,000
    /// entries)`), else the counts and the widest prefixes. At most `shown` prefixes of a base.
    pub fn describe(&self, shown: usize) -> String {
        let lists = |l: &[ListRef]| {
            let names = l
                .iter()
                .map(|r| format!("`{}` ({} entries)", r.name, thousands(r.entries as u128)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("list{} {names}", if l.len() == 1 { "" } else { "s" })
        };
        let base = |b: &[String]| match b.len() {
            n if n <= shown => b.join(", "),
            n => format!(
                "({} and {} more prefixes)",
                b[..shown].join(", "),
                n - shown
            ),
        };
        match &self.base {
            Some(b) if !self.except_lists.is_empty() => {
                format!("{} except {}", base(b), lists(&self.except_lists))
            }
            Some(b) if b.is_empty() => lists(&self.plus_lists),
            Some(b) => format!("{} plus {}", lists(&self.plus_lists), base(b)),
            None => format!(
                "{} prefixes ({} addresses), the widest {}",
                thousands(self.prefix_count as u128),
                self.address_count_text(),
                self.largest[..self.largest.len().min(shown)].join(", ")
            ),
        }
    }

    fn address_count_text(&self) -> String {
        self.address_count
            .parse::<u128>()
            .map(thousands)
            .unwrap_or_else(|_| self.address_count.clone())
    }
}

/// `2658949` -> `2,658,949`.
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The exact number of addresses: [`AddrSet::size`] saturates, and all of IPv6 is one more
/// than `u128::MAX`.
fn address_count(set: &AddrSet) -> String {
    if set.v6 && set.is_all() {
        "340282366920938463463374607431768211456".into()
    } else {
        set.size().to_string()
    }
}

/// The `n` widest prefixes, widest first, then in address order.
fn largest(set: &AddrSet, n: usize) -> Vec<String> {
    let mut best: Vec<(u32, u128)> = Vec::with_capacity(n + 1);
    for (addr, len) in set.prefixes() {
        if best.len() == n && best.last().is_some_and(|w| w.0 <= len) {
            continue;
        }
        let at = best.partition_point(|w| w.0 <= len);
        best.insert(at, (len, addr));
        best.truncate(n);
    }
    best.into_iter()
        .map(|(len, addr)| set.prefix_text((addr, len)))
        .collect()
}

fn list_ref(name: &str, entries: usize) -> ListRef {
    ListRef {
        name: name.to_string(),
        entries,
    }
}

/// The largest lists first, then by name.
fn by_size(refs: &mut [(&str, &AddrSet, usize)]) {
    refs.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
}

/// `set` as a base minus lists: the lists that share no address with `set` fill the gaps of
/// `set` they cover whole; what that gives is the base, when it is at most [`LIMIT`] prefixes
/// and fewer than the set's.
fn except_form(set: &AddrSet, lists: &AddressLists) -> Option<(AddrSet, Vec<ListRef>)> {
    let known = lists.known();
    let outside: Vec<(&str, &AddrSet, usize)> = known
        .into_iter()
        .filter(|(_, l, _)| l.is_disjoint(set))
        .collect();
    if outside.is_empty() {
        return None;
    }
    let union = AddrSet::from_ranges(
        set.v6,
        outside
            .iter()
            .flat_map(|(_, l, _)| l.ranges().iter().copied())
            .collect(),
    );
    let filled: Vec<(u128, u128)> = set
        .complement()
        .ranges()
        .iter()
        .copied()
        .filter(|&(a, b)| union.covers_range(a, b))
        .collect();
    if filled.is_empty() {
        return None;
    }
    let filled = AddrSet::from_ranges(set.v6, filled);
    let base = set.union(&filled);
    if base.prefix_count() > LIMIT {
        return None;
    }
    let mut used: Vec<(&str, &AddrSet, usize)> = outside
        .into_iter()
        .filter(|(_, l, _)| !l.is_disjoint(&filled))
        .collect();
    if used.len() > MAX_LISTS {
        return None;
    }
    by_size(&mut used);
    // Exact, or no form: the base minus the lists is the set.
    let mut back = base.clone();
    for (_, l, _) in &used {
        back = back.minus(l);
    }
    if back != *set {
        return None;
    }
    Some((base, used.iter().map(|(n, _, e)| list_ref(n, *e)).collect()))
}

/// `set` as a base plus lists: lists wholly inside `set`, the largest first, until what is left
/// of `set` is at most [`LIMIT`] prefixes.
fn plus_form(set: &AddrSet, lists: &AddressLists) -> Option<(AddrSet, Vec<ListRef>)> {
    let mut inside: Vec<(&str, &AddrSet, usize)> = lists
        .known()
        .into_iter()
        .filter(|(_, l, _)| set.covers(l))
        .collect();
    // What all of them together leave, in one pass: when that is still too many prefixes no
    // choice of them does better, and the lists are not tried one by one (a router with
    // thousands of lists would pay a pass over the set for each).
    let all = AddrSet::from_ranges(
        set.v6,
        inside
            .iter()
            .flat_map(|(_, l, _)| l.ranges().iter().copied())
            .collect(),
    );
    if inside.is_empty() || set.minus(&all).prefix_count() > LIMIT {
        return None;
    }
    by_size(&mut inside);
    let mut rest = set.clone();
    let mut rest_count = rest.prefix_count();
    let mut used = Vec::new();
    // The largest lists first; at most [`MAX_TRIED`] of them looked at.
    for (name, l, entries) in inside.into_iter().take(MAX_TRIED) {
        if rest_count <= LIMIT || used.len() == MAX_LISTS {
            break;
        }
        let next = rest.minus(l);
        let next_count = next.prefix_count();
        if next_count < rest_count {
            rest = next;
            rest_count = next_count;
            used.push((name, l, entries));
        }
    }
    if used.is_empty() || rest.prefix_count() > LIMIT {
        return None;
    }
    let mut back = rest.clone();
    for (_, l, _) in &used {
        back = back.union(l);
    }
    if back != *set {
        return None;
    }
    Some((rest, used.iter().map(|(n, _, e)| list_ref(n, *e)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use routeros_config::Config;

    fn lists(entries: &[(&str, &str)]) -> AddressLists {
        let mut text = String::from("/ip firewall address-list\n");
        for (list, addr) in entries {
            text.push_str(&format!("add address={addr} list={list}\n"));
        }
        let (c, _) = Config::load(text.into_bytes());
        AddressLists::from_config(&c, false)
    }

    /// 100 scattered single addresses in 198.18.0.0/15: 100 holes.
    fn scattered(list: &str) -> Vec<(String, String)> {
        (0..100u32)
            .map(|i| {
                (
                    list.to_string(),
                    format!("198.{}.{}.{}", 18 + (i % 2), i, 1 + i % 200),
                )
            })
            .collect()
    }

    fn set_minus(lists: &AddressLists, names: &[&str]) -> AddrSet {
        let mut s = AddrSet::all(false);
        for n in names {
            s = s.minus(&lists.get(n).0);
        }
        s
    }

    #[test]
    fn a_set_of_at_most_the_limit_is_not_summarised() {
        let l = lists(&[("mgmt", "192.0.2.1")]);
        let s = AddrSet::all(false).minus(&l.get("mgmt").0);
        assert!(s.prefix_count() <= LIMIT);
        assert_eq!(SetSummary::of(&s, &l), None);
    }

    #[test]
    fn everything_but_a_dropped_list_is_everything_except_that_list() {
        let mut e = scattered("blocklist");
        e.push(("mgmt".into(), "192.0.2.1".into()));
        let refs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let l = lists(&refs);
        let s = set_minus(&l, &["blocklist"]);
        let sum = SetSummary::of(&s, &l).expect("over the limit");
        assert!(sum.truncated);
        assert_eq!(sum.prefix_count, s.prefix_count());
        assert_eq!(sum.address_count, (u32::MAX as u128 + 1 - 100).to_string());
        assert_eq!(sum.base, Some(vec!["0.0.0.0/0".to_string()]));
        assert_eq!(
            sum.except_lists,
            [ListRef {
                name: "blocklist".into(),
                entries: 100
            }]
        );
        assert!(sum.plus_lists.is_empty());
        assert_eq!(
            sum.describe(4),
            "0.0.0.0/0 except list `blocklist` (100 entries)"
        );
        // The widest prefixes, widest first.
        assert_eq!(sum.largest[0], "0.0.0.0/1");
        assert_eq!(sum.largest.len(), LARGEST);
    }

    #[test]
    fn two_dropped_lists_are_both_named_the_larger_first() {
        let mut e = scattered("blocklist");
        e.extend((0..70u32).map(|i| ("bogons".to_string(), format!("203.0.{i}.0/24"))));
        let refs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let l = lists(&refs);
        let s = set_minus(&l, &["bogons", "blocklist"]);
        let sum = SetSummary::of(&s, &l).unwrap();
        let names: Vec<&str> = sum.except_lists.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["blocklist", "bogons"]);
        assert_eq!(
            sum.describe(4),
            "0.0.0.0/0 except lists `blocklist` (100 entries), `bogons` (70 entries)"
        );
    }

    #[test]
    fn a_list_only_partly_dropped_gives_no_except_form() {
        // An earlier accept lets one blocklist entry in: `0.0.0.0/0 except list blocklist`
        // would be false, so no form is given, only counts.
        let e = scattered("blocklist");
        let refs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let l = lists(&refs);
        let first = AddrSet::from_ranges(false, vec![l.get("blocklist").0.ranges()[0]]);
        let s = set_minus(&l, &["blocklist"]).union(&first);
        let sum = SetSummary::of(&s, &l).unwrap();
        assert_eq!(sum.base, None);
        assert!(sum.except_lists.is_empty() && sum.plus_lists.is_empty());
        assert!(
            sum.describe(3).starts_with(&format!(
                "{} prefixes (4,294,967,197 addresses), the widest 0.0.0.0/1, ",
                thousands(s.prefix_count() as u128)
            )),
            "{}",
            sum.describe(3)
        );
    }

    #[test]
    fn an_accepted_list_and_a_few_prefixes_are_that_list_plus_the_prefixes() {
        let e = scattered("customers");
        let refs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let l = lists(&refs);
        let extra = AddrSet::from_ranges(false, vec![(0xCB00_7100, 0xCB00_71FF)]);
        let s = l.get("customers").0.union(&extra);
        let sum = SetSummary::of(&s, &l).unwrap();
        assert_eq!(sum.base, Some(vec!["203.0.113.0/24".to_string()]));
        assert_eq!(sum.plus_lists.len(), 1);
        assert_eq!(
            sum.describe(3),
            "list `customers` (100 entries) plus 203.0.113.0/24"
        );
        let only = SetSummary::of(&l.get("customers").0, &l).unwrap();
        assert_eq!(only.describe(3), "list `customers` (100 entries)");
    }

    #[test]
    fn all_of_ipv6_counts_two_to_the_128_addresses() {
        assert_eq!(
            address_count(&AddrSet::all(true)),
            "340282366920938463463374607431768211456"
        );
        assert_eq!(address_count(&AddrSet::all(false)), "4294967296");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2658949), "2,658,949");
    }
}
