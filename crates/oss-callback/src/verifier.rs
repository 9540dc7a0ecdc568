//! Server-side verification of callback requests: key-URL allow-list, key cache, key
//! fetching through a trait (the core does no I/O), and the "public path".

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Uri};
use rsa::RsaPublicKey;

use crate::signature::{decode_pub_key_url, public_key_from_pem, verify_callback};
use crate::signature::{HEADER_AUTHORIZATION, HEADER_PUB_KEY_URL};
use crate::Error;

/// The public-key URL prefixes OSS documents as its own; a key URL must start with one of them.
pub const DEFAULT_ALLOWED_KEY_URL_PREFIXES: &[&str] = &[
    "http://gosspublic.alicdn.com/",
    "https://gosspublic.alicdn.com/",
];

/// Default number of fetched keys kept in the cache.
pub const DEFAULT_MAX_CACHED_KEYS: usize = 16;

/// The future a [`KeyFetcher`] returns: the PEM bytes served at the URL.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Bytes, Error>> + Send + 'a>>;

/// Fetches the PEM public key served at an (already allowed) URL. Implement it with your HTTP
/// client, or enable the `server` feature for a hyper-based one. Report failures with
/// [`Error::key_fetch`].
pub trait KeyFetcher: Send + Sync + fmt::Debug {
    /// Fetches the body served at `url`.
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a>;
}

/// A [`KeyFetcher`] serving fixed PEM texts by URL, for tests and for pinning known keys.
#[derive(Debug, Clone, Default)]
pub struct StaticKeyFetcher {
    keys: HashMap<String, Bytes>,
}

impl StaticKeyFetcher {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `pem` at `url`.
    pub fn with_key(mut self, url: impl Into<String>, pem: impl Into<Bytes>) -> Self {
        self.keys.insert(url.into(), pem.into());
        self
    }
}

#[derive(Debug)]
struct NotFound;

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no key is registered for this URL")
    }
}

impl std::error::Error for NotFound {}

impl KeyFetcher for StaticKeyFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        let result = self
            .keys
            .get(url)
            .cloned()
            .ok_or_else(|| Error::key_fetch(url, NotFound));
        Box::pin(std::future::ready(result))
    }
}

/// Which path the callback was signed over.
///
/// OSS signs the path of the `callbackUrl` it called. A reverse proxy or a nested router may
/// hand the application a different path; name the public one here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PublicPath {
    /// The request's own path (default).
    #[default]
    AsReceived,
    /// Always this path (percent-encoded as in the `callbackUrl`), whatever was received.
    Fixed(String),
    /// This prefix followed by the received path (for a proxy that strips a prefix).
    Prefix(String),
}

/// Verifies the callback requests OSS (or the emulator) sends.
///
/// Checks that `x-oss-pub-key-url` decodes to a URL under an allowed prefix, gets the key from
/// its cache or a [`KeyFetcher`], and verifies `authorization` over the public path, the raw
/// query and the raw body. Clones share the key cache.
#[derive(Clone)]
pub struct CallbackVerifier {
    prefixes: Vec<String>,
    public_path: PublicPath,
    max_cached: usize,
    pinned: HashMap<String, Arc<RsaPublicKey>>,
    cache: Arc<Mutex<HashMap<String, Arc<RsaPublicKey>>>>,
}

impl fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifier")
            .field("prefixes", &self.prefixes)
            .field("public_path", &self.public_path)
            .field("max_cached", &self.max_cached)
            .field("pinned", &self.pinned.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for CallbackVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl CallbackVerifier {
    /// A verifier trusting [`DEFAULT_ALLOWED_KEY_URL_PREFIXES`], using the received path,
    /// caching up to [`DEFAULT_MAX_CACHED_KEYS`] keys.
    pub fn new() -> Self {
        Self {
            prefixes: DEFAULT_ALLOWED_KEY_URL_PREFIXES
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            public_path: PublicPath::AsReceived,
            max_cached: DEFAULT_MAX_CACHED_KEYS,
            pinned: HashMap::new(),
            cache: Arc::default(),
        }
    }

    /// Replaces the allowed key-URL prefixes. Default: [`DEFAULT_ALLOWED_KEY_URL_PREFIXES`].
    /// End each prefix with `/` after the host so that `http://good.example.com.evil/` does
    /// not match `http://good.example.com`.
    pub fn with_allowed_prefixes<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one allowed key-URL prefix (for example a local emulator's
    /// `http://127.0.0.1:PORT/`).
    pub fn with_allowed_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Sets the path the signature is checked over. Default: [`PublicPath::AsReceived`].
    pub fn with_public_path(mut self, public_path: PublicPath) -> Self {
        self.public_path = public_path;
        self
    }

    /// Pins a key for a key URL: it is used without fetching and never evicted. The URL must
    /// still be allowed.
    pub fn with_pinned_key(mut self, url: impl Into<String>, key: RsaPublicKey) -> Self {
        self.pinned.insert(url.into(), Arc::new(key));
        self
    }

    /// Sets how many fetched keys are cached (the cache is emptied when full). Default: 16.
    pub fn with_max_cached_keys(mut self, max: usize) -> Self {
        self.max_cached = max;
        self
    }

    /// Whether `url` starts with an allowed prefix.
    pub fn is_allowed(&self, url: &str) -> bool {
        self.prefixes.iter().any(|p| url.starts_with(p.as_str()))
    }

    /// Decodes `x-oss-pub-key-url` and checks it against the allow-list.
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`], [`Error::Base64`], [`Error::InvalidHeaderValue`],
    /// [`Error::KeyUrlNotAllowed`].
    pub fn key_url(&self, headers: &HeaderMap) -> Result<String, Error> {
        let value = header_str(headers, &HEADER_PUB_KEY_URL, "x-oss-pub-key-url")?;
        let url = decode_pub_key_url(value)?;
        if !self.is_allowed(&url) {
            return Err(Error::KeyUrlNotAllowed { url });
        }
        Ok(url)
    }

    /// The pinned or cached key for `url`, if any.
    pub fn cached_key(&self, url: &str) -> Option<Arc<RsaPublicKey>> {
        if let Some(k) = self.pinned.get(url) {
            return Some(Arc::clone(k));
        }
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .cloned()
    }

    /// Parses `pem` and caches it as the key of `url`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`].
    pub fn cache_key(&self, url: &str, pem: &[u8]) -> Result<Arc<RsaPublicKey>, Error> {
        let pem = std::str::from_utf8(pem).map_err(|_| Error::InvalidKey {
            reason: "PEM is not UTF-8",
        })?;
        let key = Arc::new(public_key_from_pem(pem)?);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= self.max_cached {
            cache.clear();
        }
        if self.max_cached > 0 {
            cache.insert(url.to_owned(), Arc::clone(&key));
        }
        Ok(key)
    }

    /// The path the signature covers, given the path the application received.
    pub fn signed_path<'a>(&'a self, received: &'a str) -> Cow<'a, str> {
        match &self.public_path {
            PublicPath::AsReceived => Cow::Borrowed(received),
            PublicPath::Fixed(p) => Cow::Borrowed(p),
            PublicPath::Prefix(prefix) => Cow::Owned(format!("{prefix}{received}")),
        }
    }

    /// Verifies a request with a key already in hand (no allow-list check).
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`] (`authorization`), [`Error::Base64`],
    /// [`Error::SignatureMismatch`].
    pub fn verify_with_key(
        &self,
        key: &RsaPublicKey,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Error> {
        let authorization = header_str(headers, &HEADER_AUTHORIZATION, "authorization")?;
        let path = self.signed_path(uri.path());
        verify_callback(key, &path, uri.query().unwrap_or(""), body, authorization)
    }

    /// Verifies a callback request: allow-list, key from the pin list, cache or `fetcher`,
    /// then the signature.
    ///
    /// # Errors
    ///
    /// The errors of [`CallbackVerifier::key_url`], [`KeyFetcher::fetch`],
    /// [`CallbackVerifier::cache_key`] and [`CallbackVerifier::verify_with_key`].
    pub async fn verify(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        fetcher: &dyn KeyFetcher,
    ) -> Result<(), Error> {
        let url = self.key_url(headers)?;
        let key = match self.cached_key(&url) {
            Some(key) => key,
            None => {
                tracing::debug!(%url, "fetching callback public key");
                let pem = fetcher.fetch(&url).await?;
                self.cache_key(&url, &pem)?
            }
        };
        let result = self.verify_with_key(&key, uri, headers, body);
        if let Err(err) = &result {
            tracing::debug!(error = %err, path = uri.path(), "callback verification failed");
        }
        result
    }
}

fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &http::HeaderName,
    label: &'static str,
) -> Result<&'a str, Error> {
    headers
        .get(name)
        .ok_or(Error::MissingHeader { name: label })?
        .to_str()
        .map_err(|_| Error::InvalidHeaderValue { name: label })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        let v = CallbackVerifier::new();
        assert!(v.is_allowed("http://gosspublic.alicdn.com/callback_pub_key_v1.pem"));
        assert!(v.is_allowed("https://gosspublic.alicdn.com/x.pem"));
        assert!(!v.is_allowed("http://gosspublic.alicdn.com.evil.example/x.pem"));
        assert!(!v.is_allowed("http://127.0.0.1:1/key.pem"));
        let v = v.with_allowed_prefix("http://127.0.0.1:1/");
        assert!(v.is_allowed("http://127.0.0.1:1/key.pem"));
        let v = v.with_allowed_prefixes(["https://only/"]);
        assert!(!v.is_allowed("http://gosspublic.alicdn.com/x.pem"));
    }

    #[test]
    fn key_url_from_headers() {
        let v = CallbackVerifier::new();
        let mut h = HeaderMap::new();
        assert!(matches!(
            v.key_url(&h),
            Err(Error::MissingHeader {
                name: "x-oss-pub-key-url"
            })
        ));
        h.insert(
            HEADER_PUB_KEY_URL,
            crate::codec::encode_base64(b"http://evil.example/k.pem")
                .parse()
                .unwrap(),
        );
        assert!(matches!(
            v.key_url(&h),
            Err(Error::KeyUrlNotAllowed { url }) if url == "http://evil.example/k.pem"
        ));
    }

    #[test]
    fn public_paths() {
        let v = CallbackVerifier::new();
        assert_eq!(v.signed_path("/cb"), "/cb");
        let v = v.with_public_path(PublicPath::Prefix("/api".into()));
        assert_eq!(v.signed_path("/cb"), "/api/cb");
        let v = v.with_public_path(PublicPath::Fixed("/hook".into()));
        assert_eq!(v.signed_path("/cb"), "/hook");
    }
}
