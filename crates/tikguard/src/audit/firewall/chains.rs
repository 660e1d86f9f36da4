//! Walking `input` and the custom chains it jumps to, with work bounded by the number of rules.
//!
//! The fate of a connection in a chain depends on its own source address only, so a chain maps
//! a set of sources `S` to `(S ∩ A, S ∩ R)`, where `A` and `R` are what it accepts and returns
//! when every source enters it. Each chain's `A` and `R` (its summary) are computed once, callees
//! first; a jump then costs two intersections instead of a walk of the target. A second walk,
//! callers first, follows the sources that really enter each chain (the union over every jump
//! to it), to name the rules that let them in and the matchers settled for the attacker. Each
//! chain is so walked twice per connection looked at, whatever the number of paths through the
//! jumps (a tree of N levels jumping twice to the next has 2^N of them).
//!
//! A jump loop is reported, not followed: see [`loop_jumps`].

use std::collections::HashMap;

use super::{Action, AddrSet, Assume, Firewall, InterfaceLists, Packet, Probe, Rule, Trace};

/// Jumps that close a loop: the back edges of a depth-first search of the jump graph from
/// `input`, then from every other chain in name order. Without them the graph has no cycle.
///
/// Linux netfilter, which RouterOS' firewall is built on, refuses a table with a loop when it
/// is loaded (`mark_source_chains` in `net/ipv4/netfilter/ip_tables.c` fails and the table
/// replacement returns `ELOOP`), and MikroTik's Firewall Filter manual has `jump` go "to the
/// user-defined chain specified by the value of `jump-target`". So a router cannot run such a
/// jump as written; what it runs instead (the previous table, or the rule refused) cannot be
/// read from an export. The evaluation therefore approximates: a looping jump is not followed,
/// the sources it matches may get in for the attacker's view and are lost for the defender's,
/// and the audit reports the rule (TG210) with its line and column.
pub fn loop_jumps(rules: &[Rule], chains: &HashMap<String, Vec<usize>>) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        OnPath,
        Done,
    }
    let mut roots: Vec<&str> = chains.keys().map(String::as_str).collect();
    roots.sort_by_key(|n| (*n != "input", *n));
    let mut mark: HashMap<&str, Mark> = HashMap::new();
    let mut loops = Vec::new();
    for root in roots {
        if mark.contains_key(root) {
            continue;
        }
        mark.insert(root, Mark::OnPath);
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        while let Some(&(name, pos)) = stack.last() {
            let list = &chains[name];
            if pos == list.len() {
                mark.insert(name, Mark::Done);
                stack.pop();
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let r = &rules[list[pos]];
            if r.action != Action::Jump {
                continue;
            }
            // A target without enabled rules returns everything: no loop through it.
            let Some((target, _)) = r
                .jump_target
                .as_deref()
                .and_then(|t| chains.get_key_value(t))
            else {
                continue;
            };
            match mark.get(target.as_str()) {
                Some(Mark::OnPath) => loops.push(r.number),
                Some(Mark::Done) => {}
                None => {
                    mark.insert(target, Mark::OnPath);
                    stack.push((target, 0));
                }
            }
        }
    }
    loops.sort_unstable();
    loops
}

/// The chains `input` reaches through jumps that do not loop, callees before callers.
pub fn post_order(
    rules: &[Rule],
    chains: &HashMap<String, Vec<usize>>,
    loops: &[usize],
) -> Vec<String> {
    let mut out = Vec::new();
    let Some((root, _)) = chains.get_key_value("input") else {
        // No rule in `input`: its policy accepts everything.
        out.push("input".to_string());
        return out;
    };
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    seen.insert(root);
    let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
    while let Some(&(name, pos)) = stack.last() {
        let list = &chains[name];
        if pos == list.len() {
            out.push(name.to_string());
            stack.pop();
            continue;
        }
        if let Some(top) = stack.last_mut() {
            top.1 += 1;
        }
        let r = &rules[list[pos]];
        if r.action != Action::Jump || loops.binary_search(&r.number).is_ok() {
            continue;
        }
        if let Some((target, _)) = r
            .jump_target
            .as_deref()
            .and_then(|t| chains.get_key_value(t))
        {
            if seen.insert(target) {
                stack.push((target, 0));
            }
        }
    }
    out
}

/// One walk's view of the connection: one packet of it, in one state.
///
/// The summaries are kept for this view only. A chain's summary depends on the packet's
/// state as much as on its port and interface (`connection-state=established` accepts the
/// later packets of a connection and not its first, see [`Packet`]), so each state of the
/// same connection is summarised afresh, never served from another's.
struct View<'a> {
    probe: Probe<'a>,
    ifl: &'a InterfaceLists,
    state: Packet,
    /// Per chain: (accepted, returned) when every source enters it.
    summaries: HashMap<&'a str, (AddrSet, AddrSet)>,
}

/// What the second walk records.
struct Record<'t> {
    trace: &'t mut Trace,
    /// The sources entering each chain, from every jump to it.
    entries: HashMap<String, AddrSet>,
}

impl Firewall {
    /// The sources of `input` (entering the `input` chain) that it accepts.
    pub(super) fn eval_input(
        &self,
        input: AddrSet,
        probe: Probe<'_>,
        ifl: &InterfaceLists,
        trace: &mut Trace,
    ) -> AddrSet {
        let v6 = self.v6;
        let mut view = View {
            probe,
            ifl,
            state: trace.packet(),
            summaries: HashMap::new(),
        };
        // Summaries, callees first.
        let mut held: u64 = 0;
        for name in &self.order {
            // Nothing jumps to `input` but a loop, which is not followed: no summary needed.
            if name == "input" {
                continue;
            }
            let (acc, ret) = self.walk(&view, name, AddrSet::all(v6), None);
            held += (acc.ranges().len() + ret.ranges().len()) as u64;
            if held > self.budget.limits().ranges_held {
                self.budget.exhaust();
            }
            view.summaries.insert(name.as_str(), (acc, ret));
        }
        // The sources that really enter each chain, callers first.
        let mut rec = Record {
            trace,
            entries: HashMap::new(),
        };
        rec.entries.insert("input".to_string(), input);
        let mut accepted = AddrSet::empty(v6);
        for name in self.order.iter().rev() {
            let Some(entry) = rec.entries.remove(name.as_str()) else {
                continue;
            };
            let (acc, _) = self.walk(&view, name, entry, Some(&mut rec));
            if name == "input" {
                accepted = acc;
            }
        }
        accepted
    }

    /// Returns (accepted, returned) for the sources `input` entering chain `name`; jumps use
    /// the targets' summaries. With `rec`, records the trace and the sources each jump sends on.
    fn walk(
        &self,
        view: &View<'_>,
        name: &str,
        input: AddrSet,
        mut rec: Option<&mut Record<'_>>,
    ) -> (AddrSet, AddrSet) {
        let v6 = self.v6;
        let defender = self.assume == Assume::Defender;
        let (probe, ifl) = (view.probe, view.ifl);
        let mut undecided = input;
        let mut accepted = AddrSet::empty(v6);
        let mut returned = AddrSet::empty(v6);
        // Sources this walk has put on a list with `add-src-to-address-list`: the rule passes
        // the packet on with its source already on the list, so a later rule of the chain
        // matching that list matches that very packet (MikroTik's Address-lists manual: hosts
        // added by the telnet rule "were subsequently dropped by the filter rule"; the action
        // "works in passthrough mode"). Within one chain; lists a jumped-to chain fills are not
        // followed back (a drop missed there favours the attacker).
        let mut added: HashMap<&str, AddrSet> = HashMap::new();
        for rule in self.chain(name) {
            if undecided.is_empty() {
                break;
            }
            if !self.budget.spend(1 + undecided.ranges().len() as u64) {
                // Out of budget: the attacker may have what is left, the defender has none.
                if !defender {
                    accepted = accepted.union(&undecided);
                }
                return (accepted, AddrSet::empty(v6));
            }
            // With connection tracking off a `connection-state=` rule may or may not match
            // ([`Packet::Stateless`]): it is settled like any undecided matcher.
            let state_unknown = match rule.matches_in_state(probe, ifl, view.state) {
                Some(false) => continue,
                Some(true) => false,
                None => true,
            };
            // `port=L` without the service port: only a packet whose *source* port is in L
            // matches. An attacker picks such a source port to pass an accept, and avoids it to
            // pass a drop; a defender's client cannot count on either.
            if rule
                .any_port
                .as_ref()
                .is_some_and(|p| !p.contains(probe.port))
                && (defender || rule.action != Action::Accept)
            {
                continue;
            }
            // For the defender a run-time list holds any source: only `src-address` restricts.
            let src = if defender && rule.runtime_list {
                rule.src_address.as_ref()
            } else {
                rule.src.as_ref()
            };
            let grown = match (&rule.src_list, defender) {
                (Some((neg, list)), false) => added.get(list.as_str()).map(|add| {
                    let on = self.lists.get(list).0.union(add);
                    let s = if *neg { on.complement() } else { on };
                    match &rule.src_address {
                        Some(a) => s.intersect(a),
                        None => s,
                    }
                }),
                _ => None,
            };
            let src = grown.as_ref().or(src);
            let m = match src {
                Some(s) => undecided.intersect(s),
                None => undecided.clone(),
            };
            if m.is_empty() {
                continue;
            }
            let looping =
                rule.action == Action::Jump && self.loops.binary_search(&rule.number).is_ok();
            let uncertain = !rule.undecided.is_empty()
                || (defender && rule.runtime_list)
                || looping
                || state_unknown;
            if defender && uncertain {
                // The worst case for the sources: no accept, every drop, jumps and returns lose
                // them.
                match rule.action {
                    Action::Accept | Action::Passthrough | Action::Other => {}
                    Action::Drop | Action::Jump => undecided = undecided.minus(&m),
                    Action::Return => {
                        if name != "input" {
                            undecided = undecided.minus(&m);
                        }
                    }
                }
                continue;
            }
            if uncertain
                && matches!(
                    rule.action,
                    Action::Accept | Action::Drop | Action::Jump | Action::Return
                )
            {
                if let Some(r) = rec.as_deref_mut() {
                    r.trace.approx.push(rule.number);
                }
            }
            match rule.action {
                Action::Accept => {
                    accepted = accepted.union(&m);
                    if let Some(r) = rec.as_deref_mut() {
                        let share = r.trace.accepted_by.entry(rule.number).or_insert(0);
                        *share = share.saturating_add(m.size());
                    }
                    if !uncertain {
                        undecided = undecided.minus(&m);
                    }
                }
                Action::Drop => {
                    if !uncertain {
                        undecided = undecided.minus(&m);
                    }
                }
                Action::Jump if looping => {
                    // Not followed (see `loop_jumps`): what it matches may get in.
                    accepted = accepted.union(&m);
                }
                Action::Jump => {
                    let Some(target) = rule.jump_target.as_deref() else {
                        continue;
                    };
                    let (acc, ret) = match view.summaries.get(target) {
                        Some((a, r)) => (m.intersect(a), m.intersect(r)),
                        // A chain without enabled rules returns everything.
                        None => (AddrSet::empty(v6), m.clone()),
                    };
                    if let Some(r) = rec.as_deref_mut() {
                        if view.summaries.contains_key(target) {
                            let e = r
                                .entries
                                .entry(target.to_string())
                                .or_insert_with(|| AddrSet::empty(v6));
                            *e = e.union(&m);
                        }
                    }
                    accepted = accepted.union(&acc);
                    if !uncertain {
                        undecided = undecided.minus(&m).union(&ret);
                    }
                }
                Action::Return => {
                    if name != "input" {
                        returned = returned.union(&m);
                        if !uncertain {
                            undecided = undecided.minus(&m);
                        }
                    }
                }
                Action::Passthrough => {
                    if let (Some(list), false) = (&rule.adds_src_to, uncertain) {
                        let e = added
                            .entry(list.as_str())
                            .or_insert_with(|| AddrSet::empty(v6));
                        *e = e.union(&m);
                    }
                }
                Action::Other => {}
            }
        }
        if name == "input" {
            // The built-in chain's policy: accept what no rule decided.
            if let Some(r) = rec {
                r.trace.by_default |= !undecided.is_empty();
            }
            accepted = accepted.union(&undecided);
        } else {
            returned = returned.union(&undecided);
        }
        (accepted, returned)
    }
}
