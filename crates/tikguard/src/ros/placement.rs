//! Where a rule goes in a filter table: for harden's block and for the audit's pasteable fix
//! lines alike, so that both place a rule where it acts and where RouterOS accepts it.
//!
//! RouterOS facts (ROUTEROS.md, "place-before"):
//! - `place-before` takes one rule id, and RouterOS refuses to place before a dynamic rule
//!   (hotspot routers have dynamic rules first, v7 a dynamic "special dummy rule to show
//!   fasttrack counters", UPnP its own): the first rule a new one can go before is
//!   `[:pick [find where dynamic=no] 0]`, never `[:pick [find] 0]`.
//! - On a table with no static rule there is nothing to place before: no `place-before` then,
//!   and the rule is appended (it is the first static one).
//! - A rule appended after one that accepts what it would drop never acts: a drop that must
//!   act goes before the first rule that accepts its traffic ([`Place::Before`]).
//!
//! Exports show no dynamic rule, so the export's filter items are the static rules in order.

use routeros_config::Config;

use super::script::{find, text_of, value, Cond};

/// Where a new rule should go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Above every static rule.
    First,
    /// Directly above filter rule `n` (its index in the export's menu).
    Before(usize),
    /// At the end of the table.
    End,
}

fn menu(v6: bool) -> &'static str {
    if v6 {
        "/ipv6 firewall filter"
    } else {
        "/ip firewall filter"
    }
}

/// The conditions of [`Place::First`]'s pick, skipping rules tagged with `skip` (a block's
/// own rules above the new one), or `None` when no such rule may exist to place before.
pub fn first(table_has_rules: bool, skip: &[&str]) -> Option<Vec<Cond>> {
    if !table_has_rules {
        return None;
    }
    let mut conds = vec![Cond::eq("dynamic", "no")];
    conds.extend(skip.iter().map(|t| Cond::ne("comment", t)));
    Some(conds)
}

/// ` place-before=...` above every static rule, or nothing on a table that has none.
pub fn first_text(table_has_rules: bool) -> String {
    match first(table_has_rules, &[]) {
        Some(conds) => format!(" place-before=[:pick {} 0]", find(None, &conds)),
        None => String::new(),
    }
}

/// ` place-before=...` for a pasteable line in `c`'s table of one family, or nothing (an empty
/// table, or [`Place::End`]).
pub fn place_before(c: &Config, v6: bool, place: Place) -> String {
    let items = c.items(menu(v6));
    match place {
        Place::End => String::new(),
        Place::First => first_text(!items.is_empty()),
        Place::Before(n) => {
            let Some(item) = items.get(n) else {
                return String::new();
            };
            // By its comment where that is unique, else by its position among the static
            // rules of its chain.
            let comment = text_of(item, "comment").filter(|cm| {
                !cm.is_empty()
                    && items
                        .iter()
                        .filter(|i| text_of(i, "comment").as_deref() == Some(cm.as_str()))
                        .count()
                        == 1
            });
            match comment {
                Some(cm) => format!(
                    " place-before=[:pick {} 0]",
                    find(None, &[Cond::eq("comment", &cm)])
                ),
                None => {
                    let chain = text_of(item, "chain").unwrap_or_default();
                    let k = items[..n]
                        .iter()
                        .filter(|i| text_of(i, "chain").as_deref() == Some(chain.as_str()))
                        .count();
                    format!(
                        " place-before=[:pick [find where chain={} and dynamic=no] {k}]",
                        value(&chain)
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Config {
        Config::load(s.as_bytes().to_vec()).0
    }

    #[test]
    fn the_first_place_skips_dynamic_rules_and_an_empty_table_has_none() {
        let c = load("/ip firewall filter\nadd action=accept chain=input\n");
        assert_eq!(
            place_before(&c, false, Place::First),
            " place-before=[:pick [find where dynamic=no] 0]"
        );
        assert_eq!(place_before(&load(""), false, Place::First), "");
        assert_eq!(place_before(&c, false, Place::End), "");
    }

    #[test]
    fn a_rule_is_named_by_its_unique_comment_else_its_place_in_its_chain() {
        let c = load("/ip firewall filter\nadd action=accept chain=forward\nadd action=accept chain=input comment=a\nadd action=accept chain=input comment=a\nadd action=accept chain=input comment=\"all in\"\n");
        assert_eq!(
            place_before(&c, false, Place::Before(3)),
            " place-before=[:pick [find where comment=\"all in\"] 0]"
        );
        assert_eq!(
            place_before(&c, false, Place::Before(2)),
            " place-before=[:pick [find where chain=input and dynamic=no] 1]"
        );
    }
}
