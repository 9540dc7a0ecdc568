//! What the caller hands to the client: target, headers, body, authentication and hooks.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::error::Error;
use crate::response::Response;

/// A check run on every 2xx response inside the retry loop (e.g. the uploader's CRC-64
/// comparison). Returning an error marked retryable ([`Error::check_failed`]) sends the request
/// again, within the retry budget.
pub type ResponseCheck = Arc<dyn Fn(&Response) -> Result<(), Error> + Send + Sync>;

/// Called with the number of request-body bytes handed to the connection so far in the current
/// attempt (a retry starts again from 0).
pub type ProgressHook = Arc<dyn Fn(u64) + Send + Sync>;

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
            Body::Stream(_) => f.write_str("Stream"),
        }
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
/// **Callbacks.** A request that carries an upload callback (an `x-oss-callback` header or a
/// `callback` query parameter, see [`Request::carries_callback`]) is not idempotent: sending it
/// twice may store the object twice and fire the callback twice. Such a request is retried only
/// when no byte of a response arrived for the failed attempt (the connection could not be opened,
/// or it failed while the request was being sent). Once a response has started, even a 5xx or a
/// reset in the middle of the body is returned to the caller. A residual risk remains: OSS may
/// have processed a fully sent request whose connection then died before it answered.
///
/// ```
/// use http::Method;
/// use oss_transport::{Auth, Request};
///
/// let req = Request::new(Method::PUT)
///     .with_bucket("examplebucket")
///     .with_key("a.txt")
///     .with_header(http::HeaderName::from_static("x-oss-callback"), http::HeaderValue::from_static("e30="))
///     .with_body("hello");
/// assert!(req.carries_callback());
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
    pub(crate) check: Option<ResponseCheck>,
    pub(crate) progress: Option<ProgressHook>,
    pub(crate) callback_in_body: bool,
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
            check: None,
            progress: None,
            callback_in_body: false,
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

    /// Sets a check run on each 2xx response inside the retry loop. Default: none.
    pub fn with_response_check(
        mut self,
        check: impl Fn(&Response) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Self {
        self.check = Some(Arc::new(check));
        self
    }

    /// Sets a progress hook for the request body. Default: none.
    pub fn with_progress(mut self, hook: impl Fn(u64) + Send + Sync + 'static) -> Self {
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

    /// Marks the request as carrying an upload callback inside its body, where the transport
    /// cannot see it: a PostObject form with a `callback` field. It is then treated like any
    /// callback request (203 becomes [`Error::CallbackFailed`](crate::Error::CallbackFailed);
    /// retried only if no byte of a response arrived). Default: false.
    pub fn with_callback_in_body(mut self, carries: bool) -> Self {
        self.callback_in_body = carries;
        self
    }

    /// Whether the request carries an upload callback: an `x-oss-callback` header, a
    /// `callback` query parameter (in [`Request::with_query`] or in a presigned URI), or a body
    /// marked with [`Request::with_callback_in_body`].
    pub fn carries_callback(&self) -> bool {
        if self.callback_in_body || self.headers.contains_key("x-oss-callback") {
            return true;
        }
        if self.query.iter().any(|(n, _)| n == "callback") {
            return true;
        }
        self.uri.as_ref().and_then(Uri::query).is_some_and(|q| {
            q.split('&')
                .any(|p| p == "callback" || p.starts_with("callback="))
        })
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
            .field("check", &self.check.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_detection() {
        assert!(!Request::new(Method::PUT).carries_callback());
        assert!(Request::new(Method::PUT)
            .with_query("callback", "e30=")
            .carries_callback());
        let uri: Uri = "https://b.oss-cn-hangzhou.aliyuncs.com/k?x-oss-date=1&callback=e30%3D"
            .parse()
            .unwrap();
        assert!(Request::presigned(Method::PUT, uri).carries_callback());
        let uri: Uri = "https://b.oss-cn-hangzhou.aliyuncs.com/k?callback-var=e30%3D"
            .parse()
            .unwrap();
        assert!(!Request::presigned(Method::PUT, uri).carries_callback());
        assert!(Request::new(Method::POST)
            .with_callback_in_body(true)
            .carries_callback());
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
