//! The presigner: endpoint, region and credentials, turning a [`PresignRequest`] into a URL.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::header::{HeaderName, HeaderValue};
use oss_callback::{encode_headers, encode_query};
use oss_sign::{
    percent_encode, Credentials, Product, ProvideCredentials, Signer, SigningParams,
    StaticCredentialsProvider,
};

use crate::{CallbackCarrier, Error, PresignRequest, PresignedRequest};
use oss_types::{Addressing, BucketName, Endpoint, Region};

/// Presigns OSS requests with Signature V4. Cheap to clone; the derived signing key is cached
/// across calls.
#[derive(Clone)]
pub struct Presigner {
    signer: Signer,
    credentials: Arc<dyn ProvideCredentials>,
    region: String,
    product: Product,
    endpoint: Endpoint,
    addressing: Addressing,
}

impl fmt::Debug for Presigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigner")
            .field("region", &self.region)
            .field("product", &self.product)
            .field("endpoint", &self.endpoint)
            .field("addressing", &self.addressing)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Presigner {
    /// Starts a presigner for `region` (e.g. `cn-hangzhou`; for CloudBox, the CloudBox id).
    pub fn builder(region: impl Into<String>) -> PresignerBuilder {
        PresignerBuilder {
            region: region.into(),
            endpoint: None,
            credentials: None,
            product: Product::Oss,
            addressing: Addressing::VirtualHosted,
        }
    }

    /// A presigner configured like the official SDKs (requires the `from-env` feature):
    /// credentials from the default chain (`OSS_*` / `ALIBABA_CLOUD_*` variables, the aliyun
    /// CLI profile, the INI credentials file), cached and refreshed ahead of expiry, so each
    /// presigned URL carries the current STS token; region from `OSS_REGION` or the profile;
    /// endpoint from `OSS_ENDPOINT`, else the region's.
    ///
    /// # Errors
    /// [`Error::Credentials`] when no link of the chain yields credentials,
    /// [`Error::MissingRegion`], [`Error::InvalidEndpoint`].
    #[cfg(feature = "from-env")]
    pub async fn from_env() -> Result<Presigner, Error> {
        let config = oss_credentials::from_env()
            .await
            .map_err(|e| Error::Credentials(e.into()))?;
        Self::from_resolved_config(&config)
    }

    /// A presigner from a resolved default chain (requires the `from-env` feature).
    ///
    /// # Errors
    /// [`Error::MissingRegion`] when the configuration has no region,
    /// [`Error::InvalidEndpoint`].
    #[cfg(feature = "from-env")]
    pub fn from_resolved_config(
        config: &oss_credentials::ResolvedConfig,
    ) -> Result<Presigner, Error> {
        let region = config.region.clone().ok_or(Error::MissingRegion)?;
        let mut builder = Presigner::builder(region)
            .with_shared_credentials_provider(Arc::clone(&config.provider));
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        builder.build()
    }

    /// Presigns `request`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBucket`], [`Error::EmptyKey`], [`Error::InvalidHeader`],
    /// [`Error::CallbackNotSupported`] for a callback on an operation other than PutObject or
    /// CompleteMultipartUpload, [`Error::Credentials`] when the provider fails, and
    /// [`Error::Sign`] for an expiry outside 1..=604800 s.
    pub async fn presign(&self, request: &PresignRequest) -> Result<PresignedRequest, Error> {
        let bucket = BucketName::new(request.bucket.as_str()).map_err(Error::InvalidBucket)?;
        if request.key.is_empty() {
            return Err(Error::EmptyKey);
        }
        let mut query = request.operation.query();
        query.extend(request.query.iter().cloned());
        let mut builder = http::Request::builder().method(request.operation.method());
        for (name, value) in &request.headers {
            let invalid = || Error::InvalidHeader { name: name.clone() };
            let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid())?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| invalid())?;
            builder = builder.header(name, value);
        }
        let mut callback_headers = http::HeaderMap::new();
        if let Some((callback, vars, carrier)) = &request.callback {
            if !request.operation.accepts_callback() {
                return Err(Error::CallbackNotSupported {
                    operation: request.operation.name(),
                });
            }
            match carrier {
                CallbackCarrier::Header => {
                    encode_headers(callback, vars.as_ref(), &mut callback_headers)
                        .map_err(Error::Callback)?;
                }
                CallbackCarrier::Query => query.extend(encode_query(callback, vars.as_ref())),
            }
        }
        let url = self.url(&bucket, &request.key, &query);
        let (mut parts, ()) = builder
            .uri(url)
            .body(())
            .map_err(Error::InvalidUri)?
            .into_parts();
        parts.headers.extend(callback_headers);

        let credentials = self
            .credentials
            .provide()
            .await
            .map_err(Error::Credentials)?;
        let params = SigningParams::builder(self.region.clone())
            .with_product(self.product)
            .with_bucket(request.bucket.clone())
            .with_key(request.key.clone())
            .with_time(request.time.unwrap_or_else(SystemTime::now))
            .with_additional_headers(request.additional_headers.iter().cloned())
            .build()
            .map_err(Error::Sign)?;
        let presigned = self
            .signer
            .presign(&parts, &credentials, &params, request.expires)
            .map_err(Error::Sign)?;
        Ok(PresignedRequest {
            method: parts.method,
            uri: presigned.uri,
            signed_headers: presigned.signed_headers,
            expires_at: presigned.expires_at,
        })
    }

    fn url(&self, bucket: &BucketName, key: &str, query: &[(String, String)]) -> String {
        let mut url = self.endpoint.object_url(bucket, key);
        for (i, (name, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&percent_encode(name, false));
            if !value.is_empty() {
                url.push('=');
                url.push_str(&percent_encode(value, false));
            }
        }
        url
    }
}

/// Settings for a [`Presigner`].
#[derive(Debug)]
pub struct PresignerBuilder {
    region: String,
    endpoint: Option<String>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    product: Product,
    addressing: Addressing,
}

impl PresignerBuilder {
    /// The endpoint URL (`https://host[:port]` or `http://…`). Default:
    /// `https://oss-<region>.aliyuncs.com`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Fixed credentials.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        self.with_credentials_provider(StaticCredentialsProvider::new(credentials))
    }

    /// A credentials provider, asked on every [`Presigner::presign`] (so rotated STS tokens are
    /// picked up). Required, through this or [`with_credentials`](Self::with_credentials).
    pub fn with_credentials_provider(
        mut self,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Same as [`with_credentials_provider`](Self::with_credentials_provider) for a shared
    /// provider.
    pub fn with_shared_credentials_provider(
        mut self,
        provider: Arc<dyn ProvideCredentials>,
    ) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// The signing product: [`Product::Oss`] (default) or [`Product::CloudBox`].
    pub fn with_product(mut self, product: Product) -> Self {
        self.product = product;
        self
    }

    /// How the bucket appears in URLs. Default: [`Addressing::VirtualHosted`].
    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// Builds the presigner.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegion`] unless the region is an [`oss_types::Region`];
    /// [`Error::InvalidEndpoint`] for an endpoint that is not `http(s)://host[:port]`;
    /// [`Error::MissingCredentials`] when no credentials were given.
    pub fn build(self) -> Result<Presigner, Error> {
        let region = Region::new(self.region.as_str()).map_err(Error::InvalidRegion)?;
        let endpoint = match &self.endpoint {
            Some(e) => Endpoint::custom(e).map_err(Error::InvalidEndpoint)?,
            None => Endpoint::for_region(&region),
        }
        .with_addressing(self.addressing);
        let credentials = self.credentials.ok_or(Error::MissingCredentials)?;
        Ok(Presigner {
            signer: Signer::new(),
            credentials,
            region: self.region,
            product: self.product,
            endpoint,
            addressing: self.addressing,
        })
    }
}
