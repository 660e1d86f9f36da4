#![doc = include_str!("docs/TG204.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG204",
    name: "shadowed-rule",
    severity: Severity::Low,
    summary: "a filter rule can never match: earlier rules take all its traffic",
    doc: include_str!("docs/TG204.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for fw in [&cx.exposure.v4, &cx.exposure.v6] {
        let family = if fw.v6 { "ipv6" } else { "ip" };
        let mut shadowed = fw.shadowed();
        // Chain by chain (stable: each in rule order), so a shadowed rule of another chain
        // numbered among them does not split a run.
        shadowed.sort_by(|a, b| fw.rules[a.rule].chain.cmp(&fw.rules[b.rule].chain));
        // Many rules behind one catch-all (a "bypass" accept) are one finding, not hundreds.
        let mut i = 0;
        while i < shadowed.len() {
            let first = &shadowed[i];
            let chain = &fw.rules[first.rule].chain;
            let mut j = i + 1;
            while j < shadowed.len()
                && shadowed[j].by == first.by
                && shadowed[j].more == first.more
                && fw.rules[shadowed[j].rule].chain == *chain
            {
                j += 1;
            }
            let run = &shadowed[i..j];
            i = j;
            // Every shadowed rule is taken by at least one earlier rule; should none be named,
            // the finding points at the rule itself rather than at nothing.
            let Some(&taker) = first.by.first() else {
                continue;
            };
            let many = first.by.len() > 1 || first.more;
            let who = format!(
                "earlier rule{} {}{} take{}",
                if many { "s" } else { "" },
                first
                    .by
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if first.more { " and others" } else { "" },
                if many { "" } else { "s" },
            );
            if run.len() > 5 {
                let numbers: Vec<String> = run.iter().map(|s| s.rule.to_string()).collect();
                out.push(cx.finding_at(
                    &RULE,
                    RULE.severity,
                    Some(fw.rules[taker].statement),
                    format!(
                        "{} {family} filter rules of chain `{chain}` can never match ({} ... {}{}): {who} all of their traffic",
                        run.len(),
                        numbers[..3].join(", "),
                        numbers[numbers.len() - 1],
                        numbering(cx.config, fw.v6)
                    ),
                    vec![format!(
                        "/{family} firewall filter disable {}",
                        filter_ref(cx, fw.v6, taker)
                    )],
                ));
            } else {
                for s in run {
                    let rule = s.rule;
                    let r = &fw.rules[rule];
                    out.push(cx.finding_at(
                        &RULE,
                        RULE.severity,
                        Some(r.statement),
                        format!(
                            "{family} filter rule {rule}{} (chain `{chain}`) can never match: {who} all of its traffic",
                            numbering(cx.config, fw.v6)
                        ),
                        vec![format!(
                            "/{family} firewall filter move {} destination={}",
                            filter_ref(cx, fw.v6, rule),
                            filter_ref(cx, fw.v6, taker)
                        )],
                    ));
                }
            }
        }
    }
}
