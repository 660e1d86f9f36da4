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
//! end. ADDR is IPv4, IPv6, or a MAC address (MAC-winbox).
//!
//! Text is not enough: a script's `:log error "login failure for user ..."` or a DHCP lease
//! naming a crafted host ends in the same words. A line is an event only when its topics are
//! the ones RouterOS logs that event with ([`topics_fit`]), read where the framing puts them:
//! the first word after the header, after a BSD header's host, after `/log print`'s time, or
//! CEF's Name field. Whether the 7.18+ `syslog` format keeps the topics without
//! `add-topics-string=yes` is unconfirmed; a line without them is not an event (use the
//! default format, or add the topics string). The CEF layout beyond Name and `msg=` is not
//! documented and is read approximately. Anything else is not an event: counted by the caller,
//! never fatal.

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

/// The topic words of which RouterOS gives every log entry one (its severity; MikroTik's Log
/// manual lists them among the topics, and every entry in the corpus carries one). A word made
/// of topic names separated by commas, one of them a severity, is read as the topics.
const SEVERITY: &[&str] = &["debug", "info", "warning", "error", "critical"];

/// Whether `word` reads as RouterOS topics (`system,error,critical`).
fn is_topics(word: &str) -> bool {
    !word.is_empty()
        && word.split(',').all(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && word.split(',').any(|t| SEVERITY.contains(&t))
}

/// Whether RouterOS logs an event of `kind` under `topics` (ROUTEROS.md, "Logs": a failure is
/// `system,error,critical`, a login or logout `system,info,account`). A script's `:log error`
/// is `script,error`, a DHCP lease `dhcp,info`: never an event, whatever their text says.
/// The topics of `denied winbox/dude connect` are not documented: `system` is required
/// (approximated).
pub fn topics_fit(kind: Kind, topics: &str) -> bool {
    let has = |w: &str| topics.split(',').any(|t| t == w);
    match kind {
        Kind::LoginFailure => has("system") && (has("critical") || has("error")),
        Kind::Login | Kind::Logout => has("system") && has("account"),
        Kind::Denied => has("system"),
    }
}

/// One line's topics and message, by its framing.
struct Framed<'a> {
    topics: std::borrow::Cow<'a, str>,
    message: std::borrow::Cow<'a, str>,
}

/// Strips `<PRI>`, leaving what follows.
fn strip_pri(line: &str) -> &str {
    let s = line.trim_start_matches('\u{feff}');
    if let Some(rest) = s.strip_prefix('<') {
        if let Some(end) = rest.find('>') {
            if (1..=3).contains(&end) && rest[..end].bytes().all(|b| b.is_ascii_digit()) {
                return &rest[end + 1..];
            }
        }
    }
    s
}

/// CEF (7.18+): `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`, the topics
/// in Name and the message in the extension's `msg=` (the layout beyond these two is not
/// documented: approximated). Only a line that starts with `CEF:` is read so, never one that
/// merely holds the word.
fn cef(s: &str) -> Option<Framed<'_>> {
    let fields: Vec<&str> = s.strip_prefix("CEF:")?.splitn(8, '|').collect();
    let [_, _, _, _, _, name, _, ext] = fields[..] else {
        return None;
    };
    let m = if ext.starts_with("msg=") {
        0
    } else {
        ext.find(" msg=")? + 1
    };
    let mut v = String::new();
    let mut chars = ext[m + 4..].chars().peekable();
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
    Some(Framed {
        topics: std::borrow::Cow::Borrowed(name),
        message: std::borrow::Cow::Owned(v),
    })
}

/// The MSG after RFC 5424 STRUCTURED-DATA (`[id k="v" ...][id2 ...] MSG`), read as the RFC
/// writes it (section 6.3): a PARAM-VALUE is quoted and may hold `]`, `"` and `\` escaped by
/// a backslash, so a `]` inside a value never ends the element. Structured data that does
/// not end, or is not followed by a space and a message, leaves no message: its values are
/// never read as one.
fn skip_structured_data(rest: &str) -> &str {
    let b = rest.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut quoted = false;
        i += 1;
        loop {
            match b.get(i) {
                None => return "",
                Some(b'\\') if quoted => i += 2,
                Some(b'"') => {
                    quoted = !quoted;
                    i += 1;
                }
                Some(b']') if !quoted => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
    }
    match b.get(i) {
        Some(b' ') => &rest[i + 1..],
        _ => "",
    }
}

/// What follows a syslog header: RFC 5424's MSG, a BSD header's `host topics message`, or
/// the line itself (RouterOS' default `topics message`, `/log print`'s `time topics
/// message`).
fn after_header(s: &str) -> &str {
    // RFC 5424: `1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    if let Some(rest) = s.strip_prefix("1 ") {
        let mut fields = rest.splitn(6, ' ');
        let (_ts, _host, _app, _proc, _msgid) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        );
        if let Some(rest) = fields.next() {
            let msg = if let Some(r) = rest.strip_prefix("- ") {
                r
            } else if rest.starts_with('[') {
                skip_structured_data(rest)
            } else {
                rest
            };
            return msg.trim_start_matches('\u{feff}');
        }
    }
    // BSD: `Mmm dd hh:mm:ss host ...` (day space-padded).
    if s.len() > 16 && s.get(..3).is_some_and(|m| MONTHS.contains(&m)) && s.as_bytes()[3] == b' ' {
        let rest = s[4..].trim_start();
        let mut parts = rest.splitn(3, ' ');
        let (_day, time, rest) = (parts.next(), parts.next(), parts.next());
        if time.is_some_and(|t| t.len() == 8 && t.as_bytes()[2] == b':') {
            if let Some(rest) = rest {
                return rest;
            }
        }
    }
    s
}

/// Words that may stand before the topics: a BSD header's host name, `/log print`'s date and
/// time.
const MAX_LEAD: usize = 3;

/// Splits `s` at its topics: the first word (within [`MAX_LEAD`] words) that reads as topics;
/// what follows is the message. A message cannot bring topics of its own: only the first such
/// word counts.
fn framed(s: &str) -> Option<Framed<'_>> {
    if let Some(f) = cef(s) {
        return Some(f);
    }
    let mut rest = s;
    for lead in 0..=MAX_LEAD {
        let (word, after) = rest.split_once(' ')?;
        if is_topics(word) {
            return Some(Framed {
                topics: std::borrow::Cow::Borrowed(word),
                message: std::borrow::Cow::Borrowed(after),
            });
        }
        // A BSD host name followed by CEF.
        if lead == 0 {
            if let Some(f) = cef(after) {
                return Some(f);
            }
        }
        rest = after.trim_start_matches(' ');
    }
    None
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

/// The event in one log line of any framing, if it is one: the message must be a login event
/// and its topics the ones RouterOS gives that event ([`topics_fit`]). A line without topics
/// (RFC 5424 from `remote-log-format=syslog` without `add-topics-string=yes`) is not an event:
/// its text alone could be any script's `:log`. The line is one message: a newline inside it
/// starts nothing.
pub fn parse_line(line: &str) -> Option<LogEvent> {
    let s = after_header(strip_pri(line.trim_end_matches(['\r', '\n', '\0'])));
    let f = framed(s.trim_start_matches(' '))?;
    let e = parse_message(&f.message)?;
    topics_fit(e.kind, &f.topics).then_some(e)
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
            format!("<26>1 2026-11-30T12:00:01Z core-01 MikroTik - - [origin ip=\"10.0.0.1\"] system,error,critical {msg}"),
            format!("<26>1 2026-11-30T12:00:01Z core-01 - - - - system,error,critical {msg}"),
            format!("<26>CEF:0|MikroTik|CHR|7.18|10|system,error,critical|High|msg={msg} dvc=10.0.0.1"),
            format!("nov/30 12:00:01 system,error,critical {msg}"),
            format!("12:00:01 system,error,critical {msg}"),
            format!("<26>Nov 30 12:00:01 core-01 CEF:0|MikroTik|CHR|7.18|10|system,error,critical|High|msg={msg}"),
        ] {
            let e = parse_line(&line).unwrap_or_else(|| panic!("not parsed: {line}"));
            assert_eq!(e.source, ip("198.51.100.7"), "{line}");
            assert_eq!(e.user, "admin", "{line}");
            assert_eq!(e.via, "api", "{line}");
        }
    }

    /// A script's `:log error`, a DHCP lease naming a crafted host, a firewall log line: their
    /// text may end in a login failure, but RouterOS gives those messages other topics, so they
    /// are not events. A message cannot bring its own topics, nor hide CEF inside it.
    #[test]
    fn a_login_failure_is_an_event_only_under_the_topics_routeros_logs_it_with() {
        let fail = "login failure for user admin from 198.51.100.7 via ssh";
        for line in [
            format!("<27>script,error {fail}"),
            format!("<27>script,error system,error,critical {fail}"),
            format!("<30>dhcp,info defconf assigned 10.0.0.5 to 00:11:22:33:44:55 {fail}"),
            format!("<30>dhcp,info system,error,critical {fail}"),
            format!("<30>Nov 30 12:00:01 core-01 script,info {fail}"),
            format!("<30>Nov 30 12:00:01 core-01 dhcp,info lease CEF:0|a|b|c|d|system,error,critical|High|msg={fail}"),
            format!("<30>system,info,account {fail}"),
            format!("<30>system,info hello\nsystem,error,critical {fail}"),
            format!("<26>1 2026-11-30T12:00:01Z core-01 - - - - script,error {fail}"),
            format!("<26>CEF:0|MikroTik|CHR|7.18|10|script,error|High|msg={fail}"),
            "<30>system,error,critical user admin logged in from 198.51.100.7 via ssh".to_string(),
        ] {
            assert!(parse_line(&line).is_none(), "{line}");
        }
        assert!(parse_line(&format!("<26>system,error,critical {fail}")).is_some());
        assert!(parse_line(&format!("<26>system,error {fail}")).is_some());
    }

    /// An attacker's spellings of a source: RouterOS writes the address it saw, in canonical
    /// form, as the last ` from ADDR via SERVICE`. A user name carrying its own ` from X via
    /// api` names nobody; leading zeros (`010.0.0.1`, octal to some parsers), an address with
    /// a port, and text that is no address are no event; a zone id is dropped (the address is
    /// link-local, never blocked); a MAC address is a source that is never an IP block.
    #[test]
    fn an_attackers_spellings_of_a_source_name_nobody_else() {
        let fail = |tail: &str| {
            parse_line(&format!(
                "<26>system,error,critical login failure for user {tail}"
            ))
        };
        let e = fail("x from 192.0.2.10 via api from 203.0.113.5 via ssh").unwrap();
        assert_eq!(
            (e.source, e.user.as_str()),
            (ip("203.0.113.5"), "x from 192.0.2.10 via api")
        );
        let e = fail("a from 192.0.2.10 via api\nb from 203.0.113.6 via ssh").unwrap();
        assert_eq!(e.source, ip("203.0.113.6"));
        for tail in [
            "a from 010.0.0.1 via ssh",
            "a from 10.0.0.1:5555 via ssh",
            "a from [2001:db8::1]:22 via ssh",
            "a from 10.0.0.1 via ssh extra",
            "a from 0x0a000001 via ssh",
            "a from 167772161 via ssh",
        ] {
            assert_eq!(fail(tail), None, "{tail}");
        }
        assert_eq!(
            fail("a from fe80::1%ether1 via ssh").unwrap().source,
            ip("fe80::1")
        );
        assert!(matches!(
            fail("a from 4C:5E:0C:11:22:33 via mac-winbox")
                .unwrap()
                .source,
            Source::Mac(_)
        ));
        // Topics in another case are no RouterOS topics.
        assert!(parse_line(
            "<26>System,Error,Critical login failure for user a from 203.0.113.5 via ssh"
        )
        .is_none());
    }

    /// RFC 5424 structured data is skipped as the RFC writes it: a `]` inside a quoted value
    /// (escaped or not) does not end the element, so text a router put in a parameter is
    /// never read as the message, and the message after it is read.
    #[test]
    fn structured_data_values_are_never_the_message() {
        let msg = "system,error,critical login failure for user admin from 203.0.113.8 via ssh";
        let sd = r#"[meta x="a\] b" y="] system,error,critical login failure for user a from 192.0.2.66 via ssh"]"#;
        let e = parse_line(&format!(
            "<26>1 2026-11-30T12:00:01Z core-01 MikroTik - - {sd} {msg}"
        ))
        .unwrap();
        assert_eq!(e.source, ip("203.0.113.8"));
        let e = parse_line(&format!(
            "<26>1 2026-11-30T12:00:01Z core-01 MikroTik - - {sd}[two a=\"]\"] {msg}"
        ))
        .unwrap();
        assert_eq!(e.source, ip("203.0.113.8"));
        // Only structured data, no message: nothing.
        assert!(parse_line(&format!(
            "<26>1 2026-11-30T12:00:01Z core-01 MikroTik - - {sd}"
        ))
        .is_none());
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
            // No topics: the text alone could be anyone's.
            "login failure for user admin from 198.51.100.7 via api",
            "<26>1 2026-11-30T12:00:01Z core-01 - - - - login failure for user admin from 198.51.100.7 via api",
        ] {
            assert!(parse_line(line).is_none(), "{line}");
        }
    }
}
