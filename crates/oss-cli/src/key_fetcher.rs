//! Fetches callback public keys over plain HTTP (OSS's and the emulator's key URLs are http).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use oss_callback::{FetchFuture, KeyFetcher};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_KEY_BYTES: usize = 16 * 1024;

/// A [`KeyFetcher`] over hyper's plain-HTTP client. The verifier only asks it for URLs that
/// passed the allow-list.
#[derive(Clone)]
pub(crate) struct HttpKeyFetcher {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl std::fmt::Debug for HttpKeyFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpKeyFetcher")
    }
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("only http:// key URLs can be fetched")]
    NotHttp,
    #[error("the key URL answered HTTP {0}")]
    Status(http::StatusCode),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

impl HttpKeyFetcher {
    pub(crate) fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn get(&self, url: &str) -> Result<Bytes, oss_callback::Error> {
        let fail = |e: FetchError| oss_callback::Error::key_fetch(url, e);
        let uri: http::Uri = url
            .parse()
            .map_err(|e| oss_callback::Error::key_fetch(url, e))?;
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return Err(fail(FetchError::NotHttp));
        }
        let fetch = async {
            let response = self
                .client
                .get(uri)
                .await
                .map_err(|e| oss_callback::Error::key_fetch(url, e))?;
            if !response.status().is_success() {
                return Err(fail(FetchError::Status(response.status())));
            }
            Limited::new(response.into_body(), MAX_KEY_BYTES)
                .collect()
                .await
                .map(|c| c.to_bytes())
                .map_err(|e| oss_callback::Error::key_fetch(url, e))
        };
        tokio::time::timeout(TIMEOUT, fetch)
            .await
            .map_err(|_| fail(FetchError::Timeout(TIMEOUT)))?
    }
}

impl KeyFetcher for HttpKeyFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(self.get(url))
    }
}
