//! Rules that can never match: earlier terminal rules of the same chain take all of their
//! traffic. Kept apart from the evaluation: it compares rules with each other, where the
//! evaluation follows one connection through them.

use routeros_config::value::PortSet;

use super::{Firewall, Rule};
use crate::audit::addrset::AddrSet;

/// Whether every port `narrow` matches, `wide` matches too.
fn ports_cover(wide: &PortSet, narrow: &PortSet) -> bool {
    if wide.negated || narrow.negated {
        return wide == narrow;
    }
    narrow.ranges.iter().all(|&(a, b)| {
        let mut p = a as u32;
        // Walk the narrow range through the wide ranges that cover it.
        while p <= b as u32 {
            match wide
                .ranges
                .iter()
                .find(|&&(wa, wb)| wa as u32 <= p && p <= wb as u32)
            {
                Some(&(_, wb)) => p = wb as u32 + 1,
                None => return false,
            }
        }
        true
    })
}

impl Rule {
    /// The grouping key for shadowing: every matcher except ports and sources, raw.
    fn shadow_key(&self) -> ShadowKey {
        ShadowKey {
            protocol: self.protocol_raw.clone(),
            in_interface: self.in_interface.clone(),
            in_interface_list: self.in_interface_list.clone(),
            conn_state: self.conn_state_raw.clone(),
            nat_state: self.nat_state_raw.clone(),
            dst_type: self.dst_type_raw.clone(),
            dst_address: self.dst_address_raw.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ShadowKey {
    protocol: Option<String>,
    in_interface: Option<(bool, String)>,
    in_interface_list: Option<(bool, String)>,
    conn_state: Option<Vec<String>>,
    nat_state: Option<String>,
    dst_type: Option<String>,
    dst_address: Option<String>,
}

impl ShadowKey {
    /// Whether traffic matching `narrow` is always matched by `self` on these matchers.
    fn covers(&self, narrow: &ShadowKey) -> bool {
        fn field<T: PartialEq>(wide: &Option<T>, narrow: &Option<T>) -> bool {
            wide.is_none() || wide == narrow
        }
        field(&self.protocol, &narrow.protocol)
            && field(&self.in_interface, &narrow.in_interface)
            && field(&self.in_interface_list, &narrow.in_interface_list)
            && field(&self.nat_state, &narrow.nat_state)
            && field(&self.dst_type, &narrow.dst_type)
            && field(&self.dst_address, &narrow.dst_address)
            && match (&self.conn_state, &narrow.conn_state) {
                (None, _) => true,
                (Some(w), Some(n)) if w.first().map(String::as_str) != Some("!") => {
                    n.first().map(String::as_str) != Some("!") && n.iter().all(|s| w.contains(s))
                }
                (Some(w), Some(n)) => w == n,
                (Some(_), None) => false,
            }
    }
}

/// Disjoint source intervals with logarithmic insert and containment, for shadowing at scale.
#[derive(Default)]
struct IntervalMap {
    map: std::collections::BTreeMap<u128, u128>,
}

impl IntervalMap {
    fn insert(&mut self, mut a: u128, mut b: u128) {
        if self.contains(a, b) {
            return;
        }
        // Merge with an interval that starts before and reaches `a`.
        if let Some((&s, &e)) = self.map.range(..=a).next_back() {
            if e >= a.saturating_sub(1) {
                a = s;
                b = b.max(e);
                self.map.remove(&s);
            }
        }
        // Swallow every interval starting inside [a, b+1].
        let end = b.saturating_add(1);
        let inside: Vec<(u128, u128)> = self.map.range(a..=end).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in inside {
            b = b.max(e);
            self.map.remove(&s);
        }
        self.map.insert(a, b);
    }

    /// Intervals that intersect `[a, b]`.
    fn overlapping(&self, a: u128, b: u128) -> impl Iterator<Item = (u128, u128)> + '_ {
        let first = self
            .map
            .range(..=a)
            .next_back()
            .map(|(&s, _)| s)
            .unwrap_or(a);
        self.map
            .range(first..=b)
            .map(|(&s, &e)| (s, e))
            .filter(move |&(_, e)| e >= a)
    }

    fn contains(&self, a: u128, b: u128) -> bool {
        self.map
            .range(..=a)
            .next_back()
            .is_some_and(|(_, &e)| e >= b)
    }
}

/// Earlier terminal rules that share one shadow key and one port matcher.
struct ShadowGroup {
    key: ShadowKey,
    ports: Option<PortSet>,
    /// `port=`: matches when the source *or* the destination port is in the list (MikroTik's
    /// Firewall Filter manual), so such a group takes a later rule's traffic only when every
    /// packet of it has a port in the list: its `dst-port=` or its own `port=` inside it.
    any_ports: Option<PortSet>,
    sources: IntervalMap,
    /// Each part of `sources` with the first rule of the group that matches it: the rule that
    /// takes that traffic, as RouterOS takes the first match. Filled only where `sources` had a
    /// gap, so it holds at most as many intervals as were ever inserted.
    owners: std::collections::BTreeMap<u128, (u128, usize)>,
    /// Large source sets (address lists) already inserted whole, with the owners read for them
    /// once. Owners are only ever added where `sources` had a gap, so once a set lies inside
    /// `sources` its owners never change: a later rule matching the same list is answered
    /// without reading its thousand intervals again.
    whole: Vec<(AddrSet, Option<Owners>)>,
}

/// The rules named for a set (at most 3 read), and whether that was all of them.
type Owners = (Vec<usize>, bool);

/// Source sets with at least this many intervals are remembered whole by a group.
const WHOLE_FROM: usize = 8;

/// How many of the owning intervals one shadowed rule's lookup reads before it stops naming
/// more: a rule behind thousands of narrower ones names the first few and says there are more.
const OWNERS_READ: usize = 64;

impl ShadowGroup {
    /// Adds a rule's source interval: it owns the parts no earlier rule of the group had.
    fn insert(&mut self, rule: usize, a: u128, b: u128) {
        if self.sources.contains(a, b) {
            return;
        }
        let mut gaps = Vec::new();
        let mut next = Some(a);
        for (s, e) in self.sources.overlapping(a, b) {
            if let Some(n) = next {
                if s > n {
                    gaps.push((n, s - 1));
                }
            }
            next = e.checked_add(1);
        }
        if let Some(n) = next {
            if n <= b {
                gaps.push((n, b));
            }
        }
        for (s, e) in gaps {
            self.owners.insert(s, (e, rule));
        }
        self.sources.insert(a, b);
    }

    /// Whether this exact shared set was inserted whole.
    fn holds_whole(&self, set: &AddrSet) -> Option<usize> {
        self.whole.iter().position(|(s, _)| s.same(set))
    }

    /// Adds a rule's whole source set.
    fn insert_set(&mut self, rule: usize, set: &AddrSet) {
        if self.holds_whole(set).is_some() {
            return;
        }
        for &(a, b) in set.ranges() {
            self.insert(rule, a, b);
        }
        if set.ranges().len() >= WHOLE_FROM {
            self.whole.push((set.clone(), None));
        }
    }

    /// [`Self::owners_of`] over every interval of a set inserted whole, from nothing, at most 3.
    fn owners_of_whole(&mut self, at: usize) -> (Vec<usize>, bool) {
        if let Some(done) = &self.whole[at].1 {
            return done.clone();
        }
        let set = self.whole[at].0.clone();
        let mut by = Vec::new();
        let mut complete = true;
        for &(a, b) in set.ranges() {
            complete &= self.owners_of(a, b, &mut by, 3);
            if !complete {
                break;
            }
        }
        self.whole[at].1 = Some((by.clone(), complete));
        (by, complete)
    }

    /// The rules that take parts of `[a, b]`, added to `out` (kept sorted, without repeats);
    /// false when it stopped early: after [`OWNERS_READ`] intervals, or once `out` holds more
    /// than `most` rules.
    fn owners_of(&self, a: u128, b: u128, out: &mut Vec<usize>, most: usize) -> bool {
        // Only the intervals that overlap `[a, b]` are read (and counted), so the answer for a
        // part of `sources` never changes as later rules fill gaps elsewhere.
        let first = self
            .owners
            .range(..=a)
            .next_back()
            .filter(|(_, &(e, _))| e >= a)
            .map(|(&s, _)| s)
            .unwrap_or(a);
        for (i, (_, &(e, rule))) in self.owners.range(first..=b).enumerate() {
            if i == OWNERS_READ {
                return false;
            }
            if e >= a {
                if let Err(at) = out.binary_search(&rule) {
                    out.insert(at, rule);
                    if out.len() > most {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// A rule that can never match, and the earlier rules that take its traffic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shadowed {
    pub rule: usize,
    /// The earlier rules that match its traffic first, lowest number first; never empty.
    pub by: Vec<usize>,
    /// More earlier rules take parts of it than `by` names.
    pub more: bool,
}

impl Firewall {
    /// Rules that can never match because earlier terminal rules of the same chain take all of
    /// their traffic.
    ///
    /// Earlier rules are grouped by their non-address matchers and port matcher, each group keeping
    /// the union of its sources as an interval map, so a rule is checked against groups (usually a
    /// handful) rather than against every earlier rule. A group shadows a rule when its matchers
    /// are each absent or equal to the rule's (ports: a superset), and the union of the covering
    /// groups' sources contains the rule's sources. Rules with undecided matchers never shadow.
    /// The rules named are those that match each part of its sources first within their group;
    /// past [`OWNERS_READ`] parts, the first ones found are named and `more` says so.
    pub fn shadowed(&self) -> Vec<Shadowed> {
        let mut out = Vec::new();
        let mut names: Vec<&String> = self.chains.keys().collect();
        names.sort();
        for name in names {
            let mut groups: Vec<ShadowGroup> = Vec::new();
            let all = AddrSet::all(self.v6);
            for &i in &self.chains[name] {
                let r = &self.rules[i];
                let key = r.shadow_key();
                let set = r.src.as_ref().unwrap_or(&all);
                let srcs = set.ranges();
                let covering: Vec<usize> = groups
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| {
                        g.key.covers(&key)
                            && match (&g.ports, &r.dst_port) {
                                (None, _) => true,
                                (Some(gp), Some(rp)) => ports_cover(gp, rp),
                                (Some(_), None) => false,
                            }
                            && match &g.any_ports {
                                None => true,
                                Some(gl) => {
                                    r.dst_port.as_ref().is_some_and(|rp| ports_cover(gl, rp))
                                        || r.any_port.as_ref().is_some_and(|ra| ports_cover(gl, ra))
                                }
                            }
                    })
                    .map(|(n, _)| n)
                    .collect();
                if !covering.is_empty() && !srcs.is_empty() {
                    // A group that holds this very list whole covers it without a lookup.
                    let whole = covering
                        .iter()
                        .find_map(|&n| groups[n].holds_whole(set).map(|at| (n, at)));
                    let all_covered = whole.is_some()
                        || srcs.iter().all(|&(a, b)| {
                            // Single groups answer in O(log n); several are merged for this check.
                            if covering.iter().any(|&n| groups[n].sources.contains(a, b)) {
                                return true;
                            }
                            let mut merged = IntervalMap::default();
                            for &n in &covering {
                                for (s, e) in groups[n].sources.overlapping(a, b) {
                                    merged.insert(s, e);
                                }
                            }
                            merged.contains(a, b)
                        });
                    if all_covered {
                        // One earlier rule that alone takes it all (the first of them), else
                        // the rules that take each part.
                        // (With one covering group, reading its owners below tells as much.)
                        let alone = covering
                            .iter()
                            .filter(|_| covering.len() > 1)
                            .filter(|&&n| {
                                srcs.iter().all(|&(a, b)| groups[n].sources.contains(a, b))
                            })
                            .filter_map(|&n| {
                                let mut own = Vec::new();
                                let complete = srcs
                                    .iter()
                                    .all(|&(a, b)| groups[n].owners_of(a, b, &mut own, 1));
                                (complete && own.len() == 1).then(|| own[0])
                            })
                            .min();
                        let mut by = Vec::new();
                        let mut complete = true;
                        match (alone, whole) {
                            (Some(n), _) => by.push(n),
                            (None, Some((n, at))) if covering.len() == 1 => {
                                (by, complete) = groups[n].owners_of_whole(at);
                            }
                            _ => {
                                'read: for &(a, b) in srcs {
                                    for &n in &covering {
                                        complete &= groups[n].owners_of(a, b, &mut by, 3);
                                        if !complete {
                                            break 'read;
                                        }
                                    }
                                }
                            }
                        }
                        by.sort_unstable();
                        by.dedup();
                        let more = !complete || by.len() > 3;
                        by.truncate(3);
                        out.push(Shadowed {
                            rule: r.number,
                            by,
                            more,
                        });
                    }
                }
                if r.is_terminal() && r.undecided.is_empty() {
                    let pos = groups.iter().position(|g| {
                        g.key == key && g.ports == r.dst_port && g.any_ports == r.any_port
                    });
                    let g = match pos {
                        Some(p) => &mut groups[p],
                        None => {
                            groups.push(ShadowGroup {
                                key,
                                ports: r.dst_port.clone(),
                                any_ports: r.any_port.clone(),
                                sources: IntervalMap::default(),
                                owners: Default::default(),
                                whole: Vec::new(),
                            });
                            groups.last_mut().expect("just pushed")
                        }
                    };
                    g.insert_set(r.number, set);
                }
            }
        }
        out.sort_unstable();
        out
    }
}
