//! Encoding then decoding is the identity, for any words and any way the bytes are split; and no
//! byte sequence makes the decoder panic.

use proptest::prelude::*;
use routeros_api::{encode_sentence, Decoder, Limits};

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(
        sentences in proptest::collection::vec(
            proptest::collection::vec(
                // Lengths that cross the 1-, 2- and 3-byte prefix boundaries.
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 1..130),
                    proptest::collection::vec(any::<u8>(), 16380..16390),
                ],
                0..6),
            1..4),
        chunk in 1usize..700,
    ) {
        let mut stream = Vec::new();
        for s in &sentences {
            stream.extend(encode_sentence(s));
        }
        let mut d = Decoder::new(Limits::default());
        let mut got = Vec::new();
        for part in stream.chunks(chunk) {
            d.feed(part);
            while let Some(s) = d.next_sentence().unwrap() {
                got.push(s.words().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
        }
        prop_assert_eq!(got, sentences);
        prop_assert_eq!(d.pending(), 0);
    }

    /// The server's direct encoding of a reply is the encoding of its words.
    #[test]
    fn reply_encode_into_matches_its_words(
        kind in 0u8..5,
        tag in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        reason in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        attrs in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..20), proptest::collection::vec(any::<u8>(), 0..300)),
            0..6),
    ) {
        use routeros_api::{Reply, ReplyKind};
        let r = Reply {
            kind: [ReplyKind::Re, ReplyKind::Done, ReplyKind::Trap, ReplyKind::Fatal, ReplyKind::Empty][kind as usize],
            tag: tag.map(bytes::Bytes::from),
            reason: reason.map(bytes::Bytes::from),
            attrs: attrs.into_iter().map(|(k, v)| (bytes::Bytes::from(k), bytes::Bytes::from(v))).collect(),
        };
        let mut direct = Vec::new();
        r.encode_into(&mut direct);
        prop_assert_eq!(direct, encode_sentence(&r.to_words()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut d = Decoder::new(Limits { max_word: 4096, max_sentence: 8192, max_words: 64 });
        d.feed(&bytes);
        while let Ok(Some(s)) = d.next_sentence() {
            let _ = routeros_api::Reply::parse(&s);
            let _ = routeros_api::Request::parse(&s);
        }
    }
}
