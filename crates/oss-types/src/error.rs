//! The crate's one error type: a value that breaks one of OSS's rules.

/// A value that is not valid OSS vocabulary. Each variant names the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a region id (`cn-hangzhou`): 1 to 64 characters of `a-z`, `0-9` and `-`, without the
    /// `oss-` prefix of endpoint hosts.
    #[error("invalid region {region:?}: {reason}{}", .suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    InvalidRegion {
        /// The rejected text (at most 64 characters of it).
        region: String,
        /// What is wrong.
        reason: &'static str,
        /// The region id that was probably meant.
        suggestion: Option<String>,
    },

    /// Not a bucket name: 3 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending
    /// with `-`.
    #[error("invalid bucket name {name:?}: {reason}")]
    InvalidBucketName {
        /// The rejected text (at most 64 characters of it).
        name: String,
        /// What is wrong.
        reason: &'static str,
    },

    /// Not a part number (1 to 10 000).
    #[error("invalid part number {value}: OSS numbers parts 1 to 10000")]
    InvalidPartNumber {
        /// The rejected value.
        value: u64,
    },

    /// Not an endpoint: `host[:port]`, optionally after `http://` or `https://`.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The rejected text.
        endpoint: String,
        /// What is wrong.
        reason: &'static str,
    },

    /// The URI of a request cannot be built (a key without a bucket, a bad bucket host).
    #[error("cannot build the request URI: {reason}")]
    InvalidUri {
        /// What is wrong.
        reason: String,
    },
}

/// At most 64 characters of a rejected value, so an error never carries a huge input.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
