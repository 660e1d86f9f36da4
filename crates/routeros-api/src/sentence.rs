//! Typed views over sentences: what a client sends ([`Request`]) and what a router answers
//! ([`Reply`]), plus the `?` query builder ([`Query`]).
//!
//! Words keep their bytes; names are compared as bytes. An attribute word is `=name=value`
//! (the value may contain `=` or be empty), an API attribute is `.name=value` (`.tag`), a query
//! word starts with `?`.

use bytes::Bytes;

use crate::wire::Sentence;

/// Splits `=name=value` into name and value.
pub fn split_attr(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = word.strip_prefix(b"=")?;
    match memchr::memchr(b'=', rest) {
        Some(i) => Some((&rest[..i], &rest[i + 1..])),
        // `=name` with no value: RouterOS reads it as an empty value.
        None => Some((rest, &[][..])),
    }
}

/// Splits `.name=value` into name and value.
pub fn split_api_attr(word: &[u8]) -> Option<(&[u8], &[u8])> {
    if word.first() != Some(&b'.') {
        return None;
    }
    let i = memchr::memchr(b'=', word)?;
    Some((&word[1..i], &word[i + 1..]))
}

/// A reply sentence's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// `!re`: one item of data.
    Re,
    /// `!done`: the command finished (may carry `=ret=`).
    Done,
    /// `!trap`: the command failed.
    Trap,
    /// `!fatal`: the router closes the connection.
    Fatal,
    /// `!empty`: a print that found nothing (RouterOS 7.18 and later).
    Empty,
}

/// A parsed reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub tag: Option<Bytes>,
    /// `=name=value` words, in order.
    pub attrs: Vec<(Bytes, Bytes)>,
    /// For `!fatal`: the bare reason word.
    pub reason: Option<Bytes>,
}

/// Why a sentence is not a valid reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAReply(pub String);

impl std::fmt::Display for NotAReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAReply {}

impl Reply {
    /// A reply to send (servers: the emulator, the proxy), with `=name=value` attributes.
    pub fn new<V: Into<Bytes>>(
        kind: ReplyKind,
        tag: &Option<Bytes>,
        attrs: Vec<(&str, V)>,
    ) -> Reply {
        Reply {
            kind,
            tag: tag.clone(),
            attrs: attrs
                .into_iter()
                .map(|(k, v)| (Bytes::copy_from_slice(k.as_bytes()), v.into()))
                .collect(),
            reason: None,
        }
    }

    /// How RouterOS ends a failed command: `!trap` (with `=category=` when given, and
    /// `=message=`), then `!done`, both under the command's tag.
    pub fn trap(tag: &Option<Bytes>, category: Option<u8>, message: &str) -> Vec<Reply> {
        let mut attrs: Vec<(&str, Vec<u8>)> = Vec::new();
        if let Some(c) = category {
            attrs.push(("category", c.to_string().into_bytes()));
        }
        attrs.push(("message", message.as_bytes().to_vec()));
        vec![
            Reply::new(ReplyKind::Trap, tag, attrs),
            Reply::new(ReplyKind::Done, tag, Vec::<(&str, Vec<u8>)>::new()),
        ]
    }

    pub fn parse(words: &Sentence) -> Result<Reply, NotAReply> {
        if words.is_empty() {
            return Err(NotAReply("empty sentence".into()));
        }
        let kind = match words.word(0) {
            b"!re" => ReplyKind::Re,
            b"!done" => ReplyKind::Done,
            b"!trap" => ReplyKind::Trap,
            b"!fatal" => ReplyKind::Fatal,
            b"!empty" => ReplyKind::Empty,
            other => {
                return Err(NotAReply(format!(
                    "unknown reply word `{}`",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        let mut r = Reply {
            kind,
            tag: None,
            attrs: Vec::new(),
            reason: None,
        };
        for i in 1..words.len() {
            let w = words.word(i);
            if let Some((k, v)) = split_attr(w) {
                r.attrs.push((words.slice_ref(k), words.slice_ref(v)));
            } else if let Some((k, v)) = split_api_attr(w) {
                if k == b"tag" {
                    r.tag = Some(words.slice_ref(v));
                }
            } else if kind == ReplyKind::Fatal {
                r.reason = Some(words.word_bytes(i));
            }
        }
        Ok(r)
    }

    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// `=ret=` of a `!done`.
    pub fn ret(&self) -> Option<&Bytes> {
        self.get("ret")
    }

    /// `=message=` of a `!trap`.
    pub fn message(&self) -> Option<String> {
        self.get("message")
            .map(|m| String::from_utf8_lossy(m).into_owned())
    }

    /// `=category=` of a `!trap` (0 missing item or command, 1 bad argument, 2 interrupted,
    /// 3 scripting, 4 general, 5 API, 6 TTY, 7 `:return`).
    pub fn category(&self) -> Option<u8> {
        self.get("category")
            .and_then(|c| std::str::from_utf8(c).ok()?.parse().ok())
    }

    /// Appends this reply's encoded sentence to `out`, without building its words first.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        use crate::wire::{encode_len, encode_word};
        encode_word(
            match self.kind {
                ReplyKind::Re => b"!re",
                ReplyKind::Done => b"!done",
                ReplyKind::Trap => b"!trap",
                ReplyKind::Fatal => b"!fatal",
                ReplyKind::Empty => b"!empty",
            },
            out,
        );
        if let Some(r) = &self.reason {
            encode_word(r, out);
        }
        if let Some(t) = &self.tag {
            encode_len(5 + t.len(), out);
            out.extend_from_slice(b".tag=");
            out.extend_from_slice(t);
        }
        for (k, v) in &self.attrs {
            encode_len(2 + k.len() + v.len(), out);
            out.push(b'=');
            out.extend_from_slice(k);
            out.push(b'=');
            out.extend_from_slice(v);
        }
        out.push(0);
    }

    /// The words of this reply, for sending it.
    pub fn to_words(&self) -> Vec<Vec<u8>> {
        let mut out = vec![match self.kind {
            ReplyKind::Re => b"!re".to_vec(),
            ReplyKind::Done => b"!done".to_vec(),
            ReplyKind::Trap => b"!trap".to_vec(),
            ReplyKind::Fatal => b"!fatal".to_vec(),
            ReplyKind::Empty => b"!empty".to_vec(),
        }];
        if let Some(r) = &self.reason {
            out.push(r.to_vec());
        }
        if let Some(t) = &self.tag {
            out.push([&b".tag="[..], t].concat());
        }
        for (k, v) in &self.attrs {
            out.push([&b"="[..], k, b"=", v].concat());
        }
        out
    }
}

/// A parsed request (command sentence).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `/ip/address/print`, `/login`, `/cancel`.
    pub command: Bytes,
    pub attrs: Vec<(Bytes, Bytes)>,
    pub tag: Option<Bytes>,
    /// `?...` words, in order.
    pub queries: Vec<Bytes>,
}

impl Request {
    pub fn parse(words: &Sentence) -> Result<Request, NotAReply> {
        if words.is_empty() {
            return Err(NotAReply("empty sentence".into()));
        }
        let first = words.word(0);
        if first.first() != Some(&b'/') {
            return Err(NotAReply(format!(
                "a command starts with `/`, not `{}`",
                String::from_utf8_lossy(first)
            )));
        }
        let mut r = Request {
            command: words.word_bytes(0),
            ..Request::default()
        };
        for i in 1..words.len() {
            let w = words.word(i);
            if let Some((k, v)) = split_attr(w) {
                r.attrs.push((words.slice_ref(k), words.slice_ref(v)));
            } else if let Some((k, v)) = split_api_attr(w) {
                if k == b"tag" {
                    r.tag = Some(words.slice_ref(v));
                }
            } else if w.first() == Some(&b'?') {
                r.queries.push(words.word_bytes(i));
            } else {
                return Err(NotAReply(format!(
                    "unexpected word `{}`",
                    String::from_utf8_lossy(w)
                )));
            }
        }
        Ok(r)
    }

    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v)
    }
}

/// Builds `?` query words for `print`, in RouterOS' stack semantics.
///
/// ```
/// use routeros_api::Query;
/// let q = Query::new().eq("type", "ether").eq("type", "vlan").or();
/// assert_eq!(q.words(), ["?type=ether", "?type=vlan", "?#|"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }
    /// Items that have the property.
    pub fn has(mut self, name: &str) -> Query {
        self.words.push(format!("?{name}"));
        self
    }
    /// Items that lack it.
    pub fn lacks(mut self, name: &str) -> Query {
        self.words.push(format!("?-{name}"));
        self
    }
    pub fn eq(mut self, name: &str, value: &str) -> Query {
        self.words.push(format!("?{name}={value}"));
        self
    }
    pub fn lt(mut self, name: &str, value: &str) -> Query {
        self.words.push(format!("?<{name}={value}"));
        self
    }
    pub fn gt(mut self, name: &str, value: &str) -> Query {
        self.words.push(format!("?>{name}={value}"));
        self
    }
    /// Negates the top of the stack.
    pub fn negate(mut self) -> Query {
        self.words.push("?#!".into());
        self
    }
    /// Replaces the two top values by their conjunction.
    pub fn and(mut self) -> Query {
        self.words.push("?#&".into());
        self
    }
    /// Replaces the two top values by their disjunction.
    pub fn or(mut self) -> Query {
        self.words.push("?#|".into());
        self
    }
    /// Any other `?#` operation string (`"|."`, `"0"`).
    pub fn ops(mut self, ops: &str) -> Query {
        self.words.push(format!("?#{ops}"));
        self
    }
    pub fn words(&self) -> &[String] {
        &self.words
    }
}
