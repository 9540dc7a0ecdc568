//! The record of a 203 `CallbackFailed` answer, the same from the transport to the CLI.

use std::collections::BTreeMap;
use std::fmt;

use http::{HeaderMap, StatusCode};

/// A 203 `CallbackFailed` answer to an upload that carried a callback (protocol §4.6): **the
/// object is stored**, only the callback to the application server failed. A 203 always means
/// that, so there is no flag to ask.
///
/// `Display` is one complete line: target, OSS code and message, EC, ETag, upload id and
/// request id.
///
/// ```
/// let mut f = oss_types::CallbackFailure::new("b", "k");
/// f.code = "CallbackFailed".into();
/// f.message = "Error status : 500.".into();
/// f.ec = Some("0007-00000203".into());
/// f.request_id = Some("R1".into());
/// assert_eq!(
///     f.to_string(),
///     "upload callback failed for oss://b/k; the object is stored: CallbackFailed: Error status : 500. (EC 0007-00000203) [request id: R1]"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackFailure {
    /// Bucket of the stored object.
    pub bucket: String,
    /// Key of the stored object.
    pub key: String,
    /// Multipart upload id, for multipart and resumable uploads.
    pub upload_id: Option<String>,
    /// HTTP status (203).
    pub status: StatusCode,
    /// OSS error code (normally `CallbackFailed`).
    pub code: String,
    /// OSS error message, e.g. `Error status : 500.`
    pub message: String,
    /// OSS EC, e.g. `0007-00000203`.
    pub ec: Option<String>,
    /// Request id of the upload request.
    pub request_id: Option<String>,
    /// ETag of the stored object.
    pub etag: Option<String>,
    /// CRC-64 of the stored object (`x-oss-hash-crc64ecma`).
    pub crc64: Option<u64>,
    /// Version id of the stored object.
    pub version_id: Option<String>,
    /// Every leaf element of the error document by name.
    pub fields: BTreeMap<String, String>,
    /// The response headers.
    pub headers: HeaderMap,
}

impl CallbackFailure {
    /// An empty record for `bucket`/`key` with status 203; the parser fills in the rest.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: None,
            status: StatusCode::NON_AUTHORITATIVE_INFORMATION,
            code: String::new(),
            message: String::new(),
            ec: None,
            request_id: None,
            etag: None,
            crc64: None,
            version_id: None,
            fields: BTreeMap::new(),
            headers: HeaderMap::new(),
        }
    }
}

impl fmt::Display for CallbackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "upload callback failed for oss://{}/{}; the object is stored",
            self.bucket, self.key
        )?;
        if !self.code.is_empty() {
            write!(f, ": {}", self.code)?;
        }
        let message = self.message.trim();
        if !message.is_empty() {
            write!(f, ": {}", one_line(message))?;
        }
        if let Some(ec) = &self.ec {
            write!(f, " (EC {ec})")?;
        }
        if let Some(etag) = &self.etag {
            write!(f, "; etag {etag}")?;
        }
        if let Some(id) = &self.upload_id {
            write!(f, "; upload {id}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id: {id}]")?;
        }
        Ok(())
    }
}

/// The identity of an OSS error answer, which each level's error copies so that its `Display`
/// is one complete line: HTTP status, code, message, EC and request id.
///
/// ```
/// let f = oss_types::ServiceFields {
///     status: 403,
///     code: "AccessDenied".into(),
///     message: "You have no right to access this object.".into(),
///     ec: Some("0003-00000001".into()),
///     request_id: Some("R1".into()),
/// };
/// assert_eq!(
///     f.to_string(),
///     "HTTP 403 AccessDenied: You have no right to access this object. (EC 0003-00000001) [request id: R1]"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceFields {
    /// HTTP status code.
    pub status: u16,
    /// OSS error code (`NoSuchKey`); empty when the answer had no error document.
    pub code: String,
    /// OSS error message.
    pub message: String,
    /// OSS EC (`0003-00000001`).
    pub ec: Option<String>,
    /// Request id of the failed request.
    pub request_id: Option<String>,
}

impl fmt::Display for ServiceFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        let message = self.message.trim();
        if !message.is_empty() {
            write!(f, ": {}", one_line(message))?;
        }
        if let Some(ec) = &self.ec {
            write!(f, " (EC {ec})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id: {id}]")?;
        }
        Ok(())
    }
}

/// `s` with line breaks turned into spaces, so a report stays one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
