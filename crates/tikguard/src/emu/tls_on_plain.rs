//! TLS spoken to the plaintext `api` port.
//!
//! The API reads a ClientHello as words: its first byte (0x16, the TLS handshake record type)
//! is a word length of 22, and what follows depends on the hello's random bytes, so a reader
//! of words either waits for more (a length that runs past the hello) or answers garbage. Which
//! of the two happens changes from one connection to the next, and so did the client's error
//! (a timeout, retried, or "did not answer TLS" at once). What RouterOS itself does here is
//! not documented (MikroTik's API manual describes only the word encoding; no client issue we
//! found records the router's answer), so the emulator approximates it one way, always: a
//! connection whose first bytes are a TLS handshake record header is closed. No API sentence
//! starts that way: a first word of 22 bytes would have to begin with the byte 0x03, and every
//! command word starts with `/`.

/// Whether `b` starts as a TLS handshake record: type 22, protocol version 3.x (SSL 3.0 to
/// TLS 1.3's legacy record version, RFC 8446 section 5.1).
pub fn is_tls_handshake(b: &[u8]) -> bool {
    matches!(b, [0x16, 0x03, minor, ..] if *minor <= 0x04)
}

/// Waits (up to `login_timeout`, the time a client has to log in anyway) for the client's first
/// bytes without consuming them; true when the connection is to be closed unserved: they are a
/// TLS handshake record, or nothing came (closed, or silent past the login timeout, which the
/// session would end the same way).
pub async fn close_unserved(s: &tokio::net::TcpStream, login_timeout: std::time::Duration) -> bool {
    let mut head = [0u8; 3];
    match tokio::time::timeout(login_timeout, s.peek(&mut head)).await {
        Ok(Ok(n)) if n > 0 => is_tls_handshake(&head[..n]),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_record_header_is_told_from_an_api_word() {
        assert!(is_tls_handshake(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(is_tls_handshake(&[0x16, 0x03, 0x03]));
        // `/login`: a 6-byte word starting with `/`.
        assert!(!is_tls_handshake(b"\x06/login"));
        // A 22-byte word: its first byte is the command's `/`.
        assert!(!is_tls_handshake(b"\x16/system/resource/pri"));
        assert!(!is_tls_handshake(&[0x16]));
        assert!(!is_tls_handshake(&[0x16, 0x03, 0x09]));
    }
}
