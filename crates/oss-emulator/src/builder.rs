//! [`EmulatorBuilder`]: settings for an in-process emulator (and the binary's flags map onto it).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use oss_callback::CallbackPrivateKey;
use rsa::pkcs8::EncodePrivateKey as _;
use tokio::net::TcpListener;

use crate::buckets::Buckets;
use crate::error::Error;
use crate::server::Emulator;
use crate::state::{Config, State};
use crate::storage::Storage;

/// Clock skew OSS (and the mock STS) tolerate.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Bits of the RSA key generated at start when none is given.
pub const GENERATED_KEY_BITS: usize = 1024;

/// Builds and starts an [`Emulator`]. Every setting has a default; see each method.
pub struct EmulatorBuilder {
    listen: SocketAddr,
    region: String,
    access_key_id: String,
    access_key_secret: oss_sign::Secret,
    sts_token: Option<oss_sign::Secret>,
    data_dir: Option<PathBuf>,
    callback_timeout: Duration,
    strict_callback_urls: bool,
    rsa_key_pem: Option<String>,
    limits: Limits,
    log_capacity: usize,
    auto_create_buckets: bool,
    buckets: Vec<String>,
    identity: Option<crate::identity::IdentityConfig>,
}

/// Connection limits, fixed at start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// Default of [`EmulatorBuilder::with_header_read_timeout`]: 30 s (hyper's own default).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`EmulatorBuilder::with_idle_timeout`]: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default of [`EmulatorBuilder::with_max_connections`]: 512, below the common 1024-descriptor limit
/// with room for data files and callback connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("listen", &self.listen)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .field("sts_token", &self.sts_token.as_ref().map(|_| "***"))
            .field("data_dir", &self.data_dir)
            .field("callback_timeout", &self.callback_timeout)
            .field("strict_callback_urls", &self.strict_callback_urls)
            .field("rsa_key_pem", &self.rsa_key_pem.as_ref().map(|_| "***"))
            .field("limits", &self.limits)
            .field("log_capacity", &self.log_capacity)
            .field("auto_create_buckets", &self.auto_create_buckets)
            .field("buckets", &self.buckets)
            .field("identity", &self.identity)
            .finish()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            region: "cn-hangzhou".into(),
            access_key_id: "ak".into(),
            access_key_secret: oss_sign::Secret::new("sk"),
            sts_token: None,
            data_dir: None,
            callback_timeout: Duration::from_secs(5),
            strict_callback_urls: false,
            rsa_key_pem: None,
            limits: Limits {
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                idle_timeout: DEFAULT_IDLE_TIMEOUT,
                max_connections: DEFAULT_MAX_CONNECTIONS,
            },
            log_capacity: crate::ring::DEFAULT_LOG_CAPACITY,
            auto_create_buckets: true,
            buckets: Vec::new(),
            identity: None,
        }
    }
}

impl EmulatorBuilder {
    /// Address to listen on. Default `127.0.0.1:0` (a free port).
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Region requests must be signed for. Default `cn-hangzhou`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The one access key pair the emulator accepts. Default `ak` / `sk`.
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.access_key_id = access_key_id.into();
        self.access_key_secret = oss_sign::Secret::new(secret.into());
        self
    }

    /// Require this STS security token on every request. Default: none (a token is then refused).
    pub fn with_sts_token(mut self, token: impl Into<String>) -> Self {
        self.sts_token = Some(oss_sign::Secret::new(token.into()));
        self
    }

    /// Store objects on disk under `dir` (kept across restarts). Default: in memory.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// How long a callback server has to answer. Default 5 s (OSS's fixed value).
    pub fn with_callback_timeout(mut self, timeout: Duration) -> Self {
        self.callback_timeout = timeout;
        self
    }

    /// `true`: refuse loopback/private callback hosts like OSS (400, EC `0007-00000008`).
    /// Default `false`: the emulator is local, so it delivers to `127.0.0.1`.
    pub fn with_strict_callback_urls(mut self, strict: bool) -> Self {
        self.strict_callback_urls = strict;
        self
    }

    /// Sign callbacks with this RSA private key (PKCS#8 or PKCS#1 PEM). Default: a fresh
    /// 1024-bit key generated at start.
    pub fn with_rsa_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.rsa_key_pem = Some(pem.into());
        self
    }

    /// How long a client has to send a whole request head (request line and headers), counted
    /// from the connection's accept, or from the first byte of a later request on a kept-alive
    /// connection. A connection that takes longer is closed. Default 30 s
    /// ([`DEFAULT_HEADER_READ_TIMEOUT`]).
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a kept-alive connection may sit between requests (after a response, before the
    /// next request's first byte) before it is closed. Default 60 s ([`DEFAULT_IDLE_TIMEOUT`]).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }

    /// Most connections served at once. At the cap the emulator stops accepting: new
    /// connections wait in the listen backlog until one closes. Default 512
    /// ([`DEFAULT_MAX_CONNECTIONS`]); must be at least 1.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max;
        self
    }

    /// Entries kept by each of the request and callback logs; older ones are evicted and
    /// counted. Default 10 000 ([`DEFAULT_LOG_CAPACITY`](crate::DEFAULT_LOG_CAPACITY)).
    pub fn with_log_capacity(mut self, entries: usize) -> Self {
        self.log_capacity = entries;
        self
    }

    /// `true`: a bucket nobody created springs into existence on first use. `false`: buckets
    /// exist only once created (PutBucket, or [`with_bucket`](Self::with_bucket)), and any
    /// other operation on a missing bucket answers 404 `NoSuchBucket`, as OSS does. Default
    /// `true` for the library, so tests need no set-up; the binaries default to strict
    /// (`--auto-create-buckets` turns this on).
    pub fn with_auto_create_buckets(mut self, on: bool) -> Self {
        self.auto_create_buckets = on;
        self
    }

    /// Creates bucket `name` at start (call once per bucket). Default: no buckets.
    pub fn with_bucket(mut self, name: impl Into<String>) -> Self {
        self.buckets.push(name.into());
        self
    }

    /// Turns on the identity side on its own listener: a mock ECS metadata service and a mock
    /// STS over HTTPS whose temporary keys the OSS side accepts until they expire (see
    /// [`IdentityConfig`](crate::IdentityConfig)). Default: off.
    pub fn with_identity(mut self, config: crate::identity::IdentityConfig) -> Self {
        self.identity = Some(config);
        self
    }

    /// Binds the listener and starts serving.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty key id or region, a zero timeout or connection cap, an
    /// invalid bucket name given to [`with_bucket`](Self::with_bucket),
    /// [`Error::RsaKey`] for an unusable key,
    /// [`Error::Io`] when the data dir cannot be created, [`Error::Bind`] when the address is taken.
    pub async fn start(self) -> Result<Emulator, Error> {
        if self.access_key_id.is_empty() || self.region.is_empty() {
            return Err(Error::Config(
                "access key id and region must not be empty".into(),
            ));
        }
        if self.limits.max_connections == 0
            || self.limits.header_read_timeout.is_zero()
            || self.limits.idle_timeout.is_zero()
        {
            return Err(Error::Config(
                "connection cap and timeouts must be greater than zero".into(),
            ));
        }
        let rsa_key = match &self.rsa_key_pem {
            Some(pem) => CallbackPrivateKey::from_pem(pem).map_err(|_| Error::RsaKey {
                reason: "not a PKCS#8 or PKCS#1 PEM RSA private key".into(),
            })?,
            None => generate_key().await?,
        };
        let public_key_pem = rsa_key.public_key().to_pem().map_err(|e| Error::RsaKey {
            reason: e.to_string(),
        })?;
        let storage = match &self.data_dir {
            Some(dir) => Storage::disk(dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?,
            None => Storage::memory(),
        };
        let buckets = match &self.data_dir {
            Some(dir) => {
                Buckets::disk(dir, self.auto_create_buckets).map_err(|source| Error::Io {
                    path: dir.clone(),
                    source,
                })?
            }
            None => Buckets::memory(self.auto_create_buckets),
        };
        for name in &self.buckets {
            oss_types::BucketName::check(name)
                .map_err(|e| Error::Config(format!("bucket {name:?}: {e}")))?;
            buckets.create(name).map_err(|source| Error::Io {
                path: self.data_dir.clone().unwrap_or_default(),
                source,
            })?;
        }
        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: self.listen.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.listen.to_string(),
            source,
        })?;
        let identity = match self.identity {
            Some(c) => Some(
                crate::identity::Identity::bind(
                    c,
                    &self.access_key_id,
                    &self.access_key_secret,
                    MAX_SKEW,
                )
                .await?,
            ),
            None => None,
        };
        let config = Config {
            region: self.region,
            access_key_id: self.access_key_id,
            access_key_secret: self.access_key_secret,
            sts_token: self.sts_token,
            callback_timeout: self.callback_timeout,
            strict_callback_urls: self.strict_callback_urls,
            max_skew: MAX_SKEW,
            identity: identity.as_ref().map(|(i, _)| Arc::clone(i)),
        };
        let endpoint = format!("http://{addr}");
        let state = State::new(
            config,
            storage,
            buckets,
            endpoint,
            rsa_key,
            public_key_pem,
            self.log_capacity,
        );
        let emulator = Emulator::serve(listener, Arc::new(state), self.limits).await;
        if let Some((identity, listener)) = identity {
            identity.spawn(listener, emulator.stop_signal());
        }
        Ok(emulator)
    }
}

/// A fresh key when none is given. oss-callback parses keys but does not generate them (it
/// reads no randomness), so the key is made here and handed over as PKCS#8 DER.
async fn generate_key() -> Result<CallbackPrivateKey, Error> {
    let rsa_error = |reason: String| Error::RsaKey { reason };
    let key = tokio::task::spawn_blocking(|| {
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), GENERATED_KEY_BITS)
    })
    .await
    .map_err(|e| rsa_error(e.to_string()))?
    .map_err(|e| rsa_error(e.to_string()))?;
    let der = key.to_pkcs8_der().map_err(|e| rsa_error(e.to_string()))?;
    CallbackPrivateKey::from_der(der.as_bytes()).map_err(|e| rsa_error(e.to_string()))
}
