//! `print` queries: the `?` words evaluated over a boolean stack, as MikroTik's API manual
//! describes them.
//!
//! - `?name` pushes "has the property", `?-name` "lacks it";
//! - `?name=x` and `?=name=x` push equality, `?<name=x` and `?>name=x` comparisons (numbers
//!   compare as numbers, anything else as bytes);
//! - `?#ops` runs operations: `!` negates the top, `&` and `|` replace the two top values with
//!   their conjunction or disjunction, `.` drops the top, a digit pushes a copy of the value at
//!   that position (counted from the bottom);
//! - an item is selected when every value left on the stack is true (an empty stack selects all).

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

fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let num = |x: &[u8]| std::str::from_utf8(x).ok()?.parse::<i128>().ok();
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Whether an item (given as a property lookup) passes the query.
pub fn matches<'a>(words: &[Word], get: impl Fn(&[u8]) -> Option<&'a [u8]>) -> bool {
    let mut stack: Vec<bool> = Vec::new();
    for w in words {
        match w {
            Word::Has(k) => stack.push(get(k).is_some()),
            Word::Lacks(k) => stack.push(get(k).is_none()),
            Word::Eq(k, v) => stack
                .push(get(k).is_some_and(|x| x == &v[..]) || (v.is_empty() && get(k).is_none())),
            Word::Lt(k, v) => stack.push(get(k).is_some_and(|x| compare(x, v).is_lt())),
            Word::Gt(k, v) => stack.push(get(k).is_some_and(|x| compare(x, v).is_gt())),
            Word::Ops(ops) => {
                for &op in ops {
                    match op {
                        b'!' => {
                            if let Some(t) = stack.last_mut() {
                                *t = !*t;
                            }
                        }
                        b'&' | b'|' => {
                            let b = stack.pop().unwrap_or(false);
                            let a = stack.pop().unwrap_or(false);
                            stack.push(if op == b'&' { a && b } else { a || b });
                        }
                        b'.' => {
                            stack.pop();
                        }
                        b'0'..=b'9' => {
                            let v = stack.get((op - b'0') as usize).copied().unwrap_or(false);
                            stack.push(v);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    stack.iter().all(|&b| b)
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

    #[test]
    fn stack_semantics_from_the_manual() {
        let ether = item(&[("type", "ether"), ("mtu", "1500"), ("name", "ether1")]);
        let vlan = item(&[("type", "vlan"), ("mtu", "1496")]);
        // Manual example: type=ether OR type=vlan.
        let or = ["?type=ether", "?type=vlan", "?#|"];
        assert!(q(&ether, &or) && q(&vlan, &or));
        // Without the operator both must hold.
        assert!(!q(&ether, &["?type=ether", "?type=vlan"]));
        assert!(q(&ether, &["?name"]) && !q(&vlan, &["?name"]));
        assert!(q(&vlan, &["?-name"]));
        assert!(q(&vlan, &["?<mtu=1500"]) && !q(&ether, &["?<mtu=1500"]));
        assert!(q(&ether, &["?>mtu=1499"]));
        assert!(q(&ether, &["?=type=ether"]));
        assert!(q(&vlan, &["?type=ether", "?#!"]));
        // `.` drops, a digit copies from the bottom.
        assert!(q(&ether, &["?type=ether", "?type=vlan", "?#."]));
        assert!(q(&ether, &["?type=ether", "?#0&"]));
        assert!(q(&ether, &[]));
    }

    #[test]
    fn numbers_compare_as_numbers() {
        let it = item(&[("mtu", "900")]);
        assert!(q(&it, &["?<mtu=1500"]));
    }
}
