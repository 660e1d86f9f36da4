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
            let mut f = cx.finding(
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
            );
            // Redaction masks what follows a secret key, not a `:local pw "..."` that holds the
            // value: the statement is not shown then.
            if keys.iter().any(|k| k.contains(" ($")) {
                f.evidence = None;
            }
            out.push(f);
        }
    }
}

/// The secret keys (`password=`, `secret=`, ...) a script's text sets to a non-empty literal,
/// not to an expression (`[...]`) or to a variable (`$pass`), unless that variable was itself
/// given a literal (`:local pass "s3cret"`; then the key is named with it: `password ($pass)`).
fn secret_literals(src: &[u8]) -> Vec<String> {
    let vars = literal_variables(src);
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
        let key = String::from_utf8_lossy(&src[k..i]).into_owned();
        let value = &src[i + 1..];
        let shown = match value.first() {
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'[' | b'(') => None,
            Some(b'$') => variable_at(&value[1..])
                .filter(|v| vars.contains(v))
                .map(|v| format!("{key} (${})", String::from_utf8_lossy(v))),
            Some(b'"') => match value.get(1) {
                Some(b'"') => None,
                // `"$pass"`: the variable alone in a string.
                Some(b'$') => variable_at(&value[2..])
                    .filter(|v| vars.contains(v) && value.get(2 + v.len()) == Some(&b'"'))
                    .map(|v| format!("{key} (${})", String::from_utf8_lossy(v))),
                _ => Some(key),
            },
            Some(_) => Some(key),
        };
        if let Some(shown) = shown {
            if !found.contains(&shown) {
                found.push(shown);
            }
        }
    }
    found
}

/// A variable name at the start of `s` (letters, digits, `-`, `_`), if any.
fn variable_at(s: &[u8]) -> Option<&[u8]> {
    let n = s
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b'_')
        .count();
    (n > 0).then(|| &s[..n])
}

/// The variables a script gives a non-empty literal: `:local NAME VALUE`, `:global NAME VALUE`,
/// `:set NAME VALUE` (MikroTik's Scripting manual: `:local <var> [<value>]`, `:global <var>
/// [<value>]`, `:set <var> [<value>]`), where VALUE is a quoted string without `$`
/// substitution, or a bare word that is not a variable, command or expression.
fn literal_variables(src: &[u8]) -> Vec<&[u8]> {
    let mut vars = Vec::new();
    for cmd in [&b":local"[..], b":global", b":set"] {
        let mut from = 0;
        while let Some(at) = find(&src[from..], cmd) {
            let mut p = from + at + cmd.len();
            from = p;
            let blank = |c: u8| c == b' ' || c == b'\t';
            if !src.get(p).is_some_and(|&c| blank(c)) {
                continue;
            }
            while src.get(p).is_some_and(|&c| blank(c)) {
                p += 1;
            }
            let Some(name) = variable_at(&src[p..]) else {
                continue;
            };
            p += name.len();
            if !src.get(p).is_some_and(|&c| blank(c)) {
                continue;
            }
            while src.get(p).is_some_and(|&c| blank(c)) {
                p += 1;
            }
            let literal = match src.get(p) {
                None | Some(b'$' | b'[' | b'(' | b'{' | b';' | b'\r' | b'\n' | b'}') => false,
                Some(b'"') => {
                    let mut q = p + 1;
                    let mut subst = false;
                    while let Some(&c) = src.get(q) {
                        match c {
                            b'\\' => q += 1,
                            b'$' => subst = true,
                            b'"' => break,
                            _ => {}
                        }
                        q += 1;
                    }
                    q > p + 1 && !subst
                }
                Some(_) => true,
            };
            if literal && !vars.contains(&name) {
                vars.push(name);
            }
        }
    }
    vars
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

    /// `:local <var> [<value>]` (MikroTik's Scripting manual): a literal given to a variable
    /// and then used as `password=$var` is the same literal in the script's text.
    #[test]
    fn a_password_in_a_local_variable_used_as_password_is_a_literal() {
        assert_eq!(
            secret_literals(b":local pw \"s3cret\"\n/tool fetch url=x user=u password=$pw"),
            ["password ($pw)"]
        );
        assert_eq!(
            secret_literals(b":global pw s3cret; /tool fetch password=\"$pw\""),
            ["password ($pw)"]
        );
        assert_eq!(
            secret_literals(b":local pw\t\"a\\\"b\"; :set pw2 x; /ppp secret add password=$pw2"),
            ["password ($pw2)"]
        );
        // Not literals: read from a file, built from another variable, empty, or absent.
        assert!(
            secret_literals(b":local pw [/file get pw contents]; /tool fetch password=$pw")
                .is_empty()
        );
        assert!(secret_literals(b":local pw \"$a$b\"; /tool fetch password=$pw").is_empty());
        assert!(secret_literals(b":local pw \"\"; /tool fetch password=$pw").is_empty());
        assert!(secret_literals(b":local pw; /tool fetch password=$pw").is_empty());
        assert!(secret_literals(b":local user \"u\"; /tool fetch password=$pwd").is_empty());
        // `$pw` inside a longer string is an expression, not the variable alone.
        assert!(secret_literals(b":local pw \"x\"; /tool fetch password=\"$pw-1\"").is_empty());
    }
}
