//! The tower `Service`: routes `GET <token path>` and `POST <callback path>` (and optional
//! pages), answering JSON.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use oss_callback::{CallbackVerifier, KeyFetcher};
use tracing::Instrument as _;

use crate::hooks::BoxFuture;
use crate::token::{issue, UploadToken};
use crate::{Authorize, DirectUploadBuilder, Error, HandleUpload, UploadGrant, UploadedObject};

pub(crate) struct Inner {
    pub(crate) client: oss_upload::Client,
    pub(crate) callback_url: String,
    pub(crate) token_path: String,
    pub(crate) callback_path: String,
    pub(crate) authorize: Arc<dyn Authorize>,
    pub(crate) handler: Arc<dyn HandleUpload>,
    pub(crate) verifier: CallbackVerifier,
    pub(crate) fetcher: Arc<dyn KeyFetcher>,
    pub(crate) max_callback_body: usize,
    pub(crate) pages: Vec<(String, Bytes)>,
}

/// The direct-upload kit: one tower `Service` for hyper, axum or anything tower-compatible.
///
/// - `GET <token path>`: the [`Authorize`] hook decides; a grant becomes an [`UploadToken`]
///   (200 JSON, `cache-control: no-store`); a [`Rejection`](crate::Rejection) becomes its
///   status and JSON (401/403).
/// - `POST <callback path>`: the body is read raw (up to a cap) and OSS's signature is checked
///   over it and over the path of the callback URL the kit issued, with `oss-callback`'s
///   [`CallbackVerifier`]. Only then is the [`HandleUpload`] hook called, once, with the typed
///   [`UploadedObject`]; its JSON is the answer OSS relays. A forged or altered callback gets 403
///   (502 when the key could not be fetched), and the hook is not called.
/// - Pages added with [`DirectUploadBuilder::with_page`] on `GET`; anything else is 404 JSON,
///   a known path with another method 405.
///
/// Clones share one configuration and key cache.
#[derive(Clone)]
pub struct DirectUpload {
    inner: Arc<Inner>,
}

impl fmt::Debug for DirectUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectUpload")
            .field("bucket", &self.inner.client.bucket())
            .field("callback_url", &self.inner.callback_url)
            .field("token_path", &self.inner.token_path)
            .field("callback_path", &self.inner.callback_path)
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json(status, crate::Rejection::new(status, message).to_json())
}

impl DirectUpload {
    /// A builder with the default routes (`/token`, `/callback`).
    pub fn builder() -> DirectUploadBuilder {
        DirectUploadBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The callback URL every token carries.
    pub fn callback_url(&self) -> &str {
        &self.inner.callback_url
    }

    /// Signs a token for `grant` at `now` without going through the token route (for apps that
    /// hand tokens out some other way).
    ///
    /// # Errors
    /// [`Error::InvalidGrant`], [`Error::Callback`], [`Error::Sign`].
    pub async fn issue_token(
        &self,
        grant: &UploadGrant,
        now: SystemTime,
    ) -> Result<UploadToken, Error> {
        issue(&self.inner.client, &self.inner.callback_url, grant, now).await
    }

    async fn route<B>(self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let inner = &self.inner;
        if path == inner.token_path {
            if method != Method::GET {
                return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
            }
            let (parts, _) = request.into_parts();
            return self.token(Request::from_parts(parts, ())).await;
        }
        if path == inner.callback_path {
            if method != Method::POST {
                return error(StatusCode::METHOD_NOT_ALLOWED, "use POST");
            }
            return self.callback(request).await;
        }
        if let Some((_, html)) = inner.pages.iter().find(|(p, _)| *p == path) {
            if method != Method::GET && method != Method::HEAD {
                return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
            }
            let mut resp = Response::new(Full::new(html.clone()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return resp;
        }
        error(StatusCode::NOT_FOUND, "no such route")
    }

    async fn token(&self, request: Request<()>) -> Response<Full<Bytes>> {
        let grant = match self.inner.authorize.authorize(request).await {
            Ok(grant) => grant,
            Err(rejection) => {
                tracing::info!(status = rejection.status().as_u16(), "token refused");
                return json(rejection.status(), rejection.to_json());
            }
        };
        match self.issue_token(&grant, SystemTime::now()).await {
            Ok(token) => match serde_json::to_string(&token) {
                Ok(body) => json(StatusCode::OK, body),
                Err(e) => {
                    tracing::error!(error = %e, "token could not be serialised");
                    error(StatusCode::INTERNAL_SERVER_ERROR, "token unavailable")
                }
            },
            Err(e) => {
                // The cause stays in the log; the caller learns only that there is no token.
                tracing::error!(error = %e, source = ?std::error::Error::source(&e).map(ToString::to_string), "token could not be issued");
                error(StatusCode::INTERNAL_SERVER_ERROR, "token unavailable")
            }
        }
    }

    async fn callback<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let bytes = match Limited::new(body, self.inner.max_callback_body)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                let too_large = e.is::<http_body_util::LengthLimitError>();
                tracing::warn!(too_large, "callback body could not be read");
                return if too_large {
                    error(StatusCode::PAYLOAD_TOO_LARGE, "callback body too large")
                } else {
                    error(StatusCode::BAD_REQUEST, "callback body could not be read")
                };
            }
        };
        let verified = self
            .inner
            .verifier
            .verify(
                &parts.uri,
                &parts.headers,
                &bytes,
                self.inner.fetcher.as_ref(),
            )
            .await;
        if let Err(e) = verified {
            tracing::warn!(error = %e, "rejected callback");
            return match e {
                oss_callback::Error::KeyFetch { .. } | oss_callback::Error::InvalidKey { .. } => {
                    error(StatusCode::BAD_GATEWAY, "callback key unavailable")
                }
                _ => error(StatusCode::FORBIDDEN, "callback signature did not verify"),
            };
        }
        let Some(upload) = UploadedObject::parse(&bytes) else {
            tracing::warn!("verified callback with a body the kit did not ask for");
            return error(StatusCode::BAD_REQUEST, "unexpected callback body");
        };
        let span = tracing::info_span!("upload_callback", bucket = %upload.bucket, object = %upload.object);
        match self.inner.handler.handle(upload).instrument(span).await {
            Ok(answer) => json(StatusCode::OK, answer.to_string()),
            Err(rejection) => json(rejection.status(), rejection.to_json()),
        }
    }
}

impl<B> tower_service::Service<Request<B>> for DirectUpload
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.route(request).await) })
    }
}
