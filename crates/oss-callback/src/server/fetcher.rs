//! Fetches callback public keys with hyper, over rustls for `https://` and for OSS's own host.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::{Error, FetchFuture, KeyFetcher, OFFICIAL_KEY_HOST};

/// Default time allowed for one key fetch.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest key document accepted, in bytes.
const MAX_KEY_BYTES: usize = 16 * 1024;

/// A [`KeyFetcher`] using a hyper client with rustls (ring, webpki roots).
///
/// - A key URL on [`OFFICIAL_KEY_HOST`] is always fetched over HTTPS on port 443, even though
///   OSS names it `http://gosspublic.alicdn.com/…`: over plain HTTP anyone on the path could
///   swap the key.
/// - Other `https://` URLs are fetched over TLS; other `http://` URLs over plain HTTP. Those are
///   reached only when the operator allowed them (tests, the emulator).
///
/// Redirects are not followed, only a 200 answer is accepted and the body is capped at 16 KiB.
/// Only URLs that passed the verifier's allow-list are ever fetched.
///
/// The TCP connector is a type parameter so that tests can see (and redirect) where the
/// fetcher connects; [`HyperKeyFetcher::new`] uses hyper's `HttpConnector`.
#[derive(Clone)]
pub struct HyperKeyFetcher<C = HttpConnector> {
    client: Client<HttpsConnector<C>, Empty<Bytes>>,
    timeout: Duration,
}

impl<C> fmt::Debug for HyperKeyFetcher<C> {
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
        let mut tcp = HttpConnector::new();
        // hyper-rustls hands `https://` URIs to the TCP connector, which refuses them by default.
        tcp.enforce_http(false);
        Self::with_connector(tcp)
    }
}

impl<C> HyperKeyFetcher<C>
where
    C: tower_service::Service<http::Uri> + Clone + Send + Sync + 'static,
    C::Response: Connection + hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
    C::Future: Send + Unpin + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A fetcher that opens its TCP connections with `connector` (which is given the final
    /// URI, `https://gosspublic.alicdn.com/…` for OSS's key) and runs TLS over them itself.
    pub fn with_connector(connector: C) -> Self {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the time allowed for one fetch (connect, TLS, headers and body). Default: 5 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn get(&self, url: &str) -> Result<Bytes, Error> {
        let fail = |what| Error::key_fetch(url, FetchFailed(what));
        let uri = fetch_uri(url).ok_or_else(|| fail("not an http(s) URL with a host"))?;
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

/// The URI actually requested for `url`: OSS's key host is moved to `https` on port 443.
fn fetch_uri(url: &str) -> Option<http::Uri> {
    let mut parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    if parsed.host_str() == Some(OFFICIAL_KEY_HOST) {
        parsed.set_scheme("https").ok()?;
        parsed.set_port(None).ok()?;
    }
    parsed.as_str().parse().ok()
}

/// rustls with ring and the webpki roots.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Only a provider without TLS 1.2 and 1.3 fails here, and ring has both.
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    // No ALPN here: the connector builder sets it from `enable_http1` (and panics if preset).
    builder.with_root_certificates(roots).with_no_client_auth()
}

impl<C> KeyFetcher for HyperKeyFetcher<C>
where
    C: tower_service::Service<http::Uri> + Clone + Send + Sync + 'static,
    C::Response: Connection + hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
    C::Future: Send + Unpin + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.get(url)).await {
                Ok(result) => result,
                Err(_) => Err(Error::key_fetch(url, FetchFailed("timed out"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_host_is_fetched_over_https_443() {
        for url in [
            "http://gosspublic.alicdn.com/callback_pub_key_v1.pem",
            "https://gosspublic.alicdn.com/callback_pub_key_v1.pem",
            "http://gosspublic.alicdn.com:80/callback_pub_key_v1.pem",
        ] {
            assert_eq!(
                fetch_uri(url).unwrap(),
                "https://gosspublic.alicdn.com/callback_pub_key_v1.pem",
                "{url}"
            );
        }
        assert_eq!(
            fetch_uri("http://127.0.0.1:9000/__emulator/pub.pem").unwrap(),
            "http://127.0.0.1:9000/__emulator/pub.pem"
        );
        assert!(fetch_uri("file:///etc/passwd").is_none());
    }
}
