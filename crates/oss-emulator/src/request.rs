//! Reading a request: addressing (path-style or virtual-hosted), the object key, the query,
//! and the request log entry.

use std::net::IpAddr;

use http::HeaderMap;
use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::error::ApiError;

/// Percent-encoding set for query values and `encoding-type=url` keys: everything but the RFC 3986
/// unreserved characters.
pub(crate) const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Bucket and key a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) bucket: Option<String>,
    /// The decoded key; `None` for bucket-level requests (`/bucket` or `/bucket/`).
    pub(crate) key: Option<String>,
}

/// The host part of a `Host` header (port stripped).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| &h[1..]).unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

/// If `host` is `bucket.<base>` with a base we answer for, the bucket.
fn virtual_host_bucket(host: &str, own_host: &str) -> Option<String> {
    let name = host_name(host);
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let (bucket, base) = name.split_once('.')?;
    let ours = base.parse::<IpAddr>().is_ok()
        || base.eq_ignore_ascii_case("localhost")
        || base.eq_ignore_ascii_case(host_name(own_host))
        || base.to_ascii_lowercase().ends_with("aliyuncs.com");
    (ours && !bucket.is_empty()).then(|| bucket.to_ascii_lowercase())
}

/// Percent-decodes a URL path into UTF-8 (`+` stays `+`).
fn decode_path(raw: &str) -> Result<String, ApiError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            ApiError::invalid_object_name("0016-00000004", "The specified object is not valid.")
        })
}

/// Works out bucket and key from the `Host` header and the raw (still encoded) URL path.
pub(crate) fn resolve_target(
    host: Option<&str>,
    raw_path: &str,
    own_host: &str,
) -> Result<Target, ApiError> {
    let path = decode_path(raw_path)?;
    let rest = path.strip_prefix('/').unwrap_or(&path);
    if let Some(bucket) = host.and_then(|h| virtual_host_bucket(h, own_host)) {
        let key = (!rest.is_empty()).then(|| rest.to_owned());
        return Ok(Target {
            bucket: Some(bucket),
            key,
        });
    }
    if rest.is_empty() {
        return Ok(Target {
            bucket: None,
            key: None,
        });
    }
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then(|| k.to_owned())),
        None => (rest, None),
    };
    Ok(Target {
        bucket: Some(bucket.to_owned()),
        key,
    })
}

/// `InvalidBucketName` unless the name is an [`oss_types::BucketName`].
pub(crate) fn check_bucket(bucket: &str) -> Result<(), ApiError> {
    if oss_types::BucketName::check(bucket).is_ok() {
        Ok(())
    } else {
        Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            Some("0015-00000001"),
            "The specified bucket is not valid.",
        )
        .with("BucketName", bucket))
    }
}

/// Object keys OSS refuses (errors.md 0016-*), checked after the signature.
pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() {
        return Err(ApiError::invalid_object_name(
            "0016-00000001",
            "The Object name can not be empty",
        ));
    }
    if key.len() > 1023 {
        return Err(ApiError::invalid_object_name(
            "0016-00000003",
            "The Length of Object name must be less than 1024",
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(ApiError::invalid_object_name(
            "0016-00000005",
            "The specified object is not valid.",
        ));
    }
    Ok(())
}

/// Decoded query pairs with lookup helpers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    /// Parses a raw query string with oss-sign's decoder (the one verification uses).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Query(raw.map(oss_sign::decode_query).unwrap_or_default())
    }

    /// The value of `name`, if present (`Some("")` for a bare `name`).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// One header's value as text, if present and visible ASCII/UTF-8.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The OSS operation a request was routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Operation {
    /// `PUT /key`.
    PutObject,
    /// `GET /key`.
    GetObject,
    /// `HEAD /key`.
    HeadObject,
    /// `DELETE /key`.
    DeleteObject,
    /// `POST /key?uploads`.
    InitiateMultipartUpload,
    /// `PUT /key?partNumber&uploadId`.
    UploadPart,
    /// `POST /key?uploadId`.
    CompleteMultipartUpload,
    /// `DELETE /key?uploadId`.
    AbortMultipartUpload,
    /// `GET /key?uploadId`.
    ListParts,
    /// `POST /` with a multipart/form-data body.
    PostObject,
    /// `PUT /bucket`: creates the bucket (succeeds again for an existing one).
    PutBucket,
    /// `DELETE /bucket`: only an empty bucket (no objects, no uploads).
    DeleteBucket,
    /// `GET /?bucketInfo`.
    GetBucketInfo,
    /// `GET /` on the service (no bucket).
    ListBuckets,
    /// `GET /bucket` (v1, `marker`).
    ListObjects,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `GET /bucket?uploads`.
    ListMultipartUploads,
    /// `POST /bucket?delete`.
    DeleteMultipleObjects,
    /// `PUT /bucket?cors`.
    PutBucketCors,
    /// `GET /bucket?cors`.
    GetBucketCors,
    /// `DELETE /bucket?cors`.
    DeleteBucketCors,
    /// Anything the emulator does not implement.
    Unsupported,
}

impl Operation {
    /// The name OSS uses (`${operation}` in callback bodies).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::DeleteObject => "DeleteObject",
            Operation::InitiateMultipartUpload => "InitiateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::ListParts => "ListParts",
            Operation::PostObject => "PostObject",
            Operation::PutBucket => "PutBucket",
            Operation::DeleteBucket => "DeleteBucket",
            Operation::GetBucketInfo => "GetBucketInfo",
            Operation::ListBuckets => "ListBuckets",
            Operation::ListObjects => "ListObjects",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::ListMultipartUploads => "ListMultipartUploads",
            Operation::DeleteMultipleObjects => "DeleteMultipleObjects",
            Operation::PutBucketCors => "PutBucketCors",
            Operation::GetBucketCors => "GetBucketCors",
            Operation::DeleteBucketCors => "DeleteBucketCors",
            Operation::Unsupported => "Unsupported",
        }
    }
}

/// Response extension naming the object key when the URL did not (PostObject), for the log.
#[derive(Debug, Clone)]
pub(crate) struct LoggedKey(pub(crate) String);

/// One entry of the request log ([`Emulator::requests`](crate::Emulator::requests)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Bucket, if any.
    pub bucket: Option<String>,
    /// Object key, if any.
    pub key: Option<String>,
    /// The operation it was routed to (`None` for admin and unparsable requests).
    pub operation: Option<Operation>,
    /// HTTP status answered.
    pub status: u16,
    /// The `x-oss-request-id` answered.
    pub request_id: String,
    /// The access key id the request was signed with (claimed, so also on a refusal); `None`
    /// for unsigned requests.
    pub access_key_id: Option<String>,
    /// The `Range` header the request sent, as sent.
    pub range: Option<String>,
    /// Bytes of object data the answer carried (its `Content-Length`) for a GetObject; `None`
    /// for other operations and HEAD.
    pub bytes_served: Option<u64>,
}

/// A snapshot of the request log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLog {
    entries: Vec<RequestRecord>,
    evicted: u64,
}

impl RequestLog {
    pub(crate) fn new(entries: Vec<RequestRecord>, stats: crate::ring::LogStats) -> Self {
        Self {
            entries,
            evicted: stats.evicted,
        }
    }

    /// How many older entries were dropped to keep the log within its capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The retained entries, oldest first.
    pub fn entries(&self) -> &[RequestRecord] {
        &self.entries
    }

    /// How many requests were routed to `op` for `key` (any status).
    pub fn count(&self, op: Operation, key: &str) -> usize {
        self.entries
            .iter()
            .filter(|r| r.operation == Some(op) && r.key.as_deref() == Some(key))
            .count()
    }

    /// How many requests were routed to `op` and answered with a 2xx status.
    pub fn count_ok(&self, op: Operation) -> usize {
        self.entries
            .iter()
            .filter(|r| r.operation == Some(op) && (200..300).contains(&r.status))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_keeps_inner_slashes_and_plus() {
        let t = resolve_target(
            Some("127.0.0.1:9000"),
            "/bkt/a//b%20c+d%25",
            "127.0.0.1:9000",
        )
        .unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("a//b c+d%"));
        let t = resolve_target(None, "/bkt/", "x").unwrap();
        assert_eq!((t.bucket.as_deref(), t.key), (Some("bkt"), None));
        let t = resolve_target(None, "/bkt//lead", "x").unwrap();
        assert_eq!(t.key.as_deref(), Some("/lead"));
    }

    #[test]
    fn virtual_hosted() {
        let t = resolve_target(Some("bkt.127.0.0.1:9000"), "/k/x", "127.0.0.1:9000").unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("k/x"));
        let t = resolve_target(Some("bkt.localhost"), "/", "127.0.0.1:1").unwrap();
        assert_eq!((t.bucket.as_deref(), t.key), (Some("bkt"), None));
    }

    #[test]
    fn key_rules() {
        assert_eq!(check_key("").unwrap_err().ec, Some("0016-00000001"));
        assert_eq!(
            check_key(&"a".repeat(1024)).unwrap_err().ec,
            Some("0016-00000003")
        );
        assert_eq!(check_key("/x").unwrap_err().ec, Some("0016-00000005"));
        assert!(check_key("a b/+%/../x").is_ok());
        assert!(check_bucket("Bad_Bucket").is_err());
        assert!(check_bucket("good-bucket-1").is_ok());
    }
}
