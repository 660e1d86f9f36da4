//! The log line corpus (`tests/watch/lines.txt`): every documented message in every framing,
//! each `via`, odd user names, IPv6 and MAC sources, and lines that are not events.

use tikguard::watch::event::{parse_line, Kind, Source};

#[test]
fn every_line_of_the_corpus_reads_as_written() {
    let text = include_str!("watch/lines.txt");
    let mut checked = 0;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
    {
        let n = n + 1;
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        if fields[0] == "-" {
            assert!(parse_line(fields[1]).is_none(), "line {n}: {line}");
            checked += 1;
            continue;
        }
        let [kind, user, source, via, raw] = fields[..] else {
            panic!("line {n}: malformed corpus line");
        };
        let e = parse_line(raw).unwrap_or_else(|| panic!("line {n}: not read: {raw}"));
        let want_kind = match kind {
            "failure" => Kind::LoginFailure,
            "login" => Kind::Login,
            "logout" => Kind::Logout,
            "denied" => Kind::Denied,
            other => panic!("line {n}: kind {other}"),
        };
        assert_eq!(e.kind, want_kind, "line {n}");
        assert_eq!(e.user, user, "line {n}");
        assert_eq!(e.via, via, "line {n}");
        let got = match e.source {
            Source::Ip(ip) => ip.to_string(),
            Source::Mac(m) => m
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
            Source::Unknown => "-".into(),
        };
        assert_eq!(got, source, "line {n}");
        checked += 1;
    }
    assert!(checked > 150, "{checked}");
}
