//! Where requests go: the endpoint host, the scheme and how the bucket is addressed.

use std::fmt;

use http::Uri;
use oss_sign::percent_encode;

use crate::error::Error;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Addressing {
    /// `https://<bucket>.<endpoint>/<key>` (the OSS default).
    VirtualHosted,
    /// `https://<endpoint>/<bucket>/<key>` (local emulators, some private deployments).
    PathStyle,
    /// `https://<cname>/<key>`: the endpoint host is a custom domain bound to one bucket.
    Cname,
}

/// An OSS endpoint: scheme, host (with optional port) and addressing style.
///
/// ```
/// use oss_transport::{Addressing, Endpoint};
///
/// let e = Endpoint::region("cn-hangzhou")?;
/// let uri = e.uri(Some("examplebucket"), Some("dir/a b.txt"), &[("uploads".into(), "".into())])?;
/// assert_eq!(uri.to_string(), "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b.txt?uploads");
///
/// let local = Endpoint::custom("http://127.0.0.1:9000")?.with_addressing(Addressing::PathStyle);
/// let uri = local.uri(Some("bucket"), Some("k"), &[])?;
/// assert_eq!(uri.to_string(), "http://127.0.0.1:9000/bucket/k");
/// # Ok::<(), oss_transport::Error>(())
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
    /// [`Error::Config`] when the region is empty or not made of `a-z`, `0-9` and `-`.
    pub fn region(region: &str) -> Result<Self, Error> {
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(Error::config(format!("invalid region {region:?}")));
        }
        Ok(Self {
            scheme: Scheme::Https,
            host: format!("oss-{region}.aliyuncs.com"),
            addressing: Addressing::VirtualHosted,
        })
    }

    /// A custom endpoint: `host[:port]`, optionally prefixed by `http://` or `https://` (default
    /// `https`). Virtual-hosted addressing unless changed with [`Endpoint::with_addressing`].
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the text is not a bare authority (a path, query, user info or another
    /// scheme is rejected).
    pub fn custom(endpoint: &str) -> Result<Self, Error> {
        let (scheme, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = endpoint.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if endpoint.contains("://") {
            return Err(Error::config(format!(
                "unsupported scheme in endpoint {endpoint:?}"
            )));
        } else {
            (Scheme::Https, endpoint)
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        let authority: http::uri::Authority = host
            .parse()
            .map_err(|_| Error::config(format!("invalid endpoint {endpoint:?}")))?;
        if host.is_empty() || host.contains(['/', '@', '?', '#']) || authority.host().is_empty() {
            return Err(Error::config(format!("invalid endpoint {endpoint:?}")));
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

    /// The URI of a request on `bucket`/`key` with decoded query pairs (an empty value is written
    /// as the bare name, e.g. `?uploads`). Key and query are percent-encoded with the RFC 3986
    /// unreserved set (`/` kept in the key), the same rule the V4 signature uses.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when a key is given without a bucket, or a bucket name cannot be
    /// a host label for virtual-hosted addressing.
    pub fn uri(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(String, String)],
    ) -> Result<Uri, Error> {
        if key.is_some() && bucket.is_none() {
            return Err(Error::invalid("an object key needs a bucket"));
        }
        if let Some(b) = bucket {
            validate_bucket(b)?;
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
        text.parse()
            .map_err(|e| Error::invalid(format!("cannot build a URI: {e}")))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)
    }
}

/// A typed error unless [`oss_sign::is_valid_bucket_name`].
fn validate_bucket(bucket: &str) -> Result<(), Error> {
    if oss_sign::is_valid_bucket_name(bucket) {
        Ok(())
    } else {
        Err(Error::invalid(format!("invalid bucket name {bucket:?}")))
    }
}

/// `name=value` pairs joined by `&`, each part percent-encoded; an empty value gives `name`.
pub(crate) fn encode_query(query: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in query.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(name, false));
        if !value.is_empty() {
            out.push('=');
            out.push_str(&percent_encode(value, false));
        }
    }
    out
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

    #[test]
    fn query_encoding_matches_the_signature_rule() {
        assert_eq!(
            encode_query(&q(&[
                ("+param1", "value3"),
                ("|param2", ""),
                ("param1", "a b+c~")
            ])),
            "%2Bparam1=value3&%7Cparam2&param1=a%20b%2Bc~"
        );
    }

    proptest::proptest! {
        #[test]
        fn query_round_trips_through_the_signers_decoder(
            pairs in proptest::collection::vec(("[a-zA-Z0-9+|/ %&=?~._-]{1,12}", "[ -~]{0,12}"), 0..6)
        ) {
            let pairs: Vec<(String, String)> = pairs;
            let uri = Endpoint::region("cn-hangzhou").unwrap().uri(Some("bucket"), Some("k"), &pairs).unwrap();
            let decoded = oss_sign::decode_query(uri.query().unwrap_or(""));
            proptest::prop_assert_eq!(decoded, pairs);
        }

        #[test]
        fn any_key_gives_a_valid_uri_whose_path_is_the_encoded_key(key in "\\PC{0,40}") {
            let e = Endpoint::custom("http://127.0.0.1:1").unwrap().with_addressing(Addressing::PathStyle);
            let uri = e.uri(Some("bucket"), Some(&key), &[]).unwrap();
            proptest::prop_assert_eq!(uri.path(), format!("/bucket/{}", percent_encode(&key, true)));
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Endpoint::region("").is_err());
        assert!(Endpoint::region("cn hangzhou").is_err());
        assert!(Endpoint::custom("ftp://x").is_err());
        assert!(Endpoint::custom("http://host/path").is_err());
        assert!(Endpoint::custom("http://user@host").is_err());
        let e = Endpoint::region("cn-hangzhou").unwrap();
        assert!(e.uri(None, Some("k"), &[]).is_err());
        assert!(e.uri(Some("Bad.Bucket"), None, &[]).is_err());
        assert!(e.uri(Some("evil.com/x"), None, &[]).is_err());
    }
}
