//! What the caller hands to the client: target, headers, body, authentication and hooks.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::file_body::FileRange;
use oss_types::Crc64;

/// Called with `(attempt, bytes)`: the attempt number (1 for the first try) and the number of
/// request-body bytes handed to the connection so far in that attempt. A retry is a new attempt
/// number whose count starts again from 0, so a caller never has to guess that one happened.
pub type ProgressHook = Arc<dyn Fn(u32, u64) + Send + Sync>;

/// Where a request carries its upload callback. The transport never looks for one in headers,
/// query or body: the caller who put it there says so with [`Request::with_callback`], once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackCarrier {
    /// An `x-oss-callback` header (PutObject, CompleteMultipartUpload).
    Header,
    /// A `callback` query parameter (a presigned URL).
    Query,
    /// A `callback` field of a PostObject form body.
    FormBody,
}

/// The CRC-64/ECMA-182 a 2xx answer's `x-oss-hash-crc64ecma` must equal (see
/// [`Request::with_expected_crc64`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExpectedCrc64 {
    /// Known before sending (bytes in memory, a file already read).
    Known(u64),
    /// Computed while the body is sent (a stream read once); read when the answer arrives.
    Running(Arc<Mutex<Crc64>>),
}

impl ExpectedCrc64 {
    /// The value to compare now.
    pub fn value(&self) -> u64 {
        match self {
            ExpectedCrc64::Known(v) => *v,
            ExpectedCrc64::Running(c) => c.lock().map(|c| c.finish()).unwrap_or(0),
        }
    }
}

/// A caller-supplied body stream.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// A request body.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// Bytes in memory; replayable (a retry resends the same `Bytes`).
    Bytes(Bytes),
    /// `len` bytes of a local file starting at `offset`, streamed from disk; replayable (each
    /// attempt reopens the file).
    File {
        /// The file.
        path: PathBuf,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
    /// A range of an already open file, read in chunks with positional reads and optionally
    /// hashed as it is sent; replayable (see [`FileRange`]).
    FileRange(FileRange),
    /// A caller stream; **not replayable**: the request is sent once and never retried. Clones
    /// share the one stream.
    Stream(OnceStream),
}

impl Body {
    /// A body read once from `stream`; such a request is never retried.
    pub fn stream(
        stream: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Self {
        Body::Stream(OnceStream(Arc::new(Mutex::new(Some(Box::pin(stream))))))
    }

    /// A range of a local file.
    pub fn file(path: impl Into<PathBuf>, offset: u64, len: u64) -> Self {
        Body::File {
            path: path.into(),
            offset,
            len,
        }
    }

    /// Whether the body can be sent again on a retry.
    pub fn is_replayable(&self) -> bool {
        !matches!(self, Body::Stream(_))
    }

    /// The length in bytes, when known up front.
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => u64::try_from(b.len()).ok(),
            Body::File { len, .. } => Some(*len),
            Body::FileRange(r) => Some(r.len()),
            Body::Stream(_) => None,
        }
    }

    /// Whether the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::File { path, offset, len } => f
                .debug_struct("File")
                .field("path", path)
                .field("offset", offset)
                .field("len", len)
                .finish(),
            Body::FileRange(r) => r.fmt(f),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl From<FileRange> for Body {
    fn from(r: FileRange) -> Self {
        Body::FileRange(r)
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Bytes(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::Bytes(b.into())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Bytes(s.into())
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::Bytes(Bytes::from_static(s.as_bytes()))
    }
}

/// A stream that can be taken once (see [`Body::Stream`]).
#[derive(Clone)]
pub struct OnceStream(Arc<Mutex<Option<ByteStream>>>);

impl OnceStream {
    pub(crate) fn take(&self) -> Option<ByteStream> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl fmt::Debug for OnceStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnceStream")
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Auth {
    /// Signed with V4 in the `Authorization` header just before each attempt, with credentials from
    /// the client's provider and a fresh signing time (corrected for clock skew).
    #[default]
    Sign,
    /// Sent as it is: the request already carries its authentication (a presigned URL, a
    /// PostObject form).
    None,
}

/// A request to OSS.
///
/// The target is a bucket/key resolved against the client's [`crate::Endpoint`], or a full URI
/// ([`Request::presigned`]).
///
/// **Callbacks.** A request that carries an upload callback (declared with
/// [`Request::with_callback`], whatever the carrier) is not idempotent: sending it
/// twice may store the object twice and fire the callback twice. Such a request is retried like
/// any replayable request while its body was not sent whole (the connection could not be
/// opened, or it failed while the body was being written: OSS cannot have stored it), and after
/// an answer refusing its authentication (401, `RequestTimeTooSkewed`). Once the whole body was
/// handed to the connection, a retryable failure (a reset, a truncated response, a read or
/// overall timeout, a 5xx, a 429) is [`Error::Unconfirmed`](crate::Error::Unconfirmed) and is not
/// resent: the caller asks OSS whether the object was stored (oss-upload HEADs it) before
/// sending again. Final answers are unchanged: a 203 is
/// [`Error::CallbackFailed`](crate::Error::CallbackFailed), a 2xx whose CRC-64 differs is
/// [`Error::CrcMismatch`](crate::Error::CrcMismatch), other 4xx are returned as they are.
///
/// ```
/// use http::Method;
/// use oss_transport::{Auth, CallbackCarrier, Request};
///
/// let req = Request::new(Method::PUT)
///     .with_bucket("examplebucket")
///     .with_key("a.txt")
///     .with_header(http::HeaderName::from_static("x-oss-callback"), http::HeaderValue::from_static("e30="))
///     .with_callback(CallbackCarrier::Header)
///     .with_body("hello");
/// assert_eq!(req.callback(), Some(CallbackCarrier::Header));
/// assert_eq!(req.auth(), Auth::Sign);
/// ```
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) bucket: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) uri: Option<Uri>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) auth: Auth,
    pub(crate) additional_signed_headers: Vec<String>,
    pub(crate) expected_crc: Option<ExpectedCrc64>,
    pub(crate) progress: Option<ProgressHook>,
    pub(crate) callback: Option<CallbackCarrier>,
}

impl Request {
    /// A request with the given method, no target (the service root), signed.
    pub fn new(method: Method) -> Self {
        Self {
            method,
            bucket: None,
            key: None,
            uri: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            auth: Auth::Sign,
            additional_signed_headers: Vec::new(),
            expected_crc: None,
            progress: None,
            callback: None,
        }
    }

    /// A request to a full, already authenticated URI (a presigned URL); [`Auth::None`].
    pub fn presigned(method: Method, uri: Uri) -> Self {
        let mut r = Self::new(method);
        r.uri = Some(uri);
        r.auth = Auth::None;
        r
    }

    /// Sets the bucket.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Sets the object key (used verbatim, never normalised).
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Appends a decoded query parameter; an empty value is sent as the bare name (`?uploads`).
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets a header, replacing earlier values.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Merges headers, replacing earlier values of the same names.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        for (name, value) in headers.iter() {
            self.headers.insert(name.clone(), value.clone());
        }
        self
    }

    /// Sets the body. Default: [`Body::Empty`].
    pub fn with_body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the authentication mode. Default: [`Auth::Sign`].
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Extra header names to sign (V4 `AdditionalHeaders`). Default: none.
    pub fn with_additional_signed_headers(
        mut self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.additional_signed_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// The CRC-64 the body must have on the server. [`Client`](crate::Client) compares it with
    /// every 2xx answer's `x-oss-hash-crc64ecma` (an answer without the header passes) and
    /// returns [`Error::CrcMismatch`](crate::Error::CrcMismatch), retried like any retryable
    /// failure when the body is replayable. Needs [`Client::send`](crate::Client::send) (the
    /// whole answer). Default: none.
    pub fn with_expected_crc64(mut self, crc: ExpectedCrc64) -> Self {
        self.expected_crc = Some(crc);
        self
    }

    /// Declares that the request carries an upload callback, and where. Such a request turns a
    /// 203 into [`Error::CallbackFailed`](crate::Error::CallbackFailed), and a retryable failure
    /// after its whole body was sent into [`Error::Unconfirmed`](crate::Error::Unconfirmed)
    /// instead of a resend (see [`Request`]). Default: none.
    pub fn with_callback(mut self, carrier: CallbackCarrier) -> Self {
        self.callback = Some(carrier);
        self
    }

    /// Sets a progress hook for the request body, told `(attempt, bytes)`. Default: none.
    pub fn with_progress(mut self, hook: impl Fn(u32, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(hook));
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The bucket, if any.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// The object key, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The decoded query parameters.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The caller's headers (the client adds `Host`, `User-Agent`, `Content-Length` and the
    /// signature headers on each attempt).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The authentication mode.
    pub fn auth(&self) -> Auth {
        self.auth
    }

    /// The expected CRC-64, if any.
    pub fn expected_crc64(&self) -> Option<&ExpectedCrc64> {
        self.expected_crc.as_ref()
    }

    /// Where the request carries its upload callback, if it has one.
    pub fn callback(&self) -> Option<CallbackCarrier> {
        self.callback
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Presigned URIs carry credentials in their query: show scheme, host and path only.
        let uri = self.uri.as_ref().map(|u| {
            format!(
                "{}://{}{}",
                u.scheme_str().unwrap_or("?"),
                u.host().unwrap_or(""),
                u.path()
            )
        });
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("uri", &uri)
            .field(
                "query",
                &self.query.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body", &self.body)
            .field("auth", &self.auth)
            .field("expected_crc", &self.expected_crc)
            .field("callback", &self.callback)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_is_declared_never_guessed() {
        // A header or query that looks like a callback is not an intent; only the caller's
        // declaration is.
        assert_eq!(Request::new(Method::PUT).callback(), None);
        assert_eq!(
            Request::new(Method::PUT)
                .with_query("callback", "e30=")
                .callback(),
            None
        );
        let uri: Uri = "https://b.oss-cn-hangzhou.aliyuncs.com/k?x-oss-date=1&callback=e30%3D"
            .parse()
            .unwrap();
        assert_eq!(
            Request::presigned(Method::PUT, uri)
                .with_callback(CallbackCarrier::Query)
                .callback(),
            Some(CallbackCarrier::Query)
        );
        assert_eq!(
            Request::new(Method::POST)
                .with_callback(CallbackCarrier::FormBody)
                .callback(),
            Some(CallbackCarrier::FormBody)
        );
    }

    #[test]
    fn expected_crc_reads_a_running_digest_late() {
        let running = Arc::new(Mutex::new(Crc64::new()));
        let req = Request::new(Method::PUT)
            .with_expected_crc64(ExpectedCrc64::Running(Arc::clone(&running)));
        running.lock().unwrap().update(b"hi oss");
        assert_eq!(
            req.expected_crc64().map(ExpectedCrc64::value),
            Some(Crc64::checksum(b"hi oss"))
        );
    }

    #[test]
    fn debug_hides_presigned_query_and_header_values() {
        let uri: Uri = "https://b.example.com/k?x-oss-signature=deadbeef"
            .parse()
            .unwrap();
        let req = Request::presigned(Method::GET, uri).with_header(
            HeaderName::from_static("x-oss-security-token"),
            HeaderValue::from_static("tok-secret"),
        );
        let text = format!("{req:?}");
        assert!(!text.contains("deadbeef"), "{text}");
        assert!(!text.contains("tok-secret"), "{text}");
        assert!(text.contains("https://b.example.com/k"), "{text}");
    }

    #[test]
    fn stream_bodies_are_taken_once() {
        let body = Body::stream(futures_util::stream::empty());
        assert!(!body.is_replayable());
        let Body::Stream(s) = body.clone() else {
            unreachable!()
        };
        assert!(s.take().is_some());
        let Body::Stream(s) = body else {
            unreachable!()
        };
        assert!(s.take().is_none());
        assert_eq!(Body::file("/x", 3, 7).len(), Some(7));
        assert!(Body::from("").is_empty());
    }
}
