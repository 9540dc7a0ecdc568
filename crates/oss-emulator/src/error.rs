//! Errors: the crate's public [`Error`] (starting and running the emulator) and the OSS error
//! replies ([`ApiError`]) every handler returns, rendered as OSS's `<Error>` XML.

use std::path::PathBuf;

use http::StatusCode;

use crate::xml::escape;

/// Errors from building, starting or running an [`Emulator`](crate::Emulator).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file or directory of the data dir could not be used.
    #[error("storage I/O failed at {}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The RSA key used to sign callbacks could not be generated, read or encoded.
    #[error("RSA callback key: {reason}")]
    RsaKey {
        /// What went wrong (never contains key material).
        reason: String,
    },
    /// A setting is not usable (for example an empty access key id).
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// An OSS error reply: HTTP status, `Code`, `Message`, fine-grained `EC` and extra leaf elements.
///
/// Handlers return it; the server renders it with [`ApiError::to_xml`] (or as the `x-oss-err`
/// header for HEAD requests). It is never a 500 unless storage itself failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status of the reply.
    pub(crate) status: StatusCode,
    /// The `Code` element, e.g. `SignatureDoesNotMatch`.
    pub(crate) code: &'static str,
    /// The `Message` element.
    pub(crate) message: String,
    /// The `EC` element / `x-oss-ec` header, when OSS documents one.
    pub(crate) ec: Option<&'static str>,
    /// Extra elements placed after `HostId`, in order.
    pub(crate) extras: Vec<(&'static str, String)>,
}

/// Most bytes of a request value (header, query or form field) an error element quotes back: a
/// 400 KB header must not become a 400 KB answer, or an allocation per bad request.
pub const MAX_ECHO_BYTES: usize = 512;
/// Most bytes of the expected `CanonicalRequest` quoted in `SignatureDoesNotMatch` (longer so a
/// signing bug stays debuggable; it still holds header values, so it is bounded too).
const MAX_CANONICAL_ECHO_BYTES: usize = 8 * 1024;
/// Appended to a value that was cut.
const CLIPPED: &str = "...";

/// `value`, cut at a character boundary to at most `limit` bytes plus [`CLIPPED`].
fn clip(mut value: String, limit: usize) -> String {
    if value.len() > limit {
        let mut end = limit;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
        value.push_str(CLIPPED);
    }
    value
}

const MSG_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
const MSG_NO_SUCH_UPLOAD: &str = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
const MSG_INVALID_PART: &str = "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.";

impl ApiError {
    /// A reply with no extra elements. A message longer than [`MAX_ECHO_BYTES`] is cut there.
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        ec: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: clip(message.into(), MAX_ECHO_BYTES),
            ec,
            extras: Vec::new(),
        }
    }

    /// Adds an extra element (after `HostId`); a value longer than [`MAX_ECHO_BYTES`] is cut
    /// there and ends in `...`.
    pub(crate) fn with(self, name: &'static str, value: impl Into<String>) -> Self {
        self.with_limit(name, value.into(), MAX_ECHO_BYTES)
    }

    fn with_limit(mut self, name: &'static str, value: String, limit: usize) -> Self {
        self.extras.push((name, clip(value, limit)));
        self
    }

    /// 400 `InvalidArgument` with `ArgumentName`/`ArgumentValue`.
    pub(crate) fn invalid_argument(
        ec: Option<&'static str>,
        message: impl Into<String>,
        name: &str,
        value: &str,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", ec, message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    /// 403 `SignatureDoesNotMatch` (V4) with the expected string-to-sign and canonical request.
    pub(crate) fn signature_mismatch(
        access_key_id: &str,
        signature: &str,
        string_to_sign: &str,
        canonical_request: &str,
    ) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            Some("0002-00000201"),
            MSG_SIGNATURE,
        )
        .with("OSSAccessKeyId", access_key_id)
        .with("SignatureProvided", signature)
        .with("StringToSign", string_to_sign)
        .with_limit(
            "StringToSignBytes",
            hex_bytes(string_to_sign),
            3 * MAX_ECHO_BYTES,
        )
        .with_limit(
            "CanonicalRequest",
            canonical_request.to_owned(),
            MAX_CANONICAL_ECHO_BYTES,
        )
    }

    /// 403 `InvalidAccessKeyId`.
    pub(crate) fn invalid_access_key_id(access_key_id: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "InvalidAccessKeyId",
            Some("0002-00000902"),
            "The OSS Access Key Id you provided does not exist in our records.",
        )
        .with("OSSAccessKeyId", access_key_id)
    }

    /// 403 `AccessDenied` with a message and EC.
    pub(crate) fn access_denied(ec: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", Some(ec), message)
    }

    /// 404 `NoSuchKey`.
    pub(crate) fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            Some("0026-00000001"),
            "The specified key does not exist.",
        )
        .with("Key", key)
    }

    /// 404 `NoSuchBucket` (only for buckets that were never used when auto-create is off).
    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            Some("0015-00000101"),
            "The specified bucket does not exist.",
        )
        .with("BucketName", bucket)
    }

    /// 404 `NoSuchUpload` with the given EC.
    pub(crate) fn no_such_upload(ec: &'static str, upload_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            Some(ec),
            MSG_NO_SUCH_UPLOAD,
        )
        .with("UploadId", upload_id)
    }

    /// 400 `InvalidPart` for a listed part that is missing or whose ETag differs.
    pub(crate) fn invalid_part(upload_id: &str, part_number: u32, etag: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidPart",
            None,
            MSG_INVALID_PART,
        )
        .with("ETag", etag)
        .with("PartNumber", part_number.to_string())
        .with("UploadId", upload_id)
    }

    /// 400 `MalformedXML`.
    pub(crate) fn malformed_xml(ec: &'static str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            Some(ec),
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
        .with("ErrorDetail", detail)
    }

    /// 400 `InvalidObjectName`.
    pub(crate) fn invalid_object_name(ec: &'static str, message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidObjectName",
            Some(ec),
            message,
        )
    }

    /// 405 `MethodNotAllowed`.
    pub(crate) fn method_not_allowed(method: &str, resource: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            Some("0017-00000001"),
            "The specified method is not allowed against this resource.",
        )
        .with("Method", method)
        .with("ResourceType", resource)
    }

    /// 203 `CallbackFailed` (the object is stored).
    pub(crate) fn callback_failed(ec: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NON_AUTHORITATIVE_INFORMATION,
            "CallbackFailed",
            Some(ec),
            message,
        )
    }

    /// 500 `InternalError`: only for storage failures (disk full, permissions).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            None,
            message,
        )
    }

    /// The `<Error>` document, elements in OSS's order.
    pub(crate) fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
        push(&mut out, "Code", self.code);
        push(&mut out, "Message", &self.message);
        push(&mut out, "RequestId", request_id);
        push(&mut out, "HostId", host_id);
        for (name, value) in &self.extras {
            push(&mut out, name, value);
        }
        if let Some(ec) = self.ec {
            push(&mut out, "EC", ec);
            push(
                &mut out,
                "RecommendDoc",
                &format!("https://api.aliyun.com/troubleshoot?q={ec}"),
            );
        }
        out.push_str("</Error>\n");
        out
    }
}

fn push(out: &mut String, name: &str, value: &str) {
    out.push_str("  <");
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn hex_bytes(s: &str) -> String {
    s.bytes()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        tracing::error!(error = %e, "storage failure");
        Self::internal("The emulator's storage failed.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_values_are_clipped() {
        let huge = "é".repeat(200_000);
        let e = ApiError::invalid_argument(None, huge.clone(), "x-oss-meta-a", &huge);
        assert!(e.message.len() <= MAX_ECHO_BYTES + CLIPPED.len());
        let (_, value) = &e.extras[1];
        assert!(value.len() <= MAX_ECHO_BYTES + CLIPPED.len() && value.ends_with(CLIPPED));
        assert!(e.to_xml("r", "h").len() < 4 * MAX_ECHO_BYTES);
        let e = ApiError::signature_mismatch("ak", "sig", "sts", &huge);
        assert!(e.to_xml("r", "h").len() < MAX_CANONICAL_ECHO_BYTES + 4 * MAX_ECHO_BYTES);
        assert_eq!(clip("short".into(), 10), "short");
    }

    #[test]
    fn xml_has_oss_order_and_escapes() {
        let e = ApiError::invalid_argument(Some("0007-00000003"), "a<b", "callback", "x&y");
        let xml = e.to_xml("RID", "host");
        let code = xml.find("<Code>").unwrap();
        let host = xml.find("<HostId>").unwrap();
        let arg = xml.find("<ArgumentName>").unwrap();
        let ec = xml.find("<EC>").unwrap();
        assert!(code < host && host < arg && arg < ec);
        assert!(xml.contains("<Message>a&lt;b</Message>"));
        assert!(xml.contains("<ArgumentValue>x&amp;y</ArgumentValue>"));
        assert!(xml.contains(
            "<RecommendDoc>https://api.aliyun.com/troubleshoot?q=0007-00000003</RecommendDoc>"
        ));
    }
}
