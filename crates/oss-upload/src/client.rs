//! The client facade: one bucket, its endpoint and region, credentials, and the transport.

use std::fmt;
use std::sync::Arc;

use oss_sign::{Credentials, Product, ProvideCredentials, Signer, StaticCredentialsProvider};
use oss_transport::{
    Addressing, CallbackCarrier, Endpoint, ExpectedCrc64, HttpSend, Request, Response,
    StreamingResponse,
};

use crate::error::Error;
use oss_types::{CallbackFailure, ServiceFields};

/// What OSS answered, copied from the transport's error so that [`Error::Request`] says it.
pub(crate) fn service_fields(e: &oss_transport::Error) -> Option<ServiceFields> {
    match e.last() {
        oss_transport::Error::Service(s) => Some(s.summary()),
        oss_transport::Error::BadErrorResponse {
            status, request_id, ..
        } => Some(ServiceFields {
            status: status.as_u16(),
            request_id: request_id.clone(),
            ..ServiceFields::default()
        }),
        _ => None,
    }
}
use crate::progress::{AttemptObserver, Tracker};
use oss_types::Crc64;

/// Builds a [`Client`]. Required: a bucket, and either an endpoint or a region; credentials are
/// required for every signed call.
///
/// ```
/// use oss_upload::Client;
/// let client = Client::builder("examplebucket")
///     .with_region("cn-hangzhou")
///     .with_static_credentials("ak", "sk")
///     .build()?;
/// assert_eq!(client.bucket(), "examplebucket");
/// # Ok::<(), oss_upload::Error>(())
/// ```
pub struct ClientBuilder {
    bucket: String,
    endpoint: Option<String>,
    region: Option<String>,
    product: Product,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    path_style: bool,
    transport: Option<oss_transport::Client>,
    transport_config: Option<oss_transport::ClientBuilder>,
    sender: Option<Arc<dyn HttpSend>>,
    crc_check: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("product", &self.product)
            .field("credentials", &self.credentials)
            .field("path_style", &self.path_style)
            .field("transport", &self.transport.is_some())
            .field("crc_check", &self.crc_check)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            endpoint: None,
            region: None,
            product: Product::Oss,
            credentials: None,
            path_style: false,
            transport: None,
            transport_config: None,
            sender: None,
            crc_check: true,
        }
    }

    /// Endpoint `host[:port]`, optionally with `http://` / `https://` (default https). Default: the
    /// region's public endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Region id used in signatures (`cn-hangzhou`). Required.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Signing product. Default [`Product::Oss`].
    pub fn with_product(mut self, product: Product) -> Self {
        self.product = product;
        self
    }

    /// Credentials provider, asked before every signed attempt and every form signature.
    pub fn with_credentials_provider(
        mut self,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Static credentials.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        self.with_credentials_provider(StaticCredentialsProvider::new(credentials))
    }

    /// Static access key id and secret.
    pub fn with_static_credentials(
        self,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Self {
        self.with_credentials(Credentials::new(access_key_id, access_key_secret))
    }

    /// Path-style addressing (`endpoint/bucket/key`, for emulators). Default: virtual-hosted.
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.path_style = path_style;
        self
    }

    /// Transport settings (timeouts, retries, pool). The builder adds endpoint, region,
    /// product and credentials. Default: `oss_transport::Client::builder()`.
    pub fn with_transport_config(mut self, config: oss_transport::ClientBuilder) -> Self {
        self.transport_config = Some(config);
        self
    }

    /// A ready transport client, used as it is. The upload client reads its endpoint, region,
    /// product and credentials provider from it (those set on this builder are ignored), so
    /// the two cannot disagree. Default: built from the other settings.
    pub fn with_transport(mut self, transport: oss_transport::Client) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Any [`HttpSend`] (a test double). Every request goes through it, GetObject included
    /// (through [`HttpSend::send_streaming`]).
    pub fn with_http_send(mut self, sender: Arc<dyn HttpSend>) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Whether uploads compute the CRC-64 of what they send and compare it with OSS's
    /// `x-oss-hash-crc64ecma`, and downloads compare theirs. Default: true.
    ///
    /// Off, uploads hash nothing (no part CRC, no combine, no running digest), which saves CPU
    /// on large uploads. What it gives up: a byte corrupted between the data in memory and OSS's
    /// storage (a bad NIC, a buggy proxy, a file changed under a PutObject) is no longer caught,
    /// so the object can differ from the source with a success reported; TLS and TCP checksums
    /// still guard the wire. Parts' [`UploadedPart::crc64`](crate::UploadedPart::crc64) are `0`
    /// then, so a resumable upload's checkpoint written with the check off cannot be finished
    /// with it on (Complete would report [`Error::CrcMismatch`](crate::Error::CrcMismatch)).
    pub fn with_crc_check(mut self, on: bool) -> Self {
        self.crc_check = on;
        self
    }

    /// Region, endpoint (when set) and the cached credentials provider from a resolved
    /// default chain (see [`Client::from_env`]). A region or endpoint set before is replaced
    /// only by a value the configuration has.
    pub fn with_resolved_config(mut self, config: &oss_credentials::ResolvedConfig) -> Self {
        if let Some(region) = &config.region {
            self.region = Some(region.clone());
        }
        if let Some(endpoint) = &config.endpoint {
            self.endpoint = Some(endpoint.clone());
        }
        self.credentials = Some(Arc::clone(&config.provider));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty bucket, a bad endpoint or region, or when neither an
    /// endpoint nor a region is given.
    pub fn build(self) -> Result<Client, Error> {
        let config = |reason: String| Error::Config { reason };
        if self.bucket.is_empty() {
            return Err(config("empty bucket name".into()));
        }
        if let Some(t) = self.transport {
            let endpoint = t
                .endpoint()
                .cloned()
                .ok_or_else(|| config("the transport has no endpoint".into()))?;
            let sender: Arc<dyn HttpSend> = match self.sender {
                Some(s) => s,
                None => Arc::new(t.clone()),
            };
            return Ok(Client {
                inner: Arc::new(Inner {
                    bucket: self.bucket,
                    endpoint,
                    region: t.region().map(str::to_owned),
                    product: t.product(),
                    credentials: t.credentials_provider().cloned(),
                    sender,
                    crc_check: self.crc_check,
                    signer: Signer::new(),
                    retry: t.retry_config().clone(),
                    transport: Some(t),
                }),
            });
        }
        let mut endpoint = match (&self.endpoint, &self.region) {
            (Some(e), _) => Endpoint::custom(e).map_err(|e| config(e.to_string()))?,
            (None, Some(r)) => Endpoint::region(r).map_err(|e| config(e.to_string()))?,
            (None, None) => return Err(config("an endpoint or a region is required".into())),
        };
        if self.path_style {
            endpoint = endpoint.with_addressing(Addressing::PathStyle);
        }
        let transport = if self.sender.is_some() {
            None
        } else {
            let mut b = self
                .transport_config
                .unwrap_or_else(oss_transport::Client::builder)
                .with_endpoint(endpoint.clone())
                .with_product(self.product);
            if let Some(r) = &self.region {
                b = b.with_region(r.clone());
            }
            if let Some(c) = &self.credentials {
                b = b.with_shared_credentials_provider(Arc::clone(c));
            }
            Some(b.build().map_err(|e| config(e.to_string()))?)
        };
        let sender: Arc<dyn HttpSend> = match (self.sender, &transport) {
            (Some(s), _) => s,
            (None, Some(t)) => Arc::new(t.clone()),
            (None, None) => return Err(config("no transport".into())),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                bucket: self.bucket,
                endpoint,
                region: self.region,
                product: self.product,
                credentials: self.credentials,
                sender,
                crc_check: self.crc_check,
                signer: Signer::new(),
                retry: transport
                    .as_ref()
                    .map(|t| t.retry_config().clone())
                    .unwrap_or_default(),
                transport,
            }),
        })
    }
}

pub(crate) struct Inner {
    pub(crate) bucket: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) region: Option<String>,
    pub(crate) product: Product,
    pub(crate) credentials: Option<Arc<dyn ProvideCredentials>>,
    pub(crate) sender: Arc<dyn HttpSend>,
    pub(crate) crc_check: bool,
    pub(crate) signer: Signer,
    /// The transport's retry settings (the default for a test double): they also bound the
    /// resends of a callback-bearing request under the ambiguity rule.
    pub(crate) retry: oss_transport::RetryConfig,
    /// The transport, when it is oss-transport's: its learnt clock skew dates the attempts of
    /// the ambiguity rule.
    pub(crate) transport: Option<oss_transport::Client>,
}

/// An OSS client bound to one bucket. Cheap to clone.
///
/// Every upload path (`put_object`, `multipart_upload`, `resumable_upload`, `post_object`,
/// `put_presigned`) returns [`crate::UploadOutput`] with the callback server's answer, or
/// [`Error::CallbackFailed`] when OSS stored the object but the callback failed.
///
/// **Cancellation.** Dropping an upload future stops it; parts already uploaded stay in OSS
/// (billed) until [`Client::abort_multipart_upload`] removes them or a resumable upload
/// finishes them.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("bucket", &self.inner.bucket)
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .field("crc_check", &self.inner.crc_check)
            .finish_non_exhaustive()
    }
}

/// Which call a request is, for errors and logs.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) operation: String,
    pub(crate) key: String,
    pub(crate) upload_id: Option<String>,
}

impl Ctx {
    pub(crate) fn new(operation: impl Into<String>, key: &str) -> Self {
        Self {
            operation: operation.into(),
            key: key.to_owned(),
            upload_id: None,
        }
    }

    pub(crate) fn with_upload(mut self, upload_id: &str) -> Self {
        self.upload_id = Some(upload_id.to_owned());
        self
    }
}

impl Client {
    /// A builder for a client of `bucket`.
    pub fn builder(bucket: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(bucket)
    }

    /// A client of `bucket` configured like the official SDKs: credentials from the default
    /// chain ([`oss_credentials::DefaultChain`]: `OSS_*` / `ALIBABA_CLOUD_*` variables, the
    /// aliyun CLI profile, the INI credentials file), cached and refreshed ahead of expiry;
    /// region from `OSS_REGION` or the CLI profile's `region_id`; endpoint from
    /// `OSS_ENDPOINT`, else the region's. Browser forms and PostObject from this client sign
    /// with the same, current credentials.
    ///
    /// # Errors
    /// [`Error::Credentials`] when no link of the chain yields credentials or
    /// `OSS_RS_CA_FILE` names an unusable file, [`Error::Config`] when neither a region nor
    /// an endpoint is found.
    pub async fn from_env(bucket: impl Into<String>) -> Result<Client, Error> {
        let config = oss_credentials::from_env()
            .await
            .map_err(|e| Error::Credentials(Box::new(e)))?;
        // OSS_RS_CA_FILE: the OSS side trusts the same private CA as the STS client.
        let roots = oss_credentials::extra_roots_from_env(&oss_credentials::Context::new())
            .map_err(|e| Error::Credentials(Box::new(e)))?;
        let transport = roots
            .into_iter()
            .fold(oss_transport::Client::builder(), |b, der| {
                b.with_root_certificate(der)
            });
        Client::builder(bucket)
            .with_resolved_config(&config)
            .with_transport_config(transport)
            .build()
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.inner.bucket
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    pub(crate) fn target(&self, key: &str, upload_id: Option<&str>) -> String {
        match upload_id {
            Some(id) => format!("oss://{}/{key} (upload {id})", self.inner.bucket),
            None => format!("oss://{}/{key}", self.inner.bucket),
        }
    }

    pub(crate) fn request(&self, method: http::Method, key: &str) -> Request {
        Request::new(method)
            .with_bucket(self.inner.bucket.clone())
            .with_key(key.to_owned())
    }

    /// Declares the callback the request carries, if any: the one place the transport learns
    /// of it (it never scans headers, query or body for one).
    pub(crate) fn with_callback_intent(req: Request, carrier: Option<CallbackCarrier>) -> Request {
        match carrier {
            Some(carrier) => req.with_callback(carrier),
            None => req,
        }
    }

    /// Adds a progress hook that reports bytes (never more than the body holds, across
    /// retries) and a `Retried` event when the transport starts a new attempt.
    pub(crate) fn with_tracking(req: Request, tracker: &Tracker, operation: &str) -> Request {
        let observer = AttemptObserver::new(tracker, operation);
        req.with_progress(move |attempt, sent| observer.observe(attempt, sent))
    }

    /// Sends `req`; with `crc` (and the CRC check on), the answer's CRC-64 must match it. The
    /// comparison happens once: in the sender when it says it compares
    /// ([`HttpSend::compares_crc64`], then a mismatch is retried for a replayable body), else
    /// here on the answer.
    pub(crate) async fn execute(
        &self,
        mut req: Request,
        ctx: &Ctx,
        crc: Option<ExpectedCrc64>,
    ) -> Result<Response, Error> {
        let crc = crc.filter(|_| self.inner.crc_check);
        if let Some(expected) = &crc {
            req = req.with_expected_crc64(expected.clone());
        }
        tracing::debug!(operation = %ctx.operation, key = %ctx.key, "sending");
        let resp = self
            .inner
            .sender
            .send(req)
            .await
            .map_err(|e| self.map_error(e, ctx))?;
        if let Some(expected) = crc.filter(|_| !self.inner.sender.compares_crc64()) {
            let server = resp
                .header("x-oss-hash-crc64ecma")
                .and_then(Crc64::parse_header);
            let client = expected.value();
            if let Some(server) = server.filter(|&s| s != client) {
                return Err(Error::CrcMismatch {
                    target: self.target(&ctx.key, ctx.upload_id.as_deref()),
                    client,
                    server,
                });
            }
        }
        Ok(resp)
    }

    /// Sends `req` and returns the answer with its body unread, through the same sender.
    pub(crate) async fn execute_streaming(
        &self,
        req: Request,
        ctx: &Ctx,
    ) -> Result<StreamingResponse, Error> {
        tracing::debug!(operation = %ctx.operation, key = %ctx.key, "sending (streaming)");
        self.inner
            .sender
            .send_streaming(req)
            .await
            .map_err(|e| self.map_error(e, ctx))
    }

    fn map_error(&self, e: oss_transport::Error, ctx: &Ctx) -> Error {
        match e.last() {
            oss_transport::Error::CallbackFailed(cf) => {
                let mut failure: CallbackFailure = (**cf).clone();
                failure.bucket = self.inner.bucket.clone();
                failure.key = ctx.key.clone();
                failure.upload_id = ctx.upload_id.clone();
                Error::CallbackFailed(Box::new(failure))
            }
            &oss_transport::Error::CrcMismatch { client, server } => Error::CrcMismatch {
                target: self.target(&ctx.key, ctx.upload_id.as_deref()),
                client,
                server,
            },
            _ => Error::Request {
                operation: ctx.operation.clone(),
                target: self.target(&ctx.key, ctx.upload_id.as_deref()),
                oss: service_fields(&e).map(Box::new),
                source: Box::new(e),
            },
        }
    }

    pub(crate) async fn credentials(&self) -> Result<Credentials, Error> {
        let provider = self
            .inner
            .credentials
            .as_ref()
            .ok_or_else(|| Error::Config {
                reason: "no credentials configured".into(),
            })?;
        provider.provide().await.map_err(Error::Sign)
    }

    pub(crate) fn region(&self) -> Result<&str, Error> {
        self.inner.region.as_deref().ok_or_else(|| Error::Config {
            reason: "no region configured".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_transport_gives_its_settings_to_the_client() {
        let endpoint = Endpoint::custom("http://127.0.0.1:9").unwrap();
        let transport = oss_transport::Client::builder()
            .with_endpoint(endpoint.clone())
            .with_region("cn-shanghai")
            .with_credentials_provider(StaticCredentialsProvider::new(Credentials::new(
                "AKID", "sk",
            )))
            .build()
            .unwrap();
        // The builder's own region and endpoint cannot contradict the transport's.
        let client = Client::builder("bucket")
            .with_region("cn-hangzhou")
            .with_endpoint("oss-cn-hangzhou.aliyuncs.com")
            .with_transport(transport)
            .build()
            .unwrap();
        assert_eq!(client.endpoint(), &endpoint);
        assert_eq!(client.region().unwrap(), "cn-shanghai");
        assert!(client.inner.credentials.is_some());
        assert!(client.inner.sender.compares_crc64());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let b = Client::builder("bucket")
            .with_region("cn-hangzhou")
            .with_static_credentials("AKID", "super-secret");
        let text = format!("{b:?}");
        assert!(text.contains("AKID"), "{text}");
        assert!(!text.contains("super-secret"), "{text}");
        let client = b.build().unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("super-secret"), "{text}");
        assert_eq!(
            client.target("a/b", Some("U1")),
            "oss://bucket/a/b (upload U1)"
        );
    }
}
