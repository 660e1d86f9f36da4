//! Items that look like harden's but are not: a comment is any text anyone with `write` sets
//! (MikroTik's Firewall Filter manual: `comment`, a descriptive text), so a rule or an
//! address-list entry whose comment starts with [`TAG`] proves nothing about who wrote it. Read
//! back as the plan's, such an item would be skipped (the plan adds nothing where it is),
//! left out of the allow-lists kept, counted as the plan's accept, and removed by the
//! rollback. An item is the plan's only when it is what the plan writes under that comment;
//! anything else is foreign, and the proof refuses, naming it.
//!
//! Entries of the plan's own address lists count only when they last: one with `timeout=`
//! is removed when it passes, one with `disabled=yes` matches nothing (MikroTik's Firewall
//! Address-lists manual, `timeout` and `disabled`), and one RouterOS added itself (read from
//! a live router with `dynamic=yes`, [`crate::live::DYNAMIC_KEPT_LISTS`]) is held in RAM only. RouterOS keeps one entry per list and
//! address, so the plan cannot add a lasting one beside it: refused, with what to remove.
//!
//! This module decides only what is foreign; it changes nothing.

use routeros_config::Item;

use super::block::BlockRule;
use super::TAG;
use crate::ros::script::{comment_text, text_of};

/// Keys a rule may differ in and still be the plan's: where it sits, and its comment.
const POSITIONAL: &[&str] = &["comment", "place-before", "disabled", "dst-port"];

/// Ports of a `dst-port` value (`22,8291,8000-8100`); `None` when it is not a plain list.
pub(crate) fn ports(v: &str) -> Option<Vec<(u16, u16)>> {
    v.split(',')
        .map(|p| match p.split_once('-') {
            Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
            None => {
                let n = p.trim().parse().ok()?;
                Some((n, n))
            }
        })
        .collect()
}

/// The single ports of a `dst-port` value (`22,8291`), as the plan writes it; `None` when it
/// holds a range or is not a list of ports.
pub(crate) fn single_ports(v: &str) -> Option<Vec<u16>> {
    ports(v)?
        .into_iter()
        .map(|(a, b)| (a == b).then_some(a))
        .collect()
}

/// Whether `have` covers every port of `want`.
pub(crate) fn covers(have: &str, want: &str) -> bool {
    let (Some(have), Some(want)) = (ports(have), ports(want)) else {
        return have == want;
    };
    want.iter()
        .all(|&(a, b)| (a..=b).all(|p| have.iter().any(|&(x, y)| x <= p && p <= y)))
}

/// Why `item`, carrying the comment of a rule with `props` (a drop: `drop`), is not what the
/// plan writes under it.
fn differs(item: &Item, props: &[(&str, String)], drop: bool) -> Option<String> {
    if item.is_disabled() {
        return Some("it is disabled".into());
    }
    for (k, want) in props {
        if POSITIONAL.contains(k) {
            continue;
        }
        let have = text_of(item, k);
        if have.as_deref() != Some(want.as_str()) {
            return Some(format!(
                "{k}={} where the plan writes {k}={want}",
                have.unwrap_or_else(|| "(none)".into())
            ));
        }
    }
    // The ports: an accept of the plan's trusted lists may hold more (an earlier run's, such
    // as the plaintext API while it was staged). One that lacks a port the plan names (a
    // service moved since the run that wrote it) is the plan's all the same, and
    // [`super::block`] moves it to the new ports; that needs a list of single ports, which is
    // all the plan writes. Anything else under the comment is not the plan's.
    if let Some((_, want)) = props.iter().find(|(k, _)| *k == "dst-port") {
        let have = text_of(item, "dst-port").unwrap_or_default();
        if !covers(&have, want) && single_ports(&have).is_none() {
            let what = if drop { "drops" } else { "accepts" };
            return Some(format!(
                "dst-port={have} where the plan {what} dst-port={want}, and it is not a list of ports the plan could have written"
            ));
        }
    }
    for p in &item.props {
        let k = String::from_utf8_lossy(&p.key);
        if POSITIONAL.contains(&k.as_ref()) || props.iter().any(|(rk, _)| *rk == k) {
            continue;
        }
        return Some(format!("it has {k}=, which the plan never writes"));
    }
    None
}

/// The rules of `menu` whose comment is harden's but which are not the plan's `block`: one
/// that differs from the rule the plan writes under that comment, and an accept under a
/// comment the plan does not write (the allow-lists kept would skip it as the plan's).
pub(crate) fn rules(menu: &str, items: &[Item], block: &[BlockRule]) -> Vec<String> {
    // The WireGuard accept [`super::tunnel`] writes (`--api-tunnel`).
    let tunnel = (
        format!("{TAG}api-tunnel-accept"),
        vec![
            ("chain", "input".to_string()),
            ("protocol", "udp".into()),
            ("dst-port", super::tunnel::PORT.to_string()),
            ("action", "accept".into()),
        ],
    );
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(comment) = text_of(item, "comment").filter(|c| c.starts_with(TAG)) else {
            continue;
        };
        // An earlier run's repeated accept whose original is gone: the plan removes it.
        if super::block::stale_keep(menu, item, block) {
            continue;
        }
        let why = match block.iter().find(|r| r.tag == comment) {
            Some(rule) => differs(item, &rule.props, rule.drop),
            None if comment == tunnel.0 => differs(item, &tunnel.1, false),
            None if item.get("action") == Some(b"accept") || item.get("action").is_none() => {
                Some("it accepts, and the plan writes no rule under that comment".into())
            }
            None => None,
        };
        if let Some(why) = why {
            out.push(comment_text(&format!(
                "{menu} rule {n} carries the comment `{comment}` that tikguard writes, but it is not tikguard's ({why}); anyone with write access can set a comment: check who added it, then remove it or change its comment, and run again"
            )));
        }
    }
    out
}

/// Why an entry of one of the plan's own lists is no lasting source, if it is not.
pub fn not_lasting(menu: &str, item: &Item) -> Option<String> {
    let why = passes(item)?;
    let list = text_of(item, "list").unwrap_or_default();
    let address = text_of(item, "address").unwrap_or_default();
    Some(comment_text(&format!(
        "{menu} entry {address} of list {list}, which the plan needs to last, does not ({why}); RouterOS keeps one entry per list and address, so the plan cannot add a lasting one beside it: remove it, and run again"
    )))
}

/// Enabled entries of the lists the plan trusts ([`crate::ros::TRUSTED_LISTS`]) that are
/// there only for a while ([`passes`]), other than those [`not_lasting`] already named in `reported` (the
/// plan's own prefixes): the plan's accepts would trust such an entry while it lasts (a
/// contractor's one-day entry, an address RouterOS added), and nothing the proof holds can
/// count on it either way, so the proof would refuse as a lockout without saying why.
pub fn passing(c: &routeros_config::Config, reported: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (menu, list, item) in trusted_entries(c) {
        let Some(why) = passes(item) else { continue };
        if not_lasting(&menu, item).is_some_and(|m| reported.contains(&m)) {
            continue;
        }
        let address = text_of(item, "address").unwrap_or_default();
        out.push(comment_text(&format!(
            "{menu} entry {address} of list {list} is there only for a while ({why}): tikguard's accepts would trust it while it lasts, and nothing the plan proves can count on it; remove it (or, if it is to be trusted, add it without a timeout), and run again"
        )));
    }
    out
}

/// The enabled entries of the lists the plan trusts ([`crate::ros::TRUSTED_LISTS`]), both
/// families, with their menu and list. A disabled entry matches nothing: no trust to count on
/// or not.
fn trusted_entries(c: &routeros_config::Config) -> Vec<(String, String, &Item)> {
    let mut out = Vec::new();
    for fam in ["ip", "ipv6"] {
        let menu = format!("/{fam} firewall address-list");
        for item in c.items(&menu) {
            if let Some(list) =
                text_of(item, "list").filter(|l| crate::ros::TRUSTED_LISTS.contains(&l.as_str()))
            {
                if !item.is_disabled() {
                    out.push((menu.clone(), list, item));
                }
            }
        }
    }
    out
}

/// Lasting entries of the lists the plan trusts ([`crate::ros::TRUSTED_LISTS`]) that admit
/// more than the public /16 the audit calls the internet ([`crate::audit::reach::Width::Public`])
/// and that the command line did not give: the plan's accepts take every source in such a list
/// as management or an API client, so `0.0.0.0/0` added there by hand (or by anyone with `write`)
/// would open every management port to the internet behind a plan that says they are open only
/// to management. A narrow entry an administrator added is theirs to keep.
pub fn wide(c: &routeros_config::Config, given: &[&crate::audit::prefix::Prefix]) -> Vec<String> {
    use crate::audit::reach::{Reach, Width};
    let mut out = Vec::new();
    for (menu, list, item) in trusted_entries(c) {
        if passes(item).is_some() {
            continue;
        }
        let address = text_of(item, "address").unwrap_or_default();
        if given.iter().any(|p| p.text == address) {
            continue;
        }
        let Some(m) = item
            .get("address")
            .and_then(routeros_config::value::parse_addr)
        else {
            continue;
        };
        let set = crate::audit::addrset::AddrSet::from_range(m.range);
        if Reach::of(&set).width() != Width::Public {
            continue;
        }
        out.push(comment_text(&format!(
            "{menu} entry {address} of list {list} admits the internet, and the command line did not give it: tikguard's accepts would take every such source as trusted and open the management ports to them; remove or narrow it (or give it with --mgmt/--api-client if that is meant), and run again"
        )));
    }
    out
}

/// Why an address-list entry is there only for a while, if it is.
fn passes(item: &Item) -> Option<&'static str> {
    let why = if item.is_disabled() {
        "it is disabled"
    } else if item
        .get("timeout")
        .is_some_and(crate::audit::firewall::expires)
    {
        "it has a timeout, and is removed once it passes"
    } else if item.get("dynamic") == Some(b"yes") {
        // Read live ([`crate::live::DYNAMIC_KEPT_LISTS`]): RouterOS added it (an
        // `add-src-to-address-list` without a timeout), and holds it in RAM only.
        "it is dynamic, held in RAM only and gone at the next reboot"
    } else {
        return None;
    };
    Some(why)
}

/// Rules that put sources on the lists the plan trusts ([`crate::ros::TRUSTED_LISTS`]):
/// `action=add-src-to-address-list` or `add-dst-to-address-list` with `address-list=` one of
/// them, in any firewall table that has those actions (MikroTik's Address-lists manual: "The
/// address list records can also be updated dynamically via the action=add-src-to-address-list
/// or action=add-dst-to-address-list items found in NAT, Mangle, and Filter facilities"; raw
/// has them too). Whoever matches such a rule (a port knock from the WAN) becomes management
/// or an API client at run time, past every accept the plan writes. A disabled rule adds
/// nothing.
pub fn fillers(c: &routeros_config::Config) -> Vec<String> {
    let mut out = Vec::new();
    for fam in ["ip", "ipv6"] {
        for table in ["filter", "nat", "mangle", "raw"] {
            let menu = format!("/{fam} firewall {table}");
            for (n, item) in c.items(&menu).iter().enumerate() {
                if item.is_disabled()
                    || !matches!(
                        item.get("action"),
                        Some(b"add-src-to-address-list" | b"add-dst-to-address-list")
                    )
                {
                    continue;
                }
                let Some(list) = text_of(item, "address-list")
                    .filter(|l| crate::ros::TRUSTED_LISTS.contains(&l.as_str()))
                else {
                    continue;
                };
                let action = text_of(item, "action").unwrap_or_default();
                out.push(comment_text(&format!(
                    "{menu} rule {n} adds sources to list {list} (action={action}), which tikguard's accepts trust: whoever matches it would reach the management ports; make it add to another list or remove it, and run again"
                )));
            }
        }
    }
    out
}

/// Entries of `menu` whose comment is harden's for a list entry (`<TAG><fam>-<list>:<address>`)
/// but that are another list or address than the comment says.
pub fn entries(menu: &str, fam: &str, items: &[Item]) -> Vec<String> {
    let own = format!("{TAG}{fam}-");
    let mut out = Vec::new();
    for item in items {
        let Some(comment) = text_of(item, "comment").filter(|c| c.starts_with(&own)) else {
            continue;
        };
        let said = comment[own.len()..].split_once(':');
        let list = text_of(item, "list").unwrap_or_default();
        let address = text_of(item, "address").unwrap_or_default();
        if said != Some((list.as_str(), address.as_str())) {
            out.push(comment_text(&format!(
                "{menu} entry {address} of list {list} carries the comment `{comment}` that tikguard writes for another entry; anyone with write access can set a comment: check who added it, then remove it or change its comment, and run again"
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use routeros_config::Config;

    /// An entry RouterOS added to one of the plan's lists without a timeout
    /// (`add-src-to-address-list` with `address-list-timeout=none-dynamic`), read live with
    /// `dynamic=yes`: held in RAM only, so no lasting source, and it takes the list and address.
    #[test]
    fn a_dynamic_entry_without_a_timeout_in_the_plans_list_does_not_last() {
        let (c, _) = Config::load(
            b"/ip firewall address-list\nadd list=tikguard-mgmt address=10.255.0.0/24 dynamic=yes\nadd list=tikguard-mgmt address=10.255.1.0/24\n"
                .to_vec(),
        );
        let menu = "/ip firewall address-list";
        let items = c.items(menu);
        let why = super::not_lasting(menu, &items[0]).expect("a dynamic entry lasts");
        assert!(
            why.contains("10.255.0.0/24") && why.contains("dynamic"),
            "{why}"
        );
        assert_eq!(super::not_lasting(menu, &items[1]), None);
    }
}
