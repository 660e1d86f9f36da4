//! RouterOS script text: statements, `find` conditions, and the one function that quotes values.
//! Both the audit's pasteable fixes and harden's scripts are written through it.
//!
//! Text that reaches a generated script may come from the router (identity, comments, names a CRM
//! with `write` can set) and so may carry quotes, `$`, brackets, line breaks and control bytes. It
//! enters script text in exactly two ways, both decided here:
//! - as a *value* (`key=value`, a positional name, a `find` condition): [`value`] writes it bare
//!   when every byte is harmless, else as a quoted string with every special byte escaped
//!   (`\"`, `\\`, `\$`, `\?`, `\n`, other control bytes as `\XX`), so it can never end the
//!   statement or start another;
//! - in a `#` comment line: [`comment`] escapes line breaks and control bytes the same way, so a
//!   comment is always one line.
//!
//! Statements are typed ([`Stmt`]) and rendered here, never assembled with `format!` elsewhere.

use std::fmt::Write as _;

use routeros_config::escape::quote;

/// A value as RouterOS script text: bare when every byte is safe there, else quoted and escaped.
pub fn value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:,/*!@+".contains(&c));
    if plain {
        v.to_string()
    } else {
        quote(&name_bytes(v))
    }
}

/// Where [`name_text`] puts a byte that is not UTF-8: U+10FF00 plus the byte, at the end of
/// Unicode's last private use plane, which no export's text uses.
const RAW: u32 = 0x10_FF00;

/// A value from the configuration as text, without losing a byte: UTF-8 as it is, and each byte
/// that is not UTF-8 (Windows-1251 names in real exports) as a private-use character that
/// [`value`] writes back as that byte (`\CB`), so a `find` or an `in-interface=` names what the
/// router holds, never U+FFFD.
pub fn name_text(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for &x in chunk.invalid() {
            out.extend(char::from_u32(RAW + u32::from(x)));
        }
    }
    out
}

/// The bytes [`name_text`] read.
pub fn name_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c).checked_sub(RAW) {
            Some(b) if b <= 0xFF => out.push(b as u8),
            _ => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

/// [`name_text`] as the analysis reads names (U+FFFD for what is not UTF-8), to compare with it.
pub fn lossy(s: &str) -> String {
    String::from_utf8_lossy(&name_bytes(s)).into_owned()
}

/// An item's value as [`name_text`].
pub fn text_of(i: &routeros_config::Item, key: &str) -> Option<String> {
    i.get(key).map(name_text)
}

/// Unicode's bidirectional controls (embeddings, overrides, isolates, marks): a name holding
/// U+202E shows its tail reversed, so a line reads as something it is not (CVE-2021-42574,
/// "Trojan Source").
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text for a `#` comment line or a terminal: line breaks, control bytes and bidirectional
/// controls escaped (each UTF-8 byte as `\XX`).
pub fn comment_text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (RAW..=RAW + 0xFF).contains(&u32::from(c)) => {
                let _ = write!(out, "\\{:02X}", u32::from(c) - RAW);
            }
            c if c.is_control() || is_bidi(c) => {
                let mut b = [0u8; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    let _ = write!(out, "\\{byte:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A `#` line.
pub fn comment(t: &str) -> String {
    format!("# {}", comment_text(t))
}

/// One condition of a `find where`: `key=value`, `key!=value`, `flag` or `!flag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    pub key: String,
    pub value: Option<String>,
    pub negated: bool,
}

impl Cond {
    pub fn eq(key: &str, value: &str) -> Cond {
        Cond {
            key: key.into(),
            value: Some(value.into()),
            negated: false,
        }
    }
    pub fn ne(key: &str, value: &str) -> Cond {
        Cond {
            negated: true,
            ..Cond::eq(key, value)
        }
    }
    fn render(&self) -> String {
        match (&self.value, self.negated) {
            (Some(v), false) => format!("{}={}", self.key, value(v)),
            (Some(v), true) => format!("{}!={}", self.key, value(v)),
            (None, false) => self.key.clone(),
            (None, true) => format!("!{}", self.key),
        }
    }
}

/// `[find where a and b]`, or `[/menu find where ...]` with a menu.
pub fn find(menu: Option<&str>, conds: &[Cond]) -> String {
    let menu = menu.map(|m| format!("{m} ")).unwrap_or_default();
    let conds: Vec<String> = conds.iter().map(Cond::render).collect();
    if conds.is_empty() {
        format!("[{menu}find]")
    } else {
        format!("[{menu}find where {}]", conds.join(" and "))
    }
}

/// `[:pick [find where ...] 0]`: the first item found, in list order.
pub fn pick_first(conds: &[Cond]) -> String {
    format!("[:pick {} 0]", find(None, conds))
}

/// A property value: text (quoted by [`value`]), the first item a `find` picks, or a list whose
/// elements are each quoted by [`value`] and joined with commas.
///
/// A list is written as MikroTik's RoMON manual writes one (section "Secrets":
/// `secrets="","mysecret"`): each element its own value, so the empty element is `""` and an
/// element is never split or joined by the quoting of another. An empty list is `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Text(String),
    Pick(Vec<Cond>),
    List(Vec<String>),
}

/// The elements of a list value as the configuration holds it, the inverse of [`list_value`]:
/// split at commas outside quotes, each quoted element unescaped. `"",S` (as the RoMON manual
/// writes a list), `,S` (as the API returns it) and `",S"` unquoted by the parser are all the
/// empty element and `S`; an empty value is the empty list.
pub fn list_items(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if v.is_empty() {
        return out;
    }
    let mut cur = Vec::new();
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'"' => {
                let mut j = i + 1;
                while j < v.len() && v[j] != b'"' {
                    j += if v[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(v.len());
                cur.extend(routeros_config::escape::unescape(&v[i + 1..end]));
                i = end + 1;
            }
            b',' => {
                out.push(std::mem::take(&mut cur));
                i += 1;
            }
            c => {
                cur.push(c);
                i += 1;
            }
        }
    }
    out.push(cur);
    out
}

/// A list value as script text (see [`Val::List`]).
pub fn list_value(items: &[String]) -> String {
    if items.is_empty() {
        return value("");
    }
    items.iter().map(|i| value(i)).collect::<Vec<_>>().join(",")
}

/// What a `set`/`remove`/`disable` acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A settings menu: no item.
    None,
    /// A positional name (`set api-ssl ...`, `sign tikguard-api`).
    Name(String),
    /// `[find where ...]`: an item that must be there (a rule, a service).
    Find(Vec<Cond>),
    /// `[find where ...]` over every item matching, which may be none (the users of a group:
    /// exports do not show users, and a group may have none).
    Every(Vec<Cond>),
}

/// One RouterOS command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub menu: String,
    pub verb: &'static str,
    pub target: Target,
    pub args: Vec<(String, Val)>,
}

impl Stmt {
    pub fn new(menu: &str, verb: &'static str, target: Target) -> Stmt {
        Stmt {
            menu: menu.into(),
            verb,
            target,
            args: Vec::new(),
        }
    }
    pub fn add(menu: &str) -> Stmt {
        Stmt::new(menu, "add", Target::None)
    }
    pub fn set(menu: &str, target: Target) -> Stmt {
        Stmt::new(menu, "set", target)
    }
    pub fn arg(mut self, key: &str, v: impl Into<String>) -> Stmt {
        self.args.push((key.into(), Val::Text(v.into())));
        self
    }
    pub fn args<'a>(mut self, kv: impl IntoIterator<Item = (&'a str, String)>) -> Stmt {
        for (k, v) in kv {
            self.args.push((k.into(), Val::Text(v)));
        }
        self
    }
    pub fn list(mut self, key: &str, items: Vec<String>) -> Stmt {
        self.args.push((key.into(), Val::List(items)));
        self
    }
    pub fn pick(mut self, key: &str, conds: Vec<Cond>) -> Stmt {
        self.args.push((key.into(), Val::Pick(conds)));
        self
    }

    pub fn render(&self) -> String {
        let mut s = format!("{} {}", self.menu, self.verb);
        match &self.target {
            Target::None => {}
            Target::Name(n) => {
                s.push(' ');
                s.push_str(&value(n));
            }
            Target::Find(c) | Target::Every(c) => {
                s.push(' ');
                s.push_str(&find(None, c));
            }
        }
        for (k, v) in &self.args {
            let v = match v {
                Val::Text(t) => value(t),
                Val::Pick(c) => pick_first(c),
                Val::List(l) => list_value(l),
            };
            let _ = write!(s, " {k}={v}");
        }
        s
    }
}

/// A line of the script: a command, or a fixed piece of scripting (a wait, a stop) whose only
/// values were quoted by [`value`] when it was built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Cmd(Stmt),
    Script(String),
}

impl Line {
    pub fn render(&self) -> String {
        match self {
            Line::Cmd(s) => s.render(),
            Line::Script(t) => t.clone(),
        }
    }
}

impl From<Stmt> for Line {
    fn from(s: Stmt) -> Line {
        Line::Cmd(s)
    }
}

/// When a guarded change runs: items that must be absent, and items that must be present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guard {
    pub absent: Vec<(String, Vec<Cond>)>,
    pub present: Vec<(String, Vec<Cond>)>,
}

impl Guard {
    pub fn absent(menu: &str, conds: Vec<Cond>) -> Guard {
        Guard {
            absent: vec![(menu.into(), conds)],
            present: Vec::new(),
        }
    }

    fn condition(&self) -> String {
        let mut parts: Vec<String> = self
            .absent
            .iter()
            .map(|(m, c)| format!("[:len {}] = 0", find(Some(m), c)))
            .collect();
        parts.extend(
            self.present
                .iter()
                .map(|(m, c)| format!("[:len {}] > 0", find(Some(m), c))),
        );
        if parts.len() == 1 {
            return parts.remove(0);
        }
        parts
            .iter()
            .map(|p| format!("({p})"))
            .collect::<Vec<_>>()
            .join(" && ")
    }
}

/// Renders lines, inside `:if (guard) do={ ... }` when a guard is given.
pub fn render_block(out: &mut String, guard: Option<&Guard>, lines: &[Line]) {
    match guard {
        Some(g) if !g.absent.is_empty() || !g.present.is_empty() => {
            let _ = writeln!(out, ":if ({}) do={{", g.condition());
            for l in lines {
                let _ = writeln!(out, "    {}", l.render());
            }
            let _ = writeln!(out, "}}");
        }
        _ => {
            for l in lines {
                let _ = writeln!(out, "{}", l.render());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_script_syntax_are_quoted_and_escaped() {
        assert_eq!(value("api-ssl"), "api-ssl");
        assert_eq!(value(""), "\"\"");
        assert_eq!(value("a b"), "\"a b\"");
        assert_eq!(value("r1\n/user add"), "\"r1\\n/user add\"");
        assert_eq!(value("$x[y]"), "\"\\$x[y]\"");
        assert_eq!(value("\x01"), "\"\\01\"");
    }

    #[test]
    fn a_comment_line_never_carries_a_line_break() {
        let c = comment("x\n/user add name=evil\r\x1b[31m");
        assert_eq!(c.lines().count(), 1);
        assert!(!c.contains('\x1b'));
    }

    #[test]
    fn bidi_controls_are_escaped_in_comments_and_on_the_terminal() {
        let c = comment("group adm\u{202E}nimda\u{2066}x");
        assert!(!c.contains('\u{202E}') && !c.contains('\u{2066}'), "{c}");
        assert!(c.contains("\\E2\\80\\AE"), "{c}");
    }

    #[test]
    fn find_renders_conditions_joined_by_and() {
        assert_eq!(
            find(
                Some("/ip service"),
                &[Cond::eq("name", "www-ssl"), Cond::eq("dynamic", "no")]
            ),
            "[/ip service find where name=www-ssl and dynamic=no]"
        );
        assert_eq!(
            pick_first(&[Cond::ne("comment", "tikguard:a b")]),
            "[:pick [find where comment!=\"tikguard:a b\"] 0]"
        );
    }

    /// Every byte string survives name_text and name_bytes; what is not UTF-8 is written back as
    /// its bytes and shown as \XX, never as U+FFFD.
    #[test]
    fn names_keep_every_byte() {
        for b in [
            &b"\xcb\xc2\xd1"[..],
            b"plain",
            b"mixed \xcf\xf0 \xd0\x9f\xd1\x80",
            b"\xff\xfe\x00\"$",
        ] {
            assert_eq!(name_bytes(&name_text(b)), b);
        }
        let t = name_text(b"\xcb\xc2\xd1");
        assert_eq!(value(&t), "\"\\CB\\C2\\D1\"");
        assert_eq!(comment_text(&t), "\\CB\\C2\\D1");
        assert_eq!(lossy(&t), "\u{FFFD}\u{FFFD}\u{FFFD}");
    }

    /// The RoMON manual writes a list holding the empty secret as `secrets="",mysecret`; no
    /// export at hand shows how a router prints such a list back, so every spelling it could take
    /// (the manual's, the API's `,S`, the whole list quoted, `S,""` for stage 2) reads as the
    /// same elements once the export parser has read the line.
    #[test]
    fn every_spelling_of_a_list_with_the_empty_secret_reads_the_same() {
        let read = |line: &str| {
            let (c, _) = routeros_config::Config::load(format!("/tool romon\nset {line}\n"));
            list_items(c.setting("/tool romon", "secrets").unwrap_or(b""))
        };
        let first_empty = vec![b"".to_vec(), b"S0123456789ab".to_vec()];
        for line in [
            "secrets=\"\",S0123456789ab",
            "secrets=,S0123456789ab",
            "secrets=\",S0123456789ab\"",
            "secrets=\"\",\"S0123456789ab\"",
        ] {
            assert_eq!(read(line), first_empty, "{line}");
        }
        let last_empty = vec![b"S0123456789ab".to_vec(), b"".to_vec()];
        for line in [
            "secrets=S0123456789ab,\"\"",
            "secrets=S0123456789ab,",
            "secrets=\"S0123456789ab,\"",
        ] {
            assert_eq!(read(line), last_empty, "{line}");
        }
        // `secrets=""` reads as the empty list; the manual gives it the same behaviour as a list
        // holding only the empty secret (sent unhashed, unhashed accepted).
        assert_eq!(read("secrets=\"\""), Vec::<Vec<u8>>::new());
        assert!(read("enabled=yes").is_empty());
    }
}
