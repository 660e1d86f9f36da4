//! The MikroTik RouterOS API, spoken once and correctly.
//!
//! - [`wire`]: the sans-IO codec (words, sentences, length forms, limits, incremental decoding).
//! - [`sentence`]: typed requests and replies, and the `?` query builder.
//!
//! Facts relied on are those of MikroTik's API manual; byte-level vectors live in the project's
//! shared notes and are all tests here.

#![forbid(unsafe_code)]

pub mod sentence;
pub mod wire;

pub use sentence::{Query, Reply, ReplyKind, Request};
pub use wire::{decode_len, encode_len, encode_sentence, Decoder, Limits, WireError};
