//! Nothing panics on any input, and what comes back is consistent with the input: every span lies
//! within the source and every diagnostic names an existing line.

use proptest::prelude::*;
use routeros_config::{dump::dump, parse, Config, StatementKind};

fn check(bytes: Vec<u8>) {
    let len = bytes.len();
    let parsed = parse(bytes);
    let lines = parsed.lines.lines();
    for s in &parsed.statements {
        assert!(s.span.start <= s.span.end && s.span.end as usize <= len);
        if let StatementKind::Command(c) = &s.kind {
            for a in &c.args {
                assert!(a.span.end as usize <= len);
                assert!(a.value.span.start >= a.span.start && a.value.span.end <= a.span.end);
            }
        }
    }
    for d in &parsed.diagnostics {
        assert!(d.line >= 1 && d.line <= lines && d.column >= 1);
    }
    let config = Config::from_parsed(&parsed);
    for w in &config.warnings {
        assert!(w.line >= 1 && w.line <= lines);
    }
    let _ = dump(&config);
}

/// Fragments that exercise the tricky paths: quotes, escapes, continuations, brackets, selectors.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\\n    ".to_vec()),
        Just(b"\\ \n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b";".to_vec()),
        Just(b"=".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"(".to_vec()),
        Just(b")".to_vec()),
        Just(b"#".to_vec()),
        Just(b"//".to_vec()),
        Just(b"!".to_vec()),
        Just(b"$x".to_vec()),
        Just(b":if ".to_vec()),
        Just(b"do=".to_vec()),
        Just(b"/ip firewall filter\n".to_vec()),
        Just(b"/ip/service/set ".to_vec()),
        Just(b"add ".to_vec()),
        Just(b"set ".to_vec()),
        Just(b"remove ".to_vec()),
        Just(b"move ".to_vec()),
        Just(b"unset ".to_vec()),
        Just(b"disable ".to_vec()),
        Just(b"[find ".to_vec()),
        Just(b"[ find where ".to_vec()),
        Just(b"default=yes ".to_vec()),
        Just(b"place-before=".to_vec()),
        Just(b"copy-from=".to_vec()),
        Just(b"numbers=".to_vec()),
        Just(b"destination=".to_vec()),
        Just(b"comment=a ".to_vec()),
        Just(b"*FFFFFFFE".to_vec()),
        Just(b"*0".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        Just(b"0".to_vec()),
        Just(b"telnet".to_vec()),
        Just(b"\\D0".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"# by RouterOS 7.".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..4),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(bytes);
    }

    #[test]
    fn script_like_input_never_panics(parts in proptest::collection::vec(fragment(), 0..60)) {
        check(parts.concat());
    }
}

#[test]
fn deep_nesting_and_huge_lines_do_not_blow_the_stack() {
    let mut src = b":if (true) do=".to_vec();
    src.extend(std::iter::repeat_n(b'{', 100_000));
    src.extend(std::iter::repeat_n(b'}', 100_000));
    check(src);
    let mut long = b"/ip firewall filter add comment=".to_vec();
    long.extend(std::iter::repeat_n(b'x', 1 << 20));
    check(long);
}
