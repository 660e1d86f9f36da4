//! Server-side framing: read request sentences from a client and write replies, over any async
//! stream, within bounded memory. The emulator and the proxy build on this; it decides nothing
//! about commands.
//!
//! What bounds a connection:
//! - [`Limits`] on words and sentences, small before login ([`ServerLimits::before_login`]) and
//!   raised once the session is authenticated ([`Connection::set_limits`]);
//! - a shared [`Budget`]: every byte a connection holds (its receive buffer's capacity and its
//!   queued replies) is charged to it, and a connection that would take the budget past its cap
//!   ends with [`ConnError::Budget`], alone: the others keep what they hold;
//! - replies are flushed once [`ServerLimits::out_high_water`] bytes are queued, and a write the
//!   client does not drain within [`ServerLimits::write_timeout`] ends the connection with
//!   [`ConnError::Stalled`]. While a write waits, the connection reads nothing more from its
//!   client: a client that does not read its replies stops being read (backpressure).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::sentence::Reply;
use crate::wire::{Decoder, Limits, Sentence, WireError};

/// A memory budget shared by the connections of one server.
#[derive(Debug)]
pub struct Budget {
    cap: usize,
    used: AtomicUsize,
}

/// Bytes charged to a [`Budget`] by [`Budget::try_hold`], given back on drop.
#[derive(Debug)]
pub struct Hold {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.budget.shrink(self.bytes);
    }
}

impl Budget {
    pub fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            cap,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Charges `bytes` held outside any connection's buffers (a request being processed)
    /// until the returned [`Hold`] is dropped; `None` when that would pass the cap.
    pub fn try_hold(self: &Arc<Self>, bytes: usize) -> Option<Hold> {
        self.try_grow(bytes).then(|| Hold {
            budget: self.clone(),
            bytes,
        })
    }

    fn try_grow(&self, by: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(by).filter(|n| *n <= self.cap)
            })
            .is_ok()
    }

    fn shrink(&self, by: usize) {
        self.used.fetch_sub(by, Ordering::AcqRel);
    }
}

/// How a server bounds its connections.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Word and sentence limits until the client has logged in.
    pub before_login: Limits,
    /// Word and sentence limits once logged in.
    pub after_login: Limits,
    /// Most sentences a client may send before it has logged in.
    pub sentences_before_login: usize,
    /// Time from connection to a successful login.
    pub login_timeout: Duration,
    /// Time a queued reply may wait for the client to read it.
    pub write_timeout: Duration,
    /// Queued reply bytes that trigger a flush even while requests are pipelined.
    pub out_high_water: usize,
    /// Replies a `listen` may have waiting for its session before the session is ended.
    pub listen_queue: usize,
}

impl Default for ServerLimits {
    /// Before login: words up to 4 KiB, sentences up to 8 KiB and 16 words, 8 sentences, 20 s.
    /// RouterOS' manual says only that sentence size and count are limited before login; a login
    /// sentence (`/login`, `=name=`, `=password=`, `.tag=`) fits well within these. After login,
    /// [`Limits::default`] (16 MiB, what a script source may need), replies flushed every
    /// 64 KiB, a client that leaves them unread for 30 s disconnected.
    fn default() -> ServerLimits {
        ServerLimits {
            before_login: Limits {
                max_word: 4096,
                max_sentence: 8192,
                max_words: 16,
            },
            after_login: Limits::default(),
            sentences_before_login: 8,
            login_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(30),
            out_high_water: 64 * 1024,
            listen_queue: 1024,
        }
    }
}

/// One client connection, as a server sees it.
pub struct Connection<S> {
    stream: S,
    decoder: Decoder,
    buf: Vec<u8>,
    out: Vec<u8>,
    budget: Arc<Budget>,
    charged: usize,
    write_timeout: Duration,
    out_high_water: usize,
    /// Sentences still allowed before login ([`ServerLimits::sentences_before_login`]);
    /// `None` once logged in.
    before_login_left: Option<usize>,
}

/// What ended a connection.
#[derive(Debug)]
pub enum ConnError {
    Io(std::io::Error),
    Wire(WireError),
    /// Holding more would take the server past its memory budget.
    Budget {
        held: usize,
        cap: usize,
    },
    /// The client left replies unread for longer than the write timeout.
    Stalled,
    /// The client sent more sentences than allowed before logging in.
    TooManyBeforeLogin,
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Wire(e) => write!(f, "{e}"),
            ConnError::Budget { held, cap } => write!(
                f,
                "connection holds {held} bytes and the server's memory budget of {cap} bytes is spent"
            ),
            ConnError::Stalled => write!(f, "client did not read its replies"),
            ConnError::TooManyBeforeLogin => {
                write!(f, "client sent too many sentences before logging in")
            }
        }
    }
}

impl std::error::Error for ConnError {}

/// Read size: small, so that an idle connection holds little.
const READ_CHUNK: usize = 16 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, limits: &ServerLimits, budget: Arc<Budget>) -> Connection<S> {
        Connection {
            stream,
            decoder: Decoder::new(limits.before_login),
            buf: vec![0; READ_CHUNK],
            out: Vec::new(),
            budget,
            charged: 0,
            write_timeout: limits.write_timeout,
            out_high_water: limits.out_high_water,
            before_login_left: Some(limits.sentences_before_login),
        }
    }

    /// The client has logged in: these word and sentence limits apply from now on, and the
    /// count of sentences before login no longer does.
    pub fn set_limits(&mut self, limits: Limits) {
        self.decoder.set_limits(limits);
        self.before_login_left = None;
    }

    /// Bytes this connection holds, as charged to the budget.
    pub fn held(&self) -> usize {
        self.charged
    }

    /// Charges what the connection holds now to the budget.
    fn charge(&mut self) -> Result<(), ConnError> {
        let held = self.buf.capacity() + self.decoder.capacity() + self.out.capacity();
        if held == self.charged {
            return Ok(());
        }
        if held > self.charged {
            if !self.budget.try_grow(held - self.charged) {
                return Err(ConnError::Budget {
                    held,
                    cap: self.budget.cap(),
                });
            }
        } else {
            self.budget.shrink(self.charged - held);
        }
        self.charged = held;
        Ok(())
    }

    /// The next sentence, or `Ok(None)` when the client closed the connection cleanly.
    pub async fn read_sentence(&mut self) -> Result<Option<Sentence>, ConnError> {
        loop {
            let next = self.decoder.next_sentence().map_err(ConnError::Wire);
            self.charge()?;
            if let Some(s) = next? {
                if let Some(left) = self.before_login_left.as_mut() {
                    if *left == 0 {
                        return Err(ConnError::TooManyBeforeLogin);
                    }
                    *left -= 1;
                }
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
            self.charge()?;
        }
    }

    /// Whether a complete sentence is already buffered (to batch replies before flushing).
    pub fn has_buffered_sentence(&self) -> bool {
        self.decoder.has_complete_sentence()
    }

    /// Queues a reply, and flushes when the queue passes the high-water mark.
    pub async fn send(&mut self, reply: &Reply) -> Result<(), ConnError> {
        reply.encode_into(&mut self.out);
        self.charge()?;
        if self.out.len() >= self.out_high_water {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends what is queued, within the write timeout.
    pub async fn flush(&mut self) -> Result<(), ConnError> {
        let write = async {
            if !self.out.is_empty() {
                self.stream.write_all(&self.out).await?;
            }
            self.stream.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(r) => r.map_err(ConnError::Io)?,
            Err(_) => return Err(ConnError::Stalled),
        }
        self.out.clear();
        if self.out.capacity() > self.out_high_water * 2 {
            self.out = Vec::new();
        }
        self.charge()
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

impl<S> Drop for Connection<S> {
    fn drop(&mut self) {
        self.budget.shrink(self.charged);
    }
}
