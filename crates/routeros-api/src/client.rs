//! An async RouterOS API client: many commands in flight on one connection, told apart by tags.
//!
//! One task reads sentences and routes each reply to the command whose `.tag` it carries;
//! writers share the connection behind a lock. `!fatal` ends every command with
//! [`Error::Fatal`]. Every step has a timeout: connecting, the TLS handshake, login, and each
//! command. Passwords are taken as arguments and never logged or put in errors.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::sentence::{Reply, ReplyKind};
use crate::tls::{CaVerifier, Fingerprint, FingerprintVerifier, Known, KnownRouters, Verify};
use crate::wire::{encode_sentence, Decoder, Limits, WireError};

/// Everything that can go wrong talking to a router.
#[derive(Debug, Clone)]
pub enum Error {
    Io(String),
    Tls(String),
    /// The router's certificate differs from the one recorded for it.
    KnownRouterMismatch {
        router: String,
        file: String,
        line: usize,
        recorded: String,
        presented: String,
    },
    Wire(WireError),
    /// A sentence that is not a valid reply.
    Protocol(String),
    /// `!trap`: the command failed.
    Trap {
        category: Option<u8>,
        message: String,
    },
    /// `!fatal`: the router closed the session.
    Fatal(String),
    /// A step took longer than its timeout.
    Timeout(&'static str),
    /// The connection is gone.
    Closed,
    /// Bad options (an unreadable CA file, a malformed address).
    Config(String),
    /// One command's replies passed [`Options::max_reply`] bytes: the connection was closed,
    /// so that a hostile or broken router cannot make the client hold unbounded memory.
    ReplyTooLarge {
        limit: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Tls(e) => write!(f, "TLS error: {e}"),
            Error::KnownRouterMismatch { router, file, line, recorded, presented } => write!(
                f,
                "{router} presented certificate {presented}, but {file}:{line} records {recorded}; if the router's certificate was replaced on purpose, remove that line"
            ),
            Error::Wire(e) => write!(f, "protocol error: {e}"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Trap { category, message } => match category {
                Some(c) => write!(f, "router refused (category {c}): {message}"),
                None => write!(f, "router refused: {message}"),
            },
            Error::Fatal(r) => write!(f, "router closed the session: {r}"),
            Error::Timeout(what) => write!(f, "timed out {what}"),
            Error::ReplyTooLarge { limit } => write!(
                f,
                "the router's reply to one command passed {limit} bytes; the connection was closed (a router sending without end, or a menu far larger than any router holds)"
            ),
            Error::Closed => write!(f, "connection closed"),
            Error::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e.to_string())
    }
}

/// Transport security.
#[derive(Clone, Debug)]
pub enum Security {
    /// The plaintext `api` service: credentials cross the network in clear.
    Plain,
    /// `api-ssl` with the given verification.
    Tls(Verify),
    /// `api-ssl` on a router without a certificate: anonymous Diffie-Hellman through OpenSSL
    /// (`ADH:@SECLEVEL=0`, plus the DHE suites old RouterOS 6 needs). Encrypted, but the router
    /// is not authenticated: a man in the middle can read the password. Only to reach such a
    /// router once and give it a certificate.
    #[cfg(feature = "openssl-anon-dh")]
    InsecureAnonDh,
}

/// Connection options.
#[derive(Clone, Debug)]
pub struct Options {
    /// `host:port`.
    pub addr: String,
    pub security: Security,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub limits: Limits,
    /// The most bytes (words' contents) one command's replies may add up to in
    /// [`Client::call`] and [`Client::call_words`], which hold them all; past it the connection is
    /// closed with [`Error::ReplyTooLarge`]. Per-sentence limits ([`Limits`]) bound one reply;
    /// this bounds a command's sum, which is what a router streaming `!re` without end grows.
    pub max_reply: usize,
}

/// [`Options::max_reply`]'s default, 64 MiB: a large router's whole configuration read menu by
/// menu stays far below it (the largest menus, address lists of 200,000 entries, are some
/// 20 MB over the API), and a fleet of hundreds of concurrent reads stays bounded.
pub const DEFAULT_MAX_REPLY: usize = 64 << 20;

impl Options {
    pub fn new(addr: impl Into<String>, security: Security) -> Options {
        Options {
            addr: addr.into(),
            security,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
            limits: Limits::default(),
            max_reply: DEFAULT_MAX_REPLY,
        }
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Where one command's replies go.
#[derive(Clone)]
enum Route {
    /// A channel of the command's own ([`Running`], [`Stream2`], [`Client::call`]).
    Own(mpsc::Sender<Result<Reply, Error>>),
    /// A channel shared by many commands ([`Client::queue_to`]), each reply with its
    /// command's tag.
    Shared(ReplySink),
}

/// The sending side of a channel that takes the replies of many commands, each paired with
/// the tag this connection gave its command ([`Client::queue_to`]).
pub type ReplySink = mpsc::Sender<(Bytes, Result<Reply, Error>)>;
/// The receiving side: every reply of every command queued to its sink, in the order the
/// router sent them; a command ends with its `!done`, or with an `Err` when the connection
/// ends (one per command still running).
pub type Replies = mpsc::Receiver<(Bytes, Result<Reply, Error>)>;

/// Replies a command may have waiting for its reader. When they are not taken, the connection
/// stops reading from the router (backpressure) instead of buffering without bound.
const ROUTE_QUEUE: usize = 1024;

#[derive(Default)]
struct Routes {
    map: HashMap<Bytes, Route>,
    closed: Option<Error>,
}

/// A connection to a router.
pub struct Client {
    writer: tokio::sync::Mutex<WriteHalf<Box<dyn Stream>>>,
    /// Sentences encoded and not yet written: [`Client::queue`] adds, every write takes them
    /// all (in order), so commands issued back to back go out in one write (one TLS record,
    /// one system call) instead of one each.
    pending: Mutex<Vec<u8>>,
    routes: Arc<Mutex<Routes>>,
    next_tag: AtomicU64,
    command_timeout: Duration,
    max_reply: usize,
    reader: tokio::task::JoinHandle<()>,
    fingerprint: Option<Fingerprint>,
    first_use: Option<FirstUse>,
    /// This end's address of the TCP connection: the source the router sees, unless a NAT sits
    /// between.
    local: Option<std::net::SocketAddr>,
    /// The router's end-entity certificate (DER), on connections verified through rustls.
    peer_certificate: Option<Vec<u8>>,
}

/// A certificate recorded on first use: where, and under which names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstUse {
    pub file: std::path::PathBuf,
    pub names: String,
    pub fingerprint: Fingerprint,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
        // Commands still running end with `Closed` rather than wait for replies that the
        // aborted reader will never route.
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.map.clear();
        routes.closed.get_or_insert(Error::Closed);
    }
}

/// The replies of one finished command.
#[derive(Debug, Clone)]
pub struct Response {
    /// `!re` sentences.
    pub items: Vec<Reply>,
    /// The closing `!done`.
    pub done: Reply,
    /// Whether the router said `!empty` (RouterOS 7.18+, a print that found nothing).
    pub empty: bool,
}

/// A streaming command (`/listen`, `print follow`): items arrive until it ends or is cancelled.
pub struct Stream2<'a> {
    client: &'a Client,
    tag: Bytes,
    rx: mpsc::Receiver<Result<Reply, Error>>,
    finished: bool,
}

/// A command in flight whose every reply sentence (`!re`, `!empty`, `!trap`, `!done`) is
/// wanted as is: what a proxy forwards. The router sees the client's own tag.
pub struct Running {
    tag: Bytes,
    rx: mpsc::Receiver<Result<Reply, Error>>,
    routes: Arc<Mutex<Routes>>,
}

impl Running {
    /// The tag this connection gave the command.
    pub fn tag(&self) -> &Bytes {
        &self.tag
    }

    /// The next reply sentence; `!done` (or `!trap` then `!done`) ends the command.
    pub async fn next(&mut self) -> Result<Reply, Error> {
        self.rx.recv().await.ok_or(Error::Closed)?
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .remove(&self.tag);
    }
}

impl Stream2<'_> {
    /// The next `!re`; `None` when the command ended (`!done`, or `!trap` after a cancel).
    pub async fn next(&mut self) -> Option<Result<Reply, Error>> {
        if self.finished {
            return None;
        }
        loop {
            match self.rx.recv().await {
                None => {
                    self.finished = true;
                    return Some(Err(Error::Closed));
                }
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                Some(Ok(r)) => match r.kind {
                    ReplyKind::Re => return Some(Ok(r)),
                    ReplyKind::Empty => continue,
                    ReplyKind::Done => {
                        self.finished = true;
                        self.client.unroute(&self.tag);
                        return None;
                    }
                    // `interrupted` after a cancel, or a real failure: either way, the end.
                    ReplyKind::Trap if r.category() == Some(2) => continue,
                    ReplyKind::Trap => {
                        self.finished = true;
                        self.client.unroute(&self.tag);
                        return Some(Err(trap(&r)));
                    }
                    ReplyKind::Fatal => {
                        self.finished = true;
                        return Some(Err(Error::Fatal(fatal_reason(&r))));
                    }
                },
            }
        }
    }

    /// Sends `/cancel` for this command; the stream then ends.
    pub async fn cancel(&mut self) -> Result<(), Error> {
        let tag = String::from_utf8_lossy(&self.tag).into_owned();
        self.client
            .call(&["/cancel".to_string(), format!("=tag={tag}")])
            .await
            .map(|_| ())
    }
}

fn trap(r: &Reply) -> Error {
    Error::Trap {
        category: r.category(),
        message: r.message().unwrap_or_default(),
    }
}

fn fatal_reason(r: &Reply) -> String {
    r.reason
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_else(|| "no reason given".into())
}

/// The legacy (pre-6.43) challenge response: `00` + MD5(0x00 + password + challenge).
pub fn legacy_response(password: &[u8], challenge_hex: &[u8]) -> Result<String, Error> {
    let challenge = hex::decode(challenge_hex)
        .map_err(|_| Error::Protocol("login challenge is not hex".into()))?;
    let mut h = Md5::new();
    h.update([0u8]);
    h.update(password);
    h.update(&challenge);
    Ok(format!("00{}", hex::encode(h.finalize())))
}

impl Client {
    /// Connects (and for TLS, handshakes and verifies) within the connect timeout.
    pub async fn connect(opts: &Options) -> Result<Client, Error> {
        let tcp = tokio::time::timeout(opts.connect_timeout, TcpStream::connect(&opts.addr))
            .await
            .map_err(|_| Error::Timeout("connecting"))??;
        tcp.set_nodelay(true).ok();
        let local = tcp.local_addr().ok();
        let mut first_use = None;
        let mut peer_certificate = None;
        let (stream, fingerprint): (Box<dyn Stream>, Option<Fingerprint>) = match &opts.security {
            Security::Plain => (Box::new(tcp), None),
            Security::Tls(verify) => {
                // A plaintext API port reads a ClientHello as words and waits for more: no
                // answer at all is what TLS to the wrong port usually looks like.
                let done = tokio::time::timeout(
                    opts.connect_timeout,
                    tls_connect(tcp, &opts.addr, verify),
                )
                .await
                .map_err(|_| {
                    Error::Tls(format!(
                        "no answer to the TLS handshake within {:?}: {}",
                        opts.connect_timeout,
                        crate::tls::NOT_TLS
                    ))
                })?;
                match done {
                    Ok((s, fp, fu)) => {
                        first_use = fu;
                        peer_certificate = s
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| c.to_vec());
                        (Box::new(s), fp)
                    }
                    // No suite in common with rustls: the same verification through OpenSSL,
                    // which speaks the DHE suites RouterOS 6 offers.
                    #[cfg(feature = "openssl-tls")]
                    Err(Error::Tls(m)) if m == crate::tls::NO_COMMON_SUITE => {
                        let tcp = tokio::time::timeout(
                            opts.connect_timeout,
                            TcpStream::connect(&opts.addr),
                        )
                        .await
                        .map_err(|_| Error::Timeout("connecting"))??;
                        let (s, fp, fu) = tokio::time::timeout(
                            opts.connect_timeout,
                            crate::openssl_tls::connect(tcp, &opts.addr, verify),
                        )
                        .await
                        .map_err(|_| Error::Timeout("in the TLS handshake"))??;
                        first_use = fu;
                        (Box::new(s), Some(fp))
                    }
                    Err(e) => return Err(e),
                }
            }
            #[cfg(feature = "openssl-anon-dh")]
            Security::InsecureAnonDh => {
                let s = tokio::time::timeout(opts.connect_timeout, anon_dh_connect(tcp))
                    .await
                    .map_err(|_| Error::Timeout("in the TLS handshake"))??;
                (Box::new(s), None)
            }
        };
        let mut c = Client::over(stream, opts, fingerprint);
        c.first_use = first_use;
        c.local = local;
        c.peer_certificate = peer_certificate;
        Ok(c)
    }

    /// Set when this connection recorded the router's certificate on first use: the caller
    /// should say so (the fingerprint is what a later mismatch will be compared with).
    pub fn first_use(&self) -> Option<&FirstUse> {
        self.first_use.as_ref()
    }

    /// This end's address of the connection (the source the router sees, unless a NAT sits
    /// between); `None` for a connection not made by [`Client::connect`].
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.local
    }

    fn over(stream: Box<dyn Stream>, opts: &Options, fingerprint: Option<Fingerprint>) -> Client {
        let (r, w) = tokio::io::split(stream);
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let reader = tokio::spawn(read_loop(r, routes.clone(), opts.limits));
        Client {
            writer: tokio::sync::Mutex::new(w),
            pending: Mutex::new(Vec::new()),
            routes,
            next_tag: AtomicU64::new(1),
            command_timeout: opts.command_timeout,
            max_reply: opts.max_reply,
            reader,
            fingerprint,
            first_use: None,
            local: None,
            peer_certificate: None,
        }
    }

    /// The router's end-entity certificate (DER) as presented in the TLS handshake, on
    /// connections made with rustls (not the OpenSSL fallback): what its days left are read
    /// from.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificate.as_deref()
    }

    /// The router's certificate fingerprint, on TLS connections.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.fingerprint
    }

    /// Logs in: `/login =name= =password=` (6.43+), or the MD5 challenge when the router
    /// answers with `=ret=` (older versions).
    pub async fn login(&self, user: &str, password: &str) -> Result<(), Error> {
        let r = self
            .call_words(vec![
                b"/login".to_vec(),
                format!("=name={user}").into_bytes(),
                [&b"=password="[..], password.as_bytes()].concat(),
            ])
            .await?;
        if let Some(ret) = r.done.ret() {
            let response = legacy_response(password.as_bytes(), ret)?;
            self.call_words(vec![
                b"/login".to_vec(),
                format!("=name={user}").into_bytes(),
                format!("=response={response}").into_bytes(),
            ])
            .await?;
        }
        Ok(())
    }

    fn route(&self) -> Result<(Bytes, mpsc::Receiver<Result<Reply, Error>>), Error> {
        let tag = Bytes::from(self.next_tag.fetch_add(1, Ordering::Relaxed).to_string());
        let (tx, rx) = mpsc::channel(ROUTE_QUEUE);
        self.add_route(&tag, Route::Own(tx))?;
        Ok((tag, rx))
    }

    fn add_route(&self, tag: &Bytes, route: Route) -> Result<(), Error> {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = &routes.closed {
            return Err(e.clone());
        }
        routes.map.insert(tag.clone(), route);
        Ok(())
    }

    /// Ends the connection: the reader stops, every command still running and every later one
    /// gets `e`, and the write side is shut down.
    async fn close_with(&self, e: Error) {
        self.reader.abort();
        {
            let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
            routes.map.clear();
            routes.closed.get_or_insert(e);
        }
        let _ = self.writer.lock().await.shutdown().await;
    }

    fn unroute(&self, tag: &Bytes) {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .remove(tag);
    }

    fn enqueue(&self, mut words: Vec<Vec<u8>>, tag: &Bytes) {
        words.push([&b".tag="[..], tag].concat());
        let bytes = encode_sentence(&words);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(&bytes);
    }

    async fn send(&self, words: Vec<Vec<u8>>, tag: &Bytes) -> Result<(), Error> {
        self.enqueue(words, tag);
        self.flush().await
    }

    /// Whether sentences are queued and not yet written.
    pub fn has_queued(&self) -> bool {
        !self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Writes every sentence queued so far ([`Client::queue`]), in order.
    pub async fn flush(&self) -> Result<(), Error> {
        let mut w = self.writer.lock().await;
        // Taken under the writer's lock: whoever writes, writes everything queued before.
        let bytes = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if bytes.is_empty() {
            return Ok(());
        }
        w.write_all(&bytes).await?;
        w.flush().await?;
        Ok(())
    }

    /// Runs a command given as words (`/ip/address/print`, `=.proplist=address`, `?disabled=no`)
    /// and returns its `!re` items; a `!trap` is [`Error::Trap`].
    pub async fn call<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<Reply>, Error> {
        let words = words
            .iter()
            .map(|w| w.as_ref().as_bytes().to_vec())
            .collect();
        Ok(self.call_words(words).await?.items)
    }

    /// Like [`Client::call`] with byte words, returning the closing sentence too.
    pub async fn call_words(&self, words: Vec<Vec<u8>>) -> Result<Response, Error> {
        let (tag, mut rx) = self.route()?;
        let result = tokio::time::timeout(self.command_timeout, async {
            self.send(words, &tag).await?;
            let mut items = Vec::new();
            let mut held = 0usize;
            let mut empty = false;
            let mut failed: Option<Error> = None;
            loop {
                let r = rx.recv().await.ok_or(Error::Closed)??;
                match r.kind {
                    ReplyKind::Re => {
                        held += r
                            .attrs
                            .iter()
                            .map(|(k, v)| k.len() + v.len())
                            .sum::<usize>();
                        if held > self.max_reply {
                            drop(items);
                            let e = Error::ReplyTooLarge {
                                limit: self.max_reply,
                            };
                            self.close_with(e.clone()).await;
                            return Err(e);
                        }
                        items.push(r)
                    }
                    // RouterOS 7.18+: `!empty` precedes the `!done` of a print that found
                    // nothing (wire trace in pear2/Net_RouterOS#80).
                    ReplyKind::Empty => empty = true,
                    ReplyKind::Trap => failed = Some(trap(&r)),
                    ReplyKind::Done => {
                        return match failed {
                            Some(e) => Err(e),
                            None => Ok(Response {
                                items,
                                done: r,
                                empty,
                            }),
                        };
                    }
                    ReplyKind::Fatal => return Err(Error::Fatal(fatal_reason(&r))),
                }
            }
        })
        .await;
        self.unroute(&tag);
        result.map_err(|_| Error::Timeout("waiting for the command to finish"))?
    }

    /// Starts a streaming command (`/listen`, `print follow`); no timeout applies to it.
    pub async fn stream<S: AsRef<str>>(&self, words: &[S]) -> Result<Stream2<'_>, Error> {
        let (tag, rx) = self.route()?;
        let words = words
            .iter()
            .map(|w| w.as_ref().as_bytes().to_vec())
            .collect();
        self.send(words, &tag).await?;
        Ok(Stream2 {
            client: self,
            tag,
            rx,
            finished: false,
        })
    }

    /// Like [`Client::start`], but the command is only queued: it goes out with the next
    /// [`Client::flush`] (or the next command sent), together with every command queued
    /// before it. For a caller that knows more commands follow at once.
    pub fn queue(&self, words: Vec<Vec<u8>>) -> Result<Running, Error> {
        let (tag, rx) = self.route()?;
        let running = Running {
            tag: tag.clone(),
            rx,
            routes: self.routes.clone(),
        };
        self.enqueue(words, &tag);
        Ok(running)
    }

    /// Queues a command like [`Client::queue`], its replies to go to `sink` paired with the
    /// returned tag: one channel for many commands, read by one task, with no task or channel
    /// per command. The command's route ends with its `!done`; if the connection ends first,
    /// `sink` gets one `Err` for it.
    pub fn queue_to(&self, words: Vec<Vec<u8>>, sink: &ReplySink) -> Result<Bytes, Error> {
        let tag = Bytes::from(self.next_tag.fetch_add(1, Ordering::Relaxed).to_string());
        self.add_route(&tag, Route::Shared(sink.clone()))?;
        self.enqueue(words, &tag);
        Ok(tag)
    }

    /// Sends a command given as words (its own `.tag` is added) and returns it running, to take
    /// its replies one by one; no timeout applies.
    pub async fn start(&self, words: Vec<Vec<u8>>) -> Result<Running, Error> {
        let (tag, rx) = self.route()?;
        let running = Running {
            tag: tag.clone(),
            rx,
            routes: self.routes.clone(),
        };
        self.send(words, &tag).await?;
        Ok(running)
    }

    /// Whether the connection has ended (the router closed it, or it broke).
    pub fn is_closed(&self) -> bool {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed
            .is_some()
    }

    /// Closes the session politely (`/quit`); the router answers `!fatal`.
    pub async fn quit(self) -> Result<(), Error> {
        let (tag, mut rx) = self.route()?;
        self.send(vec![b"/quit".to_vec()], &tag).await?;
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
        Ok(())
    }
}

/// The connection ended: every command still running learns why, and no new one starts.
async fn end(routes: &Mutex<Routes>, e: Error) {
    let ended: Vec<(Bytes, Route)> = {
        let mut routes = routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.closed = Some(e.clone());
        routes.map.drain().collect()
    };
    for (tag, route) in ended {
        match route {
            // A full queue gets `Closed` when the sender drops here.
            Route::Own(tx) => {
                let _ = tx.try_send(Err(e.clone()));
            }
            // A shared channel's reader has no other way to learn which of its commands
            // ended: each gets its `Err`, waiting for room (the reader is reading).
            Route::Shared(tx) => {
                let _ = tx.send((tag, Err(e.clone()))).await;
            }
        }
    }
}

async fn read_loop(mut r: ReadHalf<Box<dyn Stream>>, routes: Arc<Mutex<Routes>>, limits: Limits) {
    let mut dec = Decoder::new(limits);
    let mut buf = vec![0u8; 64 * 1024];
    let mut first = true;
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) => return end(&routes, Error::Closed).await,
            Ok(n) => n,
            Err(e) => return end(&routes, Error::Io(e.to_string())).await,
        };
        // A reply starts with a short word (`!done`, `!re`, ...); 0x15/0x16 then 0x03 is a TLS
        // alert or handshake record: the plaintext client reached a TLS port.
        if std::mem::take(&mut first) && n >= 2 && matches!(buf[0], 0x15 | 0x16) && buf[1] == 3 {
            return end(&routes, Error::Protocol(TLS_ON_PLAIN.into())).await;
        }
        dec.feed(&buf[..n]);
        loop {
            let words = match dec.next_sentence() {
                Ok(Some(w)) => w,
                Ok(None) => break,
                Err(e) => return end(&routes, Error::Wire(e)).await,
            };
            let reply = match Reply::parse(&words) {
                Ok(r) => r,
                Err(e) => return end(&routes, Error::Protocol(e.0)).await,
            };
            if reply.kind == ReplyKind::Fatal {
                return end(&routes, Error::Fatal(fatal_reason(&reply))).await;
            }
            let target = {
                let mut routes_guard = routes.lock().unwrap_or_else(|p| p.into_inner());
                match &reply.tag {
                    // A shared route ends with its command's `!done`, the last reply of a
                    // command, after a `!trap` too (MikroTik's API manual; ROUTEROS.md, "the
                    // wire protocol"); an own route ends when its receiver does.
                    Some(t) if reply.kind == ReplyKind::Done => match routes_guard.map.get(t) {
                        Some(Route::Shared(_)) => {
                            routes_guard.map.remove(t).map(|r| (t.clone(), r))
                        }
                        other => other.cloned().map(|r| (t.clone(), r)),
                    },
                    Some(t) => routes_guard.map.get(t).cloned().map(|r| (t.clone(), r)),
                    // An untagged reply can only belong to the one command in flight.
                    None if routes_guard.map.len() == 1 => routes_guard
                        .map
                        .iter()
                        .next()
                        .map(|(t, r)| (t.clone(), r.clone())),
                    None => None,
                }
            };
            // Waits while the command's reader is behind: backpressure to the router.
            match target {
                Some((_, Route::Own(tx))) => {
                    let _ = tx.send(Ok(reply)).await;
                }
                Some((tag, Route::Shared(tx))) => {
                    let _ = tx.send((tag, Ok(reply))).await;
                }
                None => {}
            }
        }
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
pub(crate) fn host_of(addr: &str) -> &str {
    addr.rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
        .unwrap_or(addr)
}

/// What the plaintext client says when the port speaks TLS.
pub const TLS_ON_PLAIN: &str = "the router answered with TLS: this is an api-ssl port (8729 by default); connect with TLS (without --plain)";

async fn tls_connect(
    tcp: TcpStream,
    addr: &str,
    verify: &Verify,
) -> Result<
    (
        tokio_rustls::client::TlsStream<TcpStream>,
        Option<Fingerprint>,
        Option<FirstUse>,
    ),
    Error,
> {
    use rustls::ClientConfig;
    use rustls_pki_types::ServerName;

    let host = host_of(addr);
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|_| Error::Config(format!("`{host}` is not a host name or address")))?;
    let peer = tcp.peer_addr().ok();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let mut fp_verifier: Option<Arc<FingerprintVerifier>> = None;
    let config = match verify {
        Verify::Ca(certs) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(
                CaVerifier::new(certs.clone()).map_err(Error::Config)?,
            ))
            .with_no_client_auth(),
        Verify::Pin(fp) => {
            let v = Arc::new(FingerprintVerifier::new(Some(*fp)));
            fp_verifier = Some(v.clone());
            builder
                .dangerous()
                .with_custom_certificate_verifier(v)
                .with_no_client_auth()
        }
        Verify::TrustOnFirstUse(_) | Verify::InsecureSkipVerification => {
            let v = Arc::new(FingerprintVerifier::new(None));
            fp_verifier = Some(v.clone());
            builder
                .dangerous()
                .with_custom_certificate_verifier(v)
                .with_no_client_auth()
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = connector
        .connect(server_name, tcp)
        .await
        .map_err(|e| Error::Tls(handshake_error(&e, host)))?;
    let seen = fp_verifier
        .as_ref()
        .and_then(|v| *v.seen.lock().unwrap_or_else(|p| p.into_inner()))
        .or_else(|| {
            stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| Fingerprint::of(c))
        });
    let first_use = match seen {
        Some(fp) => check_known(verify, addr, peer, fp)?,
        None => None,
    };
    Ok((stream, seen, first_use))
}

/// Trust on first use: looks the router up by name and address, records it when new, and
/// refuses a certificate other than the recorded one. Other modes: nothing to do.
pub(crate) fn check_known(
    verify: &Verify,
    addr: &str,
    peer: Option<std::net::SocketAddr>,
    fp: Fingerprint,
) -> Result<Option<FirstUse>, Error> {
    let Verify::TrustOnFirstUse(path) = verify else {
        return Ok(None);
    };
    // One check-then-record at a time in this process: connections made at once (a fleet run)
    // would otherwise read a line another is writing, or record one router twice.
    static KNOWN_FILE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = KNOWN_FILE.lock().unwrap_or_else(|p| p.into_inner());
    let known = KnownRouters::new(path);
    let names = match peer.map(|p| p.to_string()) {
        Some(p) if p != addr => format!("{addr},{p}"),
        _ => addr.to_string(),
    };
    match known.check(addr, peer, &fp).map_err(Error::Config)? {
        Known::Match => Ok(None),
        Known::Unknown | Known::MatchByAddress => {
            known.record(&names, &fp).map_err(Error::Config)?;
            Ok(Some(FirstUse {
                file: path.clone(),
                names,
                fingerprint: fp,
            }))
        }
        Known::Mismatch { line, recorded } => Err(Error::KnownRouterMismatch {
            router: addr.to_string(),
            file: path.display().to_string(),
            line,
            recorded,
            presented: fp.to_string(),
        }),
    }
}

/// A handshake failure in words: the rustls error inside the I/O error, or what an early end
/// of the stream means.
fn handshake_error(e: &std::io::Error, host: &str) -> String {
    if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return crate::tls::describe(t, host);
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
            crate::tls::NOT_TLS.into()
        }
        _ => e.to_string(),
    }
}

#[cfg(feature = "openssl-anon-dh")]
async fn anon_dh_connect(tcp: TcpStream) -> Result<tokio_openssl::SslStream<TcpStream>, Error> {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    let tls = |e: openssl::error::ErrorStack| Error::Tls(e.to_string());
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(tls)?;
    // Anonymous DH is refused at OpenSSL's default security level; RouterOS 6 also needs the
    // older DHE suites.
    b.set_cipher_list("ADH:DHE:@SECLEVEL=0").map_err(tls)?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_max_proto_version(Some(openssl::ssl::SslVersion::TLS1_2))
        .map_err(tls)?;
    let cfg = b
        .build()
        .configure()
        .map_err(tls)?
        .verify_hostname(false)
        .use_server_name_indication(false);
    let ssl = cfg.into_ssl("router").map_err(tls)?;
    let mut s = tokio_openssl::SslStream::new(ssl, tcp).map_err(tls)?;
    std::pin::Pin::new(&mut s)
        .connect()
        .await
        .map_err(|e| Error::Tls(e.to_string()))?;
    Ok(s)
}
