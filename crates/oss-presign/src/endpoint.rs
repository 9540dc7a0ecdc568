//! Where presigned URLs point: scheme, host and addressing style.
//!
//! `oss-transport` has a richer endpoint type, but it brings hyper and tokio; presigning does no
//! I/O, so this crate keeps the few lines it needs (see docs/decisions.md).

use oss_sign::percent_encode;

use crate::Error;

/// How the bucket appears in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Addressing {
    /// `https://bucket.oss-cn-hangzhou.aliyuncs.com/key` (OSS's default).
    #[default]
    VirtualHosted,
    /// `https://oss-cn-hangzhou.aliyuncs.com/bucket/key` (local emulators, some proxies).
    PathStyle,
    /// `https://cdn.example.com/key`: the endpoint is a CNAME bound to the bucket.
    Cname,
}

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    scheme: &'static str,
    /// Host with an optional `:port`.
    authority: String,
}

impl Endpoint {
    /// Parses `https://host[:port]`, `http://host[:port]` or a bare host (https).
    pub(crate) fn parse(endpoint: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let (scheme, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = endpoint.strip_prefix("http://") {
            ("http", rest)
        } else if endpoint.contains("://") {
            return Err(invalid("only http and https are supported"));
        } else {
            ("https", endpoint)
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() {
            return Err(invalid("no host"));
        }
        if authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(invalid("expected only scheme, host and port"));
        }
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
        })
    }

    /// The endpoint for a region: `https://oss-<region>.aliyuncs.com`.
    pub(crate) fn for_region(region: &str) -> Self {
        Self {
            scheme: "https",
            authority: format!("oss-{region}.aliyuncs.com"),
        }
    }

    /// `scheme://authority/path` for a bucket and key (no query).
    pub(crate) fn object_url(&self, addressing: Addressing, bucket: &str, key: &str) -> String {
        let key = percent_encode(key, true);
        match addressing {
            Addressing::VirtualHosted => {
                format!("{}://{bucket}.{}/{key}", self.scheme, self.authority)
            }
            Addressing::PathStyle => format!("{}://{}/{bucket}/{key}", self.scheme, self.authority),
            Addressing::Cname => format!("{}://{}/{key}", self.scheme, self.authority),
        }
    }
}

/// [`Error::InvalidBucket`] unless [`oss_sign::is_valid_bucket_name`].
pub(crate) fn check_bucket(bucket: &str) -> Result<(), Error> {
    if oss_sign::is_valid_bucket_name(bucket) {
        Ok(())
    } else {
        Err(Error::InvalidBucket {
            bucket: bucket.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_and_bare_hosts() {
        let e = Endpoint::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(
            e.object_url(Addressing::PathStyle, "b-1", "a b/c"),
            "http://127.0.0.1:9000/b-1/a%20b/c"
        );
        let e = Endpoint::parse("oss-cn-hangzhou.aliyuncs.com").unwrap();
        assert_eq!(
            e.object_url(Addressing::VirtualHosted, "bkt", "k+1"),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/k%2B1"
        );
        assert_eq!(
            Endpoint::for_region("cn-beijing").object_url(Addressing::Cname, "bkt", "x"),
            "https://oss-cn-beijing.aliyuncs.com/x"
        );
    }

    #[test]
    fn rejects_bad_endpoints_and_buckets() {
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://").is_err());
        assert!(Endpoint::parse("http://host/path").is_err());
        assert!(check_bucket("ab").is_err());
        assert!(check_bucket("Upper").is_err());
        assert!(check_bucket("-lead").is_err());
        assert!(check_bucket("fine-bucket-1").is_ok());
    }
}
