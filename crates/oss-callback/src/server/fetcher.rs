//! Fetches callback public keys over plain HTTP with hyper.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::{Error, FetchFuture, KeyFetcher};

/// Default time allowed for one key fetch.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest key document accepted, in bytes.
const MAX_KEY_BYTES: usize = 16 * 1024;

/// A [`KeyFetcher`] using a hyper client over plain `http://` (OSS's documented key URL is
/// `http://gosspublic.alicdn.com/…`). It has no TLS stack: for `https://` key URLs supply
/// your own fetcher, or pin the key with
/// [`CallbackVerifier::with_pinned_key`](crate::CallbackVerifier::with_pinned_key).
///
/// Only URLs that passed the verifier's allow-list are ever fetched.
#[derive(Clone)]
pub struct HyperKeyFetcher {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl fmt::Debug for HyperKeyFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperKeyFetcher")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for HyperKeyFetcher {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
struct FetchFailed(&'static str);

impl fmt::Display for FetchFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for FetchFailed {}

impl HyperKeyFetcher {
    /// A fetcher with a 5-second timeout per key. Must be used inside a tokio runtime.
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the time allowed for one fetch (connect, headers and body). Default: 5 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn get(&self, url: &str) -> Result<Bytes, Error> {
        let fail = |what| Error::key_fetch(url, FetchFailed(what));
        let uri: http::Uri = url.parse().map_err(|e| Error::key_fetch(url, e))?;
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return Err(fail("only http:// key URLs can be fetched without TLS"));
        }
        let request = http::Request::get(uri)
            .body(Empty::new())
            .map_err(|e| Error::key_fetch(url, e))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Error::key_fetch(url, e))?;
        if response.status() != http::StatusCode::OK {
            return Err(fail("key server did not answer 200"));
        }
        let body = Limited::new(response.into_body(), MAX_KEY_BYTES)
            .collect()
            .await
            .map_err(|e| Error::key_fetch(url, e))?;
        Ok(body.to_bytes())
    }
}

impl KeyFetcher for HyperKeyFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.get(url)).await {
                Ok(result) => result,
                Err(_) => Err(Error::key_fetch(url, FetchFailed("timed out"))),
            }
        })
    }
}
