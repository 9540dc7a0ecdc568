//! A `tower` layer that verifies OSS callback requests and rejects forged ones.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};

use crate::{CallbackVerifier, Error, KeyFetcher};

/// Default cap on the callback body the layer buffers, in bytes (1 MiB).
const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Wraps a service so that only callback requests whose signature verifies reach it.
///
/// The layer buffers the body (up to a cap), verifies it with a [`CallbackVerifier`] and a
/// [`KeyFetcher`], and then calls the inner service with the same request and a
/// `Full<Bytes>` body, with a [`VerifiedCallback`](crate::VerifiedCallback) extension holding the path and query the
/// signature was checked over: route on those (`request.extensions().get::<VerifiedCallback>()`)
/// so that routing cannot differ from what was signed. Rejections never reach the inner service:
/// - 403 Forbidden: missing/invalid `authorization` or `x-oss-pub-key-url`, a key URL outside
///   the allow-list, or a signature that does not verify (a forged callback);
/// - 502 Bad Gateway: the public key could not be fetched or parsed;
/// - 413 Payload Too Large / 400 Bad Request: the body is over the cap / could not be read.
///
/// Rejection responses have an empty `ResBody::default()` body. Works with axum (`Router`
/// accepts `Request<Full<Bytes>>`) and plain hyper services.
#[derive(Clone)]
pub struct CallbackVerifyLayer {
    verifier: CallbackVerifier,
    fetcher: Arc<dyn KeyFetcher>,
    max_body: usize,
}

impl fmt::Debug for CallbackVerifyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifyLayer")
            .field("verifier", &self.verifier)
            .field("fetcher", &self.fetcher)
            .field("max_body", &self.max_body)
            .finish()
    }
}

impl CallbackVerifyLayer {
    /// A layer verifying with `verifier`, fetching unknown keys with `fetcher`.
    pub fn new(verifier: CallbackVerifier, fetcher: impl KeyFetcher + 'static) -> Self {
        Self {
            verifier,
            fetcher: Arc::new(fetcher),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Sets the largest body buffered for verification, in bytes. Default: 1 MiB.
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }
}

impl<S> tower_layer::Layer<S> for CallbackVerifyLayer {
    type Service = CallbackVerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallbackVerifyService {
            inner,
            verifier: self.verifier.clone(),
            fetcher: Arc::clone(&self.fetcher),
            max_body: self.max_body,
        }
    }
}

/// The service made by [`CallbackVerifyLayer`].
#[derive(Clone)]
pub struct CallbackVerifyService<S> {
    inner: S,
    verifier: CallbackVerifier,
    fetcher: Arc<dyn KeyFetcher>,
    max_body: usize,
}

impl<S: fmt::Debug> fmt::Debug for CallbackVerifyService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifyService")
            .field("inner", &self.inner)
            .field("verifier", &self.verifier)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

fn reject<B: Default>(status: StatusCode) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = status;
    response
}

fn status_for(err: &Error) -> StatusCode {
    match err {
        Error::KeyFetch { .. } | Error::InvalidKey { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::FORBIDDEN,
    }
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for CallbackVerifyService<S>
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Take the service that was driven to readiness; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let fetcher = Arc::clone(&self.fetcher);
        let max_body = self.max_body;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match Limited::new(body, max_body).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) => {
                    let too_large = err.is::<http_body_util::LengthLimitError>();
                    tracing::warn!(too_large, "callback body could not be read");
                    return Ok(reject(if too_large {
                        StatusCode::PAYLOAD_TOO_LARGE
                    } else {
                        StatusCode::BAD_REQUEST
                    }));
                }
            };
            match verifier
                .verify(&parts.uri, &parts.headers, &bytes, fetcher.as_ref())
                .await
            {
                Ok(verified) => {
                    let mut request = Request::from_parts(parts, Full::new(bytes));
                    request.extensions_mut().insert(verified);
                    inner.call(request).await
                }
                Err(err) => {
                    tracing::warn!(error = %err, path = parts.uri.path(), "rejected callback request");
                    Ok(reject(status_for(&err)))
                }
            }
        })
    }
}
