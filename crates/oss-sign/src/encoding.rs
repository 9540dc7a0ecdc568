//! Percent-encoding of URIs and query strings (protocol §1.3) and query decoding.

use std::borrow::Cow;

use crate::sink::Sink;

/// The lower-case hex digits of a 32-byte digest, without allocating.
pub(crate) fn hex_digits(bytes: &[u8; 32]) -> [u8; 64] {
    let mut buf = [0u8; 64];
    // A 64-byte buffer always fits 32 bytes of hex.
    let _ = hex::encode_to_slice(bytes, &mut buf);
    buf
}

/// Appends the lower-case hex of `bytes` to `out`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8; 32]) {
    // Only ASCII hex digits are in the buffer.
    out.push_str(std::str::from_utf8(&hex_digits(bytes)).unwrap_or_default());
}

/// Lower-case hex of a 32-byte digest.
pub(crate) fn hex32(bytes: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    push_hex(&mut out, bytes);
    out
}

/// Appends the encoding of `s` (see [`oss_types::percent_encode`]) to `out`; `percent-encoding` writes
/// upper-case hex, as OSS canonicalises.
pub(crate) fn encode_into<S: Sink + ?Sized>(out: &mut S, s: &str, keep_slash: bool) {
    for chunk in oss_types::percent_encode_chunks(s, keep_slash) {
        out.put(chunk);
    }
}

/// Decodes a raw query string (`a=1&b&c=x%2Fy`) into name/value pairs, in order.
///
/// Empty segments are skipped, a missing `=` gives an empty value, `+` decodes to a space (as the
/// Go SDK V2 treats its own query strings), `%XX` escapes are decoded (invalid ones are kept
/// literally) and bytes that are not UTF-8 are replaced with U+FFFD. Duplicate names are kept.
///
/// ```
/// use oss_sign::decode_query;
/// let q = decode_query("%2Bparam1=value3&param2&x=a%2Fb+c");
/// assert_eq!(q, vec![
///     ("+param1".to_owned(), "value3".to_owned()),
///     ("param2".to_owned(), String::new()),
///     ("x".to_owned(), "a/b c".to_owned()),
/// ]);
/// ```
pub fn decode_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.split_once('=') {
            Some((name, value)) => (decode_component(name), decode_component(value)),
            None => (decode_component(segment), String::new()),
        })
        .collect()
}

/// Decodes one query component: `+` is a space, `%XX` is a byte.
pub(crate) fn decode_component(s: &str) -> String {
    let plus_decoded: Cow<'_, str> = if s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_types::percent_encode;

    #[test]
    fn spec_examples() {
        assert_eq!(
            percent_encode(
                "test-sign-V4/-!@#$%^&*()/abcdefjhijklmnoqprstuvwxyz/123456789",
                true
            ),
            "test-sign-V4/-%21%40%23%24%25%5E%26%2A%28%29/abcdefjhijklmnoqprstuvwxyz/123456789"
        );
        assert_eq!(
            percent_encode("dir/子目录/a b~c+d%e=f&g?h#i.txt", true),
            "dir/%E5%AD%90%E7%9B%AE%E5%BD%95/a%20b~c%2Bd%25e%3Df%26g%3Fh%23i.txt"
        );
        assert_eq!(percent_encode("|param1", false), "%7Cparam1");
        assert_eq!(percent_encode("", false), "");
    }

    #[test]
    fn decode_keeps_invalid_escapes_and_duplicates() {
        assert_eq!(
            decode_query("a=%zz&a=2&&=v"),
            vec![
                ("a".to_owned(), "%zz".to_owned()),
                ("a".to_owned(), "2".to_owned()),
                (String::new(), "v".to_owned()),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn hex_matches_hex_crate(bytes in proptest::array::uniform32(proptest::prelude::any::<u8>())) {
            proptest::prop_assert_eq!(hex32(&bytes), hex::encode(bytes));
        }

        #[test]
        fn encode_then_decode_roundtrips(s in "\\PC*") {
            let enc = percent_encode(&s, false);
            proptest::prop_assert!(enc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            proptest::prop_assert_eq!(decode_component(&enc), s);
        }

        #[test]
        fn keep_slash_only_differs_on_slash(s in "\\PC*") {
            let a = percent_encode(&s, true);
            let b = percent_encode(&s, false);
            proptest::prop_assert_eq!(a.replace('/', "%2F"), b);
        }
    }
}
