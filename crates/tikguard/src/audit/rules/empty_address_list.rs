#![doc = include_str!("docs/TG208.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG208",
    name: "empty-address-list",
    severity: Severity::Medium,
    summary: "a rule references an address list that has no entries",
    doc: include_str!("docs/TG208.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let c = cx.config;
    let mut filled: Vec<String> = Vec::new();
    for family in ["/ip", "/ipv6"] {
        for table in ["filter", "raw", "mangle"] {
            for r in c.items(&format!("{family} firewall {table}")) {
                if matches!(
                    r.get("action"),
                    Some(b"add-src-to-address-list" | b"add-dst-to-address-list")
                ) {
                    filled.extend(r.get_str("address-list"));
                }
            }
        }
    }
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        let menu = if fw.v6 {
            "/ipv6 firewall filter"
        } else {
            "/ip firewall filter"
        };
        for (i, item) in c.items(menu).iter().enumerate() {
            if item.is_disabled() {
                continue;
            }
            for key in ["src-address-list", "dst-address-list"] {
                let Some(v) = item.get_str(key) else { continue };
                let (neg, name) = match v.strip_prefix('!') {
                    Some(n) => (true, n.to_string()),
                    None => (false, v.clone()),
                };
                if fw.lists.has_entries(&name) || filled.contains(&name) {
                    continue;
                }
                let effect = if neg {
                    "negated, it matches every address"
                } else {
                    "it matches no address"
                };
                out.push(cx.finding(
                    &RULE,
                    Some(item),
                    None,
                    format!("filter rule {i}{} uses {key}={v}, but list `{name}` has no entries: {effect}", numbering(cx.config, fw.v6)),
                    vec![format!(
                        "/{} firewall address-list add list={name} address=<prefix>",
                        if fw.v6 { "ipv6" } else { "ip" }
                    )],
                ));
            }
        }
    }
}
