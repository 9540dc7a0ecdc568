//! The RSA signature OSS puts on the callback requests it sends, and its verification.
//!
//! OSS signs `url_decode(path) + query + "\n" + body` with RSA PKCS#1 v1.5 over an MD5
//! digest, and sends the base64 signature in the `authorization` header and the base64
//! URL of its public key in `x-oss-pub-key-url`.

use http::{HeaderMap, HeaderName, HeaderValue};
use md5::{Digest as _, Md5};
use rsa::Pkcs1v15Sign;

use crate::codec;
use crate::key::{CallbackPrivateKey, CallbackPublicKey};
use crate::Error;

/// Header carrying the base64 signature of a callback request (lower-case, no scheme prefix).
pub const HEADER_AUTHORIZATION: HeaderName = http::header::AUTHORIZATION;
/// Header carrying the base64 URL of the public key that verifies the signature.
pub const HEADER_PUB_KEY_URL: HeaderName = HeaderName::from_static("x-oss-pub-key-url");

/// The exact bytes OSS signs: the percent-decoded `path`, then `query` (with a leading `?`; one
/// is added when `query` is non-empty and lacks it), then `\n`, then the raw `body`.
///
/// Path decoding turns `%XX` into the byte it names and leaves everything else, including `+`,
/// as is (RFC 3986 path semantics, like Go's `PathUnescape` and Python's `unquote`); the query is
/// not decoded.
pub fn string_to_sign(path: &str, query: &str, body: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    if !query.is_empty() && !query.starts_with('?') {
        out.push(b'?');
    }
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

fn digest(path: &str, query: &str, body: &[u8]) -> [u8; 16] {
    Md5::digest(string_to_sign(path, query, body)).into()
}

/// Signs a callback request as OSS does; returns the base64 value of `authorization`.
/// Used by the emulator to sign what it delivers.
///
/// # Errors
///
/// [`Error::Signing`] if the key is too small for an MD5 PKCS#1 v1.5 signature.
pub fn sign_callback(
    key: &CallbackPrivateKey,
    path: &str,
    query: &str,
    body: &[u8],
) -> Result<String, Error> {
    let sig = key
        .rsa()
        .sign(Pkcs1v15Sign::new::<Md5>(), &digest(path, query, body))
        .map_err(|source| Error::Signing { source })?;
    Ok(codec::encode_base64(&sig))
}

/// The two signature headers of a callback request: `authorization` (the signature) and
/// `x-oss-pub-key-url` (base64 of `pub_key_url`).
///
/// # Errors
///
/// As [`sign_callback`].
pub fn signature_headers(
    key: &CallbackPrivateKey,
    pub_key_url: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> Result<HeaderMap, Error> {
    let sig = sign_callback(key, path, query, body)?;
    let mut headers = HeaderMap::new();
    let invalid = |name| move |_| Error::InvalidHeaderValue { name };
    headers.insert(
        HEADER_AUTHORIZATION,
        HeaderValue::try_from(sig).map_err(invalid("authorization"))?,
    );
    headers.insert(
        HEADER_PUB_KEY_URL,
        HeaderValue::try_from(codec::encode_base64(pub_key_url.as_bytes()))
            .map_err(invalid("x-oss-pub-key-url"))?,
    );
    Ok(headers)
}

/// Verifies a callback request's signature against a public key. Works with OSS's 512-bit key.
///
/// `path` is the request path as sent (still percent-encoded), `query` the raw query string
/// (with or without its leading `?`, empty when there is none), `body` the raw body bytes, and
/// `authorization_b64` the `authorization` header value.
///
/// # Errors
///
/// [`Error::Base64`] when `authorization_b64` is not base64, [`Error::SignatureMismatch`] when
/// the signature does not verify.
pub fn verify_callback(
    key: &CallbackPublicKey,
    path: &str,
    query: &str,
    body: &[u8],
    authorization_b64: &str,
) -> Result<(), Error> {
    let sig = codec::decode_base64("authorization", authorization_b64)?;
    key.rsa()
        .verify(Pkcs1v15Sign::new::<Md5>(), &digest(path, query, body), &sig)
        .map_err(|_| Error::SignatureMismatch)
}

/// Decodes the `x-oss-pub-key-url` header value (base64) into the URL.
///
/// # Errors
///
/// [`Error::Base64`] or [`Error::InvalidHeaderValue`] (not UTF-8).
pub fn decode_pub_key_url(b64: &str) -> Result<String, Error> {
    let bytes = codec::decode_base64("x-oss-pub-key-url", b64)?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidHeaderValue {
        name: "x-oss-pub-key-url",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_rules() {
        assert_eq!(
            string_to_sign("/index.php", "?id=1&index=2", b"bucket=yonghu-test"),
            b"/index.php?id=1&index=2\nbucket=yonghu-test"
        );
        assert_eq!(string_to_sign("/a", "id=1", b""), b"/a?id=1\n");
        assert_eq!(string_to_sign("/a%20b+c", "", b"x"), b"/a b+c\nx");
        assert_eq!(
            string_to_sign("/%E4%B8%AD", "?q=%20", b""),
            "/中?q=%20\n".as_bytes()
        );
    }

    #[test]
    fn pub_key_url_decoding() {
        assert_eq!(
            decode_pub_key_url(
                "aHR0cDovL2dvc3NwdWJsaWMuYWxpY2RuLmNvbS9jYWxsYmFja19wdWJfa2V5X3YxLnBlbQ=="
            )
            .unwrap(),
            "http://gosspublic.alicdn.com/callback_pub_key_v1.pem"
        );
        assert!(decode_pub_key_url("!!").is_err());
    }
}
