//! `tikguard probe`: the router from the outside, without credentials.
//!
//! For each target and port: is the TCP port open, closed or filtered; does the plaintext
//! RouterOS API answer; does the port speak TLS, and then which versions it accepts, whether it
//! accepts anonymous Diffie-Hellman, and what its certificate says.
//!
//! The plaintext API is detected by sending `/cancel` with a tag and no arguments: it names no
//! user and carries no password, so RouterOS has no login to record as failed, and a
//! well-formed reply sentence (`!done`, `!trap`, `!fatal`) can only come from the RouterOS API
//! (an HTTP or SSH server answers with text that does not decode as a reply).

pub mod cert;
pub mod report;
pub mod tls;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use routeros_api::{encode_sentence, Decoder, Limits, Reply};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::audit::Severity;
use tls::TlsVersion;

pub const DEFAULT_PORTS: &[u16] = &[8728, 8729, 8291, 22, 23, 21, 80, 443];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Closed,
    Filtered,
}

#[derive(Clone, Debug, Serialize)]
pub struct TlsFacts {
    pub versions: Vec<&'static str>,
    /// The suite the server chose from a broad offer at its highest version (OpenSSL name, or
    /// the code point in hex).
    pub negotiated: Option<String>,
    /// Whether tikguard's rustls client can connect: TLS 1.3, or an ECDHE suite in TLS 1.2.
    pub rustls_compatible: bool,
    pub anonymous_dh: bool,
    pub certificate: Option<cert::CertFacts>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProbeFinding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PortResult {
    pub host: String,
    pub port: u16,
    pub state: State,
    /// Milliseconds the TCP connection took (or until it was given up).
    pub ms: f64,
    pub api_plaintext: bool,
    pub tls: Option<TlsFacts>,
    pub findings: Vec<ProbeFinding>,
}

/// Targets from the command line: `host`, `host:port`, `[v6]:port`, or a CIDR.
pub fn expand(
    targets: &[String],
    ports: &[u16],
    max_hosts: usize,
) -> Result<Vec<(String, u16)>, String> {
    let mut out = Vec::new();
    for t in targets {
        let (host, port) = if let Some(rest) = t.strip_prefix('[') {
            let (h, p) = rest
                .split_once("]:")
                .ok_or_else(|| format!("`{t}`: expected [v6-address]:port"))?;
            (
                h.to_string(),
                Some(p.parse::<u16>().map_err(|_| format!("`{t}`: bad port"))?),
            )
        } else if t.matches(':').count() == 1 {
            let (h, p) = t.split_once(':').expect("one colon");
            (
                h.to_string(),
                Some(p.parse::<u16>().map_err(|_| format!("`{t}`: bad port"))?),
            )
        } else {
            (t.clone(), None)
        };
        let hosts: Vec<String> = if host.contains('/') {
            let m = routeros_config::value::parse_addr(host.as_bytes())
                .ok_or_else(|| format!("`{host}` is not a CIDR prefix"))?;
            let count = m.range.end - m.range.start + 1;
            if count > max_hosts as u128 {
                return Err(format!(
                    "`{host}` has {count} addresses, more than --max-hosts {max_hosts}; probe a smaller range or raise the limit"
                ));
            }
            (m.range.start..=m.range.end)
                .map(|n| {
                    if m.range.v6 {
                        std::net::Ipv6Addr::from(n).to_string()
                    } else {
                        std::net::Ipv4Addr::from(n as u32).to_string()
                    }
                })
                .collect()
        } else {
            vec![host]
        };
        for h in hosts {
            match port {
                Some(p) => out.push((h, p)),
                None => out.extend(ports.iter().map(|&p| (h.clone(), p))),
            }
        }
    }
    Ok(out)
}

/// Checks that a target is an address or a host name that resolves, before anything is probed:
/// a typo must not come out as "filtered, 0 findings" (nmap stops the same way: `Failed to
/// resolve "..."`). No lookup is made for what cannot be a name:
/// - dot-separated numbers that are not an IPv4 address (`127.0.0.300`): a mistyped address
///   (`inet_aton` refuses a part above 255 too);
/// - a name outside host-name syntax (RFC 1123 §2.1: letters, digits, hyphens, labels of 1-63
///   characters not starting or ending with a hyphen, 253 characters in all);
/// - a name under `.invalid`, which RFC 6761 §6.4 says never resolves ("name resolution APIs
///   and libraries SHOULD recognize 'invalid' names as special and SHOULD always return
///   immediately with a negative response").
pub fn check_host(host: &str) -> Result<(), String> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let shown = crate::term::printable(host);
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    if labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("`{shown}` is not an IP address"));
    }
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !labels.iter().all(label_ok) {
        return Err(format!(
            "`{shown}` is neither an IP address nor a host name"
        ));
    }
    if labels
        .last()
        .is_some_and(|l| l.eq_ignore_ascii_case("invalid"))
    {
        return Err(format!(
            "failed to resolve `{shown}`: `.invalid` names never resolve (RFC 6761)"
        ));
    }
    match std::net::ToSocketAddrs::to_socket_addrs(&(host, 0)).map(|mut a| a.next()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!("failed to resolve `{shown}`: no address")),
        Err(e) => Err(format!("failed to resolve `{shown}`: {e}")),
    }
}

fn addr(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

async fn tcp_state(a: &str, timeout: Duration) -> (State, f64, Option<TcpStream>) {
    let t = Instant::now();
    let r = tokio::time::timeout(timeout, TcpStream::connect(a)).await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    match r {
        Ok(Ok(s)) => (State::Open, ms, Some(s)),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            (State::Closed, ms, None)
        }
        _ => (State::Filtered, ms, None),
    }
}

/// Whether the plaintext RouterOS API answers on this connection.
async fn api_answers(mut s: TcpStream, timeout: Duration) -> bool {
    if s.write_all(&encode_sentence(&["/cancel", ".tag=tikguard-probe"]))
        .await
        .is_err()
    {
        return false;
    }
    let mut d = Decoder::new(Limits {
        max_word: 4096,
        max_sentence: 16384,
        max_words: 64,
    });
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match d.next_sentence() {
            Ok(Some(sentence)) => return Reply::parse(&sentence).is_ok(),
            Ok(None) => {}
            Err(_) => return false,
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => d.feed(&buf[..n]),
            _ => return false,
        }
    }
}

async fn tls_facts(a: &str, host: &str, timeout: Duration) -> Option<TlsFacts> {
    let first = tls::hello(
        a,
        Some(host),
        TlsVersion::V1_2,
        &tls::suites_for(TlsVersion::V1_2),
        timeout,
    )
    .await
    .ok()?;
    let v13 = tls::hello(
        a,
        Some(host),
        TlsVersion::V1_3,
        &tls::suites_for(TlsVersion::V1_3),
        timeout,
    )
    .await
    .ok();
    let speaks = |x: &tls::ServerAnswer| !x.not_tls && (x.version.is_some() || x.alert.is_some());
    if !speaks(&first) && !v13.as_ref().is_some_and(speaks) {
        return None;
    }
    let mut versions = Vec::new();
    let mut certs: Vec<Vec<u8>> = Vec::new();
    for v in TlsVersion::ALL {
        let ans = match v {
            TlsVersion::V1_2 => Some(first.clone()),
            TlsVersion::V1_3 => v13.clone(),
            _ => tls::hello(a, Some(host), v, &tls::suites_for(v), timeout)
                .await
                .ok(),
        };
        if let Some(ans) = ans {
            if ans.version == Some(v.wire()) {
                versions.push(v.name());
                if certs.is_empty() {
                    certs = ans.certificates.clone();
                }
            }
        }
    }
    let mut anonymous_dh = false;
    for v in [TlsVersion::V1_2, TlsVersion::V1_0] {
        if let Ok(ans) = tls::hello(a, Some(host), v, tls::ANON_SUITES, timeout).await {
            if ans.suite.is_some_and(tls::is_anon) {
                anonymous_dh = true;
                // The version the server chose for it, which may be below the one offered.
                if let Some(chosen) = TlsVersion::ALL
                    .iter()
                    .find(|x| Some(x.wire()) == ans.version)
                {
                    if !versions.contains(&chosen.name()) {
                        versions.push(chosen.name());
                    }
                }
                break;
            }
        }
    }
    if certs.is_empty() && (versions.contains(&"1.3") || versions.contains(&"1.2")) {
        let name = host;
        if let Ok(der) = routeros_api::tls::fetch_certificate(a, name, timeout).await {
            certs.push(der);
        }
    }
    versions.sort();
    versions.dedup();
    let name = |s: u16| {
        tls::suite_name(s)
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{s:04x}"))
    };
    let tls13 = v13
        .as_ref()
        .filter(|a| a.version == Some(TlsVersion::V1_3.wire()));
    let negotiated = tls13
        .and_then(|a| a.suite)
        .or(first.suite.filter(|_| first.version.is_some()))
        .map(name);
    // One more handshake only when the broad offer did not already settle it.
    let rustls_compatible = tls13.is_some()
        || first
            .suite
            .is_some_and(|s| first.version.is_some() && tls::RUSTLS_TLS12_SUITES.contains(&s))
        || tls::hello(
            a,
            Some(host),
            TlsVersion::V1_2,
            tls::RUSTLS_TLS12_SUITES,
            timeout,
        )
        .await
        .is_ok_and(|x| {
            x.suite
                .is_some_and(|s| tls::RUSTLS_TLS12_SUITES.contains(&s))
        });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Some(TlsFacts {
        versions,
        negotiated,
        rustls_compatible,
        anonymous_dh,
        certificate: certs.first().and_then(|d| cert::facts(d, now)),
    })
}

fn findings(r: &PortResult) -> Vec<ProbeFinding> {
    let mut out = Vec::new();
    let at = addr(&r.host, r.port);
    let f = |rule, severity, message| ProbeFinding {
        rule,
        severity,
        message,
    };
    if r.api_plaintext {
        out.push(f(
            "TG120",
            Severity::High,
            format!(
                "the plaintext RouterOS API answers on {at}: logins cross the network in clear"
            ),
        ));
    }
    if let Some(t) = &r.tls {
        if t.anonymous_dh {
            out.push(f("TG410", Severity::High, format!("{at} accepts anonymous Diffie-Hellman: the server is not authenticated (certless RouterOS api-ssl)")));
        }
        let old: Vec<&str> = t
            .versions
            .iter()
            .copied()
            .filter(|v| *v == "1.0" || *v == "1.1")
            .collect();
        if !old.is_empty() {
            out.push(f(
                "TG411",
                Severity::Medium,
                format!("{at} accepts TLS {}", old.join(" and ")),
            ));
        }
        if let Some(c) = &t.certificate {
            if c.self_signed {
                out.push(f(
                    "TG412",
                    Severity::Low,
                    format!(
                        "{at} presents a self-signed certificate ({}); pin it with --pin {}",
                        c.subject, c.sha256
                    ),
                ));
            }
            if c.days_left < 0 {
                out.push(f(
                    "TG413",
                    Severity::High,
                    format!(
                        "{at}'s certificate expired {} days ago ({})",
                        -c.days_left, c.not_after
                    ),
                ));
            } else if c.days_left <= 30 {
                out.push(f(
                    "TG413",
                    Severity::Medium,
                    format!(
                        "{at}'s certificate expires in {} days ({})",
                        c.days_left, c.not_after
                    ),
                ));
            }
            if c.key_type == "RSA" && c.key_bits < 2048 {
                out.push(f(
                    "TG414",
                    Severity::Medium,
                    format!("{at}'s certificate has a {}-bit RSA key", c.key_bits),
                ));
            }
            if c.signature.contains("sha1")
                || c.signature.contains("SHA1")
                || c.signature.contains("md5")
            {
                out.push(f(
                    "TG414",
                    Severity::Medium,
                    format!("{at}'s certificate is signed with {}", c.signature),
                ));
            }
        }
    }
    out
}

/// Probes one port.
pub async fn probe_port(host: String, port: u16, timeout: Duration) -> PortResult {
    probe_port_with(host, port, timeout, true).await
}

/// Probes one port; without `analyse`, only the TCP state.
pub async fn probe_port_with(
    host: String,
    port: u16,
    timeout: Duration,
    analyse: bool,
) -> PortResult {
    let a = addr(&host, port);
    let (state, ms, stream) = tcp_state(&a, timeout).await;
    let mut r = PortResult {
        host: host.clone(),
        port,
        state,
        ms: (ms * 10.0).round() / 10.0,
        api_plaintext: false,
        tls: None,
        findings: Vec::new(),
    };
    if let Some(s) = stream.filter(|_| analyse) {
        let reply_wait = timeout.min(Duration::from_secs(2));
        r.api_plaintext = api_answers(s, reply_wait).await;
        if !r.api_plaintext {
            r.tls = tls_facts(&a, &host, reply_wait).await;
        }
        r.findings = findings(&r);
    }
    r
}

/// Probes everything with at most `concurrency` connections in flight; `progress` is called
/// after each port.
///
/// `concurrency` workers take the next port from a shared counter, rather than one task per
/// port: a probe's future is large (it holds the TLS analysis), and spawning thousands at once
/// spent the scan's time copying them.
pub async fn run(
    work: Vec<(String, u16)>,
    timeout: Duration,
    concurrency: usize,
    analyse: bool,
    progress: impl Fn() + Send + Sync + 'static,
) -> Vec<PortResult> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let n = work.len();
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(progress);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1).min(n) {
        let (work, next, progress) = (work.clone(), next.clone(), progress.clone());
        set.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((host, port)) = work.get(i) else {
                    break;
                };
                done.push((
                    i,
                    probe_port_with(host.clone(), *port, timeout, analyse).await,
                ));
                progress();
            }
            done
        });
    }
    let mut out: Vec<(usize, PortResult)> = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        if let Ok(mut part) = r {
            out.append(&mut part);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_expand_hosts_ports_and_cidrs_with_a_cap() {
        let w = expand(
            &[
                "10.0.0.1".into(),
                "10.0.0.2:8729".into(),
                "127.1.0.0/30".into(),
            ],
            &[22, 8728],
            16,
        )
        .unwrap();
        assert_eq!(w.len(), 2 + 1 + 4 * 2);
        assert_eq!(w[2], ("10.0.0.2".to_string(), 8729));
        assert_eq!(w[3], ("127.1.0.0".to_string(), 22));
        assert_eq!(
            expand(&["[::1]:8729".into()], &[], 1).unwrap(),
            vec![("::1".to_string(), 8729)]
        );
        let e = expand(&["10.0.0.0/8".into()], &[22], 4096).unwrap_err();
        assert!(
            e.contains("16777216 addresses") && e.contains("--max-hosts"),
            "{e}"
        );
    }
}
