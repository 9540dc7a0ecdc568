//! Configuration of the kit: the bucket and credentials it signs for, the app's public URL,
//! its routes and hooks, and how callbacks are verified.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use oss_callback::{CallbackVerifierBuilder, HyperKeyFetcher, KeyFetcher, PublicPath};
use oss_sign::{Credentials, ProvideCredentials, StaticCredentialsProvider};

use crate::service::{DirectUpload, Inner};
use crate::{Authorize, Error, HandleUpload};

/// Default cap on a callback body, in bytes (64 KiB; the kit's template makes well under 1 KiB).
pub const DEFAULT_MAX_CALLBACK_BODY: usize = 64 * 1024;

/// Builds a [`DirectUpload`] service: consuming `with_*` setters, then [`build`](Self::build).
///
/// Required: [`with_bucket`](Self::with_bucket), [`with_region`](Self::with_region),
/// credentials, [`with_public_base_url`](Self::with_public_base_url),
/// [`with_authorize`](Self::with_authorize) and [`with_upload_handler`](Self::with_upload_handler).
pub struct DirectUploadBuilder {
    bucket: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    path_style: bool,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    public_base_url: Option<String>,
    token_path: String,
    callback_path: String,
    authorize: Option<Arc<dyn Authorize>>,
    handler: Option<Arc<dyn HandleUpload>>,
    verifier: CallbackVerifierBuilder,
    fetcher: Option<Arc<dyn KeyFetcher>>,
    max_callback_body: usize,
    pages: Vec<(String, Bytes)>,
}

impl fmt::Debug for DirectUploadBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectUploadBuilder")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("public_base_url", &self.public_base_url)
            .field("token_path", &self.token_path)
            .field("callback_path", &self.callback_path)
            .finish_non_exhaustive()
    }
}

impl Default for DirectUploadBuilder {
    fn default() -> Self {
        Self {
            bucket: None,
            region: None,
            endpoint: None,
            path_style: false,
            credentials: None,
            public_base_url: None,
            token_path: "/token".into(),
            callback_path: "/callback".into(),
            authorize: None,
            handler: None,
            verifier: oss_callback::CallbackVerifier::builder(),
            fetcher: None,
            max_callback_body: DEFAULT_MAX_CALLBACK_BODY,
            pages: Vec::new(),
        }
    }
}

impl DirectUploadBuilder {
    /// The bucket the tokens upload to. Required.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// The region id signed into the policy (`cn-hangzhou`). Required.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// OSS endpoint (`host[:port]`, optionally with a scheme). Default: the region's public
    /// endpoint over HTTPS.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Path-style form URLs (`endpoint/bucket/`, for emulators). Default: virtual-hosted.
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.path_style = path_style;
        self
    }

    /// The credentials provider, asked for every token (so rotating STS credentials are
    /// picked up; their token goes into the form and the policy). Required, or
    /// [`with_static_credentials`](Self::with_static_credentials).
    pub fn with_credentials_provider(
        mut self,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Static access key id and secret.
    pub fn with_static_credentials(
        self,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Self {
        self.with_credentials_provider(StaticCredentialsProvider::new(Credentials::new(
            access_key_id,
            access_key_secret,
        )))
    }

    /// The application's public base URL as OSS reaches it (`https://app.example.com`, or with a
    /// path prefix such as `https://example.com/api`). The callback URL is this followed by the
    /// callback path; it is never taken from a request's `Host` header, which the caller
    /// controls. Required.
    pub fn with_public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    /// Serves the routes under `prefix`: `GET <prefix>/token` and `POST <prefix>/callback`.
    /// Default: no prefix.
    pub fn with_route_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let prefix = prefix.trim_end_matches('/');
        self.with_token_path(format!("{prefix}/token"))
            .with_callback_path(format!("{prefix}/callback"))
    }

    /// The token route's path as this service receives it. Default `/token`.
    pub fn with_token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// The callback route's path as this service receives it (also appended to the public base
    /// URL to form the callback URL). Default `/callback`.
    pub fn with_callback_path(mut self, path: impl Into<String>) -> Self {
        self.callback_path = path.into();
        self
    }

    /// The hook that authenticates token requests and grants constraints. Required.
    pub fn with_authorize(mut self, hook: impl Authorize) -> Self {
        self.authorize = Some(Arc::new(hook));
        self
    }

    /// The hook called once per verified callback; its JSON answer reaches the page. Required.
    pub fn with_upload_handler(mut self, handler: impl HandleUpload) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// The callback verifier's settings (key-URL allow-list, pinned keys, cache size). Default:
    /// [`CallbackVerifier::builder`](oss_callback::CallbackVerifier::builder), OSS's own key
    /// host only. Its public path is always replaced: the kit checks the signature over the
    /// path of the callback URL it issued, whatever path a proxy forwards.
    pub fn with_verifier(mut self, verifier: CallbackVerifierBuilder) -> Self {
        self.verifier = verifier;
        self
    }

    /// Adds one key-URL allow-list entry (for an emulator, `http://127.0.0.1:PORT/__emulator/`).
    pub fn with_allowed_key_url_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.verifier = self.verifier.with_allowed_prefix(prefix);
        self
    }

    /// Fetches callback public keys. Default: `oss_callback::HyperKeyFetcher` (HTTPS to OSS's
    /// key host).
    pub fn with_key_fetcher(mut self, fetcher: impl KeyFetcher + 'static) -> Self {
        self.fetcher = Some(Arc::new(fetcher));
        self
    }

    /// Largest callback body read, in bytes. Default [`DEFAULT_MAX_CALLBACK_BODY`].
    pub fn with_max_callback_body(mut self, bytes: usize) -> Self {
        self.max_callback_body = bytes;
        self
    }

    /// Serves `html` on `GET path` (a page that uses the token). Default: no page.
    pub fn with_page(mut self, path: impl Into<String>, html: impl Into<Bytes>) -> Self {
        self.pages.push((path.into(), html.into()));
        self
    }

    /// Validates the settings and builds the service.
    ///
    /// # Errors
    /// [`Error::Missing`] for a required setting, [`Error::InvalidConfig`] for a public base URL
    /// that is not an absolute `http(s)` URL without query or fragment, or route paths that do
    /// not start with `/` or collide, [`Error::Client`] when the OSS client cannot be configured.
    pub fn build(self) -> Result<DirectUpload, Error> {
        let missing = |name| Error::Missing { name };
        let bucket = self.bucket.ok_or(missing("with_bucket"))?;
        let region = self.region.ok_or(missing("with_region"))?;
        let credentials = self
            .credentials
            .ok_or(missing("with_credentials_provider"))?;
        let base = self
            .public_base_url
            .ok_or(missing("with_public_base_url"))?;
        let authorize = self.authorize.ok_or(missing("with_authorize"))?;
        let handler = self.handler.ok_or(missing("with_upload_handler"))?;
        for (name, path) in [
            ("with_token_path", &self.token_path),
            ("with_callback_path", &self.callback_path),
        ] {
            if !path.starts_with('/') || path.contains(['?', '#']) {
                return Err(Error::InvalidConfig {
                    name,
                    reason: format!("{path:?} is not a path starting with `/`"),
                });
            }
        }
        if self.token_path == self.callback_path {
            return Err(Error::InvalidConfig {
                name: "with_callback_path",
                reason: "the token and callback routes share a path".into(),
            });
        }
        let callback_url = format!("{}{}", base.trim_end_matches('/'), self.callback_path);
        let bad_base = |reason: String| Error::InvalidConfig {
            name: "with_public_base_url",
            reason,
        };
        let uri: http::Uri = callback_url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad_base(e.to_string()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(bad_base(format!("{base:?} is not an absolute http(s) URL")));
        }
        if uri.query().is_some() || base.contains('#') {
            return Err(bad_base(format!("{base:?} has a query or fragment")));
        }
        let signed_path = uri.path().to_owned();
        let verifier = self
            .verifier
            .with_public_path(PublicPath::Fixed(signed_path))
            .build()
            .map_err(|e| Error::InvalidConfig {
                name: "with_verifier",
                reason: e.to_string(),
            })?;
        let mut client = oss_upload::Client::builder(bucket)
            .with_region(region)
            .with_credentials_provider(credentials)
            .with_path_style(self.path_style);
        if let Some(endpoint) = self.endpoint {
            client = client.with_endpoint(endpoint);
        }
        let client = client.build().map_err(Error::Client)?;
        let fetcher = self
            .fetcher
            .unwrap_or_else(|| Arc::new(HyperKeyFetcher::new()));
        Ok(DirectUpload::from_inner(Inner {
            client,
            callback_url,
            token_path: self.token_path,
            callback_path: self.callback_path,
            authorize,
            handler,
            verifier,
            fetcher,
            max_callback_body: self.max_callback_body,
            pages: self.pages,
        }))
    }
}
