//! The client: prepares, signs and sends each attempt, reads every response to the end.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, HOST, USER_AGENT};
use http::{HeaderValue, Method, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use oss_sign::{Product, ProvideCredentials, Signer, SigningParams};
use tracing::Instrument as _;

use crate::body::{self, Activity, LocalBodyError, OutBody};
use crate::builder::{ClientBuilder, Clock};
use crate::connect::{self, Connector};
use crate::error::{Error, TimeoutPhase};
use crate::pool::{Conn, Pool, PoolKey};
use crate::request::{Auth, Request};
use crate::response::{Response, ResponseBody, StreamingResponse};
use crate::retry::{self, Failure, Policy, RetryConfig};
use crate::wire;
use oss_types::{Crc64, Endpoint};

/// An OSS HTTP client: a connection pool, TLS, signing, retries. Cheap to clone (shared state).
///
/// Every response body is read to the end (bounded by the maximum size) before
/// [`Client::send`] returns, and the connection is back in the pool by then. A body over the
/// maximum is not drained: its connection is discarded and [`Error::BodyTooLarge`] returned.
///
/// **Cancel safety.** Dropping a `send` future mid-flight drops its connection (closed, never
/// pooled half-used). Whether OSS processed the request is then unknown.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) region: Option<String>,
    pub(crate) product: Product,
    pub(crate) credentials: Option<Arc<dyn ProvideCredentials>>,
    pub(crate) signer: Signer,
    pub(crate) retry: RetryConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) max_response_body: usize,
    pub(crate) connector: Connector,
    pub(crate) pool: Arc<Pool>,
    /// Server time minus local time, in milliseconds, learnt from `RequestTimeTooSkewed`: one
    /// absolute offset, replaced whole by each measurement (never accumulated).
    pub(crate) skew_ms: AtomicI64,
    pub(crate) clock: Clock,
}

/// One attempt, ready to go.
struct Prepared {
    parts: http::request::Parts,
    body: OutBody,
    key: PoolKey,
    scheme: &'static str,
    authority: http::uri::Authority,
    activity: Activity,
    /// The key id of the credentials it was signed with, when they carry an STS token.
    temporary_key: Option<String>,
}

/// A response head with its still unread body, on its connection.
struct Exchange {
    head: http::response::Parts,
    incoming: Incoming,
    conn: Conn,
    activity: Activity,
    /// The local clock when the head arrived (the skew is measured against it).
    received_at: SystemTime,
}

impl Client {
    /// A builder with every default (see [`ClientBuilder`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The endpoint bucket/key requests go to.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.inner.endpoint.as_ref()
    }

    /// The region signatures are made for.
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// The signing product.
    pub fn product(&self) -> Product {
        self.inner.product
    }

    /// The credentials provider signed requests use (shared, so a layer above can sign forms
    /// with the same, current credentials).
    pub fn credentials_provider(&self) -> Option<&Arc<dyn ProvideCredentials>> {
        self.inner.credentials.as_ref()
    }

    /// The retry settings.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// The clock offset added to the local clock for signing times, in milliseconds: the
    /// server's time minus the local time. **Positive means the server is ahead** of the local
    /// clock; negative, behind. 0 until a `RequestTimeTooSkewed` answer is seen; then the
    /// answer's `Date` minus the local time when that answer arrived (one absolute value, so
    /// concurrent answers never add up). `Date` has a one-second resolution, so the offset is
    /// exact to about a second; an upper layer comparing server timestamps (`Last-Modified`)
    /// with local ones subtracts it.
    pub fn clock_skew_ms(&self) -> i64 {
        self.inner.skew_ms.load(Ordering::Relaxed)
    }

    /// Sends a request with retries and returns the fully read 2xx response.
    ///
    /// # Errors
    ///
    /// Any [`Error`]: a non-2xx answer is [`Error::Service`] or [`Error::BadErrorResponse`]; a
    /// 203 on a callback request is [`Error::CallbackFailed`]; an answer whose CRC-64 differs
    /// from the request's expected one is [`Error::CrcMismatch`]; retryable failures that used
    /// up the attempts are [`Error::Exhausted`].
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        match self.run(&request, Want::Buffered).await? {
            Answer::Buffered(response) => Ok(response),
            Answer::Streaming(_) => Err(Error::invalid("a streaming answer to a buffered send")),
        }
    }

    /// Sends a request with retries and returns the 2xx response as soon as its head arrived; the
    /// caller reads the body ([`StreamingResponse`]). Error answers are read and parsed as in
    /// [`Client::send`]. Retries cover only failures before the head arrived.
    ///
    /// # Errors
    ///
    /// As [`Client::send`]; [`Error::InvalidRequest`] when the request expects a CRC-64 (the
    /// comparison needs the whole body).
    pub async fn send_streaming(&self, request: Request) -> Result<StreamingResponse, Error> {
        if request.expected_crc.is_some() {
            return Err(Error::invalid(
                "an expected CRC-64 needs a buffered body; use Client::send",
            ));
        }
        match self.run(&request, Want::Streaming).await? {
            Answer::Streaming(response) => Ok(response),
            Answer::Buffered(_) => Err(Error::invalid("a buffered answer to a streaming send")),
        }
    }

    /// The one body behind `send` and `send_streaming`: decides what the request is once
    /// ([`Plan`]), then runs attempts within the retry budget and the overall timeout.
    async fn run(&self, request: &Request, want: Want) -> Result<Answer, Error> {
        let plan = Plan {
            want,
            policy: Policy {
                replayable: request.body.is_replayable(),
                callback: request.callback.is_some(),
            },
            current: Mutex::new(None),
        };
        let span = self.request_span(request, &plan);
        let inner = &self.inner;
        let plan = &plan;
        let fut = retry::run(&inner.retry, plan.policy, move |n| {
            inner.attempt(request, plan, n)
        });
        let started = Instant::now();
        let result = self.overall(fut, plan).instrument(span.clone()).await;
        finish_span(&span, started, result.as_ref().map(Answer::status));
        result
    }

    /// Runs `fut` within the overall timeout. When it fires on a callback request whose attempt
    /// in flight had sent its whole body, the outcome is [`Error::Unconfirmed`].
    async fn overall<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
        plan: &Plan,
    ) -> Result<T, Error> {
        let Some(limit) = self.inner.timeout else {
            return fut.await;
        };
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => result,
            Err(_) => {
                let timeout = Error::Timeout {
                    phase: TimeoutPhase::Overall,
                };
                match plan.in_flight() {
                    Some((n, activity)) if plan.policy.callback && activity.body_sent() => {
                        Err(Error::Unconfirmed {
                            attempts: n,
                            last: Box::new(timeout),
                        })
                    }
                    _ => Err(timeout),
                }
            }
        }
    }

    fn request_span(&self, req: &Request, plan: &Plan) -> tracing::Span {
        // Field values are evaluated only when the span is enabled, so the host lookup costs
        // nothing per request when nobody listens.
        let host = || match (&req.uri, &self.inner.endpoint) {
            (Some(uri), _) => uri.host().unwrap_or_default(),
            (None, Some(e)) => e.host(),
            (None, None) => "",
        };
        tracing::debug_span!(
            "oss_request",
            method = %req.method,
            host = host(),
            bucket = req.bucket.as_deref().unwrap_or(""),
            key = req.key.as_deref().unwrap_or(""),
            callback = plan.policy.callback,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        )
    }
}

/// Records the outcome on the request span and logs failures (never secrets: errors carry none).
fn finish_span(span: &tracing::Span, started: Instant, outcome: Result<StatusCode, &Error>) {
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    match outcome {
        Ok(status) => {
            span.record("status", status.as_u16());
        }
        Err(e) => {
            if let Some(status) = e.status() {
                span.record("status", status.as_u16());
            }
            span.in_scope(|| tracing::debug!(error = %e, "request failed"));
        }
    }
}

/// What the caller wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The whole body, read within the attempt ([`Client::send`]).
    Buffered,
    /// The head; the caller reads the body ([`Client::send_streaming`]).
    Streaming,
}

/// What is decided once per request, before the first attempt, and the attempt in flight.
#[derive(Debug)]
struct Plan {
    want: Want,
    /// The retry class, and whether the caller declared an upload callback
    /// ([`Request::with_callback`]).
    policy: Policy,
    /// The latest attempt's number and activity: the overall timeout cancels the attempt's
    /// future, and still needs to know whether its body had been sent whole.
    current: Mutex<Option<(u32, Activity)>>,
}

impl Plan {
    fn begin(&self, n: u32, activity: &Activity) {
        if let Ok(mut current) = self.current.lock() {
            *current = Some((n, activity.clone()));
        }
    }

    fn in_flight(&self) -> Option<(u32, Activity)> {
        self.current.lock().ok().and_then(|c| c.clone())
    }
}

/// A successful attempt, in the shape the caller asked for.
enum Answer {
    Buffered(Response),
    Streaming(StreamingResponse),
}

impl Answer {
    fn status(&self) -> StatusCode {
        match self {
            Answer::Buffered(r) => r.status,
            Answer::Streaming(r) => r.status,
        }
    }
}

/// Whether an error answer is OSS refusing an STS token (the emulator's expired-token answer
/// is `InvalidSecurityToken`; `SecurityTokenExpired` is accepted as another spelling).
fn is_token_rejection(error: &Error) -> bool {
    matches!(error, Error::Service(e) if e.status == StatusCode::FORBIDDEN
        && matches!(e.code.as_str(), "InvalidSecurityToken" | "SecurityTokenExpired"))
}

impl Inner {
    /// One attempt; when OSS rejects the temporary key it was signed with, the provider drops
    /// its cached copy and the request is sent once more, inside this same attempt, with the
    /// fresh credentials (docs/decisions.md, "a rejected temporary key is refreshed").
    async fn attempt(&self, req: &Request, plan: &Plan, n: u32) -> Result<Answer, Failure> {
        let span = attempt_span(n);
        let started = Instant::now();
        let result = async {
            let mut signed_with = None;
            match self.attempt_once(req, plan, n, &mut signed_with).await {
                Err(f) if self.refresh_rejected(req, &f, signed_with.as_deref()).await => {
                    self.attempt_once(req, plan, n, &mut None).await
                }
                other => other,
            }
        }
        .instrument(span.clone())
        .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        result
    }

    /// Prepare (URI, headers, signature with a fresh time, body), send, classify: the whole
    /// life of one try, top to bottom. `signed_with` receives the temporary key id the
    /// request was signed with, if any.
    async fn attempt_once(
        &self,
        req: &Request,
        plan: &Plan,
        n: u32,
        signed_with: &mut Option<String>,
    ) -> Result<Answer, Failure> {
        let prepared = self.prepare(req, n).await.map_err(Failure::new)?;
        signed_with.clone_from(&prepared.temporary_key);
        plan.begin(n, &prepared.activity);
        let activity = prepared.activity.clone();
        // Every failure from here on says whether the body had been sent whole by then.
        self.send_prepared(req, plan, prepared)
            .await
            .map_err(|mut f| {
                f.body_sent = activity.body_sent();
                f
            })
    }

    /// Sends a prepared attempt and classifies its answer.
    async fn send_prepared(
        &self,
        req: &Request,
        plan: &Plan,
        prepared: Prepared,
    ) -> Result<Answer, Failure> {
        let ex = self.exchange(prepared).await?;
        let status = ex.head.status;
        tracing::Span::current().record("status", status.as_u16());
        let callback_failed =
            plan.policy.callback && status == StatusCode::NON_AUTHORITATIVE_INFORMATION;
        if plan.want == Want::Streaming && status.is_success() && !callback_failed {
            return Ok(Answer::Streaming(StreamingResponse {
                status,
                headers: ex.head.headers,
                body: ResponseBody::new(ex.incoming, ex.conn),
            }));
        }
        let body = self
            .read_to_end(ex.incoming, &ex.head, &ex.activity)
            .await?;
        ex.conn.release().await;
        let response = self.classify(req, plan, ex.head, body, ex.received_at)?;
        match plan.want {
            Want::Buffered => Ok(Answer::Buffered(response)),
            // Unreachable by the branch above; keep the types honest without a panic.
            Want::Streaming => Err(Failure::new(Error::invalid(
                "unexpected success while streaming",
            ))),
        }
    }

    /// After a token rejection of a request signed with temporary key `signed_with`: drops
    /// the provider's cached credentials and says whether sending again can use different
    /// ones. The body must be replayable; a callback request is safe to resend because OSS
    /// refused it before storing anything (authentication comes first).
    async fn refresh_rejected(
        &self,
        req: &Request,
        failure: &Failure,
        signed_with: Option<&str>,
    ) -> bool {
        let (Some(id), Some(provider)) = (signed_with, &self.credentials) else {
            return false;
        };
        if !is_token_rejection(&failure.error) || !req.body.is_replayable() {
            return false;
        }
        // `false` can also mean another request already replaced the rejected key.
        let fresh = provider.invalidate(id)
            || provider
                .provide()
                .await
                .is_ok_and(|c| c.access_key_id() != id);
        tracing::info!(
            rejected_access_key_id = id,
            retry = fresh,
            "OSS rejected the temporary key; retrying once with fresh credentials"
        );
        fresh
    }

    /// Connects (or reuses), sends, and waits for the response head.
    async fn exchange(&self, prepared: Prepared) -> Result<Exchange, Failure> {
        let mut conn = match self.pool.checkout(&prepared.key) {
            Some(conn) => conn,
            // Built only on a pool miss: most requests reuse a connection.
            None => {
                let host = prepared.authority.to_string();
                let connect_uri: Uri = format!("{}://{host}/", prepared.scheme)
                    .parse()
                    .map_err(|e| Failure::new(Error::invalid(format!("bad URI: {e}"))))?;
                self.connect(&connect_uri, &host, prepared.key.clone())
                    .await
                    .map_err(Failure::new)?
            }
        };
        tracing::Span::current().record("conn", conn.id());
        tracing::Span::current().record("reused", conn.reused());
        conn.counter().reset();
        let Prepared {
            parts,
            body,
            activity,
            ..
        } = prepared;
        let request = http::Request::from_parts(parts, body);
        let sent = {
            let fut = conn.sender().send_request(request);
            wait_active(fut, &activity, self.read_timeout).await
        };
        let started = conn.counter().get() > 0;
        let response = match sent {
            None => {
                return Err(Failure::new(Error::Timeout {
                    phase: TimeoutPhase::Read,
                }))
            }
            Some(Err(e)) => return Err(hyper_failure(e, started)),
            Some(Ok(response)) => response,
        };
        activity.touch();
        let received_at = (self.clock)();
        let (head, incoming) = response.into_parts();
        Ok(Exchange {
            head,
            incoming,
            conn,
            activity,
            received_at,
        })
    }

    async fn connect(&self, uri: &Uri, host: &str, key: PoolKey) -> Result<Conn, Error> {
        let mut connector = self.connector.clone();
        let dial = async {
            futures_util::future::poll_fn(|cx| {
                tower_service::Service::poll_ready(&mut connector, cx)
            })
            .await?;
            tower_service::Service::call(&mut connector, uri.clone()).await
        };
        let stream = match tokio::time::timeout(self.connect_timeout, dial).await {
            Err(_) => {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Connect,
                })
            }
            Ok(Err(source)) => {
                return Err(Error::Connect {
                    host: host.to_owned(),
                    source,
                })
            }
            Ok(Ok(stream)) => stream,
        };
        let counter = connect::counter_of(&stream);
        let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
            .handshake::<_, OutBody>(stream)
            .await
            .map_err(|e| Error::Connect {
                host: host.to_owned(),
                source: Box::new(e),
            })?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        sender.ready().await.map_err(|e| Error::Connect {
            host: host.to_owned(),
            source: Box::new(e),
        })?;
        let conn = self.pool.opened(key, sender, counter);
        tracing::debug!(conn = conn.id(), host, "opened connection");
        Ok(conn)
    }

    /// Builds attempt `n` of the request: URI, headers, signature (fresh time), body.
    async fn prepare(&self, req: &Request, n: u32) -> Result<Prepared, Error> {
        let uri = match &req.uri {
            Some(uri) if req.query.is_empty() && req.bucket.is_none() && req.key.is_none() => {
                uri.clone()
            }
            Some(_) => {
                return Err(Error::invalid(
                    "a presigned request takes its bucket, key and query from its URI",
                ))
            }
            None => self
                .endpoint
                .as_ref()
                .ok_or_else(|| Error::config("no endpoint configured"))?
                .uri(req.bucket.as_deref(), req.key.as_deref(), &req.query)?,
        };
        let scheme = match uri.scheme_str() {
            Some("http") => "http",
            Some("https") | None => "https",
            Some(other) => {
                return Err(Error::invalid(format!(
                    "unsupported URI scheme `{other}` (http or https)"
                )))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| Error::invalid("request URI has no host"))?
            .clone();
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let key = format!("{scheme}://{}:{port}", authority.host());

        let mut headers = req.headers.clone();
        let host_value = HeaderValue::from_str(authority.as_str())
            .map_err(|_| Error::invalid("host is not a valid header value"))?;
        headers.insert(HOST, host_value);
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.user_agent.clone());
        }
        if let Some(len) = req.body.len() {
            if len > 0 || matches!(req.method, Method::PUT | Method::POST) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
        }

        let (mut parts, ()) = http::Request::builder()
            .method(req.method.clone())
            .uri(uri.clone())
            .body(())
            .map_err(|e| Error::invalid(format!("bad request: {e}")))?
            .into_parts();
        parts.headers = headers;

        let signing_time = self.signing_time();
        let temporary_key = if req.auth == Auth::Sign {
            self.sign(&mut parts, req, signing_time).await?
        } else {
            None
        };
        for name in ["authorization", "x-oss-security-token"] {
            if let Some(v) = parts.headers.get_mut(name) {
                v.set_sensitive(true);
            }
        }
        // HTTP/1.1 origin form on the wire.
        parts.uri = match uri.path_and_query() {
            Some(pq) => Uri::from(pq.clone()),
            None => Uri::from_static("/"),
        };

        let activity = Activity::new();
        // The hook is told which attempt the bytes belong to, so a retry is never inferred.
        let progress = req
            .progress
            .clone()
            .map(|hook| -> body::ProgressHook { Arc::new(move |sent| hook(n, sent)) });
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = body::open(&req.body, progress, activity.clone(), declared)
            .await?
            .ok_or_else(|| {
                Error::invalid("the stream body was already consumed by an earlier attempt")
            })?;
        Ok(Prepared {
            parts,
            body,
            key,
            scheme,
            authority,
            activity,
            temporary_key,
        })
    }

    /// Signs; returns the key id when the credentials carry an STS token.
    async fn sign(
        &self,
        parts: &mut http::request::Parts,
        req: &Request,
        time: SystemTime,
    ) -> Result<Option<String>, Error> {
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| Error::config("a signed request needs a credentials provider"))?;
        let region = self
            .region
            .as_deref()
            .ok_or_else(|| Error::config("a signed request needs a region"))?;
        let credentials = provider
            .provide()
            .await
            .map_err(|e| Error::Credentials(Box::new(e)))?;
        let mut params = SigningParams::builder(region)
            .with_product(self.product)
            .with_time(time)
            .with_additional_headers(req.additional_signed_headers.iter().cloned());
        if let Some(bucket) = &req.bucket {
            params = params.with_bucket(bucket.clone());
        }
        if let Some(key) = &req.key {
            params = params.with_key(key.clone());
        }
        let params = params.build().map_err(|e| Error::Sign(Box::new(e)))?;
        self.signer
            .sign_headers(parts, &credentials, &params)
            .map_err(|e| Error::Sign(Box::new(e)))?;
        Ok(credentials
            .security_token()
            .is_some_and(|t| !t.is_empty())
            .then(|| credentials.access_key_id().to_owned()))
    }

    fn signing_time(&self) -> SystemTime {
        let skew = self.skew_ms.load(Ordering::Relaxed);
        let now = (self.clock)();
        let delta = Duration::from_millis(skew.unsigned_abs());
        if skew >= 0 {
            now.checked_add(delta).unwrap_or(now)
        } else {
            now.checked_sub(delta).unwrap_or(now)
        }
    }

    /// Reads the whole body, bounded by the maximum; on error the connection is dropped.
    async fn read_to_end(
        &self,
        mut incoming: Incoming,
        head: &http::response::Parts,
        activity: &Activity,
    ) -> Result<Bytes, Failure> {
        let limit = self.max_response_body;
        let too_large = || {
            Failure::new(Error::BodyTooLarge {
                status: head.status,
                limit,
            })
        };
        let declared = head
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // A HEAD answer declares the object's length but has no body (hyper knows it ends).
        let bodiless = http_body::Body::is_end_stream(&incoming);
        if !bodiless && declared.is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        loop {
            let frame = match wait_active(incoming.frame(), activity, self.read_timeout).await {
                None => {
                    return Err(Failure::new(Error::Timeout {
                        phase: TimeoutPhase::Read,
                    }))
                }
                Some(None) => break,
                Some(Some(Err(e))) => {
                    return Err(Failure::new(Error::Connection {
                        response_started: true,
                        source: Box::new(e),
                    }))
                }
                Some(Some(Ok(frame))) => frame,
            };
            activity.touch();
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let so_far = first.as_ref().map_or(0, Bytes::len) + rest.len();
            if so_far + data.len() > limit {
                return Err(too_large());
            }
            match &first {
                None if rest.is_empty() => first = Some(data),
                _ => {
                    if let Some(f) = first.take() {
                        rest.extend_from_slice(&f);
                    }
                    rest.extend_from_slice(&data);
                }
            }
        }
        Ok(match first {
            Some(f) if rest.is_empty() => f,
            _ => rest.freeze(),
        })
    }

    /// Turns a fully read response into the attempt's outcome: a callback failure, a CRC-64
    /// mismatch, a success, or a service error.
    fn classify(
        &self,
        req: &Request,
        plan: &Plan,
        head: http::response::Parts,
        body: Bytes,
        received_at: SystemTime,
    ) -> Result<Response, Failure> {
        let status = head.status;
        if status == StatusCode::NON_AUTHORITATIVE_INFORMATION && plan.policy.callback {
            return Err(Failure::new(wire::callback_failed(
                req.bucket.as_deref().unwrap_or_default(),
                req.key.as_deref().unwrap_or_default(),
                status,
                &head.headers,
                &body,
            )));
        }
        if status.is_success() {
            if let Some(expected) = &req.expected_crc {
                // An answer without the header passes: OSS omits it for some requests.
                let server = head
                    .headers
                    .get("x-oss-hash-crc64ecma")
                    .and_then(|v| v.to_str().ok())
                    .and_then(Crc64::parse_header);
                let client = expected.value();
                if let Some(server) = server.filter(|&s| s != client) {
                    return Err(Failure::new(Error::CrcMismatch { client, server }));
                }
            }
            return Ok(Response::new(status, head.headers, body));
        }
        let error = wire::service_error(status, &head.headers, &body);
        if let Error::Service(e) = &error {
            if e.code == "RequestTimeTooSkewed" {
                self.learn_skew(&head.headers, received_at);
            }
        }
        Err(Failure::new(error))
    }

    /// Sets the clock offset to the answer's `Date` minus the local time it arrived at: one
    /// store of an absolute value, so any number of concurrent `RequestTimeTooSkewed` answers
    /// leave the same offset (the last one measured), never their sum.
    fn learn_skew(&self, headers: &http::HeaderMap, received_at: SystemTime) {
        let Some(server) = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        else {
            return;
        };
        let offset = match server.duration_since(received_at) {
            Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
        };
        self.skew_ms.store(offset, Ordering::Relaxed);
        tracing::info!(
            skew_ms = offset,
            "corrected the signing clock from the server's Date"
        );
    }
}

fn attempt_span(n: u32) -> tracing::Span {
    tracing::debug_span!(
        "attempt",
        attempt = n,
        status = tracing::field::Empty,
        conn = tracing::field::Empty,
        reused = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    )
}

/// Awaits `fut` while the attempt makes progress: fails (`None`) once nothing moved for `limit`.
async fn wait_active<F: Future>(fut: F, activity: &Activity, limit: Duration) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    loop {
        let remaining = limit.saturating_sub(activity.idle_for());
        if remaining.is_zero() {
            return None;
        }
        if let Ok(out) = tokio::time::timeout(remaining, fut.as_mut()).await {
            return Some(out);
        }
    }
}

/// Maps a hyper send error: a local body failure, or a connection failure.
fn hyper_failure(e: hyper::Error, response_started: bool) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(local) = err.downcast_ref::<LocalBodyError>() {
            return Failure::new(Error::RequestBody {
                source: std::io::Error::new(local.0.kind(), local.0.to_string()),
            });
        }
        source = err.source();
    }
    Failure::new(Error::Connection {
        response_started,
        source: Box::new(e),
    })
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .field("product", &self.inner.product)
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("read_timeout", &self.inner.read_timeout)
            .field("timeout", &self.inner.timeout)
            .field("max_response_body", &self.inner.max_response_body)
            .finish_non_exhaustive()
    }
}
