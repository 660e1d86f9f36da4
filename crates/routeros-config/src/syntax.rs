//! From bytes to statements: the RouterOS script syntax that exports and hand-written scripts use.
//!
//! The parser is tolerant by design. A line it cannot read becomes a [`Diagnostic`] with its line
//! and column and the parser resumes on the next line; no input makes it panic or give up. It keeps
//! bytes as bytes (exports carry Windows code pages and `\XX` escapes) and every statement and
//! argument keeps its [`Span`], so callers can quote the exact source.
//!
//! What it decides: where a statement starts and ends (line breaks, continuations, `;`, brackets
//! and blocks spanning lines), which words are the menu path and which the command, and how a value
//! is written (bare, quoted, expression). What it leaves alone: scripting (`:if`, `:foreach`, `{}`
//! blocks) is kept as an opaque, spanned [`StatementKind::Script`]; applying commands to a
//! configuration is [`crate::model`]'s job.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::escape::{continuation_at, join_lines, skip_continuations, unescape};
use crate::span::{LineIndex, Span};
use crate::version::Version;

/// A problem in the input, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip)]
    pub span: Span,
}

/// The result of parsing one source.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub source: Bytes,
    /// From the export header (`# ... by RouterOS 7.12.1`, `# RouterOS 6.48.3`), if any.
    pub version: Option<Version>,
    pub statements: Vec<Statement>,
    pub diagnostics: Vec<Diagnostic>,
    pub lines: LineIndex,
}

#[derive(Clone, Debug)]
pub struct Statement {
    /// From the first byte of the statement to its end, continuations included.
    pub span: Span,
    pub kind: StatementKind,
}

#[derive(Clone, Debug)]
pub enum StatementKind {
    /// A line that only changes the current menu, e.g. `/ip firewall filter`.
    Menu { path: Arc<str> },
    /// A command in a menu, e.g. `add chain=input action=drop`.
    Command(Command),
    /// Scripting (`:global`, `:if ... do={}`, `{ ... }`), kept whole and not interpreted.
    Script,
    /// A statement the parser could not read; a diagnostic says why.
    Invalid,
}

#[derive(Clone, Debug)]
pub struct Command {
    /// The absolute menu, words separated by one space: `/ip firewall filter`; the root is `/`.
    pub menu: Arc<str>,
    /// The command word: `add`, `set`, `remove`, ...
    pub verb: Arc<str>,
    /// Unnamed (`[find ...]`, `telnet`, `0`) and named (`key=value`) arguments, in order.
    pub args: Vec<Arg>,
}

impl Command {
    /// The first unnamed argument, which selects items for `set`, `remove` and friends.
    pub fn positional(&self, n: usize) -> Option<&Value> {
        self.args
            .iter()
            .filter(|a| a.key.is_none())
            .nth(n)
            .map(|a| &a.value)
    }

    /// The value of a named argument.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.args
            .iter()
            .find(|a| a.key.as_deref() == Some(key.as_bytes()))
            .map(|a| &a.value)
    }
}

#[derive(Clone, Debug)]
pub struct Arg {
    /// `key=value` or just `value`.
    pub span: Span,
    pub key: Option<Bytes>,
    pub value: Value,
}

/// How a value was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ValueKind {
    /// `key=` with nothing after it.
    Empty,
    /// A bare word: `input`, `192.168.0.0/16`, `!ftp,!policy`.
    Bare,
    /// A double-quoted string; the value is its unescaped content.
    Quoted,
    /// Anything computed or compound: `[find ...]`, `$var`, `("a" . $b)`, `{ ... }`. The value is
    /// the source text with continuations removed.
    Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub bytes: Bytes,
    pub span: Span,
    pub kind: ValueKind,
}

impl Value {
    /// A value made by a program rather than read from a source.
    pub fn new(bytes: impl Into<Bytes>) -> Value {
        Value {
            bytes: bytes.into(),
            span: Span::default(),
            kind: ValueKind::Bare,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The value as text, with undecodable bytes replaced (for display only).
    pub fn to_lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// True when the value can be known without running a script.
    pub fn is_literal(&self) -> bool {
        self.kind != ValueKind::Expr
    }
}

/// Commands that end a menu path. A word not listed here continues the path, and when a path has
/// arguments but none of these, its last word is taken as the command (`/tool fetch url=...`).
const VERBS: &[&str] = &[
    "add",
    "set",
    "remove",
    "unset",
    "enable",
    "disable",
    "move",
    "comment",
    "edit",
    "print",
    "export",
    "find",
    "get",
    "reset",
    "reset-counters",
    "reset-counters-all",
    "import",
    "monitor",
    "run",
    "sign",
    "save",
    "load",
    "reboot",
    "shutdown",
    "fetch",
    "ping",
    "upgrade",
    "flush",
    "install",
    "download",
    "send",
    "cancel",
    "make-static",
    "listen",
    "create-certificate",
];

/// Words that begin a scripting statement even without the leading `:`.
const SCRIPT_WORDS: &[&str] = &[
    "global", "local", "if", "foreach", "for", "while", "do", "put", "delay", "execute", "error",
    "return", "parse", "resolve",
];

fn is_segment(w: &[u8]) -> bool {
    !w.is_empty()
        && w.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        && !w.iter().all(|c| c.is_ascii_digit())
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'!')
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0C)
}

/// Parses a whole source. Never fails: problems are in [`Parsed::diagnostics`].
pub fn parse(source: impl Into<Bytes>) -> Parsed {
    let source: Bytes = source.into();
    let lines = LineIndex::new(&source);
    let mut p = Parser {
        src: &source,
        bytes: &source,
        pos: 0,
        lines: &lines,
        diagnostics: Vec::new(),
        statements: Vec::with_capacity(source.len() / 60 + 1),
        interned: HashMap::new(),
        current: Arc::from("/"),
        version: None,
        in_header: true,
        path_buf: String::new(),
        verbs: VERBS.iter().map(|v| Arc::from(*v)).collect(),
        scratch: Vec::with_capacity(64),
    };
    if p.src.starts_with(b"\xEF\xBB\xBF") {
        p.pos = 3;
    }
    p.run();
    let Parser {
        diagnostics,
        statements,
        version,
        ..
    } = p;
    Parsed {
        source: source.clone(),
        version,
        statements,
        diagnostics,
        lines,
    }
}

struct Parser<'a> {
    src: &'a [u8],
    bytes: &'a Bytes,
    pos: usize,
    lines: &'a LineIndex,
    diagnostics: Vec<Diagnostic>,
    statements: Vec<Statement>,
    interned: HashMap<Box<str>, Arc<str>>,
    current: Arc<str>,
    version: Option<Version>,
    in_header: bool,
    path_buf: String,
    /// One shared string per known verb, so commands do not allocate their verb.
    verbs: Vec<Arc<str>>,
    scratch: Vec<Arg>,
}

/// Why a statement could not be read, and where to resume.
struct Broken {
    at: usize,
    message: String,
    resume: usize,
}

#[derive(Clone, Copy)]
enum Seg {
    Bare,
    Quoted,
    Group,
}

impl<'a> Parser<'a> {
    fn diag(&mut self, at: usize, message: impl Into<String>) {
        let lc = self.lines.line_col(self.src, at);
        self.diagnostics.push(Diagnostic {
            line: lc.line,
            column: lc.column,
            message: message.into(),
            span: Span::new(at, at + 1),
        });
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.interned.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.interned.insert(Box::from(s), a.clone());
        a
    }

    fn end_of_line(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.src[from.min(self.src.len())..])
            .map(|i| from + i)
            .unwrap_or(self.src.len())
    }

    fn run(&mut self) {
        let n = self.src.len();
        loop {
            // Skip blank space, empty statements and continuations between statements.
            while self.pos < n {
                let c = self.src[self.pos];
                if is_blank(c) || c == b'\n' || c == b';' {
                    self.pos += 1;
                } else if let Some(j) = continuation_at(self.src, self.pos) {
                    self.pos = j;
                } else {
                    break;
                }
            }
            if self.pos >= n {
                break;
            }
            let c = self.src[self.pos];
            if c == b'#' {
                let end = self.end_of_line(self.pos);
                if self.in_header && self.version.is_none() {
                    self.version = Version::from_header_comment(&self.src[self.pos..end]);
                }
                self.pos = end;
                continue;
            }
            self.in_header = false;
            if c == b'/' && self.src.get(self.pos + 1) == Some(&b'/') {
                self.diag(
                    self.pos,
                    "`//` does not start a comment in RouterOS scripts (use `#`); line ignored",
                );
                let end = self.end_of_line(self.pos);
                let span = Span::new(self.pos, end);
                self.statements.push(Statement {
                    span,
                    kind: StatementKind::Invalid,
                });
                self.pos = end;
                continue;
            }
            self.statement();
        }
    }

    fn statement(&mut self) {
        let start = self.pos;
        let mut args = std::mem::take(&mut self.scratch);
        args.clear();
        let mut end = start;
        let n = self.src.len();
        loop {
            let mut i = self.pos;
            while i < n {
                if is_blank(self.src[i]) {
                    i += 1;
                } else if let Some(j) = continuation_at(self.src, i) {
                    i = j;
                } else {
                    break;
                }
            }
            self.pos = i;
            if i >= n {
                break;
            }
            match self.src[i] {
                b'\n' | b';' => {
                    self.pos = i + 1;
                    break;
                }
                b'#' => {
                    // A comment at the start of a token runs to the end of the line.
                    self.pos = self.end_of_line(i);
                    continue;
                }
                _ => {}
            }
            match self.element() {
                Ok(arg) => {
                    end = arg.span.end as usize;
                    args.push(arg);
                }
                Err(b) => {
                    self.scratch = args;
                    self.diag(b.at, b.message);
                    let resume = b.resume.max(start + 1).min(n);
                    self.statements.push(Statement {
                        span: Span::new(start, resume.max(start)),
                        kind: StatementKind::Invalid,
                    });
                    self.pos = resume;
                    return;
                }
            }
        }
        let span = Span::new(start, end.max(start));
        // An exactly sized copy: statements are many and most have few arguments.
        let mut exact = Vec::with_capacity(args.len());
        exact.append(&mut args);
        self.scratch = args;
        let kind = self.classify(exact);
        self.statements.push(Statement { span, kind });
    }

    /// One argument: `key=value` or a bare value.
    fn element(&mut self) -> Result<Arg, Broken> {
        let start = self.pos;
        let src = self.src;
        // A key is a run of key bytes (continuations allowed inside) directly followed by `=`.
        let mut i = start;
        let mut key_joined = false;
        loop {
            if let Some(j) = continuation_at(src, i) {
                key_joined = true;
                i = j;
                continue;
            }
            match src.get(i) {
                Some(&c) if is_key_byte(c) => i += 1,
                _ => break,
            }
        }
        let key_end = i;
        let eq = skip_continuations(src, i);
        if key_end > start && src.get(eq) == Some(&b'=') && src[start] != b'!' || {
            // `!name=` is an unset marker in verbose exports, not a negated key.
            key_end > start + 1 && src[start] == b'!' && src.get(eq) == Some(&b'=')
        } {
            let key = if key_joined {
                Bytes::from(join_lines(&src[start..key_end]))
            } else {
                self.bytes.slice(start..key_end)
            };
            let value = self.value(eq + 1)?;
            return Ok(Arg {
                span: Span::new(start, value.span.end as usize),
                key: Some(key),
                value,
            });
        }
        let value = self.value(start)?;
        Ok(Arg {
            span: value.span,
            key: None,
            value,
        })
    }

    /// A value starting at `start`, up to the next blank, line break or `;` outside quotes and
    /// brackets.
    fn value(&mut self, start: usize) -> Result<Value, Broken> {
        let src = self.src;
        let n = src.len();
        let mut i = start;
        // How the value is written: the number of segments (bare runs, quoted strings, bracket
        // groups) and the kind of the first decide whether it is a literal or an expression.
        let mut segs = 0u32;
        let mut first: Option<Seg> = None;
        let mut escapes = false;
        let mut joined = false;
        let mut in_bare = false;
        let mut last = start;
        // Where the first quoted string starts and ends: a continuation may come before it
        // (`ssid=\` then `    "..."` on the next line), and is not part of the string.
        let mut first_quoted: Option<(usize, usize)> = None;
        loop {
            if i >= n {
                break;
            }
            let c = src[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' => break,
                b'"' => {
                    in_bare = false;
                    let open = i;
                    i = self.quoted(i)?;
                    first_quoted.get_or_insert((open, i));
                    segs += 1;
                    first.get_or_insert(Seg::Quoted);
                }
                b'[' | b'(' | b'{' => {
                    in_bare = false;
                    i = self.group(i)?;
                    segs += 1;
                    first.get_or_insert(Seg::Group);
                }
                b']' | b')' | b'}' => {
                    return Err(Broken {
                        at: i,
                        message: format!(
                            "unexpected `{}` with no matching opening bracket; statement ignored",
                            c as char
                        ),
                        resume: self.end_of_line(i),
                    });
                }
                b'\\' => {
                    if let Some(j) = continuation_at(src, i) {
                        joined = true;
                        i = j;
                        continue;
                    }
                    if !in_bare {
                        segs += 1;
                        first.get_or_insert(Seg::Bare);
                        in_bare = true;
                    }
                    escapes = true;
                    i += if i + 1 < n { 2 } else { 1 };
                }
                _ => {
                    if !in_bare {
                        segs += 1;
                        first.get_or_insert(Seg::Bare);
                        in_bare = true;
                    }
                    i += 1;
                }
            }
            last = i;
        }
        self.pos = last.max(start);
        let span = Span::new(start, last.max(start));
        let raw = &src[span.range()];
        let (kind, bytes) = match (segs, first) {
            (0, _) => (ValueKind::Empty, Bytes::new()),
            (1, Some(Seg::Bare)) => {
                let bytes = if escapes {
                    Bytes::from(unescape(&join_lines(raw)))
                } else if joined {
                    Bytes::from(join_lines(raw))
                } else {
                    self.bytes.slice(span.range())
                };
                let kind = if raw.first() == Some(&b'$') {
                    ValueKind::Expr
                } else {
                    ValueKind::Bare
                };
                (kind, bytes)
            }
            (1, Some(Seg::Quoted)) => {
                let (open, close) = first_quoted.unwrap_or((span.start as usize, last));
                let inner = &src[open + 1..close - 1];
                let plain = !inner.contains(&b'\\');
                let bytes = if plain {
                    self.bytes.slice(open + 1..close - 1)
                } else {
                    Bytes::from(unescape(&join_lines(inner)))
                };
                (ValueKind::Quoted, bytes)
            }
            _ => (
                ValueKind::Expr,
                if joined || raw.contains(&b'\\') {
                    Bytes::from(join_lines(raw))
                } else {
                    self.bytes.slice(span.range())
                },
            ),
        };
        Ok(Value { bytes, span, kind })
    }

    /// A quoted string starting at the `"` at `start`; returns the offset after the closing quote.
    fn quoted(&self, start: usize) -> Result<usize, Broken> {
        let src = self.src;
        let mut i = start + 1;
        loop {
            let Some(off) = memchr::memchr3(b'"', b'\\', b'\n', &src[i..]) else {
                return Err(Broken {
                    at: start,
                    message: "unterminated string (no closing `\"` before the end of input); statement ignored"
                        .into(),
                    resume: src.len(),
                });
            };
            i += off;
            match src[i] {
                b'"' => return Ok(i + 1),
                b'\\' => {
                    if let Some(j) = continuation_at(src, i) {
                        i = j;
                    } else {
                        i = (i + 2).min(src.len());
                    }
                }
                _ => {
                    return Err(Broken {
                        at: start,
                        message: "unterminated string (a line break before the closing `\"`); statement ignored"
                            .into(),
                        resume: i,
                    })
                }
            }
        }
    }

    /// A bracketed group (`[...]`, `(...)`, `{...}`), which may span lines; returns the offset
    /// after its closing bracket. Quotes inside are honoured, and so are `#` comments in blocks.
    fn group(&self, start: usize) -> Result<usize, Broken> {
        let src = self.src;
        let n = src.len();
        let mut stack: Vec<u8> = vec![closer(src[start])];
        let mut i = start + 1;
        let mut token_start = true;
        loop {
            if let Some(j) = continuation_at(src, i) {
                i = j;
                continue;
            }
            if i >= n {
                let lc = self.lines.line_col(src, start);
                return Err(Broken {
                    at: start,
                    message: format!(
                        "`{}` opened at line {} column {} is never closed; statement ignored",
                        src[start] as char, lc.line, lc.column
                    ),
                    resume: self.end_of_line(start),
                });
            }
            let c = src[i];
            match c {
                b'"' => {
                    i = self.quoted(i).map_err(|b| Broken {
                        resume: self.end_of_line(b.at),
                        ..b
                    })?;
                }
                b'[' | b'(' | b'{' => {
                    stack.push(closer(c));
                    i += 1;
                }
                b']' | b')' | b'}' => {
                    if stack.last() == Some(&c) {
                        stack.pop();
                        i += 1;
                        if stack.is_empty() {
                            return Ok(i);
                        }
                    } else {
                        return Err(Broken {
                            at: i,
                            message: format!(
                                "`{}` does not match the open `{}`; statement ignored",
                                c as char,
                                opener(*stack.last().unwrap_or(&b')'))
                            ),
                            resume: self.end_of_line(i),
                        });
                    }
                }
                b'#' if token_start => {
                    i = self.end_of_line(i);
                }
                b'\\' => i = (i + 2).min(n),
                _ => i += 1,
            }
            token_start = matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'{' | b';');
        }
    }

    fn classify(&mut self, mut args: Vec<Arg>) -> StatementKind {
        let Some(first) = args.first() else {
            return StatementKind::Invalid;
        };
        if first.key.is_none() {
            let v = &first.value;
            let b = v.as_bytes();
            let scripted = match v.kind {
                ValueKind::Expr => true,
                ValueKind::Bare => {
                    b.first() == Some(&b':')
                        || std::str::from_utf8(b).is_ok_and(|w| SCRIPT_WORDS.contains(&w))
                }
                _ => false,
            };
            if scripted {
                return StatementKind::Script;
            }
        }
        let absolute = first.key.is_none()
            && first.value.kind == ValueKind::Bare
            && first.value.bytes.first() == Some(&b'/');

        // Fast path, most lines of a sectioned export: `add ...` / `set ...` in the current menu.
        if !absolute && first.key.is_none() && first.value.kind == ValueKind::Bare {
            if let Some(v) = verb_index(&first.value.bytes) {
                args.remove(0);
                return StatementKind::Command(Command {
                    menu: self.current.clone(),
                    verb: self.verbs[v].clone(),
                    args,
                });
            }
        }

        // The menu path: an absolute first word (`/ip`, `/ip/firewall/filter/add`) or the current
        // menu, then plain words until the command. Built in canonical form in `path_buf`:
        // `/ip firewall filter`, the root is `/`.
        let mut path = std::mem::take(&mut self.path_buf);
        path.clear();
        path.push_str(if absolute { "/" } else { &self.current });
        let push = |path: &mut String, seg: &[u8]| {
            if path.len() > 1 {
                path.push(' ');
            }
            path.push_str(std::str::from_utf8(seg).unwrap_or("?"));
        };
        let pop = |path: &mut String| {
            let cut = path.rfind(' ').unwrap_or(1);
            path.truncate(cut.max(1));
        };
        let mut verb: Option<Arc<str>> = None;
        let mut used = 0;
        let mut last_word: Option<(usize, usize)> = None;
        let mut bad: Option<(usize, String)> = None;
        if absolute {
            used = 1;
            let word = &first.value.bytes[..];
            let count = word.split(|&c| c == b'/').filter(|s| !s.is_empty()).count();
            for (k, seg) in word
                .split(|&c| c == b'/')
                .filter(|s| !s.is_empty())
                .enumerate()
            {
                if seg == b".." {
                    pop(&mut path);
                } else if !is_segment(seg) {
                    bad = Some((
                        first.span.start as usize,
                        format!(
                            "`{}` is not a menu path",
                            String::from_utf8_lossy(word).trim()
                        ),
                    ));
                    break;
                } else if let Some(v) =
                    verb_index(seg).filter(|_| k + 1 == count && !continues_path(&path, seg))
                {
                    verb = Some(self.verbs[v].clone());
                } else {
                    let before = path.len();
                    push(&mut path, seg);
                    last_word = Some((before, path.len()));
                }
            }
        }
        if bad.is_none() && verb.is_none() {
            for arg in &args[used..] {
                if arg.key.is_some() || arg.value.kind != ValueKind::Bare {
                    break;
                }
                let w = &arg.value.bytes[..];
                if w == b".." {
                    pop(&mut path);
                    used += 1;
                    continue;
                }
                if !is_segment(w) {
                    if used == 0 {
                        bad = Some((
                            arg.span.start as usize,
                            format!(
                                "expected a menu path or a command, found `{}`",
                                String::from_utf8_lossy(w)
                            ),
                        ));
                    }
                    break;
                }
                used += 1;
                if let Some(v) = verb_index(w).filter(|_| !continues_path(&path, w)) {
                    verb = Some(self.verbs[v].clone());
                    break;
                }
                let before = path.len();
                push(&mut path, w);
                last_word = Some((before, path.len()));
            }
        }
        if let Some((at, msg)) = bad {
            self.path_buf = path;
            self.diag(at, format!("{msg}; statement ignored"));
            return StatementKind::Invalid;
        }
        if verb.is_none() && used < args.len() {
            let Some((before, after)) = last_word else {
                self.path_buf = path;
                let a = &args[used];
                self.diag(
                    a.span.start as usize,
                    format!(
                        "expected a command before `{}`; statement ignored",
                        String::from_utf8_lossy(&self.src[a.span.range()])
                    ),
                );
                return StatementKind::Invalid;
            };
            // `/tool fetch url=...`: the last path word is the command.
            let word = path[before..after].trim_start().to_string();
            path.truncate(before.max(1));
            verb = Some(self.intern(&word));
        }
        let menu = if *path == *self.current {
            self.current.clone()
        } else {
            self.intern(&path)
        };
        self.path_buf = path;
        match verb {
            None => {
                self.current = menu.clone();
                StatementKind::Menu { path: menu }
            }
            Some(verb) => {
                args.drain(..used);
                StatementKind::Command(Command { menu, verb, args })
            }
        }
    }
}

/// Menus whose name is a command word: `/tool mac-server ping` (MAC ping settings) and
/// `/system upgrade` (v6 `/system upgrade mirror`, `upgrade-package-source`), as exports write
/// them on a line of their own (RouterOS' command tree, `/console/inspect`, 7.9 to 7.24). After
/// these paths the word continues the path instead of ending it.
const MENU_NAMED_LIKE_A_COMMAND: &[(&str, &[u8])] =
    &[("/tool mac-server", b"ping"), ("/system", b"upgrade")];

fn continues_path(path: &str, w: &[u8]) -> bool {
    MENU_NAMED_LIKE_A_COMMAND
        .iter()
        .any(|(p, word)| *p == path && *word == w)
}

fn verb_index(w: &[u8]) -> Option<usize> {
    VERBS.iter().position(|v| v.as_bytes() == w)
}

fn closer(open: u8) -> u8 {
    match open {
        b'[' => b']',
        b'(' => b')',
        _ => b'}',
    }
}

fn opener(close: u8) -> char {
    match close {
        b']' => '[',
        b')' => '(',
        _ => '{',
    }
}
