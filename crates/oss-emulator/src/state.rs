//! Shared state of a running emulator: settings, storage, logs, the callback key and client.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use crate::buckets::Buckets;
use crate::callback::DeliveredCallback;
use crate::request::RequestRecord;
use crate::ring::{LogStats, Ring};
use crate::storage::Storage;

/// The HTTP client callbacks are delivered with (plain HTTP only).
pub(crate) type CallbackClient = Client<HttpConnector, Full<Bytes>>;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) region: String,
    pub(crate) access_key_id: String,
    /// Never logged or printed.
    pub(crate) access_key_secret: oss_sign::Secret,
    pub(crate) sts_token: Option<oss_sign::Secret>,
    pub(crate) callback_timeout: Duration,
    pub(crate) strict_callback_urls: bool,
    pub(crate) max_skew: Duration,
    /// The identity side (mock IMDS and STS) and the temporary keys it issued, when on.
    pub(crate) identity: Option<std::sync::Arc<crate::identity::Identity>>,
}

/// Everything a request handler can reach.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) storage: Storage,
    /// Each bucket's CORS rules.
    pub(crate) cors: crate::cors::CorsStore,
    /// Which buckets exist.
    pub(crate) buckets: Buckets,
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
    pub(crate) rsa_key: oss_callback::CallbackPrivateKey,
    pub(crate) public_key_pem: String,
    pub(crate) client: CallbackClient,
    /// Completes and Aborts of one upload id take turns ([`crate::upload_locks`]).
    pub(crate) upload_locks: crate::upload_locks::UploadLocks,
    callbacks: Mutex<Ring<DeliveredCallback>>,
    requests: Mutex<Ring<RequestRecord>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    pub(crate) fn new(
        config: Config,
        storage: Storage,
        buckets: Buckets,
        endpoint: String,
        rsa_key: oss_callback::CallbackPrivateKey,
        public_key_pem: String,
        log_capacity: usize,
    ) -> Self {
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http();
        Self {
            config,
            storage,
            cors: crate::cors::CorsStore::default(),
            buckets,
            endpoint,
            rsa_key,
            public_key_pem,
            client,
            upload_locks: crate::upload_locks::UploadLocks::default(),
            callbacks: Mutex::new(Ring::new(log_capacity)),
            requests: Mutex::new(Ring::new(log_capacity)),
        }
    }

    /// URL where the callback public key is served.
    pub(crate) fn public_key_url(&self) -> String {
        format!("{}/__emulator/pubkey.pem", self.endpoint)
    }

    pub(crate) fn record_callback(&self, cb: DeliveredCallback) {
        lock(&self.callbacks).push(cb);
    }

    pub(crate) fn callbacks(&self) -> Vec<DeliveredCallback> {
        lock(&self.callbacks).snapshot()
    }

    pub(crate) fn callback_stats(&self) -> LogStats {
        lock(&self.callbacks).stats()
    }

    pub(crate) fn record_request(&self, r: RequestRecord) {
        lock(&self.requests).push(r);
    }

    /// The retained entries and the log's stats, taken under one lock so they agree.
    pub(crate) fn requests(&self) -> (Vec<RequestRecord>, LogStats) {
        let log = lock(&self.requests);
        (log.snapshot(), log.stats())
    }
}
