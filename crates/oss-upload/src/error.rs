//! The crate's one error type.

use std::path::PathBuf;

/// Details of a 203 `CallbackFailed` answer: **the object is stored**, only the callback to the
/// application server failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackFailure {
    /// Bucket of the stored object.
    pub bucket: String,
    /// Key of the stored object.
    pub key: String,
    /// Multipart upload id, for multipart and resumable uploads.
    pub upload_id: Option<String>,
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
    /// CRC-64 of the stored object.
    pub crc64: Option<u64>,
    /// Version id of the stored object.
    pub version_id: Option<String>,
}

impl CallbackFailure {
    /// Always true: OSS stores the object before it calls the application server.
    pub fn object_stored(&self) -> bool {
        true
    }
}

/// Everything an upload or object call can fail with.
///
/// `Display` describes this level only; the cause is in [`std::error::Error::source`].
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
    #[error("upload callback failed for oss://{}/{}; the object is stored", .0.bucket, .0.key)]
    CallbackFailed(Box<CallbackFailure>),

    /// A request to OSS failed (service error, connection, timeout, exhausted retries).
    #[error("{operation} failed for {target}")]
    Request {
        /// Which call, e.g. `PutObject`, `UploadPart 3`.
        operation: String,
        /// `oss://bucket/key` (plus ` upload <id>` for multipart calls).
        target: String,
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
    #[error("multipart upload {upload_id} of oss://{bucket}/{key} failed")]
    Multipart {
        /// Upload id.
        upload_id: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
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

impl Error {
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

    /// The callback failure, if this is one.
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
        let e = Error::CallbackFailed(Box::new(CallbackFailure {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: Some("U".into()),
            code: "CallbackFailed".into(),
            message: "m".into(),
            ec: None,
            request_id: None,
            etag: None,
            crc64: None,
            version_id: None,
        }));
        assert!(!e.is_retryable());
        assert_eq!(e.upload_id(), Some("U"));
        assert_eq!(e.service_code(), Some("CallbackFailed"));
        assert_eq!(
            e.to_string(),
            "upload callback failed for oss://b/k; the object is stored"
        );
        assert!(e.callback_failure().unwrap().object_stored());
    }
}
