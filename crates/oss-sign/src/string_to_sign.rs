//! The string to sign (protocol §1.1 step 5).

use std::fmt;

use crate::names::ALGORITHM;
use crate::sink::Sink;
use crate::{CanonicalRequest, Scope};

/// `OSS4-HMAC-SHA256\n<datetime>\n<scope>\n<hex sha256(canonical request)>`; `Display` renders
/// exactly the signed text.
///
/// ```
/// use http::{HeaderMap, Method};
/// use oss_sign::{CanonicalRequest, Product, Scope, StringToSign};
/// let cr = CanonicalRequest::new(&Method::GET, None, None, &[], &HeaderMap::new(), &[], "UNSIGNED-PAYLOAD");
/// let scope = Scope::new("20231216", "cn-hangzhou", Product::Oss);
/// let sts = StringToSign::new("20231216T162057Z", &scope, &cr);
/// let text = sts.to_string();
/// assert!(text.starts_with("OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n"));
/// assert!(text.ends_with(&cr.hash_hex()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSign {
    text: String,
}

impl StringToSign {
    /// Builds the string to sign for `datetime` (`yyyyMMdd'T'HHmmss'Z'`), `scope` and `canonical`.
    pub fn new(datetime: &str, scope: &Scope, canonical: &CanonicalRequest) -> Self {
        Self::from_parts(
            datetime,
            scope.date(),
            scope.region(),
            scope.product().as_str(),
            &canonical.hash(),
        )
    }

    /// Builds the text without an intermediate [`Scope`] (the signer's hot path).
    pub(crate) fn from_parts(
        datetime: &str,
        date: &str,
        region: &str,
        product: &str,
        hash: &[u8; 32],
    ) -> Self {
        let mut text = String::with_capacity(
            ALGORITHM.len() + datetime.len() + date.len() + region.len() + product.len() + 96,
        );
        write(&mut text, datetime, date, region, product, hash);
        Self { text }
    }

    /// The text (same as `Display`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Writes the string to sign into `out`.
pub(crate) fn write<S: Sink>(
    out: &mut S,
    datetime: &str,
    date: &str,
    region: &str,
    product: &str,
    hash: &[u8; 32],
) {
    out.put(ALGORITHM);
    out.put("\n");
    out.put(datetime);
    out.put("\n");
    out.put(date);
    out.put("/");
    out.put(region);
    out.put("/");
    out.put(product);
    out.put("/");
    out.put(crate::names::SCOPE_TERMINATOR);
    out.put("\n");
    let hex = crate::encoding::hex_digits(hash);
    out.put(std::str::from_utf8(&hex).unwrap_or_default());
}

/// Appends `<date>/<region>/<product>/aliyun_v4_request`.
pub(crate) fn push_scope(out: &mut String, date: &str, region: &str, product: &str) {
    out.push_str(date);
    out.push('/');
    out.push_str(region);
    out.push('/');
    out.push_str(product);
    out.push('/');
    out.push_str(crate::names::SCOPE_TERMINATOR);
}

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
