//! The credential scope `<date>/<region>/<product>/aliyun_v4_request` and the [`Product`].

use std::fmt;
use std::str::FromStr;

use crate::names::SCOPE_TERMINATOR;
use crate::Error;

/// The product slot of the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Product {
    /// Object Storage Service, `oss` (default).
    #[default]
    Oss,
    /// OSS on CloudBox, `oss-cloudbox`; the region slot then holds the CloudBox id (`cb-…`).
    CloudBox,
}

impl Product {
    /// The scope text: `oss` or `oss-cloudbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Oss => "oss",
            Product::CloudBox => "oss-cloudbox",
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Product {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "oss" => Ok(Product::Oss),
            "oss-cloudbox" => Ok(Product::CloudBox),
            _ => Err(Error::InvalidScope {
                value: s.chars().take(64).collect(),
                reason: "product must be `oss` or `oss-cloudbox`",
            }),
        }
    }
}

/// A signing scope: `20231216/cn-hangzhou/oss/aliyun_v4_request`.
///
/// ```
/// use oss_sign::{Product, Scope};
/// let scope = Scope::new("20231216", "cn-hangzhou", Product::Oss);
/// assert_eq!(scope.to_string(), "20231216/cn-hangzhou/oss/aliyun_v4_request");
/// assert_eq!(Scope::parse(&scope.to_string())?, scope);
/// # Ok::<(), oss_sign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    date: String,
    region: String,
    product: Product,
}

impl Scope {
    /// A scope for `date` (`yyyyMMdd`), `region` (or CloudBox id) and `product`.
    ///
    /// No validation happens here; [`Scope::parse`] validates text from the wire.
    pub fn new(date: impl Into<String>, region: impl Into<String>, product: Product) -> Self {
        Self {
            date: date.into(),
            region: region.into(),
            product,
        }
    }

    /// Parses `<yyyyMMdd>/<region>/<product>/aliyun_v4_request`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidScope`] when a part is missing, the date is not 8 digits, the region is
    /// not a plain id, the product is unknown or the terminator is not `aliyun_v4_request`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidScope {
            value: s.chars().take(128).collect(),
            reason,
        };
        let mut parts = s.split('/');
        let (Some(date), Some(region), Some(product), Some(terminator), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid("expected four `/`-separated parts"));
        };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("date must be yyyyMMdd"));
        }
        if oss_types::Region::new(region).is_err() {
            return Err(invalid("region must be a plain region id"));
        }
        let product = product
            .parse()
            .map_err(|_| invalid("product must be `oss` or `oss-cloudbox`"))?;
        if terminator != SCOPE_TERMINATOR {
            return Err(invalid("scope must end with aliyun_v4_request"));
        }
        Ok(Self::new(date, region, product))
    }

    /// The `yyyyMMdd` date.
    pub fn date(&self) -> &str {
        &self.date
    }

    /// The region id (or CloudBox id).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The product.
    pub fn product(&self) -> Product {
        self.product
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.date,
            self.region,
            self.product.as_str(),
            SCOPE_TERMINATOR
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudbox_scope() {
        let s = Scope::new("20231216", "cb-123", Product::CloudBox);
        assert_eq!(
            s.to_string(),
            "20231216/cb-123/oss-cloudbox/aliyun_v4_request"
        );
        assert_eq!(Scope::parse(&s.to_string()).expect("parses"), s);
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "20231216/cn-hangzhou/oss",
            "20231216/cn-hangzhou/oss/aliyun_v4_request/x",
            "2023121/cn-hangzhou/oss/aliyun_v4_request",
            "20231216//oss/aliyun_v4_request",
            "20231216/cn hangzhou/oss/aliyun_v4_request",
            "20231216/cn-hangzhou/s3/aliyun_v4_request",
            "20231216/cn-hangzhou/oss/aws4_request",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }
}
