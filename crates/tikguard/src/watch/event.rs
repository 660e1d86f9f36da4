//! RouterOS login events from log lines, in every framing a router sends them: RouterOS'
//! default remote format (`<PRI>topics message`), BSD syslog / RFC 3164 (`<PRI>Mmm dd hh:mm:ss
//! host topics message`), RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`), CEF
//! (7.18+, the message in `msg=`), and `/log print` lines (`time topics message`).
//!
//! Messages (ROUTEROS.md, "Logs"; MikroTik's Log manual; fail2ban's `routeros-auth` filter):
//! - `login failure for user USER from ADDR via SERVICE`
//! - `user USER logged in from ADDR via SERVICE` (REST: `user USER logged in via api`, no
//!   `from`)
//! - `user USER logged out from ADDR via SERVICE`
//! - `denied winbox/dude connect from ADDR` (v7)
//!
//! USER may be empty or contain spaces, so the parse anchors on ` from ADDR via WORD` at the
//! end. ADDR is IPv4, IPv6, or a MAC address (MAC-winbox). Whether the 7.18+ `syslog` format
//! keeps the topics is unconfirmed, so lines are read with or without them; the CEF layout
//! beyond `msg=` is not documented and is read approximately (the message is found by its own
//! words wherever it is). Anything else is not an event: counted by the caller, never fatal.

use std::net::IpAddr;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    LoginFailure,
    Login,
    Logout,
    /// v7: a Winbox/Dude connection refused (the service's `address=`).
    Denied,
}

/// Where from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Ip(IpAddr),
    /// MAC-winbox, MAC-telnet: a neighbour on a link, not routable.
    Mac([u8; 6]),
    /// A REST login logs no address.
    Unknown,
}

/// One login event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub kind: Kind,
    pub user: String,
    pub source: Source,
    /// `winbox`, `api`, `ssh`, ...; `winbox/dude` for a denied connection.
    pub via: String,
}

/// The services RouterOS names after `via` (ROUTEROS.md, "Logs").
pub const VIA: &[&str] = &[
    "unknown",
    "winbox",
    "console",
    "telnet",
    "ftp",
    "web",
    "ssh",
    "mac-telnet",
    "mac-winbox",
    "bandwidth-test",
    "api",
    "api-ssl",
    "romon",
    "rest-api",
    "dude",
];

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(parts) {
        if p.len() != 2 {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

fn parse_source(s: &str) -> Option<Source> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Source::Ip(ip));
    }
    // `[2001:db8::1]` or a zone suffix (`fe80::1%ether1`).
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    let bare = bare.split('%').next().unwrap_or(bare);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(Source::Ip(ip));
    }
    parse_mac(s).map(Source::Mac)
}

/// `... from ADDR via SERVICE` at the end of `rest`: (what precedes, source, service).
fn tail_from_via(rest: &str) -> Option<(&str, Source, String)> {
    let v = rest.rfind(" via ")?;
    let via = rest[v + 5..].trim();
    if via.is_empty() || via.contains(' ') {
        return None;
    }
    let before = &rest[..v];
    let f = before.rfind(" from ")?;
    let source = parse_source(&before[f + 6..])?;
    Some((&before[..f], source, via.to_string()))
}

/// The event a RouterOS log message describes, if any. `message` is the text after the
/// topics.
pub fn parse_message(message: &str) -> Option<LogEvent> {
    let m = message.trim_end_matches(['\r', '\n']);
    if let Some(rest) = m.strip_prefix("login failure for user ") {
        let (user, source, via) =
            tail_from_via(&format!(" {rest}")).map(|(u, s, v)| (u.to_string(), s, v))?;
        return Some(LogEvent {
            kind: Kind::LoginFailure,
            user: user.strip_prefix(' ').unwrap_or(&user).to_string(),
            source,
            via,
        });
    }
    if let Some(rest) = m.strip_prefix("denied winbox/dude connect from ") {
        return Some(LogEvent {
            kind: Kind::Denied,
            user: String::new(),
            source: parse_source(rest)?,
            via: "winbox/dude".into(),
        });
    }
    let rest = m.strip_prefix("user ")?;
    for (marker, kind) in [(" logged in", Kind::Login), (" logged out", Kind::Logout)] {
        let Some(i) = rest.rfind(marker) else {
            continue;
        };
        let user = rest[..i].to_string();
        let after = &rest[i + marker.len()..];
        if let Some((_, source, via)) = tail_from_via(after) {
            return Some(LogEvent {
                kind,
                user,
                source,
                via,
            });
        }
        // REST: `user X logged in via api`.
        if let Some(via) = after.strip_prefix(" via ") {
            let via = via.trim();
            if !via.is_empty() && !via.contains(' ') {
                return Some(LogEvent {
                    kind,
                    user,
                    source: Source::Unknown,
                    via: via.to_string(),
                });
            }
        }
    }
    None
}

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Strips `<PRI>`, a BSD or RFC 5424 header, or CEF, leaving `topics message` or `message`.
fn payload(line: &str) -> std::borrow::Cow<'_, str> {
    let mut s = line.trim_start_matches('\u{feff}');
    if let Some(rest) = s.strip_prefix('<') {
        if let Some(end) = rest.find('>') {
            if end <= 3 && rest[..end].bytes().all(|b| b.is_ascii_digit()) {
                s = &rest[end + 1..];
            }
        }
    }
    // CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension: the message in `msg=`.
    if let Some(i) = s.find("CEF:") {
        let cef = &s[i..];
        if let Some(m) = cef.find("msg=") {
            let mut v = String::new();
            let mut chars = cef[m + 4..].chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            v.push(match n {
                                'n' => '\n',
                                'r' => '\r',
                                other => other,
                            });
                        }
                    }
                    // The next `key=` starts the next extension field.
                    ' ' if next_is_key(chars.clone()) => break,
                    c => v.push(c),
                }
            }
            return std::borrow::Cow::Owned(v);
        }
    }
    // RFC 5424: `1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    if let Some(rest) = s.strip_prefix("1 ") {
        let mut fields = rest.splitn(6, ' ');
        let _ts = fields.next();
        let _host = fields.next();
        let _app = fields.next();
        let _proc = fields.next();
        let _msgid = fields.next();
        if let Some(rest) = fields.next() {
            let msg = if let Some(r) = rest.strip_prefix("- ") {
                r
            } else if rest.starts_with('[') {
                // Structured data: skip `[...]` elements.
                let mut depth = 0;
                let mut end = rest.len();
                for (i, b) in rest.bytes().enumerate() {
                    match b {
                        b'[' => depth += 1,
                        b']' => {
                            depth -= 1;
                            if depth == 0 && rest[i + 1..].starts_with(' ') {
                                end = i + 2;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                &rest[end.min(rest.len())..]
            } else {
                rest
            };
            return std::borrow::Cow::Borrowed(msg.trim_start_matches('\u{feff}'));
        }
    }
    // BSD: `Mmm dd hh:mm:ss host ...` (day space-padded).
    if s.len() > 16 && s.get(..3).is_some_and(|m| MONTHS.contains(&m)) && s.as_bytes()[3] == b' ' {
        let rest = s[4..].trim_start();
        let mut parts = rest.splitn(3, ' ');
        let (_day, time, rest) = (parts.next(), parts.next(), parts.next());
        if time.is_some_and(|t| t.len() == 8 && t.as_bytes()[2] == b':') {
            if let Some(rest) = rest {
                // `host topics message` or `topics message`: the caller skips words.
                return std::borrow::Cow::Borrowed(rest);
            }
        }
    }
    std::borrow::Cow::Borrowed(s)
}

fn next_is_key(it: std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let mut saw = false;
    for c in it {
        if c == '=' {
            return saw;
        }
        if !(c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        saw = true;
    }
    false
}

/// The event in one log line of any framing, if it is one.
pub fn parse_line(line: &str) -> Option<LogEvent> {
    let p = payload(line);
    let p = p.trim();
    if let Some(e) = parse_message(p) {
        return Some(e);
    }
    // `topics message`, or `/log print`'s `time topics message`, or a header this module
    // does not know: try after each of the first few words.
    let mut rest = p;
    for _ in 0..6 {
        let (_, after) = rest.split_once(' ')?;
        let after = after.trim_start();
        if let Some(e) = parse_message(after) {
            return Some(e);
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Source {
        Source::Ip(s.parse().unwrap())
    }

    #[test]
    fn messages() {
        let e = parse_message("login failure for user admin from 10.127.0.35 via winbox").unwrap();
        assert_eq!(
            e,
            LogEvent {
                kind: Kind::LoginFailure,
                user: "admin".into(),
                source: ip("10.127.0.35"),
                via: "winbox".into()
            }
        );
        let e = parse_message("user real_user logged out from 10.1.2.3 via api").unwrap();
        assert_eq!((e.kind, e.user.as_str()), (Kind::Logout, "real_user"));
        let e = parse_message("user admin logged in via api").unwrap();
        assert_eq!(e.source, Source::Unknown);
        let e = parse_message("denied winbox/dude connect from 203.0.113.9").unwrap();
        assert_eq!((e.kind, e.source), (Kind::Denied, ip("203.0.113.9")));
        assert!(parse_message("router rebooted").is_none());
        assert!(parse_message("login failure for user x from nowhere via api").is_none());
    }

    #[test]
    fn user_names_may_be_empty_or_hold_spaces_and_the_words_from_and_via() {
        let e = parse_message("login failure for user  from 10.0.0.1 via ssh").unwrap();
        assert_eq!(e.user, "");
        let e =
            parse_message("login failure for user john from via x from 10.0.0.2 via api").unwrap();
        assert_eq!(e.user, "john from via x");
        assert_eq!(e.source, ip("10.0.0.2"));
        let e = parse_message("user a b logged in from 10.0.0.3 via web").unwrap();
        assert_eq!(e.user, "a b");
    }

    #[test]
    fn ipv6_and_mac_sources() {
        let e = parse_message("login failure for user admin from 2001:db8::7 via ssh").unwrap();
        assert_eq!(e.source, ip("2001:db8::7"));
        let e =
            parse_message("login failure for user admin from fe80::1%ether1 via winbox").unwrap();
        assert_eq!(e.source, ip("fe80::1"));
        let e =
            parse_message("user admin logged in from 4C:5E:0C:11:22:33 via mac-winbox").unwrap();
        assert_eq!(e.source, Source::Mac([0x4c, 0x5e, 0x0c, 0x11, 0x22, 0x33]));
    }

    #[test]
    fn every_framing() {
        let msg = "login failure for user admin from 198.51.100.7 via api";
        for line in [
            format!("<26>system,error,critical {msg}"),
            format!("<26>Nov 30 12:00:01 core-01 system,error,critical {msg}"),
            format!("<26>Nov  3 09:05:01 core-01 system,error,critical {msg}"),
            format!("<26>Nov 30 12:00:01 system,error,critical {msg}"),
            format!("<26>1 2026-11-30T12:00:01.123+00:00 core-01 MikroTik - - - system,error,critical {msg}"),
            format!("<26>1 2026-11-30T12:00:01Z core-01 MikroTik - - [origin ip=\"10.0.0.1\"] {msg}"),
            format!("<26>1 2026-11-30T12:00:01Z core-01 - - - - {msg}"),
            format!("<26>CEF:0|MikroTik|CHR|7.18|10|system,error,critical|High|msg={msg} dvc=10.0.0.1"),
            format!("nov/30 12:00:01 system,error,critical {msg}"),
            format!("12:00:01 system,error,critical {msg}"),
            msg.to_string(),
        ] {
            let e = parse_line(&line).unwrap_or_else(|| panic!("not parsed: {line}"));
            assert_eq!(e.source, ip("198.51.100.7"), "{line}");
            assert_eq!(e.user, "admin", "{line}");
            assert_eq!(e.via, "api", "{line}");
        }
    }

    proptest::proptest! {
        /// Any text, and any text behind each framing's header, is read without panicking.
        #[test]
        fn any_line_is_read_without_panicking(s in "\\PC*", prefix in 0usize..6) {
            let heads = ["", "<26>", "<26>Nov 30 12:00:01 h ", "<26>1 2026-11-30T12:00:01Z h a p m ", "CEF:0|a|b|c|d|e|f|msg=", "login failure for user "];
            let _ = parse_line(&format!("{}{s}", heads[prefix]));
        }
    }

    #[test]
    fn other_lines_are_not_events() {
        for line in [
            "",
            "<30>system,info router rebooted",
            "<30>firewall,info input: in:ether1 out:(none), src-mac 00:21:29:6d:82:07, proto UDP",
            "<30>system,info mangle rule added by admin",
            "<<<>>> garbage \u{0} \u{ffff}",
            "CEF:0|x|y|z|1|2|3|msg=",
        ] {
            assert!(parse_line(line).is_none(), "{line}");
        }
    }
}
