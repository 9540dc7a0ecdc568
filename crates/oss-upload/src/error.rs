//! The crate's one error type.

use std::path::PathBuf;

use oss_types::{CallbackFailure, ServiceFields};

/// Everything an upload or object call can fail with.
///
/// `Display` is one complete line for this level: the operation, the target and, when OSS
/// answered, its status, code, message, EC and request id (copied from the transport's error,
/// so a report never has to walk the source chain for them). The cause is in
/// [`std::error::Error::source`]; `Debug` never shows a signature or string to sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is invalid (missing bucket, endpoint, region or credentials).
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },

    /// An argument is invalid (header value, part size, policy, ...). Nothing was sent.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// Which argument.
        name: &'static str,
        /// What is wrong.
        message: String,
    },

    /// Callback variables were given without a callback. OSS would ignore them, so the upload
    /// is refused before anything is sent.
    #[error(
        "callback variables for oss key `{key}` without a callback (set one with with_callback)"
    )]
    CallbackVarsWithoutCallback {
        /// The object key of the upload.
        key: String,
    },

    /// The callback could not be encoded (invalid template, variable, URL).
    #[error("invalid upload callback")]
    Callback(#[source] oss_callback::Error),

    /// [`Client::from_env`](crate::Client::from_env) found no credentials (the error lists
    /// every link of the default chain it tried).
    #[error("no credentials")]
    Credentials(#[source] Box<oss_credentials::Error>),

    /// Signing (a POST policy or a browser form) failed.
    #[error("signing failed")]
    Sign(#[source] oss_sign::Error),

    /// The upload's callback failed (HTTP 203): **the object is stored**. Never retried.
    #[error("{0}")]
    CallbackFailed(Box<CallbackFailure>),

    /// A request to OSS failed (service error, connection, timeout, exhausted retries).
    #[error("{operation} failed for {target}{}", fields_suffix(.oss))]
    Request {
        /// Which call, e.g. `PutObject`, `UploadPart 3`.
        operation: String,
        /// `oss://bucket/key` (plus ` upload <id>` for multipart calls).
        target: String,
        /// OSS's answer (status, code, message, EC, request id) when one arrived.
        oss: Option<Box<ServiceFields>>,
        /// The transport's error.
        #[source]
        source: Box<oss_transport::Error>,
    },

    /// The CRC-64 OSS reports differs from the one computed while sending. Retryable.
    #[error("CRC-64 mismatch for {target}: client {client}, server {server}")]
    CrcMismatch {
        /// `oss://bucket/key` (and upload id).
        target: String,
        /// CRC computed locally.
        client: u64,
        /// CRC OSS reported.
        server: u64,
    },

    /// A multipart upload failed; names the upload id and the object. The upload was aborted
    /// unless `leave_parts_on_error` was set (or it is resumable).
    #[error("multipart upload {upload_id} of oss://{bucket}/{key} failed{}", fields_suffix(.oss))]
    Multipart {
        /// Upload id.
        upload_id: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// OSS's answer to the call that failed, copied from `source`.
        oss: Option<Box<ServiceFields>>,
        /// What failed.
        #[source]
        source: Box<Error>,
    },

    /// A local file could not be read, or its size changed while it was being uploaded.
    #[error("could not read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The caller's body stream failed.
    #[error("the upload stream failed")]
    Stream(#[source] std::io::Error),

    /// The checkpoint file could not be written or removed.
    #[error("checkpoint {} could not be written", .path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// OSS answered 2xx with a body this crate cannot read.
    #[error("unexpected {operation} response: {reason}")]
    BadResponse {
        /// Which call.
        operation: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `": HTTP 403 Code: message (EC ..) [request id: ..]"`, or nothing.
fn fields_suffix(oss: &Option<Box<ServiceFields>>) -> String {
    oss.as_ref().map(|o| format!(": {o}")).unwrap_or_default()
}

impl Error {
    /// OSS's answer behind this error (status, code, message, EC, request id), when one arrived.
    pub fn service_fields(&self) -> Option<&ServiceFields> {
        match self {
            Error::Request { oss, .. } | Error::Multipart { oss, .. } => oss.as_deref(),
            _ => None,
        }
    }

    /// The OSS request id behind this error, when a response arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::CallbackFailed(f) => f.request_id.as_deref(),
            _ => self.service_fields()?.request_id.as_deref(),
        }
    }

    /// Whether sending again may succeed (transport errors as the transport classifies them,
    /// CRC mismatches). `CallbackFailed` is never retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Request { source, .. } => source.is_retryable(),
            Error::CrcMismatch { .. } => true,
            Error::Multipart { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The callback failure, if this is one. A 203 always means the object is stored
    /// (protocol §4.6).
    pub fn callback_failure(&self) -> Option<&CallbackFailure> {
        match self {
            Error::CallbackFailed(f) => Some(f),
            _ => None,
        }
    }

    /// The OSS error code behind this error (`NoSuchUpload`, `SignatureDoesNotMatch`, ...).
    pub fn service_code(&self) -> Option<&str> {
        match self {
            Error::Request { source, .. } => source.service().map(|s| s.code.as_str()),
            Error::Multipart { source, .. } => source.service_code(),
            Error::CallbackFailed(f) => Some(&f.code),
            _ => None,
        }
    }

    /// The HTTP status behind this error, if a response arrived.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Error::Request { source, .. } => source.status(),
            Error::Multipart { source, .. } => source.status(),
            Error::CallbackFailed(_) => Some(http::StatusCode::NON_AUTHORITATIVE_INFORMATION),
            _ => None,
        }
    }

    /// The multipart upload id this error concerns.
    pub fn upload_id(&self) -> Option<&str> {
        match self {
            Error::Multipart { upload_id, .. } => Some(upload_id),
            Error::CallbackFailed(f) => f.upload_id.as_deref(),
            _ => None,
        }
    }
}

impl From<oss_callback::Error> for Error {
    fn from(e: oss_callback::Error) -> Self {
        Error::Callback(e)
    }
}

impl From<oss_sign::Error> for Error {
    fn from(e: oss_sign::Error) -> Self {
        Error::Sign(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traits_and_size() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 96,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn callback_failed_is_not_retryable() {
        let mut f = CallbackFailure::new("b", "k");
        f.upload_id = Some("U".into());
        f.code = "CallbackFailed".into();
        f.message = "m".into();
        let e = Error::CallbackFailed(Box::new(f));
        assert!(!e.is_retryable());
        assert_eq!(e.upload_id(), Some("U"));
        assert_eq!(e.service_code(), Some("CallbackFailed"));
        assert_eq!(
            e.to_string(),
            "upload callback failed for oss://b/k; the object is stored: CallbackFailed: m; upload U"
        );
        assert!(e.callback_failure().is_some());
    }

    #[test]
    fn request_display_is_one_complete_line() {
        let e = Error::Request {
            operation: "PutObject".into(),
            target: "oss://b/k".into(),
            oss: Some(Box::new(ServiceFields {
                status: 404,
                code: "NoSuchBucket".into(),
                message: "The specified bucket does not exist.\n".into(),
                ec: Some("0015-00000101".into()),
                request_id: Some("R1".into()),
            })),
            source: Box::new(oss_transport::Error::Timeout {
                phase: oss_transport::TimeoutPhase::Read,
            }),
        };
        assert_eq!(
            e.to_string(),
            "PutObject failed for oss://b/k: HTTP 404 NoSuchBucket: The specified bucket does not exist. (EC 0015-00000101) [request id: R1]"
        );
        assert_eq!(e.request_id(), Some("R1"));
    }
}
