//! Every vector of the repository's `testdata/vectors/api-wire.txt` is a test: length prefixes, sentences, raw
//! byte words; each sentence decoded from every split point, as bytes arrive from a socket.

use std::path::{Path, PathBuf};

use routeros_api::{
    decode_len, encode_len, encode_sentence, Decoder, Limits, Reply, ReplyKind, Request,
};

fn vectors() -> String {
    let p: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/api-wire.txt");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rows(kind: &str) -> Vec<Vec<String>> {
    vectors()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split(" | ")
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|c| c[0] == kind)
        .collect()
}

#[test]
fn every_length_vector_encodes_and_decodes() {
    let rows = rows("len");
    assert!(rows.len() >= 15);
    for r in rows {
        let len: usize = r[1].parse().unwrap();
        let want = unhex(&r[2]);
        let mut got = Vec::new();
        encode_len(len, &mut got);
        assert_eq!(got, want, "encode {len}");
        assert_eq!(
            decode_len(&want).unwrap(),
            Some((len, want.len())),
            "decode {len}"
        );
        // One byte short is "need more", never a wrong answer.
        if want.len() > 1 {
            assert_eq!(decode_len(&want[..want.len() - 1]).unwrap(), None);
        }
    }
}

#[test]
fn every_sentence_vector_round_trips_from_every_split_point() {
    let rows = rows("sentence");
    assert!(rows.len() >= 15);
    for r in rows {
        let words: Vec<String> = serde_json_lite(&r[2]);
        let want = unhex(&r[3]);
        assert_eq!(encode_sentence(&words), want, "encode {}", r[1]);
        for split in 0..=want.len() {
            let mut d = Decoder::new(Limits::default());
            d.feed(&want[..split]);
            let early = d.next_sentence().unwrap();
            if split < want.len() {
                assert!(early.is_none(), "{} complete after {split} bytes", r[1]);
                d.feed(&want[split..]);
            }
            let got = early.or_else(|| d.next_sentence().unwrap()).unwrap();
            let got: Vec<String> = got
                .words()
                .map(|w| String::from_utf8(w.to_vec()).unwrap())
                .collect();
            assert_eq!(got, words, "{} split at {split}", r[1]);
            assert_eq!(d.pending(), 0);
        }
    }
}

#[test]
fn raw_byte_words_stay_bytes() {
    for r in rows("sentence-bytes") {
        let word = unhex(r[2].trim_start_matches("raw word bytes "));
        let want = unhex(&r[3]);
        assert_eq!(encode_sentence(&[&word]), want);
        let mut d = Decoder::new(Limits::default());
        d.feed(&want);
        let s = d.next_sentence().unwrap().unwrap();
        assert_eq!(s.words().collect::<Vec<_>>(), vec![&word[..]]);
    }
}

#[test]
fn typed_views_of_the_vector_replies() {
    let decode = |hex: &str| {
        let mut d = Decoder::new(Limits::default());
        d.feed(&unhex(hex));
        d.next_sentence().unwrap().unwrap()
    };
    let by_name =
        |name: &str| rows("sentence").into_iter().find(|r| r[1] == name).unwrap()[3].clone();
    let done = Reply::parse(&decode(&by_name("done-ret"))).unwrap();
    assert_eq!(
        (done.kind, done.ret().map(|b| b.to_vec())),
        (ReplyKind::Done, Some(b"*3".to_vec()))
    );
    let trap = Reply::parse(&decode(&by_name("trap"))).unwrap();
    assert_eq!((trap.kind, trap.category()), (ReplyKind::Trap, Some(0)));
    assert_eq!(trap.message().as_deref(), Some("no such command prefix"));
    let re = Reply::parse(&decode(&by_name("re-tagged"))).unwrap();
    assert_eq!(re.tag.as_deref(), Some(&b"7"[..]));
    assert_eq!(re.get("name").map(|b| b.to_vec()), Some(b"ether1".to_vec()));
    let fatal = Reply::parse(&decode(&by_name("fatal"))).unwrap();
    assert_eq!(
        fatal.reason.as_deref(),
        Some(&b"session terminated on request"[..])
    );
    assert_eq!(
        Reply::parse(&decode(&by_name("empty"))).unwrap().kind,
        ReplyKind::Empty
    );
    let int = Reply::parse(&decode(&by_name("trap-interrupted"))).unwrap();
    assert_eq!(
        (int.category(), int.tag.as_deref()),
        (Some(2), Some(&b"7"[..]))
    );
    let req = Request::parse(&decode(&by_name("print-query-tag"))).unwrap();
    assert_eq!(&req.command[..], b"/interface/print");
    assert_eq!(req.tag.as_deref(), Some(&b"7"[..]));
    assert_eq!(req.queries.len(), 3);
    assert_eq!(
        req.get(".proplist").map(|b| b.to_vec()),
        Some(b".id,name,type".to_vec())
    );
    let eq = Request::parse(&decode(&by_name("value-with-equals"))).unwrap();
    assert_eq!(eq.get("comment").map(|b| b.to_vec()), Some(b"a=b".to_vec()));
    let empty = Request::parse(&decode(&by_name("empty-value"))).unwrap();
    assert_eq!(empty.get("comment").map(|b| b.to_vec()), Some(vec![]));
}

/// Reads the vector file's JSON string arrays (plain ASCII strings, no escapes but `\"`).
fn serde_json_lite(s: &str) -> Vec<String> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match (in_str, c) {
            (false, '"') => in_str = true,
            (true, '\\') => cur.push(chars.next().unwrap()),
            (true, '"') => {
                in_str = false;
                out.push(std::mem::take(&mut cur));
            }
            (true, c) => cur.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn md5_login_vectors_give_the_published_responses() {
    for r in rows("md5-login") {
        // "ret=HEX password='PW'"
        let spec = &r[1];
        let ret = spec
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("ret=");
        let pw = spec
            .split("password='")
            .nth(1)
            .unwrap()
            .trim_end_matches('\'');
        let got = routeros_api::client::legacy_response(pw.as_bytes(), ret.as_bytes()).unwrap();
        assert_eq!(got, r[2], "{spec}");
    }
    assert!(rows("md5-login").len() >= 3);
}
