//! What a TLS server accepts, found with hand-made ClientHellos: no TLS library negotiates the
//! old versions or the anonymous suites we need to detect, and none should.
//!
//! For each protocol version we offer only that version (TLS 1.3 through `supported_versions`)
//! with a broad suite list, and read the ServerHello: the server accepts the version when it
//! answers with it. For anonymous Diffie-Hellman we offer only `DH_anon`/`ECDH_anon` suites,
//! as certless RouterOS api-ssl expects, and look at the suite the server picks. Up to TLS 1.2
//! the server's Certificate message follows the ServerHello in clear, which gives certificate
//! facts even from servers no modern library would talk to.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
}

impl TlsVersion {
    pub const ALL: [TlsVersion; 4] = [
        TlsVersion::V1_0,
        TlsVersion::V1_1,
        TlsVersion::V1_2,
        TlsVersion::V1_3,
    ];

    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::V1_0 => 0x0301,
            TlsVersion::V1_1 => 0x0302,
            TlsVersion::V1_2 => 0x0303,
            TlsVersion::V1_3 => 0x0304,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "1.0",
            TlsVersion::V1_1 => "1.1",
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

/// Suites for TLS 1.0-1.2 offers: ECDHE, DHE and RSA key exchange, AES-GCM/CBC, ChaCha20, 3DES.
const CLASSIC_SUITES: &[u16] = &[
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009e, 0x009f,
    0xccaa, 0x0033, 0x0039, 0x0067, 0x006b, 0x009c, 0x009d, 0x002f, 0x0035, 0x003c, 0x003d, 0x000a,
];

/// The suites tikguard's client (rustls) negotiates in TLS 1.2: ECDHE only. A server that
/// accepts none of these nor TLS 1.3 (RouterOS 6 was seen choosing `DHE-RSA-AES256-GCM-SHA384`)
/// needs the OpenSSL build.
pub const RUSTLS_TLS12_SUITES: &[u16] = &[0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9];

/// The OpenSSL name of a suite this module offers.
pub fn suite_name(suite: u16) -> Option<&'static str> {
    Some(match suite {
        0xc02f => "ECDHE-RSA-AES128-GCM-SHA256",
        0xc030 => "ECDHE-RSA-AES256-GCM-SHA384",
        0xc02b => "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xc02c => "ECDHE-ECDSA-AES256-GCM-SHA384",
        0xcca8 => "ECDHE-RSA-CHACHA20-POLY1305",
        0xcca9 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        0xc013 => "ECDHE-RSA-AES128-SHA",
        0xc014 => "ECDHE-RSA-AES256-SHA",
        0xc009 => "ECDHE-ECDSA-AES128-SHA",
        0xc00a => "ECDHE-ECDSA-AES256-SHA",
        0x009e => "DHE-RSA-AES128-GCM-SHA256",
        0x009f => "DHE-RSA-AES256-GCM-SHA384",
        0xccaa => "DHE-RSA-CHACHA20-POLY1305",
        0x0033 => "DHE-RSA-AES128-SHA",
        0x0039 => "DHE-RSA-AES256-SHA",
        0x0067 => "DHE-RSA-AES128-SHA256",
        0x006b => "DHE-RSA-AES256-SHA256",
        0x009c => "AES128-GCM-SHA256",
        0x009d => "AES256-GCM-SHA384",
        0x002f => "AES128-SHA",
        0x0035 => "AES256-SHA",
        0x003c => "AES128-SHA256",
        0x003d => "AES256-SHA256",
        0x000a => "DES-CBC3-SHA",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x00a6 => "ADH-AES128-GCM-SHA256",
        0x00a7 => "ADH-AES256-GCM-SHA384",
        0x006c => "ADH-AES128-SHA256",
        0x006d => "ADH-AES256-SHA256",
        0x0034 => "ADH-AES128-SHA",
        0x003a => "ADH-AES256-SHA",
        _ => return None,
    })
}

/// TLS 1.3 suites.
const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];

/// Anonymous key exchange only: `TLS_DH_anon_*` and `TLS_ECDH_anon_*`.
pub const ANON_SUITES: &[u16] = &[
    0x00a6, 0x00a7, 0x006c, 0x006d, 0x0034, 0x003a, 0x001b, 0x0018, 0x0046, 0x0089, 0x00bf, 0x00c5,
    0xc018, 0xc019, 0xc017, 0xc016, 0xc015,
];

pub fn is_anon(suite: u16) -> bool {
    ANON_SUITES.contains(&suite)
}

fn push_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    push_u16(out, kind);
    push_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn random32() -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Sha256::digest(t.to_le_bytes()).into()
}

/// A ClientHello record offering exactly `version` and `suites`.
pub fn client_hello(version: TlsVersion, suites: &[u16], server_name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    let legacy = if version == TlsVersion::V1_3 {
        0x0303
    } else {
        version.wire()
    };
    push_u16(&mut body, legacy);
    body.extend_from_slice(&random32());
    if version == TlsVersion::V1_3 {
        body.push(32);
        body.extend_from_slice(&random32());
    } else {
        body.push(0);
    }
    push_u16(&mut body, (suites.len() * 2) as u16);
    for s in suites {
        push_u16(&mut body, *s);
    }
    body.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
        let mut sni = Vec::new();
        push_u16(&mut sni, (name.len() + 3) as u16);
        sni.push(0);
        push_u16(&mut sni, name.len() as u16);
        sni.extend_from_slice(name.as_bytes());
        ext(&mut exts, 0x0000, &sni);
    }
    // supported_groups: x25519, P-256, P-384, ffdhe2048.
    ext(
        &mut exts,
        0x000a,
        &[0, 8, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x01, 0x00],
    );
    ext(&mut exts, 0x000b, &[1, 0]);
    let sigs: &[u16] = &[
        0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
    ];
    let mut sa = Vec::new();
    push_u16(&mut sa, (sigs.len() * 2) as u16);
    for s in sigs {
        push_u16(&mut sa, *s);
    }
    if version != TlsVersion::V1_0 && version != TlsVersion::V1_1 {
        ext(&mut exts, 0x000d, &sa);
    }
    ext(&mut exts, 0xff01, &[0]);
    if version == TlsVersion::V1_3 {
        ext(&mut exts, 0x002b, &[2, 0x03, 0x04]);
        // key_share: x25519 with some 32 bytes (any value is a valid X25519 public key).
        let mut ks = Vec::new();
        push_u16(&mut ks, 36);
        push_u16(&mut ks, 0x001d);
        push_u16(&mut ks, 32);
        ks.extend_from_slice(&random32());
        ext(&mut exts, 0x0033, &ks);
        ext(&mut exts, 0x002d, &[1, 1]);
    }
    push_u16(&mut body, exts.len() as u16);
    body.extend_from_slice(&exts);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22u8, 0x03, 0x01];
    push_u16(&mut rec, hs.len() as u16);
    rec.extend_from_slice(&hs);
    rec
}

/// What the server answered to one ClientHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerAnswer {
    /// The version the ServerHello selected (from `supported_versions` for 1.3).
    pub version: Option<u16>,
    pub suite: Option<u16>,
    /// A TLS alert came back instead.
    pub alert: Option<(u8, u8)>,
    /// The server's certificates, if sent in clear (TLS 1.2 and older).
    pub certificates: Vec<Vec<u8>>,
    /// Bytes came back that are not TLS at all.
    pub not_tls: bool,
}

const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

fn parse_server_hello(body: &[u8], ans: &mut ServerAnswer) -> Option<()> {
    let version = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let random = body.get(2..34)?;
    let sid_len = *body.get(34)? as usize;
    let mut i = 35 + sid_len;
    let suite = u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]);
    i += 3;
    let mut selected = version;
    if let Some(lenb) = body.get(i..i + 2) {
        let end = (i + 2 + u16::from_be_bytes([lenb[0], lenb[1]]) as usize).min(body.len());
        let mut j = i + 2;
        while j + 4 <= end {
            let kind = u16::from_be_bytes([body[j], body[j + 1]]);
            let len = u16::from_be_bytes([body[j + 2], body[j + 3]]) as usize;
            if kind == 0x002b && len == 2 && j + 6 <= end {
                selected = u16::from_be_bytes([body[j + 4], body[j + 5]]);
            }
            j += 4 + len;
        }
    }
    // A HelloRetryRequest still means the server speaks the version it names.
    let _ = random == HRR_RANDOM;
    ans.version = Some(selected);
    ans.suite = Some(suite);
    Some(())
}

fn parse_certificates(body: &[u8], ans: &mut ServerAnswer) {
    let Some(total) = body.get(0..3) else { return };
    let total = u32::from_be_bytes([0, total[0], total[1], total[2]]) as usize;
    let mut i = 3;
    let end = (3 + total).min(body.len());
    while i + 3 <= end {
        let len = u32::from_be_bytes([0, body[i], body[i + 1], body[i + 2]]) as usize;
        i += 3;
        if i + len > end {
            break;
        }
        ans.certificates.push(body[i..i + len].to_vec());
        i += len;
    }
}

/// Sends one ClientHello and reads until the ServerHello (and Certificate, when in clear), an
/// alert, the end of the connection, or the timeout.
pub async fn hello(
    addr: &str,
    server_name: Option<&str>,
    version: TlsVersion,
    suites: &[u16],
    timeout: Duration,
) -> std::io::Result<ServerAnswer> {
    let mut s = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect"))??;
    s.write_all(&client_hello(version, suites, server_name))
        .await?;
    let mut ans = ServerAnswer::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut hs: Vec<u8> = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut chunk = [0u8; 8192];
    loop {
        // Whole records in the buffer.
        while buf.len() >= 5 {
            let (ctype, len) = (buf[0], u16::from_be_bytes([buf[3], buf[4]]) as usize);
            if !matches!(ctype, 20..=23) || buf[1] != 3 {
                ans.not_tls = ans.version.is_none();
                return Ok(ans);
            }
            if buf.len() < 5 + len {
                break;
            }
            let payload: Vec<u8> = buf[5..5 + len].to_vec();
            buf.drain(..5 + len);
            match ctype {
                21 if payload.len() >= 2 => {
                    ans.alert = Some((payload[0], payload[1]));
                    return Ok(ans);
                }
                22 => {
                    hs.extend_from_slice(&payload);
                    while hs.len() >= 4 {
                        let mlen = u32::from_be_bytes([0, hs[1], hs[2], hs[3]]) as usize;
                        if hs.len() < 4 + mlen {
                            break;
                        }
                        let kind = hs[0];
                        let body: Vec<u8> = hs[4..4 + mlen].to_vec();
                        hs.drain(..4 + mlen);
                        match kind {
                            2 => {
                                if parse_server_hello(&body, &mut ans).is_none() {
                                    ans.not_tls = true;
                                    return Ok(ans);
                                }
                                if ans.version == Some(0x0304) {
                                    // The rest is encrypted.
                                    return Ok(ans);
                                }
                            }
                            11 => {
                                parse_certificates(&body, &mut ans);
                                return Ok(ans);
                            }
                            // ServerKeyExchange / ServerHelloDone: no certificate is coming
                            // (anonymous suites).
                            12 | 14 => return Ok(ans),
                            _ => {}
                        }
                    }
                }
                _ => return Ok(ans),
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(ans);
        }
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => return Ok(ans),
            Ok(Ok(n)) => {
                if ans.version.is_none() && buf.is_empty() && !matches!(chunk[0], 20..=23) {
                    ans.not_tls = true;
                    return Ok(ans);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Ok(Err(e)) => {
                if ans.version.is_some() {
                    return Ok(ans);
                }
                return Err(e);
            }
        }
    }
}

/// The suites to offer for a version.
pub fn suites_for(version: TlsVersion) -> Vec<u16> {
    match version {
        TlsVersion::V1_3 => TLS13_SUITES.to_vec(),
        _ => CLASSIC_SUITES.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_is_one_handshake_record_with_the_suites() {
        let r = client_hello(TlsVersion::V1_2, &[0xc02f, 0x0034], Some("router.example"));
        assert_eq!(&r[..3], &[22, 3, 1]);
        assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, r.len() - 5);
        assert_eq!(r[5], 1);
        // client_version 1.2
        assert_eq!(&r[9..11], &[3, 3]);
        let tls13 = client_hello(TlsVersion::V1_3, TLS13_SUITES, None);
        // supported_versions names 1.3.
        assert!(tls13
            .windows(7)
            .any(|w| w == [0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]));
    }

    #[test]
    fn server_hello_parsing_reads_version_suite_and_supported_versions() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x01, 0]);
        body.extend_from_slice(&[0, 6, 0x00, 0x2b, 0, 2, 3, 4]);
        let mut a = ServerAnswer::default();
        parse_server_hello(&body, &mut a).unwrap();
        assert_eq!((a.version, a.suite), (Some(0x0304), Some(0x1301)));
        assert!(is_anon(0x0034) && !is_anon(0xc02f));
    }
}
