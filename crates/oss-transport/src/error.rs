//! The crate's one error type and its retry classification.

use std::collections::BTreeMap;
use std::fmt;

use http::{HeaderMap, StatusCode};
use oss_types::CallbackFailure;

/// A boxed error cause (hyper, rustls, the OS).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while sending a request to OSS.
///
/// Each variant's documentation says whether [`Error::is_retryable`] is true for it. The retry loop
/// additionally refuses to retry a request whose body cannot be replayed, and does not resend a
/// request that carries an upload callback once its whole body was sent: a retryable failure
/// then is [`Error::Unconfirmed`] (see [`crate::Request`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// OSS answered with a non-2xx status and a parsable error (XML body, `x-oss-err` header or
    /// JSON body).
    ///
    /// Retried when the status is 5xx, 401, 408 or 429, or the code is `RequestTimeTooSkewed` or
    /// `BadRequest`; never for other 4xx.
    #[error("OSS returned {}", .0.summary())]
    Service(Box<ServiceError>),

    /// OSS answered with a non-2xx status whose error body could not be parsed.
    ///
    /// Retried by the same status rule as [`Error::Service`].
    #[error("OSS returned HTTP {} with an unparsable error body: {snippet:?}{}", .status.as_u16(), .request_id.as_ref().map(|id| format!(" [request id: {id}]")).unwrap_or_default())]
    BadErrorResponse {
        /// HTTP status of the response.
        status: StatusCode,
        /// `x-oss-request-id` response header, when present.
        request_id: Option<String>,
        /// At most 256 bytes of the body (lossy UTF-8).
        snippet: String,
    },

    /// HTTP 203 `CallbackFailed` on a request that carried an upload callback: **the object was
    /// stored**, only the callback to the application server failed.
    ///
    /// Never retried (a retry would store the object again and fire the callback again).
    #[error("{0}")]
    CallbackFailed(Box<CallbackFailure>),

    /// The TCP connection or the TLS handshake failed. Retried.
    #[error("could not connect to {host}")]
    Connect {
        /// `host:port` that was dialled.
        host: String,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// A timeout elapsed. Retried, except [`TimeoutPhase::Overall`].
    #[error("timed out ({phase})")]
    Timeout {
        /// What was being waited for.
        phase: TimeoutPhase,
    },

    /// The connection failed while the request was sent or the response was read (reset, closed,
    /// malformed HTTP). Retried.
    #[error("connection failed ({})", if *.response_started { "after the response started" } else { "before any response byte" })]
    Connection {
        /// Whether any byte of a response had arrived on the connection for this request.
        response_started: bool,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// The request body could not be read from its source (a local file, a caller stream). Not
    /// retried.
    #[error("could not read the request body")]
    RequestBody {
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The response body is larger than the configured maximum. The connection was discarded (the
    /// rest of the body is not read). Not retried.
    #[error("response body exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// HTTP status of the response.
        status: StatusCode,
        /// The configured maximum, in bytes.
        limit: usize,
    },

    /// The credentials provider failed. Retried (a provider may fetch temporary credentials).
    #[error("could not obtain credentials")]
    Credentials(#[source] Box<oss_sign::Error>),

    /// Signing the request failed. Not retried.
    #[error("could not sign the request")]
    Sign(#[source] Box<oss_sign::Error>),

    /// A 2xx answer's `x-oss-hash-crc64ecma` differs from the request's expected CRC-64
    /// ([`Request::with_expected_crc64`](crate::Request::with_expected_crc64)): the stored bytes
    /// are not the ones sent. Retried (when the body is replayable).
    #[error("crc is inconsistent, client {client}, server {server}")]
    CrcMismatch {
        /// The CRC-64 of the bytes sent.
        client: u64,
        /// The CRC-64 OSS reported.
        server: u64,
    },

    /// The request cannot be built (bad bucket name, header value, URI). Not retried.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },

    /// The client configuration is invalid (bad endpoint, certificate, missing region or
    /// credentials for a signed request). Not retried.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },

    /// A request that carries an upload callback
    /// ([`Request::with_callback`](crate::Request::with_callback)) failed after its whole body
    /// was sent: **OSS may have stored the object and run the callback.** `last` is the failure:
    /// a reset or truncated response, a read timeout, the overall timeout, a 5xx, a 429, or
    /// another retryable answer (408, `BadRequest`). The body counts as sent once hyper took it
    /// to its end, which may be a little before its last bytes reached OSS: so this can also
    /// mean the object was not stored, never the reverse.
    ///
    /// Not retried: the caller asks OSS what happened (oss-upload HEADs the object) before
    /// sending it again, since a resend could store the object twice and deliver the callback
    /// twice. A failure before the body was sent whole is retried as for any replayable request
    /// (OSS cannot have stored an object it did not receive), and so are answers refusing the
    /// request's authentication (401, `RequestTimeTooSkewed`: OSS checks them before anything
    /// else). [`Error::is_retryable`] is false; see [`Error::is_unconfirmed`].
    #[error("request with an upload callback failed after its body was sent ({attempts} attempt{}): OSS may have stored the object and run the callback", if *.attempts == 1 { "" } else { "s" })]
    Unconfirmed {
        /// Attempts made (the first try included).
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },

    /// Every allowed attempt failed with a retryable error; `last` is the final one. Not retried
    /// again.
    #[error("request failed after {attempts} attempts")]
    Exhausted {
        /// Attempts made (the first try included).
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },
}

impl Error {
    /// Whether sending the same request again may succeed.
    ///
    /// This is the one place that gives HTTP statuses and OSS codes their retry meaning (protocol
    /// §6.2): 5xx, 401, 408, 429, `RequestTimeTooSkewed`, `BadRequest`, connection-level failures
    /// and CRC-64 mismatches. 203 `CallbackFailed` and other 4xx are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => status_is_retryable(e.status) || code_is_retryable(&e.code),
            Error::BadErrorResponse { status, .. } => status_is_retryable(*status),
            Error::CallbackFailed(_) => false,
            Error::Connect { .. } => true,
            Error::Timeout { phase } => !matches!(phase, TimeoutPhase::Overall),
            Error::Connection { .. } => true,
            Error::RequestBody { .. } => false,
            Error::BodyTooLarge { .. } => false,
            Error::Credentials(_) => true,
            Error::Sign(_) => false,
            Error::CrcMismatch { .. } => true,
            Error::InvalidRequest { .. } => false,
            Error::Config { .. } => false,
            Error::Exhausted { .. } => false,
            Error::Unconfirmed { .. } => false,
        }
    }

    /// Whether this is [`Error::Unconfirmed`]: a callback-bearing request that failed after its
    /// whole body was sent, so OSS may have stored the object and run the callback.
    pub fn is_unconfirmed(&self) -> bool {
        matches!(self, Error::Unconfirmed { .. })
    }

    /// Whether this answer refuses the request before OSS acted on it: 401, or
    /// `RequestTimeTooSkewed` (authentication and the signing time are checked first). Such a
    /// failure says no object was stored, so a callback request is resent after it even when its
    /// body was sent whole.
    pub(crate) fn is_refusal_before_processing(&self) -> bool {
        match self {
            Error::Service(e) => {
                e.status == StatusCode::UNAUTHORIZED || e.code == "RequestTimeTooSkewed"
            }
            Error::BadErrorResponse { status, .. } => *status == StatusCode::UNAUTHORIZED,
            _ => false,
        }
    }

    /// The error itself, or for [`Error::Exhausted`] and [`Error::Unconfirmed`] the last
    /// attempt's error.
    pub fn last(&self) -> &Error {
        match self {
            Error::Exhausted { last, .. } | Error::Unconfirmed { last, .. } => last.last(),
            other => other,
        }
    }

    /// The parsed OSS error, looking through [`Error::Exhausted`] and [`Error::Unconfirmed`].
    pub fn service(&self) -> Option<&ServiceError> {
        match self.last() {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused this error, if one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self.last() {
            Error::Service(e) => Some(e.status),
            Error::BadErrorResponse { status, .. } => Some(*status),
            Error::CallbackFailed(e) => Some(e.status),
            Error::BodyTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidRequest {
            reason: reason.into(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config {
            reason: reason.into(),
        }
    }
}

/// A broken OSS rule found while building the request: a bad region or endpoint is a
/// configuration error, a bad bucket name or URI an invalid request.
impl From<oss_types::Error> for Error {
    fn from(e: oss_types::Error) -> Self {
        match e {
            oss_types::Error::InvalidRegion { .. } | oss_types::Error::InvalidEndpoint { .. } => {
                Error::config(e.to_string())
            }
            _ => Error::invalid(e.to_string()),
        }
    }
}

fn status_is_retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

fn code_is_retryable(code: &str) -> bool {
    matches!(code, "RequestTimeTooSkewed" | "BadRequest")
}

/// What a [`Error::Timeout`] was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the TCP connection and finishing the TLS handshake.
    Connect,
    /// Progress while sending the request or reading the response (no byte moved for the read
    /// timeout).
    Read,
    /// The whole call, retries included.
    Overall,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Read => "read",
            TimeoutPhase::Overall => "overall",
        })
    }
}

/// An error response from OSS (protocol §6.1).
///
/// `Debug` prints the names of the document's elements but not the values of those that echo
/// the request's signature inputs (`StringToSign`, `CanonicalRequest`, `SignatureProvided`, ...):
/// read them from [`ServiceError::fields`] when debugging a signature.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status.
    pub status: StatusCode,
    /// `Code`, e.g. `NoSuchBucket`; empty when the response carried no error document.
    pub code: String,
    /// `Message`.
    pub message: String,
    /// `RequestId`, else the `x-oss-request-id` header.
    pub request_id: Option<String>,
    /// `EC`, else the `x-oss-ec` header.
    pub ec: Option<String>,
    /// `HostId`.
    pub host_id: Option<String>,
    /// Every leaf element of the error document by name (`Code`, `Message`, `StringToSign`, ...).
    pub fields: BTreeMap<String, String>,
    /// The response headers.
    pub headers: HeaderMap,
}

impl ServiceError {
    /// A leaf element of the error document by its element name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Status, code, message, EC and request id: what an upper level copies into its own error.
    pub fn summary(&self) -> oss_types::ServiceFields {
        oss_types::ServiceFields {
            status: self.status.as_u16(),
            code: self.code.clone(),
            message: self.message.clone(),
            ec: self.ec.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// Elements of an error document that echo what was signed; `Debug` hides their values.
const SIGNATURE_ECHOES: &[&str] = &[
    "StringToSign",
    "StringToSignBytes",
    "CanonicalRequest",
    "CanonicalRequestBytes",
    "SignatureProvided",
    "OSSAccessKeyId",
];

impl fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: BTreeMap<&str, &str> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let hidden = SIGNATURE_ECHOES.contains(&k.as_str());
                (k.as_str(), if hidden { "<hidden>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("ServiceError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("request_id", &self.request_id)
            .field("ec", &self.ec)
            .field("host_id", &self.host_id)
            .field("fields", &fields)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> Error {
        Error::Service(Box::new(ServiceError {
            status: StatusCode::from_u16(status).unwrap(),
            code: code.into(),
            message: String::new(),
            request_id: None,
            ec: None,
            host_id: None,
            fields: BTreeMap::new(),
            headers: HeaderMap::new(),
        }))
    }

    #[test]
    fn classification_follows_the_spec() {
        for s in [500, 502, 503, 504, 401, 408, 429] {
            assert!(service(s, "X").is_retryable(), "{s}");
        }
        for s in [400, 403, 404, 409, 412] {
            assert!(!service(s, "X").is_retryable(), "{s}");
        }
        assert!(service(403, "RequestTimeTooSkewed").is_retryable());
        assert!(service(400, "BadRequest").is_retryable());
        assert!(!service(403, "SignatureDoesNotMatch").is_retryable());
        assert!(Error::CrcMismatch {
            client: 1,
            server: 2
        }
        .is_retryable());
        assert!(!Error::Timeout {
            phase: TimeoutPhase::Overall
        }
        .is_retryable());
        assert!(Error::Timeout {
            phase: TimeoutPhase::Read
        }
        .is_retryable());
        let exhausted = Error::Exhausted {
            attempts: 3,
            last: Box::new(service(503, "ServiceUnavailable")),
        };
        assert!(!exhausted.is_retryable());
        assert_eq!(exhausted.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(exhausted.service().unwrap().code, "ServiceUnavailable");
        assert!(!exhausted.is_unconfirmed());

        let unconfirmed = Error::Unconfirmed {
            attempts: 2,
            last: Box::new(service(503, "ServiceUnavailable")),
        };
        assert!(unconfirmed.is_unconfirmed());
        assert!(!unconfirmed.is_retryable());
        assert_eq!(unconfirmed.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(unconfirmed.service().unwrap().code, "ServiceUnavailable");
        assert!(
            unconfirmed.to_string().contains("2 attempts"),
            "{unconfirmed}"
        );

        // Refused before OSS acted on the request: a callback request may be resent.
        assert!(service(401, "X").is_refusal_before_processing());
        assert!(service(403, "RequestTimeTooSkewed").is_refusal_before_processing());
        for (s, code) in [
            (503, "X"),
            (500, "X"),
            (429, "X"),
            (408, "X"),
            (400, "BadRequest"),
        ] {
            assert!(
                !service(s, code).is_refusal_before_processing(),
                "{s} {code}"
            );
        }
    }

    #[test]
    fn error_is_send_sync_static() {
        fn assert_traits<T: Send + Sync + 'static>() {}
        assert_traits::<Error>();
        assert!(std::mem::size_of::<Error>() <= 64);
    }
}
