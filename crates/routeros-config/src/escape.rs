//! Line continuations and backslash escapes, the two ways RouterOS text differs from its value.
//!
//! A *continuation* (a backslash, optional trailing blanks, a line break, and the next line's
//! indentation) joins two physical lines anywhere, even inside a word or a quoted string: exports
//! wrap long lines that way. An *escape* is a backslash and one character (or two hex digits) inside
//! a value. Both are decided here and nowhere else, so the lexer and the value decoder agree.

/// If a continuation starts at `i`, the offset just after it (past the next line's indentation).
///
/// Trailing blanks between the backslash and the line break are accepted because hand-written
/// scripts contain `\ ` at line ends, which RouterOS treats as a continuation.
#[inline]
pub fn continuation_at(src: &[u8], i: usize) -> Option<usize> {
    if src.get(i) != Some(&b'\\') {
        return None;
    }
    let mut j = i + 1;
    while let Some(&c) = src.get(j) {
        match c {
            b' ' | b'\t' | b'\r' => j += 1,
            b'\n' => {
                j += 1;
                while matches!(src.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                return Some(j);
            }
            _ => return None,
        }
    }
    None
}

/// Skips any run of continuations starting at `i`.
#[inline]
pub fn skip_continuations(src: &[u8], mut i: usize) -> usize {
    while let Some(j) = continuation_at(src, i) {
        i = j;
    }
    i
}

/// Removes continuations from a raw span, keeping every other byte (escapes included).
pub fn join_lines(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if let Some(j) = continuation_at(raw, i) {
            i = j;
            continue;
        }
        if raw[i] == b'\\' && i + 1 < raw.len() {
            out.extend_from_slice(&raw[i..i + 2]);
            i += 2;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the escapes of a value whose continuations were already removed.
///
/// `\"` `\\` `\$` `\?` give the character; `\_` is a space; `\a \b \f \n \r \t \v` are the C
/// control characters; `\XX` (two hex digits, as exports write non-ASCII bytes) is that byte. An
/// unknown escape keeps the character, as RouterOS does.
pub fn unescape(joined: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(joined.len());
    let mut i = 0;
    while i < joined.len() {
        let c = joined[i];
        if c != b'\\' || i + 1 >= joined.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = joined[i + 1];
        if let (Some(h), Some(l)) = (hex(e), joined.get(i + 2).and_then(|&b| hex(b))) {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(match e {
            b'_' => b' ',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0B,
            other => other,
        });
        i += 2;
    }
    out
}

/// Encodes bytes as a RouterOS quoted string, the inverse of [`unescape`].
pub fn quote(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for &b in value {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'$' => out.push_str("\\$"),
            b'?' => out.push_str("\\?"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\{b:02X}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_needs_a_line_break_after_optional_blanks() {
        assert_eq!(continuation_at(b"\\\n    x", 0), Some(6));
        assert_eq!(continuation_at(b"\\ \t\r\n\tx", 0), Some(6));
        assert_eq!(continuation_at(b"\\x", 0), None);
        assert_eq!(continuation_at(b"\\", 0), None);
    }

    #[test]
    fn join_lines_keeps_an_escaped_backslash_before_a_line_break() {
        // `\\` is an escaped backslash: the line break after it is not a continuation.
        assert_eq!(join_lines(b"a\\\\"), b"a\\\\");
        assert_eq!(join_lines(b"ab\\\n    cd"), b"abcd");
    }

    #[test]
    fn unescape_handles_every_documented_form() {
        assert_eq!(
            unescape(br#"\"\\\$\?\_\n\r\t\a\b\f\v"#),
            b"\"\\$? \n\r\t\x07\x08\x0C\x0B"
        );
        assert_eq!(unescape(br"\D0\9E"), "О".as_bytes());
        assert_eq!(unescape(br"\q"), b"q");
        assert_eq!(unescape(b"trailing\\"), b"trailing\\");
    }

    #[test]
    fn quote_round_trips_through_unescape() {
        let v = b"a\"b\\c$d?e\n\xff";
        let q = quote(v);
        assert_eq!(unescape(&q.as_bytes()[1..q.len() - 1]), v);
    }
}
