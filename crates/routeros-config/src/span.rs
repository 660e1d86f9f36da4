//! Byte spans into the source and their translation to line and column.
//!
//! Everything the parser produces points back into the original bytes, so a finding can quote the
//! exact text it is about. Lines and columns are computed on demand from a table of line starts;
//! they are 1-based, and a column counts characters (UTF-8 lead bytes), not bytes, because that is
//! what an editor shows.

use serde::Serialize;

/// A half-open byte range `start..end` into a source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Where each line starts, for turning byte offsets into line and column.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(src: &[u8]) -> LineIndex {
        let mut starts = Vec::with_capacity(src.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', src).map(|i| (i + 1) as u32));
        LineIndex { starts }
    }

    /// Number of lines (a final line without a newline counts).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// Line and column of a byte offset.
    pub fn line_col(&self, src: &[u8], offset: usize) -> LineCol {
        let offset = offset.min(src.len());
        let line = match self.starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line] as usize;
        let column = 1 + src[start..offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// The byte range of the given 1-based line, without its line ending.
    pub fn line_range(&self, src: &[u8], line: usize) -> std::ops::Range<usize> {
        let i = line.saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[i] as usize;
        let mut end = self
            .starts
            .get(i + 1)
            .map(|&s| s as usize - 1)
            .unwrap_or(src.len());
        if end > start && src[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = "a\nжx=1\n".as_bytes();
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(src, 0), LineCol { line: 1, column: 1 });
        // 'x' follows a two-byte character on line 2.
        let x = src.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(idx.line_col(src, x), LineCol { line: 2, column: 2 });
        assert_eq!(idx.lines(), 3);
    }

    #[test]
    fn line_range_strips_crlf() {
        let src = b"one\r\ntwo";
        let idx = LineIndex::new(src);
        assert_eq!(&src[idx.line_range(src, 1)], b"one");
        assert_eq!(&src[idx.line_range(src, 2)], b"two");
    }
}
