//! Terminal output: colour only on a terminal and never with `NO_COLOR`, and source excerpts
//! with a caret under the column, as compilers print them.

use std::io::IsTerminal;

use routeros_config::LineIndex;

#[derive(Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// No colour: for files.
    pub fn plain() -> Style {
        Style { color: false }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("1;33", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn cyan(&self, t: &str) -> String {
        self.paint("36", t)
    }
}

/// The source line `line` with a caret under `column` (a byte column), indented. Control
/// characters and bytes that are not UTF-8 are shown as `\xNN` (a line of an export may hold an
/// escape sequence that would act on the terminal), tabs as a space; the caret stays under the
/// byte it points at.
pub fn excerpt(style: Style, src: &[u8], lines: &LineIndex, line: usize, column: usize) -> String {
    let range = lines.line_range(src, line);
    let target = column.saturating_sub(1);
    let mut text = String::new();
    let (mut offset, mut width, mut caret) = (0usize, 0usize, None);
    let mut put = |shown: &str, bytes: usize, text: &mut String| {
        if caret.is_none() && offset + bytes > target {
            caret = Some(width);
        }
        offset += bytes;
        if width < 200 {
            text.push_str(shown);
            width += shown.chars().count();
        }
    };
    for chunk in src[range].utf8_chunks() {
        for c in chunk.valid().chars() {
            let shown = match c {
                '\t' => " ".to_string(),
                c if c.is_control() => format!("\\x{:02x}", c as u32),
                c => c.to_string(),
            };
            put(&shown, c.len_utf8(), &mut text);
        }
        for b in chunk.invalid() {
            put(&format!("\\x{b:02x}"), 1, &mut text);
        }
    }
    let caret = caret.unwrap_or(width).min(200);
    let gutter = format!("{line:>5} | ");
    let pad = " ".repeat(gutter.len() - 2);
    format!(
        "{}{}\n{}{} {}{}",
        style.dim(&gutter),
        text,
        pad,
        style.dim("|"),
        " ".repeat(caret),
        style.red("^")
    )
}

/// Text from a router made safe to print on a terminal: control characters (escape sequences,
/// carriage returns, newlines inside a value) are shown as `\xNN` instead of acting.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A line on standard error that never panics: a long-running server (the proxy, watch) keeps
/// going when its stderr is closed, where `eprintln!` would panic.
#[macro_export]
macro_rules! warn_line {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn control_characters_from_a_router_do_not_reach_the_terminal() {
        assert_eq!(printable("core-01"), "core-01");
        assert_eq!(
            printable("evil\x1b]0;owned\x07\r\nname"),
            "evil\\x1b]0;owned\\x07\\x0d\\x0aname"
        );
        assert_eq!(printable("\u{9b}31m"), "\\x9b31m");
    }
}
