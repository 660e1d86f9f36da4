//! Whether a live router changed, between the read the plan was made from and the run, in what
//! the plan and its proof rest on.
//!
//! `--apply` reads the router, plans and proves on that read, and reads it again before it
//! changes anything. Every `find` still matching something is not enough: a rule added with the
//! comment of a rule the plan disables (`disable [find where comment=X]` then disables both), a
//! drop added above the plan's accepts, a user moved into a group the plan tightens, all leave
//! the finds resolving while the proof no longer holds. So the menus the plan reads for access
//! (the firewall tables, address lists, services, interface lists, users, connection tracking)
//! must be as they were, item for item and in order; otherwise nothing is changed.
//!
//! Left out of the comparison: what counts down or moves by itself (an address-list entry's
//! `timeout` and `creation-time`, a user's `last-logged-in`); `live` already leaves out counters
//! and dynamic items (but for the entries of harden's own address lists,
//! [`crate::live::DYNAMIC_KEPT_LISTS`], which a plan must see).

use routeros_config::{Config, Item};

use super::script::{Line, Target};
use super::Plan;

/// The menus whose items decide who reaches the management services.
const BASIS: &[&str] = &[
    "/ip firewall filter",
    "/ip firewall raw",
    "/ip firewall address-list",
    "/ip firewall connection tracking",
    "/ipv6 firewall filter",
    "/ipv6 firewall raw",
    "/ipv6 firewall address-list",
    "/ip service",
    "/interface list",
    "/interface list member",
    "/user group",
    "/user",
];

/// Properties that change without anyone changing the configuration.
const MOVING: &[&str] = &["timeout", "creation-time", "last-logged-in"];

fn item_key(i: &Item) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<(Vec<u8>, Vec<u8>)> = i
        .props
        .iter()
        .filter(|p| !MOVING.contains(&&*String::from_utf8_lossy(&p.key)))
        .map(|p| (p.key.to_vec(), p.value.bytes.to_vec()))
        .collect();
    v.sort();
    v
}

/// The menus of [`BASIS`] that differ between the read the plan was made from and `now`, each
/// with how many items it had then and has now.
pub fn changed_menus(planned: &Config, now: &Config) -> Vec<(&'static str, usize, usize)> {
    BASIS
        .iter()
        .filter_map(|m| {
            let (a, b) = (planned.items(m), now.items(m));
            let same = a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.builtin == y.builtin
                        && x.is_disabled() == y.is_disabled()
                        && item_key(x) == item_key(y)
                });
            (!same).then_some((*m, a.len(), b.len()))
        })
        .collect()
}

/// What changed under the plan, one line per menu, naming the plan's finds there; empty when
/// nothing it rests on changed.
pub fn check(planned: &Config, now: &Config, plan: &Plan) -> Vec<String> {
    changed_menus(planned, now)
        .into_iter()
        .map(|(menu, then, now)| {
            let finds: Vec<String> = plan
                .changes
                .iter()
                .flat_map(|c| &c.lines)
                .filter_map(|l| match l {
                    Line::Cmd(st) if st.menu == menu && matches!(st.target, Target::Find(_)) => {
                        Some(format!("`{}`", st.render()))
                    }
                    _ => None,
                })
                .collect();
            let acts = if finds.is_empty() {
                String::new()
            } else {
                format!("; the plan acts there with {}", finds.join(", "))
            };
            format!("`{menu}` changed on the router since it was read for the plan ({then} items then, {now} now){acts}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Config {
        Config::load(s.as_bytes().to_vec()).0
    }

    #[test]
    fn a_rule_added_with_the_comment_of_a_find_target_is_a_change() {
        let a =
            load("/ip firewall filter\nadd chain=input action=accept comment=\"billing API\"\n");
        let b = load("/ip firewall filter\nadd chain=input action=accept src-address=10.0.0.1 comment=\"billing API\"\nadd chain=input action=accept comment=\"billing API\"\n");
        assert_eq!(changed_menus(&a, &b), vec![("/ip firewall filter", 1, 2)]);
        assert!(changed_menus(&a, &a).is_empty());
    }

    #[test]
    fn a_timeout_counting_down_is_not_a_change() {
        let a = load("/ip firewall address-list\nadd list=x address=192.0.2.1 timeout=1d\n");
        let b = load("/ip firewall address-list\nadd list=x address=192.0.2.1 timeout=23h59m\n");
        assert!(changed_menus(&a, &b).is_empty());
        let c = load("/ip firewall address-list\nadd list=x address=192.0.2.2 timeout=1d\n");
        assert_eq!(changed_menus(&a, &c).len(), 1);
    }

    #[test]
    fn a_rule_disabled_or_moved_is_a_change() {
        let a = load("/ip firewall filter\nadd chain=input action=accept comment=a\nadd chain=input action=drop comment=b\n");
        let moved = load("/ip firewall filter\nadd chain=input action=drop comment=b\nadd chain=input action=accept comment=a\n");
        let off = load("/ip firewall filter\nadd chain=input action=accept comment=a disabled=yes\nadd chain=input action=drop comment=b\n");
        assert_eq!(changed_menus(&a, &moved).len(), 1);
        assert_eq!(changed_menus(&a, &off).len(), 1);
    }
}
