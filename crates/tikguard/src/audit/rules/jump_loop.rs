#![doc = include_str!("docs/TG210.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG210",
    name: "jump-loop",
    severity: Severity::Medium,
    summary:
        "a filter jump leads back to a chain it came from: RouterOS cannot run the table as written",
    doc: include_str!("docs/TG210.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        let family = if fw.v6 { "ipv6" } else { "ip" };
        for &n in fw.loops() {
            let r = &fw.rules[n];
            let target = r.jump_target.as_deref().unwrap_or_default();
            out.push(cx.finding_at(
                &RULE,
                RULE.severity,
                Some(r.statement),
                format!(
                    "{family} filter rule {n}{} (chain `{}`) jumps to `{}`, which leads back to it: a jump loop, which netfilter refuses to load; what the router runs instead cannot be told from the configuration, so the analysis assumes the sources it matches may get in (approximated)",
                    numbering(cx.config, fw.v6),
                    crate::term::printable(&r.chain),
                    crate::term::printable(target),
                ),
                vec![format!(
                    "/{family} firewall filter disable {}",
                    filter_ref(cx, fw.v6, n)
                )],
            ));
        }
    }
}
