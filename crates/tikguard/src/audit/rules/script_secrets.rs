#![doc = include_str!("docs/TG122.md")]

use super::*;

pub const RULE: Rule = Rule {
    id: "TG122",
    name: "password-in-script",
    severity: Severity::Medium,
    summary: "a script or scheduler entry carries a password literal",
    doc: include_str!("docs/TG122.md"),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (menu, key) in [
        ("/system script", "source"),
        ("/system scheduler", "on-event"),
    ] {
        for item in cx.config.items(menu) {
            let Some(src) = item.get(key) else {
                continue;
            };
            let keys = secret_literals(src);
            if keys.is_empty() {
                continue;
            }
            let name = item
                .get_str("name")
                .map(|n| crate::term::printable(&n).into_owned())
                .unwrap_or_else(|| "unnamed".into());
            // The values are never printed: the message names the keys, the evidence is redacted.
            out.push(cx.finding(
                &RULE,
                Some(item),
                Some(key),
                format!(
                    "`{menu}` entry `{name}` has {} set to a literal in its text: anyone who can read the configuration (an export, a backup, a `read` user) reads it",
                    keys.join(", ")
                ),
                vec![format!(
                    "move the secret out of `{name}`: a dedicated user, or a file only `policy` users can read"
                )],
            ));
        }
    }
}

/// The secret keys (`password=`, `secret=`, ...) a script's text sets to a non-empty literal,
/// not to a variable (`$pass`) or an expression (`[...]`).
fn secret_literals(src: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let is_key = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    for (i, _) in src.iter().enumerate().filter(|(_, &c)| c == b'=') {
        let mut k = i;
        while k > 0 && is_key(src[k - 1]) {
            k -= 1;
        }
        if k == i || !routeros_config::secrets::is_secret_key(&src[k..i]) {
            continue;
        }
        let value = &src[i + 1..];
        let literal = match value.first() {
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'$' | b'[' | b'(') => false,
            Some(b'"') => !matches!(value.get(1), Some(b'"' | b'$')),
            Some(_) => true,
        };
        if literal {
            let key = String::from_utf8_lossy(&src[k..i]).into_owned();
            if !found.contains(&key) {
                found.push(key);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::secret_literals;

    #[test]
    fn literals_count_and_variables_do_not() {
        assert_eq!(
            secret_literals(b"/tool fetch url=x user=u password=\"s3cret\""),
            ["password"]
        );
        assert!(secret_literals(b"/tool fetch password=$pass").is_empty());
        assert!(secret_literals(b"/tool fetch password=[/file get pw contents]").is_empty());
        assert!(secret_literals(b"/tool fetch password=\"\"").is_empty());
        assert_eq!(
            secret_literals(b"/ppp secret add name=a password=p1 ; /interface wireguard peers add preshared-key=k"),
            ["password", "preshared-key"]
        );
    }
}
