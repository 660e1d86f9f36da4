//! Server-side framing: read request sentences from a client and write replies, over any async
//! stream. The emulator and the proxy build on this; it decides nothing about commands.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::sentence::Reply;
use crate::wire::{encode_sentence, Decoder, Limits, Sentence, WireError};

/// One client connection, as a server sees it.
pub struct Connection<S> {
    stream: S,
    decoder: Decoder,
    buf: Vec<u8>,
    out: Vec<u8>,
}

/// What ended a connection.
#[derive(Debug)]
pub enum ConnError {
    Io(std::io::Error),
    Wire(WireError),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Wire(e) => write!(f, "{e}"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, limits: Limits) -> Connection<S> {
        Connection {
            stream,
            decoder: Decoder::new(limits),
            buf: vec![0; 64 * 1024],
            out: Vec::with_capacity(64 * 1024),
        }
    }

    /// The next sentence, or `Ok(None)` when the client closed the connection cleanly.
    pub async fn read_sentence(&mut self) -> Result<Option<Sentence>, ConnError> {
        loop {
            if let Some(s) = self.decoder.next_sentence().map_err(ConnError::Wire)? {
                return Ok(Some(s));
            }
            let n = self
                .stream
                .read(&mut self.buf)
                .await
                .map_err(ConnError::Io)?;
            if n == 0 {
                return Ok(None);
            }
            self.decoder.feed(&self.buf[..n]);
        }
    }

    /// Whether a complete sentence is already buffered (to batch replies before flushing).
    pub fn has_buffered_sentence(&self) -> bool {
        self.decoder.has_complete_sentence()
    }

    /// Queues a reply; [`Connection::flush`] sends what is queued.
    pub fn queue(&mut self, reply: &Reply) {
        self.out.extend(encode_sentence(&reply.to_words()));
    }

    /// Queues raw words.
    pub fn queue_words<W: AsRef<[u8]>>(&mut self, words: &[W]) {
        self.out.extend(encode_sentence(words));
    }

    pub async fn flush(&mut self) -> Result<(), ConnError> {
        if !self.out.is_empty() {
            self.stream
                .write_all(&self.out)
                .await
                .map_err(ConnError::Io)?;
            self.out.clear();
        }
        self.stream.flush().await.map_err(ConnError::Io)
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}
