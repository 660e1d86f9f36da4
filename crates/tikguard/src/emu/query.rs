//! `print` queries: the `?` words evaluated over a boolean stack, exactly as MikroTik's API
//! manual ("Queries", help.mikrotik.com/docs/spaces/ROS/pages/47579160/API) states them:
//!
//! - "Initially, the stack contains an infinite amount of 'true' values. At the end of the
//!   evaluation, if the stack contains at least one 'false' value, the query fails."
//! - `?name` pushes "has the property", `?-name` "lacks it"; `?name=x` and `?=name=x` push
//!   equality, `?<name=x` and `?>name=x` comparisons;
//! - `?#ops` is evaluated left to right: a run of decimal digits is a stack index where "top
//!   value has index 0"; an index followed by a character pushes a copy of the value at that
//!   index, an index at the end of the word replaces all values with it; `!` negates the top, `&`
//!   and `|` pop two values and push their conjunction or disjunction; `.` after an index does
//!   nothing, after any other character pushes a copy of the top value.
//!
//! Values compare as RouterOS compares them: booleans (`yes`/`true`, `no`/`false`, so the
//! `?disabled=no` billing code sends matches what the API prints as `false`), integers, durations
//! (`1d` = `24h` = `1d00:00:00`), addresses (`10.0.0.1` = `10.0.0.1/32`); anything else as bytes.
//! Characters the manual does not define in `?#` are ignored (approximated: RouterOS' answer to
//! them is not documented).

use std::cmp::Ordering;

use routeros_config::value::{parse_addr, parse_bool, parse_duration, parse_int};

/// One parsed query word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    Has(Vec<u8>),
    Lacks(Vec<u8>),
    Eq(Vec<u8>, Vec<u8>),
    Lt(Vec<u8>, Vec<u8>),
    Gt(Vec<u8>, Vec<u8>),
    Ops(Vec<u8>),
}

/// Parses a `?` word; `None` for one RouterOS would refuse.
pub fn parse(word: &[u8]) -> Option<Word> {
    let w = word.strip_prefix(b"?")?;
    if let Some(ops) = w.strip_prefix(b"#") {
        return Some(Word::Ops(ops.to_vec()));
    }
    let split = |s: &[u8]| -> (Vec<u8>, Option<Vec<u8>>) {
        match s.iter().position(|&c| c == b'=') {
            Some(i) => (s[..i].to_vec(), Some(s[i + 1..].to_vec())),
            None => (s.to_vec(), None),
        }
    };
    match w.first()? {
        b'-' => Some(Word::Lacks(w[1..].to_vec())),
        b'<' => match split(&w[1..]) {
            (k, Some(v)) => Some(Word::Lt(k, v)),
            _ => None,
        },
        b'>' => match split(&w[1..]) {
            (k, Some(v)) => Some(Word::Gt(k, v)),
            _ => None,
        },
        b'=' => match split(&w[1..]) {
            (k, Some(v)) => Some(Word::Eq(k, v)),
            _ => None,
        },
        _ => match split(w) {
            (k, Some(v)) => Some(Word::Eq(k, v)),
            (k, None) => Some(Word::Has(k)),
        },
    }
}

/// Compares two property values by the first type both read as: boolean, integer, duration,
/// address; otherwise as bytes.
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    if let (Some(x), Some(y)) = (parse_bool(a), parse_bool(b)) {
        return x.cmp(&y);
    }
    if let (Some(x), Some(y)) = (parse_int(a), parse_int(b)) {
        return x.cmp(&y);
    }
    if let (Some(x), Some(y)) = (parse_duration(a), parse_duration(b)) {
        return x.cmp(&y);
    }
    let addr = |v: &[u8]| {
        parse_addr(v)
            .filter(|m| !m.negated)
            .map(|m| (m.range.v6, m.range.start, m.range.end))
    };
    if let (Some(x), Some(y)) = (addr(a), addr(b)) {
        return x.cmp(&y);
    }
    a.cmp(b)
}

/// The evaluation stack: explicit values over an unbounded run of one value (initially `true`).
struct Stack {
    floor: bool,
    values: Vec<bool>,
}

impl Stack {
    fn pop(&mut self) -> bool {
        self.values.pop().unwrap_or(self.floor)
    }

    /// The value at `index`, counted from the top (0).
    fn at(&self, index: usize) -> bool {
        let n = self.values.len();
        if index < n {
            self.values[n - 1 - index]
        } else {
            self.floor
        }
    }

    fn run(&mut self, ops: &[u8]) {
        let mut i = 0;
        // Whether the character before is the end of an index (for `.`).
        let mut after_index = false;
        while i < ops.len() {
            let c = ops[i];
            if c.is_ascii_digit() {
                let start = i;
                while i < ops.len() && ops[i].is_ascii_digit() {
                    i += 1;
                }
                // An index too large to count reads the unbounded floor, as any deep index does.
                let index = std::str::from_utf8(&ops[start..i])
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(usize::MAX);
                let v = self.at(index);
                if i == ops.len() {
                    self.floor = v;
                    self.values.clear();
                } else {
                    self.values.push(v);
                    after_index = true;
                }
                continue;
            }
            match c {
                b'!' => {
                    let v = self.pop();
                    self.values.push(!v);
                }
                b'&' | b'|' => {
                    let b = self.pop();
                    let a = self.pop();
                    self.values.push(if c == b'&' { a && b } else { a || b });
                }
                b'.' if !after_index => {
                    let v = self.at(0);
                    self.values.push(v);
                }
                _ => {}
            }
            after_index = false;
            i += 1;
        }
    }

    fn passes(&self) -> bool {
        self.floor && self.values.iter().all(|&b| b)
    }
}

/// Whether an item (given as a property lookup) passes the query.
pub fn matches<'a>(words: &[Word], get: impl Fn(&[u8]) -> Option<&'a [u8]>) -> bool {
    let mut stack = Stack {
        floor: true,
        values: Vec::new(),
    };
    for w in words {
        let v = match w {
            Word::Has(k) => get(k).is_some(),
            Word::Lacks(k) => get(k).is_none(),
            Word::Eq(k, v) => match get(k) {
                Some(x) => compare(x, v).is_eq(),
                None => v.is_empty(),
            },
            Word::Lt(k, v) => get(k).is_some_and(|x| compare(x, v).is_lt()),
            Word::Gt(k, v) => get(k).is_some_and(|x| compare(x, v).is_gt()),
            Word::Ops(ops) => {
                stack.run(ops);
                continue;
            }
        };
        stack.values.push(v);
    }
    stack.passes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(props: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        props
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn q(item: &[(Vec<u8>, Vec<u8>)], words: &[&str]) -> bool {
        let words: Vec<Word> = words.iter().map(|w| parse(w.as_bytes()).unwrap()).collect();
        matches(&words, |k| {
            item.iter().find(|(n, _)| n == k).map(|(_, v)| &v[..])
        })
    }

    /// The manual's own examples: `?type=ether ?type=vlan ?#|` is "ethernet and VLAN
    /// interfaces"; `?>comment=` is "a non-empty comment".
    #[test]
    fn manual_examples() {
        let ether = item(&[("type", "ether"), ("name", "ether1")]);
        let vlan = item(&[("type", "vlan"), ("comment", "uplink")]);
        let bridge = item(&[("type", "bridge"), ("comment", "")]);
        let or = ["?type=ether", "?type=vlan", "?#|"];
        assert!(q(&ether, &or) && q(&vlan, &or) && !q(&bridge, &or));
        let commented = ["?>comment="];
        assert!(q(&vlan, &commented) && !q(&bridge, &commented) && !q(&ether, &commented));
    }

    /// "Initially, the stack contains an infinite amount of 'true' values": an empty query
    /// selects everything, and `&`/`|` on a short stack read `true` from below.
    #[test]
    fn the_initial_stack_is_unbounded_true() {
        let it = item(&[("a", "1")]);
        assert!(q(&it, &[]));
        assert!(q(&it, &["?#&&&|"]));
        // `false` OR the floor's `true` is true.
        assert!(q(&it, &["?b", "?#|"]));
        // `false` AND the floor's `true` is false.
        assert!(!q(&it, &["?b", "?#&"]));
    }

    /// "top value has index 0": `?#1` copies the value below the top.
    #[test]
    fn indexes_count_from_the_top() {
        let it = item(&[("a", "1")]);
        // Stack (bottom..top): a=false? no: [has a = true, has b = false].
        // `0` copies the top (false); `1` copies true; at the end of the word the index replaces
        // the whole stack with that value.
        assert!(!q(&it, &["?a", "?b", "?#0"]));
        assert!(q(&it, &["?a", "?b", "?#1"]));
        // An index followed by a character pushes a copy: [true, false, true], then `|` pops
        // two and pushes true: [true, true] passes.
        assert!(q(&it, &["?a", "?b", "?#1|"]));
        // Pushing a copy of index 1 (true) and then replacing all with the new top (index 0).
        assert!(q(&it, &["?a", "?b", "?#1.0"]));
        // Beyond the explicit values lies the unbounded `true`.
        assert!(q(&it, &["?b", "?#5"]));
        assert!(q(&it, &["?b", "?#99999999999999999999999"]));
    }

    /// "`.` after an index does nothing; after another character pushes a copy of the top".
    #[test]
    fn dot_copies_the_top_except_after_an_index() {
        let it = item(&[("a", "1")]);
        // [false] `.` → [false, false]; `!` → [false, true]; still one false: fails.
        assert!(!q(&it, &["?b", "?#.!"]));
        // [false] `!` → [true]: passes; `.` after `!` copies true.
        assert!(q(&it, &["?b", "?#!."]));
        // `0.` pushes one copy of the top and the `.` does nothing: [false, false], `!` →
        // [false, true], `|` → [true]: passes. Had `.` copied again, a `false` would be left.
        assert!(q(&it, &["?b", "?#0.!|"]));
        // [true, false] `1.` → [true, false, true]; `|` → [true, true]: passes.
        assert!(q(&it, &["?a", "?b", "?#1.|"]));
    }

    /// `!` replaces the top with its opposite; `&` and `|` pop two and push one.
    #[test]
    fn not_and_or() {
        let vlan = item(&[("type", "vlan"), ("mtu", "1496")]);
        assert!(q(&vlan, &["?type=ether", "?#!"]));
        assert!(!q(&vlan, &["?type=vlan", "?#!"]));
        assert!(q(&vlan, &["?type=ether", "?type=vlan", "?#|"]));
        assert!(!q(&vlan, &["?type=ether", "?type=vlan", "?#&"]));
        assert!(q(&vlan, &["?-name"]) && !q(&vlan, &["?name"]));
    }

    /// Billing code sends `?disabled=no`; the API prints booleans as `true`/`false`.
    #[test]
    fn booleans_compare_as_booleans() {
        let off = item(&[("disabled", "false")]);
        assert!(q(&off, &["?disabled=no"]));
        assert!(q(&off, &["?disabled=false"]));
        assert!(!q(&off, &["?disabled=yes"]));
        assert!(!q(&off, &["?disabled=true"]));
    }

    #[test]
    fn numbers_durations_and_addresses_compare_by_value() {
        let it = item(&[
            ("mtu", "900"),
            ("timeout", "1d00:00:00"),
            ("address", "10.0.0.1"),
        ]);
        assert!(q(&it, &["?<mtu=1500"]) && q(&it, &["?>mtu=0x100"]));
        assert!(q(&it, &["?timeout=1d"]) && q(&it, &["?timeout=24h"]));
        assert!(q(&it, &["?>timeout=23h59m"]));
        assert!(q(&it, &["?address=10.0.0.1/32"]));
        assert!(!q(&it, &["?address=10.0.0.2"]));
        // Text stays text.
        assert!(q(&item(&[("name", "b")]), &["?>name=a"]));
    }
}
