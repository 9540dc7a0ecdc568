//! Where requests go: the endpoint host, the scheme and how the bucket is addressed.

use std::fmt;

use http::Uri;

use crate::bucket::BucketName;
use crate::encoding::{encode_query, percent_encode};
use crate::error::Error;
use crate::region::Region;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// Plain HTTP (local emulators, tests).
    Http,
    /// HTTP over TLS (the default).
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// How the bucket appears in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Addressing {
    /// `https://<bucket>.<endpoint>/<key>` (the OSS default).
    #[default]
    VirtualHosted,
    /// `https://<endpoint>/<bucket>/<key>` (local emulators, some private deployments).
    PathStyle,
    /// `https://<cname>/<key>`: the endpoint host is a custom domain bound to one bucket.
    Cname,
}

/// An OSS endpoint: scheme, host (with optional port) and addressing style.
///
/// ```
/// use oss_types::{Addressing, Endpoint};
///
/// let e = Endpoint::region("cn-hangzhou")?;
/// let uri = e.uri(Some("examplebucket"), Some("dir/a b.txt"), &[("uploads".into(), "".into())])?;
/// assert_eq!(uri.to_string(), "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b.txt?uploads");
///
/// let local = Endpoint::custom("http://127.0.0.1:9000")?.with_addressing(Addressing::PathStyle);
/// let uri = local.uri(Some("bucket"), Some("k"), &[])?;
/// assert_eq!(uri.to_string(), "http://127.0.0.1:9000/bucket/k");
/// # Ok::<(), oss_types::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    host: String,
    addressing: Addressing,
}

impl Endpoint {
    /// The public endpoint of a region: `https://oss-<region>.aliyuncs.com`, virtual-hosted.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegion`] unless `region` is a valid [`Region`].
    pub fn region(region: &str) -> Result<Self, Error> {
        Ok(Self::for_region(&Region::new(region)?))
    }

    /// The public endpoint of a validated region: `https://oss-<region>.aliyuncs.com`.
    pub fn for_region(region: &Region) -> Self {
        Self {
            scheme: Scheme::Https,
            host: format!("oss-{region}.aliyuncs.com"),
            addressing: Addressing::VirtualHosted,
        }
    }

    /// A custom endpoint: `host[:port]`, optionally prefixed by `http://` or `https://` (default
    /// `https`), with at most one trailing `/`. Virtual-hosted addressing unless changed with
    /// [`Endpoint::with_addressing`]. The host is lower-cased.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEndpoint`] when the text is not a bare authority (a path, query, user info
    /// or another scheme is rejected).
    pub fn custom(endpoint: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidEndpoint {
            endpoint: endpoint.chars().take(256).collect(),
            reason,
        };
        let (scheme, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = endpoint.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if endpoint.contains("://") {
            return Err(invalid("only http and https are supported"));
        } else {
            (Scheme::Https, endpoint)
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if host.contains(['/', '@', '?', '#']) {
            return Err(invalid("expected only scheme, host and port"));
        }
        let authority: http::uri::Authority = host
            .parse()
            .map_err(|_| invalid("not a host[:port] authority"))?;
        if authority.host().is_empty() {
            return Err(invalid("no host"));
        }
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            addressing: Addressing::VirtualHosted,
        })
    }

    /// Sets the addressing style. Default: [`Addressing::VirtualHosted`].
    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// Sets the scheme. Default: [`Scheme::Https`] (unless given in [`Endpoint::custom`]).
    pub fn with_scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The endpoint host with its port, if any.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The addressing style.
    pub fn addressing(&self) -> Addressing {
        self.addressing
    }

    /// `scheme://host/path` of an object (no query), the key percent-encoded with `/` kept.
    pub fn object_url(&self, bucket: &BucketName, key: &str) -> String {
        let key = percent_encode(key, true);
        let (scheme, host) = (self.scheme.as_str(), &self.host);
        match self.addressing {
            Addressing::VirtualHosted => format!("{scheme}://{bucket}.{host}/{key}"),
            Addressing::PathStyle => format!("{scheme}://{host}/{bucket}/{key}"),
            Addressing::Cname => format!("{scheme}://{host}/{key}"),
        }
    }

    /// The URI of a request on `bucket`/`key` with decoded query pairs (an empty value is written
    /// as the bare name, e.g. `?uploads`). Key and query are percent-encoded with the RFC 3986
    /// unreserved set (`/` kept in the key), the same rule the V4 signature uses.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUri`] when a key is given without a bucket, [`Error::InvalidBucketName`]
    /// when the bucket is not a [`BucketName`].
    pub fn uri(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(String, String)],
    ) -> Result<Uri, Error> {
        if key.is_some() && bucket.is_none() {
            return Err(Error::InvalidUri {
                reason: "an object key needs a bucket".into(),
            });
        }
        if let Some(b) = bucket {
            BucketName::check(b)?;
        }
        let mut host = self.host.clone();
        let mut path = String::from("/");
        match (self.addressing, bucket) {
            (Addressing::VirtualHosted, Some(b)) => host = format!("{b}.{host}"),
            (Addressing::PathStyle, Some(b)) => {
                path.push_str(b);
                path.push('/');
            }
            (Addressing::Cname, _) | (_, None) => {}
        }
        if let Some(k) = key {
            path.push_str(&percent_encode(k, true));
        }
        let mut text = format!("{}://{}{}", self.scheme.as_str(), host, path);
        if !query.is_empty() {
            text.push('?');
            text.push_str(&encode_query(query));
        }
        text.parse().map_err(|e| Error::InvalidUri {
            reason: format!("{e}"),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    // Moved from oss-transport's `endpoint.rs`.
    #[test]
    fn addressing_styles() {
        let region = Endpoint::region("cn-hangzhou").unwrap();
        assert_eq!(
            region
                .uri(Some("bucket"), Some("dir/子.txt"), &[])
                .unwrap()
                .to_string(),
            "https://bucket.oss-cn-hangzhou.aliyuncs.com/dir/%E5%AD%90.txt"
        );
        assert_eq!(
            region.uri(None, None, &[]).unwrap().to_string(),
            "https://oss-cn-hangzhou.aliyuncs.com/"
        );
        let path = Endpoint::custom("http://127.0.0.1:9000")
            .unwrap()
            .with_addressing(Addressing::PathStyle);
        assert_eq!(
            path.uri(Some("bucket"), None, &[]).unwrap().to_string(),
            "http://127.0.0.1:9000/bucket/"
        );
        let cname = Endpoint::custom("static.example.com")
            .unwrap()
            .with_addressing(Addressing::Cname);
        assert_eq!(
            cname
                .uri(
                    Some("bucket"),
                    Some("/lead//double/"),
                    &q(&[("partNumber", "1"), ("uploadId", "a/b c")])
                )
                .unwrap()
                .to_string(),
            "https://static.example.com//lead//double/?partNumber=1&uploadId=a%2Fb%20c"
        );
    }

    // Moved from oss-presign's `endpoint.rs`.
    #[test]
    fn object_urls_for_each_addressing() {
        let b = |s: &str| BucketName::new(s).unwrap();
        let e = Endpoint::custom("http://127.0.0.1:9000/")
            .unwrap()
            .with_addressing(Addressing::PathStyle);
        assert_eq!(
            e.object_url(&b("b-1"), "a b/c"),
            "http://127.0.0.1:9000/b-1/a%20b/c"
        );
        let e = Endpoint::custom("oss-cn-hangzhou.aliyuncs.com").unwrap();
        assert_eq!(
            e.object_url(&b("bkt"), "k+1"),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/k%2B1"
        );
        let cn = Region::new("cn-beijing").unwrap();
        assert_eq!(
            Endpoint::for_region(&cn)
                .with_addressing(Addressing::Cname)
                .object_url(&b("bkt"), "x"),
            "https://oss-cn-beijing.aliyuncs.com/x"
        );
    }

    // Merged from oss-transport's and oss-presign's `endpoint.rs`.
    #[test]
    fn rejects_bad_input() {
        assert!(Endpoint::region("").is_err());
        assert!(Endpoint::region("cn hangzhou").is_err());
        assert!(Endpoint::custom("ftp://x").is_err());
        assert!(Endpoint::custom("http://").is_err());
        assert!(Endpoint::custom("http://host/path").is_err());
        assert!(Endpoint::custom("http://user@host").is_err());
        assert!(Endpoint::custom("http://a b").is_err());
        let e = Endpoint::region("cn-hangzhou").unwrap();
        assert!(e.uri(None, Some("k"), &[]).is_err());
        assert!(e.uri(Some("Bad.Bucket"), None, &[]).is_err());
        assert!(e.uri(Some("evil.com/x"), None, &[]).is_err());
    }

    #[test]
    fn region_endpoint_refuses_the_oss_prefix() {
        let e = Endpoint::region("oss-cn-hangzhou").unwrap_err();
        assert!(
            e.to_string().contains("did you mean \"cn-hangzhou\""),
            "{e}"
        );
    }
}
