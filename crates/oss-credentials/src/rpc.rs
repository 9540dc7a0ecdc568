//! The Alibaba Cloud RPC signature v1 (HMAC-SHA1) that STS AssumeRole uses (spec §5.3).
//!
//! Kept separate from the providers so that the emulator's mock STS verifies requests with the
//! very functions that sign them, and so the spec's vectors pin each step on its own.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha1::Sha1;

/// `SignatureMethod` of this signature.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// `SignatureVersion` of this signature.
pub const SIGNATURE_VERSION: &str = "1.0";

/// Percent-encodes `s` the RPC way: RFC 3986 unreserved characters (`A–Z a–z 0–9 - _ . ~`) are
/// kept and every other UTF-8 byte becomes `%XX` in upper-case hex, so a space is `%20` and `*`
/// is `%2A`. credentials-python's `quote_plus` turns a space into `+`; that is not copied
/// (spec §5.3, vector B).
///
/// ```
/// use oss_credentials::rpc::percent_encode;
/// assert_eq!(percent_encode("a b*c~/é"), "a%20b%2Ac~%2F%C3%A9");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The canonicalized query: every parameter except `Signature`, sorted by name in byte order,
/// names and values [`percent_encode`]d, joined as `name=value` with `&`.
pub fn canonicalized_query<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    // Sorting the encoded names equals sorting the raw ones for the ASCII names RPC uses, and
    // it is what a verifier sees, so both sides agree on non-ASCII names too.
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `METHOD&%2F&` + the percent-encoded canonicalized query.
pub fn string_to_sign(method: &str, canonicalized_query: &str) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(canonicalized_query)
    )
}

/// base64(HMAC-SHA1(`secret` + `&`, `string_to_sign`)).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut key = String::with_capacity(secret.len() + 1);
    key.push_str(secret);
    key.push('&');
    let mut mac = <Hmac<Sha1>>::new_from_slice(key.as_bytes()).expect("HMAC takes any key size");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs `params` for `method`: the three steps above in one call.
///
/// ```
/// use oss_credentials::rpc::sign;
/// let sig = sign("GET", "testAccessKeySecret", [("Action", "AssumeRole")]);
/// assert_eq!(sig.len(), 28);
/// ```
pub fn sign<'a, I>(method: &str, secret: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    signature(
        secret,
        &string_to_sign(method, &canonicalized_query(params)),
    )
}

/// `application/x-www-form-urlencoded` text for `params` using [`percent_encode`] (so the body
/// and query carry exactly the bytes that were signed).
pub fn form_encode<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (i, (k, v)) in params.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(k));
        out.push('=');
        out.push_str(&percent_encode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "testAccessKeySecret";

    fn vector_a() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccessKeyId", "testAccessKeyId"),
            ("Action", "AssumeRole"),
            ("DurationSeconds", "3600"),
            ("Format", "JSON"),
            ("RoleArn", "acs:ram::1234567890123456:role/test-role"),
            ("RoleSessionName", "oss-rs-test"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2024-01-01T00:00:00Z"),
            ("Version", "2015-04-01"),
        ]
    }

    const POLICY: &str = r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:*"], "Resource": ["*"]}]}"#;

    #[test]
    fn vector_a_canonical_query_and_string_to_sign() {
        let mut params = vector_a();
        // Order of input must not matter.
        params.reverse();
        let q = canonicalized_query(params.iter().copied());
        assert_eq!(
            q,
            "AccessKeyId=testAccessKeyId&Action=AssumeRole&DurationSeconds=3600&Format=JSON&\
             RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2Ftest-role&RoleSessionName=oss-rs-test&\
             SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&\
             SignatureVersion=1.0&Timestamp=2024-01-01T00%3A00%3A00Z&Version=2015-04-01"
        );
        assert_eq!(
            string_to_sign("GET", &q),
            "GET&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DAssumeRole%26DurationSeconds%3D3600%26\
             Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A1234567890123456%253Arole%252Ftest-role%26\
             RoleSessionName%3Doss-rs-test%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D\
             3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D\
             2024-01-01T00%253A00%253A00Z%26Version%3D2015-04-01"
        );
    }

    #[test]
    fn vector_a_signatures_get_and_post() {
        assert_eq!(
            sign("GET", SECRET, vector_a()),
            "0JRmQs5l9bAFYdJXv8YykGNOCkE="
        );
        assert_eq!(
            sign("POST", SECRET, vector_a()),
            "ifPdqZt9+PJhT9Wjx+oagct01vg="
        );
    }

    #[test]
    fn vector_b_policy_with_spaces_uses_percent_20() {
        let mut params = vector_a();
        params.push(("Policy", POLICY));
        assert_eq!(
            percent_encode(POLICY),
            "%7B%22Version%22%3A%20%221%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20\
             %22Allow%22%2C%20%22Action%22%3A%20%5B%22oss%3A%2A%22%5D%2C%20%22Resource%22%3A%20\
             %5B%22%2A%22%5D%7D%5D%7D"
        );
        assert_eq!(
            sign("GET", SECRET, params.clone()),
            "QDXW+KMkcLd7Cx14b6+3klxJXew="
        );
        assert_eq!(sign("POST", SECRET, params), "J+pgsxSUh0imAEh/CuU1O1IYyeY=");
    }

    #[test]
    fn signature_parameter_is_not_signed() {
        let mut params = vector_a();
        params.push(("Signature", "whatever"));
        assert_eq!(sign("GET", SECRET, params), "0JRmQs5l9bAFYdJXv8YykGNOCkE=");
    }

    #[test]
    fn form_encoding_matches_the_signed_bytes() {
        assert_eq!(form_encode([("a b", "c+d*")]), "a%20b=c%2Bd%2A");
    }
}
