//! The MikroTik RouterOS API, spoken once and correctly.
//!
//! - [`wire`]: the sans-IO codec (words, sentences, length forms, limits, incremental decoding).
//! - [`sentence`]: typed requests and replies, and the `?` query builder.
//! - [`client`]: the async client (tokio, rustls) with tags, streaming, timeouts, legacy login.
//! - [`tls`]: certificate verification: CA, pinned fingerprint, trust on first use.
//! - [`server`]: framing for the server side (the emulator and the proxy).
//!
//! Facts relied on are those of MikroTik's API manual; byte-level vectors live in the project's
//! shared notes and are all tests here.

#![forbid(unsafe_code)]

pub mod client;
#[cfg(feature = "openssl-tls")]
mod openssl_tls;
pub mod sentence;
pub mod server;
pub mod tls;
pub mod wire;

pub use client::{
    Client, Error, FirstUse, Options, Replies, ReplySink, Response, Running, Security,
    DEFAULT_MAX_REPLY,
};
pub use tls::{Fingerprint, KnownRouters, Verify};

pub use sentence::{Query, Reply, ReplyKind, Request};
pub use wire::{decode_len, encode_len, encode_sentence, Decoder, Limits, Sentence, WireError};
