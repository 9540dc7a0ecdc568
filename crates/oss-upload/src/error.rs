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

    /// A request carrying the upload's callback failed after its whole body was sent (a reset,
    /// a timeout, a truncated answer, a 5xx or a 429), so OSS may have stored the object and
    /// called the application server. Whether the callback ran is unknown; the object is stored
    /// when [`UnknownCallbackOutcome::confirmation`] is [`Confirmation::Stored`]. Never
    /// retried: a resend could deliver the callback a second time. See
    /// [`UnknownCallbackOutcome`] for the rule and what an application server should do.
    #[error(transparent)]
    CallbackOutcomeUnknown(Box<UnknownCallbackOutcome>),

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

    /// Another run holds the checkpoint's lock: it is driving the same upload now. Nothing
    /// was sent; run again once it has finished.
    #[error("checkpoint lock {} is held by {}", .lock.display(), holder(.pid))]
    CheckpointLocked {
        /// The lock file (`<checkpoint>.lock`).
        lock: PathBuf,
        /// The holder's process id, when the lock file could be read.
        pid: Option<u32>,
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

/// `"process 1234"`, or `"another process"`.
fn holder(pid: &Option<u32>) -> String {
    pid.map_or_else(|| "another process".to_owned(), |p| format!("process {p}"))
}

/// `": HTTP 403 Code: message (EC ..) [request id: ..]"`, or nothing.
fn fields_suffix(oss: &Option<Box<ServiceFields>>) -> String {
    oss.as_ref().map(|o| format!(": {o}")).unwrap_or_default()
}

/// How far the object's state was established after a callback-bearing request failed once its
/// body was sent (see [`UnknownCallbackOutcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Confirmation {
    /// HeadObject (signed with the client's credentials) found the object with this upload's
    /// size and CRC-64, and a `Last-Modified` not older than the first send of the request: **the
    /// object is stored**. Nothing was resent.
    Stored,
    /// The client has no credentials to ask with (an anonymous client with a presigned URL):
    /// nothing was checked and nothing resent. The object may or may not be stored.
    NoCredentials,
    /// The check itself could not be made: HeadObject failed (network, permission; its error
    /// is [`UnknownCallbackOutcome::check_error`]), or the upload's size is not known
    /// (`CompleteParts::Listed`, a form streamed without a length). Nothing was resent. The
    /// object may or may not be stored.
    Unverified,
}

/// An upload whose callback-bearing request failed **after its whole body was sent**: OSS may
/// have stored the object and called the application server before the answer was lost.
///
/// **The rule.** The transport never resends such a request itself. The uploader asks OSS
/// instead: it HEADs the object with the client's credentials, and the object counts as stored
/// by this upload iff it exists, its size and `x-oss-hash-crc64ecma` equal what this upload
/// computed (the size alone when CRC checks are off), and its `Last-Modified` is not older than
/// the local start of the request's first send, converted to server time with the transport's
/// learnt clock skew (server − local) and truncated to the second. Stored: this error, with
/// [`Confirmation::Stored`]. Not stored: the request is sent again (fresh signature) within the
/// retry policy. The HEAD failing, or no credentials to HEAD with: this error, unconfirmed,
/// nothing resent. A Complete answered `NoSuchUpload` after an earlier send is judged by the
/// same rule (with a callback it is this error; without one, plain success).
///
/// **The residual window.** Whether the callback ran is never known: OSS may have stored the
/// object and then failed to reach the application server, or reached it and lost the answer.
/// `Stored` can also be wrong in the one case the rule cannot see: another writer stored the
/// same bytes under the same key in the same second (or, with CRC checks off, the same size);
/// and an unlearnt skew (local clock ahead of OSS's) can make this upload's own object look
/// older than the attempt, so it is resent. **An application server should make its callback
/// handler idempotent on (bucket, key, etag)**: then a repeated delivery is harmless, and after
/// this error the uploader can ask the application (or HEAD the object) rather than upload again.
///
/// `Display` is one line: the object, whether it is stored (and its ETag), then the cause.
#[derive(Debug)]
#[non_exhaustive]
pub struct UnknownCallbackOutcome {
    /// Bucket of the object.
    pub bucket: String,
    /// Key of the object.
    pub key: String,
    /// Multipart upload id, for a CompleteMultipartUpload.
    pub upload_id: Option<String>,
    /// Which call failed: `PutObject`, `CompleteMultipartUpload`, `PostObject`, ...
    pub operation: String,
    /// What is known of the object.
    pub confirmation: Confirmation,
    /// ETag of the stored object (from HeadObject), when confirmed.
    pub etag: Option<String>,
    /// CRC-64 of the stored object (from HeadObject), when confirmed.
    pub crc64: Option<u64>,
    /// Version id of the stored object (from HeadObject), when confirmed.
    pub version_id: Option<String>,
    /// Request id of OSS's last answer to the callback-bearing request (a 5xx, a 429, a
    /// `NoSuchUpload`); `None` when no answer arrived (a reset, a timeout).
    pub request_id: Option<String>,
    /// Sends of the callback-bearing request, the transport's own retries included.
    pub sends: u32,
    /// HeadObject's error, for [`Confirmation::Unverified`] after a failed HEAD.
    pub check_error: Option<Box<Error>>,
    /// The failure of the callback-bearing request.
    cause: Box<Error>,
}

impl UnknownCallbackOutcome {
    /// Whether the object is known to be stored ([`Confirmation::Stored`]).
    pub fn is_stored(&self) -> bool {
        self.confirmation == Confirmation::Stored
    }

    /// The failure of the callback-bearing request (also [`std::error::Error::source`]).
    pub fn cause(&self) -> &Error {
        &self.cause
    }

    /// The outcome of `operation` on `bucket`/`key`, failed with `cause`: nothing else known
    /// yet (one send, no ETag). The uploaders build it; it is public for code that stands in
    /// for a client (tests, mocks).
    pub fn new(
        bucket: &str,
        key: &str,
        operation: &str,
        confirmation: Confirmation,
        cause: Error,
    ) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id: None,
            operation: operation.to_owned(),
            confirmation,
            etag: None,
            crc64: None,
            version_id: None,
            request_id: cause.request_id().map(str::to_owned),
            sends: 1,
            check_error: None,
            cause: Box::new(cause),
        }
    }
}

impl std::fmt::Display for UnknownCallbackOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = format!("oss://{}/{}", self.bucket, self.key);
        match self.confirmation {
            Confirmation::Stored => {
                write!(f, "the object {target} is stored")?;
                if let Some(etag) = &self.etag {
                    write!(f, " (etag {etag})")?;
                }
                write!(f, ", but whether the callback ran is unknown")?;
            }
            Confirmation::NoCredentials => write!(
                f,
                "the object {target} may be stored, and whether the callback ran is unknown \
                 (no credentials to check it with HeadObject)"
            )?,
            Confirmation::Unverified => write!(
                f,
                "the object {target} may be stored, and whether the callback ran is unknown \
                 ({})",
                match self.check_error {
                    Some(_) => "HeadObject could not check it",
                    None => "its size is not known, so it could not be checked",
                }
            )?,
        }
        if let Some(id) = &self.upload_id {
            write!(f, "; upload {id}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownCallbackOutcome {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
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
            Error::CallbackOutcomeUnknown(u) => u.request_id.as_deref(),
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

    /// The unknown callback outcome, if this is one: the callback-bearing request failed after
    /// its body was sent, and the object is stored or may be (see [`UnknownCallbackOutcome`]).
    pub fn callback_outcome_unknown(&self) -> Option<&UnknownCallbackOutcome> {
        match self {
            Error::CallbackOutcomeUnknown(u) => Some(u),
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
            Error::CallbackOutcomeUnknown(u) => u.upload_id.as_deref(),
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
