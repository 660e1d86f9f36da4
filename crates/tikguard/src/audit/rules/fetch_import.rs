#![doc = include_str!("docs/TG126.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG126",
    name: "script-imports-fetched-file",
    severity: Severity::High,
    summary: "a script or scheduler entry runs `/import` on a file it fetched: whoever controls the URL runs commands on the router",
    doc: include_str!("docs/TG126.md"),
    check,
};

/// The rights that let imported commands change the router (MikroTik's User manual: `write`
/// changes the configuration, `policy` manages users, `sensitive` reads secrets).
const RIGHTS: &[&str] = &["write", "policy", "sensitive"];

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (menu, key) in [
        ("/system script", "source"),
        ("/system scheduler", "on-event"),
    ] {
        for item in cx.config.items(menu) {
            let Some(src) = item.get(key) else {
                continue;
            };
            let Some(fetch) = fetched_and_imported(src) else {
                continue;
            };
            // An export always writes `policy=`; without it, RouterOS' default gives every right.
            let rights: Vec<&str> = match item.get_str("policy") {
                Some(p) => RIGHTS
                    .iter()
                    .copied()
                    .filter(|r| p.split(',').any(|x| x.trim() == *r))
                    .collect(),
                None => RIGHTS.to_vec(),
            };
            if rights.is_empty() {
                continue;
            }
            let name = item
                .get_str("name")
                .map(|n| crate::term::printable(&n).into_owned())
                .unwrap_or_else(|| "unnamed".into());
            let how = match fetch {
                Transport::Verified => "over TLS with a checked certificate: whoever controls that server",
                Transport::Clear => "without a checked certificate (`http`/`ftp`, or `check-certificate` not `yes`, its default being `no`): anyone on the path, or whoever controls that server,",
            };
            out.push(cx.finding(
                &RULE,
                Some(item),
                Some(key),
                format!(
                    "`{menu}` entry `{name}` fetches a file {how} runs commands on the router through its `/import` (with {})",
                    rights.join(", ")
                ),
                vec![format!(
                    "fetch data, not commands: have `{name}` parse the file (`:deserialize`, `[/file get ... contents]`) instead of `/import`, over https with check-certificate=yes"
                )],
            ));
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Transport {
    /// `https://` with `check-certificate=yes` (or `yes-without-crl`).
    Verified,
    /// Anything else: `http`, `ftp`, `tftp`, a URL from a variable, or https unchecked.
    Clear,
}

/// When a script's text both runs `/tool fetch` and the root `/import` command, how the worst
/// of its fetches travels. Comment lines are skipped; `/certificate import` and a relative
/// `import` (whose meaning depends on the menu the script is in) are not the root command.
fn fetched_and_imported(src: &[u8]) -> Option<Transport> {
    let text = String::from_utf8_lossy(src);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let imports = lines.iter().any(|l| {
        l.match_indices("/import").any(|(i, _)| {
            let before = l[..i].chars().next_back();
            let after = l[i + "/import".len()..].chars().next();
            before.is_none_or(|c| c.is_whitespace() || matches!(c, ';' | '[' | '{' | '('))
                && after.is_none_or(|c| c.is_whitespace() || c == ';' || c == ']')
        })
    });
    if !imports {
        return None;
    }
    let mut worst = None;
    for l in &lines {
        let Some(i) = l.find("tool fetch").or_else(|| l.find("tool/fetch")) else {
            continue;
        };
        let args = &l[i..];
        let url = arg(args, "url").unwrap_or_default();
        let checked = matches!(
            arg(args, "check-certificate").as_deref(),
            Some("yes" | "yes-without-crl")
        );
        let t = if url.to_ascii_lowercase().starts_with("https://") && checked {
            Transport::Verified
        } else {
            Transport::Clear
        };
        if t == Transport::Clear || worst.is_none() {
            worst = Some(t);
        }
    }
    worst
}

/// The value of `key=` in a command's arguments, unquoted.
fn arg(args: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=");
    let at = args
        .match_indices(&pat)
        .find(|(i, _)| *i == 0 || args[..*i].ends_with([' ', '\t']))?
        .0;
    let v = &args[at + pat.len()..];
    Some(match v.strip_prefix('"') {
        Some(q) => q.split('"').next().unwrap_or_default().to_string(),
        None => v
            .split([' ', '\t', ';', ']'])
            .next()
            .unwrap_or_default()
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/tool fetch` then the root `/import` (MikroTik's Fetch and Configuration Management
    /// manuals); `check-certificate` defaults to `no`.
    #[test]
    fn a_fetched_file_run_by_import_is_a_remote_command_channel() {
        let t = |s: &str| fetched_and_imported(s.as_bytes());
        assert_eq!(
            t("/tool fetch url=\"https://x.example/l.rsc\" mode=http;\r\n/import l.rsc\r\n"),
            Some(Transport::Clear)
        );
        assert_eq!(
            t("/tool fetch url=\"https://x.example/l.rsc\" check-certificate=yes\n/import file-name=l.rsc"),
            Some(Transport::Verified)
        );
        assert_eq!(
            t("/tool fetch check-certificate=no mode=https url=$u dst-path=a\n  /import file-name=$a;"),
            Some(Transport::Clear)
        );
        // Not the root import, a comment, or no fetch.
        assert_eq!(
            t("/tool fetch url=http://x/c.pem\n/certificate/import file-name=c.pem"),
            None
        );
        assert_eq!(
            t("/tool fetch url=http://x/c.pem\n/certificate import file-name=c.pem"),
            None
        );
        assert_eq!(t("/tool fetch url=http://x/a\n# then /import a"), None);
        assert_eq!(t("/import file-name=local.rsc"), None);
    }
}
