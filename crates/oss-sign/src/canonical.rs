//! The canonical request (protocol §1.1 step 3): the exact text whose SHA-256 is signed.

use std::fmt;

use http::{HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};

use crate::encoding::encode_into;
use crate::names::X_OSS_PREFIX;
use crate::sink::Sink;
use crate::Error;
use oss_types::percent_encode;

/// Whether a lower-case header name is signed by default: `x-oss-*`, `content-type`, `content-md5`.
///
/// ```
/// assert!(oss_sign::is_default_signed_header("x-oss-callback"));
/// assert!(oss_sign::is_default_signed_header("content-md5"));
/// assert!(!oss_sign::is_default_signed_header("user-agent"));
/// ```
pub fn is_default_signed_header(name: &str) -> bool {
    name.starts_with(X_OSS_PREFIX) || name == "content-type" || name == "content-md5"
}

/// The additional headers that actually get signed (protocol §1.1, "AdditionalHeaders").
///
/// From `requested`, keeps a name only if, lower-cased, it is not signed by default and the
/// request has that header with a non-empty value; the result is lower-case, de-duplicated and
/// sorted.
///
/// ```
/// use http::HeaderMap;
/// let mut h = HeaderMap::new();
/// for name in ["x-oss-head1", "abc", "zabc", "xyz"] {
///     h.insert(name, "value".parse().unwrap());
/// }
/// let requested = ["x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"].map(String::from);
/// assert_eq!(oss_sign::effective_additional_headers(&requested, &h), ["abc", "zabc"]);
/// ```
pub fn effective_additional_headers<S: AsRef<str>>(
    requested: &[S],
    headers: &HeaderMap,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in requested {
        let lower = name.as_ref().trim().to_ascii_lowercase();
        if lower.is_empty() || is_default_signed_header(&lower) {
            continue;
        }
        let present = headers
            .get_all(lower.as_str())
            .iter()
            .any(|v| !trim_bytes(v.as_bytes()).is_empty());
        if present {
            out.push(lower);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Trims HTTP/Unicode-ASCII whitespace from both ends of raw header bytes.
fn trim_bytes(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or_default()
}

/// How header values that are not UTF-8 are handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Return [`Error::InvalidHeaderValue`] (the signer).
    Strict,
    /// Replace invalid bytes with U+FFFD (verification of someone else's request).
    Lossy,
}

/// Where a signed header's value comes from while building.
#[derive(Clone, Copy)]
enum HeaderSource<'a> {
    Map(&'a HeaderValue),
    Value(&'a str),
}

/// Everything the canonical request is made of, borrowed.
pub(crate) struct Parts<'a> {
    pub(crate) method: &'a str,
    pub(crate) bucket: Option<&'a str>,
    pub(crate) key: Option<&'a str>,
    pub(crate) query: &'a [(String, String)],
    pub(crate) headers: &'a HeaderMap,
    /// Header values the signer is about to set; they replace any value in `headers`.
    pub(crate) overrides: &'a [(&'static str, &'a str)],
    /// Already effective (see [`effective_additional_headers`]).
    pub(crate) additional: &'a [String],
    pub(crate) hashed_payload: &'a str,
}

/// A canonical request: `Display` renders exactly the text that is hashed.
///
/// ```
/// use http::{HeaderMap, Method};
/// use oss_sign::CanonicalRequest;
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", "text/plain".parse().unwrap());
/// headers.insert("x-oss-date", "20231216T162057Z".parse().unwrap());
/// headers.insert("user-agent", "not signed".parse().unwrap());
/// let query = vec![("uploads".to_owned(), String::new())];
/// let cr = CanonicalRequest::new(
///     &Method::POST, Some("bucket"), Some("a b.txt"), &query, &headers, &[], "UNSIGNED-PAYLOAD",
/// );
/// assert_eq!(
///     cr.to_string(),
///     "POST\n/bucket/a%20b.txt\nuploads\ncontent-type:text/plain\nx-oss-date:20231216T162057Z\n\n\nUNSIGNED-PAYLOAD"
/// );
/// ```
///
/// `Debug` shows the text with any STS token (header or query parameter) replaced by `***`;
/// `Display` shows the exact text.
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    text: String,
    additional: Vec<String>,
}

/// Method, bucket, key, decoded query, headers and the caller's additional-header list.
type RequestInputs<'a> = (
    &'a Method,
    Option<&'a str>,
    Option<&'a str>,
    &'a [(String, String)],
    &'a HeaderMap,
    &'a [String],
);

impl CanonicalRequest {
    /// Canonicalises a request as OSS does.
    ///
    /// `query` holds the *decoded* name/value pairs (see [`decode_query`](crate::decode_query));
    /// `additional_headers` is the caller's list, filtered by
    /// [`effective_additional_headers`]. The canonical URI is built from `bucket` and `key`.
    /// Header values that are not UTF-8 are canonicalised lossily; use
    /// [`CanonicalRequest::try_new`] to reject them instead.
    pub fn new(
        method: &Method,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(String, String)],
        headers: &HeaderMap,
        additional_headers: &[String],
        hashed_payload: &str,
    ) -> Self {
        let inputs = (method, bucket, key, query, headers, additional_headers);
        // Lossy building cannot fail.
        Self::from_inputs(inputs, hashed_payload, Strictness::Lossy).unwrap_or_else(|_| Self {
            text: String::new(),
            additional: Vec::new(),
        })
    }

    /// Like [`CanonicalRequest::new`], but rejects signed header values that are not UTF-8.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHeaderValue`] naming the first such header.
    pub fn try_new(
        method: &Method,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(String, String)],
        headers: &HeaderMap,
        additional_headers: &[String],
        hashed_payload: &str,
    ) -> Result<Self, Error> {
        let inputs = (method, bucket, key, query, headers, additional_headers);
        Self::from_inputs(inputs, hashed_payload, Strictness::Strict)
    }

    /// The shared body of [`CanonicalRequest::new`] and [`CanonicalRequest::try_new`].
    fn from_inputs(
        (method, bucket, key, query, headers, additional_headers): RequestInputs<'_>,
        hashed_payload: &str,
        strictness: Strictness,
    ) -> Result<Self, Error> {
        let additional = effective_additional_headers(additional_headers, headers);
        let parts = Parts {
            method: method.as_str(),
            bucket,
            key,
            query,
            headers,
            overrides: &[],
            additional: &additional,
            hashed_payload,
        };
        Self::build(parts, strictness)
    }

    pub(crate) fn build(p: Parts<'_>, strictness: Strictness) -> Result<Self, Error> {
        let mut text = String::with_capacity(
            256 + p.key.map_or(0, str::len) * 3 + p.query.len() * 32 + p.headers.len() * 48,
        );
        write(&p, strictness, &mut text)?;
        Ok(Self {
            text,
            additional: p.additional.to_vec(),
        })
    }

    /// The canonical text (same as `Display`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The additional header names that were signed (lower-case, sorted; may be empty).
    pub fn effective_additional_headers(&self) -> &[String] {
        &self.additional
    }

    /// SHA-256 of the text.
    pub(crate) fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.text.as_bytes()).into()
    }

    /// Lower-case hex SHA-256 of the text (the last line of the string to sign).
    pub fn hash_hex(&self) -> String {
        crate::encoding::hex32(&self.hash())
    }
}

/// Headers kept inline while sorting; requests with more signed headers use the heap.
const INLINE_HEADERS: usize = 24;

/// Writes the canonical request of `p` into `out` (protocol §1.1 step 3).
pub(crate) fn write<S: Sink>(
    p: &Parts<'_>,
    strictness: Strictness,
    out: &mut S,
) -> Result<(), Error> {
    out.put(p.method);
    out.put("\n/");

    // Canonical URI: "/" [bucket "/"] [key], encoded with '/' kept.
    if let Some(bucket) = p.bucket {
        encode_into(out, bucket, true);
        out.put("/");
    }
    if let Some(key) = p.key {
        encode_into(out, key, true);
    }
    out.put("\n");

    // Canonical query: encoded pairs sorted by encoded name, then encoded value.
    if !p.query.is_empty() {
        let mut encoded: Vec<(String, String)> = p
            .query
            .iter()
            .map(|(n, v)| (percent_encode(n, false), percent_encode(v, false)))
            .collect();
        encoded.sort_unstable();
        for (i, (name, value)) in encoded.iter().enumerate() {
            if i > 0 {
                out.put("&");
            }
            out.put(name);
            if !value.is_empty() {
                out.put("=");
                out.put(value);
            }
        }
    }
    out.put("\n");

    // Canonical headers: `HeaderMap::iter` yields the values of one name consecutively, in
    // order; a stable sort by name keeps that order for joining with ','.
    let mut inline = [("", HeaderSource::Value("")); INLINE_HEADERS];
    let mut heap: Vec<(&str, HeaderSource<'_>)> = Vec::new();
    let mut count = 0;
    let candidates = p
        .headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            (is_default_signed_header(n) || p.additional.iter().any(|a| a == n))
                && !p.overrides.iter().any(|(o, _)| *o == n)
        })
        .map(|(name, value)| (name.as_str(), HeaderSource::Map(value)))
        .chain(
            p.overrides
                .iter()
                .map(|(name, value)| (*name, HeaderSource::Value(value))),
        );
    for entry in candidates {
        if count < INLINE_HEADERS {
            inline[count] = entry;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&inline);
            }
            heap.push(entry);
        }
        count += 1;
    }
    let signed: &mut [(&str, HeaderSource<'_>)] = if count <= INLINE_HEADERS {
        &mut inline[..count]
    } else {
        &mut heap
    };
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let mut previous: Option<&str> = None;
    for (name, source) in signed.iter() {
        if previous == Some(*name) {
            out.put(",");
        } else {
            if previous.is_some() {
                out.put("\n");
            }
            out.put(name);
            out.put(":");
            previous = Some(name);
        }
        match source {
            HeaderSource::Value(v) => out.put(v.trim()),
            HeaderSource::Map(v) => {
                let raw = trim_bytes(v.as_bytes());
                match std::str::from_utf8(raw) {
                    Ok(s) => out.put(s.trim()),
                    Err(_) if strictness == Strictness::Lossy => {
                        out.put(String::from_utf8_lossy(raw).trim());
                    }
                    Err(_) => {
                        return Err(Error::InvalidHeaderValue {
                            name: (*name).to_owned(),
                        })
                    }
                }
            }
        }
    }
    if previous.is_some() {
        out.put("\n");
    }
    out.put("\n");

    // Additional headers, then the payload hash.
    for (i, name) in p.additional.iter().enumerate() {
        if i > 0 {
            out.put(";");
        }
        out.put(name);
    }
    out.put("\n");
    out.put(p.hashed_payload);
    Ok(())
}

impl CanonicalRequest {
    /// The text with the value of `x-oss-security-token` (header line or query parameter)
    /// replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        const HEADER: &str = "x-oss-security-token:";
        const PARAM: &str = "x-oss-security-token=";
        let mut out = String::with_capacity(self.text.len());
        for (i, line) in self.text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            if line.starts_with(HEADER) {
                out.push_str(HEADER);
                out.push_str("***");
            } else if i == 2 && line.contains(PARAM) {
                for (j, pair) in line.split('&').enumerate() {
                    if j > 0 {
                        out.push('&');
                    }
                    if pair.starts_with(PARAM) {
                        out.push_str(PARAM);
                        out.push_str("***");
                    } else {
                        out.push_str(pair);
                    }
                }
            } else {
                out.push_str(line);
            }
        }
        out
    }
}

impl fmt::Debug for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CanonicalRequest")
            .field("text", &self.redacted())
            .field("additional", &self.additional)
            .finish()
    }
}

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderName;

    #[test]
    fn repeated_headers_joined_and_trimmed() {
        let mut h = HeaderMap::new();
        h.append("x-oss-meta-a", HeaderValue::from_static("  one "));
        h.append("x-oss-meta-a", HeaderValue::from_static("two"));
        h.append("content-md5", HeaderValue::from_static("abc=="));
        let cr = CanonicalRequest::new(&Method::GET, None, None, &[], &h, &[], "UNSIGNED-PAYLOAD");
        assert_eq!(
            cr.as_str(),
            "GET\n/\n\ncontent-md5:abc==\nx-oss-meta-a:one,two\n\n\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn many_signed_headers_spill_to_heap_and_stay_sorted() {
        let mut h = HeaderMap::new();
        for i in (0..40).rev() {
            h.append(
                HeaderName::from_bytes(format!("x-oss-meta-{i:02}").as_bytes()).expect("name"),
                HeaderValue::from_str(&format!("v{i}")).expect("value"),
            );
        }
        h.append("x-oss-meta-07", HeaderValue::from_static("again"));
        let cr = CanonicalRequest::new(&Method::PUT, None, None, &[], &h, &[], "X");
        let mut want = String::from("PUT\n/\n\n");
        for i in 0..40 {
            let extra = if i == 7 { ",again" } else { "" };
            want.push_str(&format!("x-oss-meta-{i:02}:v{i}{extra}\n"));
        }
        want.push_str("\n\nX");
        assert_eq!(cr.as_str(), want);
    }

    #[test]
    fn bucket_only_and_duplicate_query_names() {
        let q = vec![
            ("b".to_owned(), "2".to_owned()),
            ("a b".to_owned(), String::new()),
            ("b".to_owned(), "1".to_owned()),
        ];
        let cr = CanonicalRequest::new(
            &Method::GET,
            Some("examplebucket"),
            None,
            &q,
            &HeaderMap::new(),
            &[],
            "UNSIGNED-PAYLOAD",
        );
        assert_eq!(
            cr.as_str(),
            "GET\n/examplebucket/\na%20b&b=1&b=2\n\n\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn key_slashes_kept_verbatim() {
        let cr = CanonicalRequest::new(
            &Method::PUT,
            Some("examplebucket"),
            Some("/lead//double/"),
            &[],
            &HeaderMap::new(),
            &[],
            "UNSIGNED-PAYLOAD",
        );
        assert!(cr
            .as_str()
            .starts_with("PUT\n/examplebucket//lead//double/\n"));
    }

    #[test]
    fn non_utf8_value_strict_vs_lossy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-oss-meta-bin",
            HeaderValue::from_bytes(b"a\xffb").expect("obs-text is a valid header value"),
        );
        let strict = CanonicalRequest::try_new(&Method::PUT, None, None, &[], &h, &[], "X");
        assert!(
            matches!(strict, Err(Error::InvalidHeaderValue { ref name }) if name == "x-oss-meta-bin")
        );
        let lossy = CanonicalRequest::new(&Method::PUT, None, None, &[], &h, &[], "X");
        assert!(lossy.as_str().contains("x-oss-meta-bin:a\u{fffd}b\n"));
    }

    #[test]
    fn debug_redacts_security_token() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-oss-security-token",
            HeaderValue::from_static("Sts-T0ken"),
        );
        let q = vec![("x-oss-security-token".to_owned(), "Sts-T0ken".to_owned())];
        let cr = CanonicalRequest::new(&Method::GET, None, None, &q, &h, &[], "X");
        assert!(cr.to_string().contains("Sts-T0ken"));
        let dbg = format!("{cr:?}");
        assert!(!dbg.contains("Sts-T0ken"), "{dbg}");
        assert_eq!(
            cr.redacted(),
            "GET\n/\nx-oss-security-token=***\nx-oss-security-token:***\n\n\nX"
        );
    }

    #[test]
    fn additional_header_needs_non_empty_value() {
        let mut h = HeaderMap::new();
        h.insert("abc", HeaderValue::from_static(""));
        h.insert("def", HeaderValue::from_static("v"));
        let req = ["abc", "DEF", "def", "content-type", "missing"].map(String::from);
        assert_eq!(effective_additional_headers(&req, &h), ["def"]);
    }
}
