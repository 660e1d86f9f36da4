//! The RouterOS API wire format, bytes in and bytes out, with no I/O.
//!
//! A *word* is a length prefix and that many bytes; a *sentence* is words ended by an empty word.
//! The length prefix has five forms (MikroTik's API manual):
//!
//! | length | bytes | encoding |
//! |---|---|---|
//! | < 0x80 | 1 | `len` |
//! | < 0x4000 | 2 | `len \| 0x8000` |
//! | < 0x200000 | 3 | `len \| 0xC00000` |
//! | < 0x10000000 | 4 | `len \| 0xE0000000` |
//! | otherwise | 5 | `0xF0` then `len` as 4 bytes |
//!
//! A first byte of `0xF8` or above is a control byte, which the API never sends: it is rejected.
//! Words are bytes, not text. [`Decoder`] works incrementally: bytes may arrive split anywhere,
//! and limits on word and sentence size turn a hostile length into an error instead of an
//! allocation.

use std::fmt;

use bytes::{Bytes, BytesMut};

/// Appends the length prefix for `len` to `out`.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    let l = len as u64;
    if l < 0x80 {
        out.push(l as u8);
    } else if l < 0x4000 {
        out.extend_from_slice(&((l as u16) | 0x8000).to_be_bytes());
    } else if l < 0x20_0000 {
        let v = (l as u32) | 0xC0_0000;
        out.extend_from_slice(&v.to_be_bytes()[1..]);
    } else if l < 0x1000_0000 {
        out.extend_from_slice(&((l as u32) | 0xE000_0000).to_be_bytes());
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(l as u32).to_be_bytes());
    }
}

/// Reads a length prefix: `Ok(None)` when more bytes are needed, else the length and how many
/// bytes the prefix took.
pub fn decode_len(buf: &[u8]) -> Result<Option<(usize, usize)>, WireError> {
    let Some(&b0) = buf.first() else {
        return Ok(None);
    };
    let (n, first) = match b0 {
        0x00..=0x7F => return Ok(Some((b0 as usize, 1))),
        0x80..=0xBF => (2, (b0 & 0x3F) as u64),
        0xC0..=0xDF => (3, (b0 & 0x1F) as u64),
        0xE0..=0xEF => (4, (b0 & 0x0F) as u64),
        0xF0 => (5, 0),
        _ => return Err(WireError::ControlByte(b0)),
    };
    if buf.len() < n {
        return Ok(None);
    }
    let mut v = first;
    for &b in &buf[1..n] {
        v = (v << 8) | b as u64;
    }
    Ok(Some((v as usize, n)))
}

/// Appends one word.
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    encode_len(word.len(), out);
    out.extend_from_slice(word);
}

/// Encodes a sentence: its words, then the empty word.
pub fn encode_sentence<W: AsRef<[u8]>>(words: &[W]) -> Vec<u8> {
    let mut out = Vec::with_capacity(words.iter().map(|w| w.as_ref().len() + 2).sum::<usize>() + 1);
    for w in words {
        encode_word(w.as_ref(), &mut out);
    }
    out.push(0);
    out
}

/// Why bytes could not be decoded. Any of these ends a connection: the stream is out of step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// A first byte of 0xF8 or more: reserved for control, never sent by the API.
    ControlByte(u8),
    /// A word longer than the configured limit.
    WordTooLong { len: usize, max: usize },
    /// A sentence longer (in bytes, or in words) than the configured limit.
    SentenceTooLong { max: usize },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::ControlByte(b) => {
                write!(f, "control byte 0x{b:02X} where a word length was expected")
            }
            WireError::WordTooLong { len, max } => {
                write!(f, "word of {len} bytes exceeds the limit of {max}")
            }
            WireError::SentenceTooLong { max } => {
                write!(f, "sentence exceeds the limit of {max} bytes or words")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Size limits for decoding.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest word accepted, in bytes.
    pub max_word: usize,
    /// Longest sentence accepted, in bytes of words (prefixes excluded).
    pub max_sentence: usize,
    /// Most words in one sentence.
    pub max_words: usize,
}

impl Default for Limits {
    /// 16 MiB words and sentences, 65,536 words: far above what RouterOS sends (a script
    /// source is the largest value), far below what a hostile peer could make us allocate.
    fn default() -> Limits {
        Limits {
            max_word: 16 << 20,
            max_sentence: 16 << 20,
            max_words: 65_536,
        }
    }
}

/// A decoded sentence: one shared buffer and the word boundaries in it, so decoding allocates
/// once per sentence however many words it has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sentence {
    data: Bytes,
    spans: Vec<(u32, u32)>,
}

impl Sentence {
    /// A sentence made of the given words (for tests and for building replies).
    pub fn from_words<W: AsRef<[u8]>>(words: &[W]) -> Sentence {
        let mut data = Vec::new();
        let mut spans = Vec::with_capacity(words.len());
        for w in words {
            let start = data.len() as u32;
            data.extend_from_slice(w.as_ref());
            spans.push((start, data.len() as u32));
        }
        Sentence {
            data: Bytes::from(data),
            spans,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Word `i` as bytes.
    pub fn word(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.data[a as usize..b as usize]
    }

    /// Word `i` as a shared slice of the sentence's buffer.
    pub fn word_bytes(&self, i: usize) -> Bytes {
        let (a, b) = self.spans[i];
        self.data.slice(a as usize..b as usize)
    }

    /// A part of word `i` (which must lie inside it) as a shared slice.
    pub fn slice_ref(&self, part: &[u8]) -> Bytes {
        self.data.slice_ref(part)
    }

    pub fn words(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans
            .iter()
            .map(|&(a, b)| &self.data[a as usize..b as usize])
    }
}

/// The most the decoder reserves ahead of the bytes it has.
const RESERVE_AHEAD: usize = 64 * 1024;

/// An incremental sentence decoder: feed bytes as they arrive, take sentences when complete.
///
/// It scans word lengths in place, remembering how far it got, and when the closing empty word
/// arrives it splits the whole sentence off the buffer once; words are slices of that one
/// shared allocation.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: BytesMut,
    limits: Limits,
    /// Where the scan of the sentence being read stopped, and its words so far.
    scan: usize,
    spans: Vec<(u32, u32)>,
    size: usize,
}

impl Decoder {
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            buf: BytesMut::with_capacity(8192),
            limits,
            scan: 0,
            spans: Vec::with_capacity(16),
            size: 0,
        }
    }

    /// Adds received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Mutable access to the buffer, for reading straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Changes the limits for what is decoded from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Bytes the receive buffer has allocated.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes received but not yet part of a returned sentence.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Whether a whole sentence is buffered, so that [`Decoder::next_sentence`] would return one
    /// without more input (a server uses this to batch replies to pipelined commands).
    pub fn has_complete_sentence(&self) -> bool {
        let mut i = self.scan;
        while let Ok(Some((len, n))) = decode_len(&self.buf[i.min(self.buf.len())..]) {
            if len == 0 {
                return true;
            }
            i += n + len;
            if i > self.buf.len() {
                return false;
            }
        }
        false
    }

    /// The next complete sentence, `Ok(None)` if more bytes are needed.
    pub fn next_sentence(&mut self) -> Result<Option<Sentence>, WireError> {
        loop {
            let Some((len, n)) = decode_len(&self.buf[self.scan..])? else {
                return Ok(None);
            };
            if len > self.limits.max_word {
                return Err(WireError::WordTooLong {
                    len,
                    max: self.limits.max_word,
                });
            }
            if self.size + len > self.limits.max_sentence
                || self.spans.len() >= self.limits.max_words
            {
                return Err(WireError::SentenceTooLong {
                    max: self.limits.max_sentence.min(self.limits.max_words),
                });
            }
            let start = self.scan + n;
            if self.buf.len() < start + len {
                // Reserve ahead for the word, but never more than 64 KiB on the strength of a
                // length prefix alone: five bytes from a peer must not buy megabytes.
                self.buf
                    .reserve((start + len - self.buf.len()).min(RESERVE_AHEAD));
                return Ok(None);
            }
            self.scan = start + len;
            if len == 0 {
                let data = self.buf.split_to(self.scan).freeze();
                let spans = self.spans.clone();
                self.spans.clear();
                self.scan = 0;
                self.size = 0;
                return Ok(Some(Sentence { data, spans }));
            }
            self.size += len;
            self.spans.push((start as u32, (start + len) as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_rejected() {
        for b in 0xF8..=0xFFu8 {
            assert_eq!(decode_len(&[b, 0, 0, 0, 0]), Err(WireError::ControlByte(b)));
        }
    }

    #[test]
    fn limits_turn_huge_lengths_into_errors() {
        let mut d = Decoder::new(Limits {
            max_word: 100,
            max_sentence: 150,
            max_words: 10,
        });
        d.feed(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(matches!(
            d.next_sentence(),
            Err(WireError::WordTooLong { .. })
        ));
        let mut d = Decoder::new(Limits {
            max_word: 100,
            max_sentence: 150,
            max_words: 10,
        });
        let w = vec![b'x'; 90];
        d.feed(&encode_sentence(&[&w, &w]));
        assert!(matches!(
            d.next_sentence(),
            Err(WireError::SentenceTooLong { .. })
        ));
    }
}
