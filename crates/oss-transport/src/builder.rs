//! `ClientBuilder`: every client setting, each with its documented default.

use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use oss_sign::{Product, ProvideCredentials, Signer};

use crate::client::{Client, Inner};
use crate::connect;
use crate::error::Error;
use crate::pool::Pool;
use crate::retry::RetryConfig;
use oss_types::Endpoint;

/// Default maximum size of a buffered response body: 4 MiB (callback answers may be up to 3 MB).
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;

/// Default user agent: `oss-rs/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("oss-rs/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Client`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use oss_transport::{Client, RetryConfig};
///
/// let client = Client::builder()
///     .with_region("cn-hangzhou")
///     .with_connect_timeout(Duration::from_secs(5))
///     .with_retry(RetryConfig::default().with_max_attempts(5))
///     .build()?;
/// assert_eq!(client.endpoint().unwrap().host(), "oss-cn-hangzhou.aliyuncs.com");
/// # Ok::<(), oss_transport::Error>(())
/// ```
pub struct ClientBuilder {
    endpoint: Option<Endpoint>,
    region: Option<String>,
    product: Product,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    retry: RetryConfig,
    connect_timeout: Duration,
    read_timeout: Duration,
    timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    user_agent: String,
    max_response_body: usize,
    extra_roots: Vec<Vec<u8>>,
    clock: Clock,
}

/// The source of signing times.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            product: Product::Oss,
            credentials: None,
            retry: RetryConfig::default(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            timeout: None,
            pool_idle_timeout: Some(Duration::from_secs(50)),
            pool_max_idle_per_host: usize::MAX,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            extra_roots: Vec::new(),
            clock: Arc::new(SystemTime::now),
        }
    }
}

impl ClientBuilder {
    /// A builder with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The endpoint requests on a bucket/key go to. Default: the region's public endpoint
    /// ([`Endpoint::region`]) when a region is set.
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The region id used in signatures (`cn-hangzhou`; for CloudBox the box id). Default: none
    /// (signed requests then fail with [`Error::Config`]).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The signing product. Default [`Product::Oss`].
    pub fn with_product(mut self, product: Product) -> Self {
        self.product = product;
        self
    }

    /// Where signing credentials come from; asked on every attempt. Default: none.
    pub fn with_credentials_provider(
        mut self,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Same as [`ClientBuilder::with_credentials_provider`] for a shared provider.
    pub fn with_shared_credentials_provider(
        mut self,
        provider: Arc<dyn ProvideCredentials>,
    ) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Retry settings. Default [`RetryConfig::default`] (3 attempts, 200 ms base, 20 s cap).
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Limit for opening a connection (TCP and TLS). Default 5 s.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for a stall: no request byte sent and no response byte received for this long fails
    /// the attempt with [`crate::TimeoutPhase::Read`]. Default 60 s.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Limit for a whole call, retries and backoff included. Default: none (uploads can be long).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long an idle connection stays in the pool. Default 50 s; `None` keeps connections
    /// until the server closes them; zero disables pooling.
    pub fn with_pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per origin. Default unbounded (`usize::MAX`, as in
    /// hyper-util): the pool then holds as many idle connections as the client ever had in
    /// flight to that origin, so a steady concurrency of N reuses N connections instead of
    /// closing the ones over the cap and dialling again. Idle connections still expire after
    /// the idle timeout ([`ClientBuilder::with_pool_idle_timeout`]). 0 disables pooling.
    pub fn with_pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// `User-Agent` of every request (unless the request sets one). Default
    /// [`DEFAULT_USER_AGENT`] (`oss-rs/<version>`).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Largest buffered response body, in bytes; a larger body fails with
    /// [`Error::BodyTooLarge`] and its connection is discarded. Default
    /// [`DEFAULT_MAX_RESPONSE_BODY`] (4 MiB).
    pub fn with_max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Trusts one more root certificate (DER), beside the bundled webpki roots. Default: none.
    pub fn with_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// The clock signing times are read from (before the clock-skew correction). Default
    /// [`SystemTime::now`]; tests pin it to reproduce official signing vectors.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an invalid region, user agent or root certificate.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(region) = &self.region {
            // Checked even beside an explicit endpoint: the region goes into every signature.
            oss_types::Region::new(region.as_str())?;
        }
        let endpoint = match (self.endpoint, &self.region) {
            (Some(e), _) => Some(e),
            (None, Some(region)) => Some(Endpoint::region(region)?),
            (None, None) => None,
        };
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::config("user agent is not a valid header value"))?;
        let tls = connect::tls_config(&self.extra_roots).map_err(Error::config)?;
        // After a fully read response hyper is ready again at once; a connection that is not
        // (request body still unsent, server closing) is not worth waiting for.
        let release_wait = self.read_timeout.min(Duration::from_secs(1));
        let pool = Pool::new(
            self.pool_idle_timeout,
            self.pool_max_idle_per_host,
            release_wait,
        );
        Ok(Client::from_inner(Inner {
            endpoint,
            region: self.region,
            product: self.product,
            credentials: self.credentials,
            signer: Signer::new(),
            retry: self.retry,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            timeout: self.timeout,
            user_agent,
            max_response_body: self.max_response_body,
            connector: connect::connector(tls),
            pool: Arc::new(pool),
            skew_ms: AtomicI64::new(0),
            clock: self.clock,
        }))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("product", &self.product)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("user_agent", &self.user_agent)
            .field("max_response_body", &self.max_response_body)
            .field("extra_roots", &self.extra_roots.len())
            .finish()
    }
}
