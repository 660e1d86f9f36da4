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
        let shadowed = fw.shadowed();
        // Many rules behind one catch-all (a "bypass" accept) are one finding, not hundreds.
        let mut i = 0;
        while i < shadowed.len() {
            let (rule, by) = &shadowed[i];
            let chain = &fw.rules[*rule].chain;
            let mut j = i + 1;
            while j < shadowed.len()
                && shadowed[j].1 == *by
                && fw.rules[shadowed[j].0].chain == *chain
            {
                j += 1;
            }
            let run = &shadowed[i..j];
            let who = format!(
                "earlier rule{} {} take{}",
                if by.len() > 1 { "s" } else { "" },
                by.iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if by.len() > 1 { "" } else { "s" },
            );
            if run.len() > 5 {
                let numbers: Vec<String> = run.iter().map(|(r, _)| r.to_string()).collect();
                out.push(cx.finding_at(
                    &RULE,
                    RULE.severity,
                    Some(fw.rules[by[0]].statement),
                    format!(
                        "{} {family} filter rules of chain `{chain}` can never match ({} ... {}): {who} all of their traffic",
                        run.len(),
                        numbers[..3].join(", "),
                        numbers[numbers.len() - 1]
                    ),
                    vec![format!(
                        "/{family} firewall filter disable {}",
                        filter_ref(cx, fw.v6, by[0])
                    )],
                ));
            } else {
                for (rule, by) in run {
                    let r = &fw.rules[*rule];
                    out.push(cx.finding_at(
                        &RULE,
                        RULE.severity,
                        Some(r.statement),
                        format!(
                            "{family} filter rule {rule} (chain `{chain}`) can never match: {who} all of its traffic"
                        ),
                        vec![format!(
                            "/{family} firewall filter move {} destination={}",
                            filter_ref(cx, fw.v6, *rule),
                            filter_ref(cx, fw.v6, by[0])
                        )],
                    ));
                }
            }
            i = j;
        }
    }
}
