//! [`SigningParams`]: what is signed besides the request itself.

use std::time::SystemTime;

use crate::{Error, Product};

/// Region, product, bucket, key, signing time and additional headers of one signature.
///
/// Built with [`SigningParams::builder`]; the time is required because the signer never reads
/// the clock.
///
/// ```
/// use std::time::SystemTime;
/// use oss_sign::{Product, SigningParams};
/// let params = SigningParams::builder("cn-hangzhou")
///     .with_bucket("examplebucket")
///     .with_key("exampledir/exampleobject.txt")
///     .with_time(SystemTime::now())
///     .build()?;
/// assert_eq!(params.product(), Product::Oss);
/// # Ok::<(), oss_sign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningParams {
    region: String,
    product: Product,
    bucket: Option<String>,
    key: Option<String>,
    time: SystemTime,
    additional_headers: Vec<String>,
}

impl SigningParams {
    /// Starts a builder for `region` (a plain region id such as `cn-hangzhou`, or the CloudBox
    /// id with [`Product::CloudBox`]).
    pub fn builder(region: impl Into<String>) -> SigningParamsBuilder {
        SigningParamsBuilder {
            region: region.into(),
            product: Product::Oss,
            bucket: None,
            key: None,
            time: None,
            additional_headers: Vec::new(),
        }
    }

    /// The region (or CloudBox id).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The product.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The bucket, if any.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// The object key, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The signing time.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The requested additional headers (before filtering against the request).
    pub fn additional_headers(&self) -> &[String] {
        &self.additional_headers
    }

    /// Replaces the signing time (for re-signing a retry with a fresh time).
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }

    /// Replaces the signing time in place.
    pub fn set_time(&mut self, time: SystemTime) {
        self.time = time;
    }
}

/// Builder of [`SigningParams`].
#[derive(Debug, Clone)]
pub struct SigningParamsBuilder {
    region: String,
    product: Product,
    bucket: Option<String>,
    key: Option<String>,
    time: Option<SystemTime>,
    additional_headers: Vec<String>,
}

impl SigningParamsBuilder {
    /// The product. Default: [`Product::Oss`].
    pub fn with_product(mut self, product: Product) -> Self {
        self.product = product;
        self
    }

    /// The bucket of the request. Default: none (service-level requests such as ListBuckets).
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// The object key, raw (not encoded). Default: none (bucket-level requests).
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The signing time. Required.
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Headers to sign besides the default ones (`x-oss-*`, `content-type`, `content-md5`).
    /// Names are matched case-insensitively; names the request lacks are dropped when signing.
    /// Default: none.
    pub fn with_additional_headers(
        mut self,
        headers: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.additional_headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// - [`Error::MissingSigningTime`] without [`with_time`](Self::with_time);
    /// - [`Error::InvalidRegion`] unless the region is an [`oss_types::Region`];
    /// - [`Error::InvalidParams`] for an empty bucket, or a key without a bucket.
    pub fn build(self) -> Result<SigningParams, Error> {
        let time = self.time.ok_or(Error::MissingSigningTime)?;
        oss_types::Region::new(self.region.as_str()).map_err(Error::InvalidRegion)?;
        if self.bucket.as_deref() == Some("") {
            return Err(Error::InvalidParams {
                reason: "bucket name is empty",
            });
        }
        if self.key.is_some() && self.bucket.is_none() {
            return Err(Error::InvalidParams {
                reason: "an object key needs a bucket",
            });
        }
        Ok(SigningParams {
            region: self.region,
            product: self.product,
            bucket: self.bucket,
            key: self.key,
            time,
            additional_headers: self.additional_headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_validates() {
        let now = SystemTime::UNIX_EPOCH;
        assert!(matches!(
            SigningParams::builder("cn-hangzhou").build(),
            Err(Error::MissingSigningTime)
        ));
        assert!(matches!(
            SigningParams::builder("").with_time(now).build(),
            Err(Error::InvalidRegion(_))
        ));
        assert!(matches!(
            SigningParams::builder("cn/hangzhou").with_time(now).build(),
            Err(Error::InvalidRegion(_))
        ));
        assert!(matches!(
            SigningParams::builder("cn-hangzhou")
                .with_key("k")
                .with_time(now)
                .build(),
            Err(Error::InvalidParams { .. })
        ));
        let p = SigningParams::builder("cb-123")
            .with_product(Product::CloudBox)
            .with_bucket("b")
            .with_key("k")
            .with_additional_headers(["Host", "abc"])
            .with_time(now)
            .build()
            .expect("valid");
        assert_eq!(p.additional_headers(), ["Host", "abc"]);
        assert_eq!(p.bucket(), Some("b"));
    }
}
