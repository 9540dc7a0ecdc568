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

use crate::key::CallbackPublicKey;
use crate::key_url::{self, KeyUrlPrefix};
use crate::signature::{decode_pub_key_url, string_to_sign, verify_callback};
use crate::signature::{HEADER_AUTHORIZATION, HEADER_PUB_KEY_URL};
use crate::Error;

/// The allow-list OSS documents: its own key host, under both schemes (OSS sends `http://`).
/// Fetchers should reach this host over HTTPS whatever the scheme; the `server` feature's does.
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

/// What a callback's signature was checked over, handed to the application after
/// [`CallbackVerifier::verify`] succeeds (the tower layer inserts it as a request extension).
///
/// Route and act on these values, not on a path re-read from elsewhere: they are exactly what
/// the signature covers. OSS signs `url_decode(path)` followed by the raw query, so
/// `/cb%3Ftag=1` and `/cb?tag=1` carry the same signature; [`VerifiedCallback::signed_target`]
/// is the one string both have in common. There is no nonce or timestamp in the signature, so a
/// replayed request verifies again: make the handler idempotent (see the callback-server guide).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCallback {
    /// The path the signature was checked over (after [`PublicPath`]), percent-encoded as
    /// received.
    pub path: String,
    /// The raw query (without `?`), empty when there is none.
    pub query: String,
    /// The decoded public-key URL whose key verified the signature.
    pub key_url: String,
}

impl VerifiedCallback {
    /// The signed request target: the percent-decoded path, then `?` and the raw query when
    /// there is one. Bytes that are not UTF-8 after decoding are replaced with U+FFFD.
    pub fn signed_target(&self) -> String {
        let mut out =
            String::from_utf8_lossy(&string_to_sign(&self.path, &self.query, b"")).into_owned();
        out.pop(); // the `\n` that separates target and body
        out
    }
}

/// Builds a [`CallbackVerifier`]; [`CallbackVerifierBuilder::build`] validates the allow-list.
#[derive(Debug, Clone)]
pub struct CallbackVerifierBuilder {
    prefixes: Vec<String>,
    public_path: PublicPath,
    max_cached: usize,
    pinned: Vec<(String, CallbackPublicKey)>,
}

impl Default for CallbackVerifierBuilder {
    fn default() -> Self {
        Self {
            prefixes: DEFAULT_ALLOWED_KEY_URL_PREFIXES
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            public_path: PublicPath::AsReceived,
            max_cached: DEFAULT_MAX_CACHED_KEYS,
            pinned: Vec::new(),
        }
    }
}

impl CallbackVerifierBuilder {
    /// Replaces the allow-list. Default: [`DEFAULT_ALLOWED_KEY_URL_PREFIXES`].
    ///
    /// Each entry is an `http(s)` URL; a key URL must match its scheme, host and port exactly
    /// and lie under its path at a `/` boundary (see [`KeyUrlPrefix`]). An `http://` entry for
    /// any host other than [`OFFICIAL_KEY_HOST`](crate::OFFICIAL_KEY_HOST) is fetched over plain HTTP: use that only for
    /// tests and the emulator.
    pub fn with_allowed_prefixes<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one allow-list entry (for example a local emulator's `http://127.0.0.1:9000/`).
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
    pub fn with_pinned_key(mut self, url: impl Into<String>, key: CallbackPublicKey) -> Self {
        self.pinned.push((url.into(), key));
        self
    }

    /// Sets how many fetched keys are cached (the cache is emptied when full). Default: 16.
    pub fn with_max_cached_keys(mut self, max: usize) -> Self {
        self.max_cached = max;
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyUrlPrefix`] for the first allow-list entry that is not a valid
    /// `http(s)` URL with a host (see [`KeyUrlPrefix::parse`]).
    pub fn build(self) -> Result<CallbackVerifier, Error> {
        let prefixes = self
            .prefixes
            .iter()
            .map(|p| KeyUrlPrefix::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CallbackVerifier {
            prefixes,
            public_path: self.public_path,
            max_cached: self.max_cached,
            pinned: self
                .pinned
                .into_iter()
                .map(|(url, key)| (url, Arc::new(key)))
                .collect(),
            cache: Arc::default(),
        })
    }
}

/// Verifies the callback requests OSS (or the emulator) sends.
///
/// Checks that `x-oss-pub-key-url` decodes to a canonical URL covered by an allow-list entry,
/// gets the key from its cache or a [`KeyFetcher`], and verifies `authorization` over the
/// public path, the raw query and the raw body. Clones share the key cache.
#[derive(Clone)]
pub struct CallbackVerifier {
    prefixes: Vec<KeyUrlPrefix>,
    public_path: PublicPath,
    max_cached: usize,
    pinned: HashMap<String, Arc<CallbackPublicKey>>,
    cache: Arc<Mutex<HashMap<String, Arc<CallbackPublicKey>>>>,
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
                .filter_map(|p| KeyUrlPrefix::parse(p).ok())
                .collect(),
            public_path: PublicPath::AsReceived,
            max_cached: DEFAULT_MAX_CACHED_KEYS,
            pinned: HashMap::new(),
            cache: Arc::default(),
        }
    }

    /// A builder starting from the defaults of [`CallbackVerifier::new`].
    pub fn builder() -> CallbackVerifierBuilder {
        CallbackVerifierBuilder::default()
    }

    /// The validated allow-list.
    pub fn allowed_prefixes(&self) -> &[KeyUrlPrefix] {
        &self.prefixes
    }

    /// Whether `url` may be fetched: see [`CallbackVerifier::check_key_url`].
    pub fn is_allowed(&self, url: &str) -> bool {
        self.check_key_url(url).is_ok()
    }

    /// Checks a decoded key URL: it must parse as `http(s)`, serialize back to exactly `url`,
    /// have no userinfo, query, fragment or percent-escape in its path, and be covered by an
    /// allow-list entry (same scheme, host and effective port; path under the entry's path at
    /// a `/` boundary).
    ///
    /// # Errors
    ///
    /// [`Error::KeyUrlNotAllowed`] with the reason.
    pub fn check_key_url(&self, url: &str) -> Result<(), Error> {
        key_url::check(&self.prefixes, url).map(drop)
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
        self.check_key_url(&url)?;
        Ok(url)
    }

    /// The pinned or cached key for `url`, if any.
    pub fn cached_key(&self, url: &str) -> Option<Arc<CallbackPublicKey>> {
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
    pub fn cache_key(&self, url: &str, pem: &[u8]) -> Result<Arc<CallbackPublicKey>, Error> {
        let pem = std::str::from_utf8(pem).map_err(|_| Error::InvalidKey {
            reason: "PEM is not UTF-8",
        })?;
        let key = Arc::new(CallbackPublicKey::from_pem(pem)?);
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

    /// Verifies a request with a key already in hand (no allow-list check). The returned
    /// [`VerifiedCallback`] has an empty `key_url`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`] (`authorization`), [`Error::Base64`],
    /// [`Error::SignatureMismatch`].
    pub fn verify_with_key(
        &self,
        key: &CallbackPublicKey,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedCallback, Error> {
        let authorization = header_str(headers, &HEADER_AUTHORIZATION, "authorization")?;
        let path = self.signed_path(uri.path());
        let query = uri.query().unwrap_or("");
        verify_callback(key, &path, query, body, authorization)?;
        Ok(VerifiedCallback {
            path: path.into_owned(),
            query: query.to_owned(),
            key_url: String::new(),
        })
    }

    /// Verifies a callback request: allow-list, key from the pin list, cache or `fetcher`,
    /// then the signature. Nothing is fetched for a key URL the allow-list rejects.
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
    ) -> Result<VerifiedCallback, Error> {
        let url = self.key_url(headers)?;
        let key = match self.cached_key(&url) {
            Some(key) => key,
            None => {
                tracing::debug!(%url, "fetching callback public key");
                let pem = fetcher.fetch(&url).await?;
                self.cache_key(&url, &pem)?
            }
        };
        match self.verify_with_key(&key, uri, headers, body) {
            Ok(verified) => Ok(VerifiedCallback {
                key_url: url,
                ..verified
            }),
            Err(err) => {
                tracing::debug!(error = %err, path = uri.path(), "callback verification failed");
                Err(err)
            }
        }
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
        let v = CallbackVerifier::builder()
            .with_allowed_prefix("http://127.0.0.1:1/")
            .build()
            .unwrap();
        assert!(v.is_allowed("http://127.0.0.1:1/key.pem"));
        let v = CallbackVerifier::builder()
            .with_allowed_prefixes(["https://only/"])
            .build()
            .unwrap();
        assert!(!v.is_allowed("http://gosspublic.alicdn.com/x.pem"));
    }

    #[test]
    fn bad_entries_fail_the_build() {
        let err = CallbackVerifier::builder()
            .with_allowed_prefix("127.0.0.1:9000")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidKeyUrlPrefix { .. }), "{err:?}");
    }

    #[test]
    fn signed_target_is_the_decoded_path_and_raw_query() {
        let v = VerifiedCallback {
            path: "/cb%3Ftag=1".into(),
            query: String::new(),
            key_url: String::new(),
        };
        let w = VerifiedCallback {
            path: "/cb".into(),
            query: "tag=1".into(),
            key_url: String::new(),
        };
        assert_eq!(v.signed_target(), "/cb?tag=1");
        assert_eq!(w.signed_target(), "/cb?tag=1");
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
            Err(Error::KeyUrlNotAllowed { url, .. }) if url == "http://evil.example/k.pem"
        ));
    }

    #[test]
    fn public_paths() {
        let v = CallbackVerifier::new();
        assert_eq!(v.signed_path("/cb"), "/cb");
        let with = |p| {
            CallbackVerifier::builder()
                .with_public_path(p)
                .build()
                .unwrap()
        };
        let v = with(PublicPath::Prefix("/api".into()));
        assert_eq!(v.signed_path("/cb"), "/api/cb");
        let v = with(PublicPath::Fixed("/hook".into()));
        assert_eq!(v.signed_path("/cb"), "/hook");
    }
}
