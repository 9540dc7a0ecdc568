//! The one error type of `oss-presign`.

/// Why a URL could not be presigned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint is not `host[:port]`, optionally after `http://` or `https://`.
    #[error("{0}")]
    InvalidEndpoint(oss_types::Error),
    /// The region is not an [`oss_types::Region`] (`oss-cn-hangzhou` gets a did-you-mean).
    #[error("{0}")]
    InvalidRegion(oss_types::Error),
    /// A bucket name OSS would refuse (not an [`oss_types::BucketName`]).
    #[error("{0}")]
    InvalidBucket(oss_types::Error),
    /// An empty object key.
    #[error("the object key is empty")]
    EmptyKey,
    /// A callback was attached to an operation that cannot carry one (only PutObject and
    /// CompleteMultipartUpload can).
    #[error("{operation} cannot carry an upload callback")]
    CallbackNotSupported {
        /// The operation's name.
        operation: &'static str,
    },
    /// A header name or value is not valid HTTP.
    #[error("invalid header `{name}`")]
    InvalidHeader {
        /// The header name as given.
        name: String,
    },
    /// The builder was given no credentials.
    #[error("no credentials: call with_credentials or with_credentials_provider")]
    MissingCredentials,
    /// [`Presigner::from_env`](crate::Presigner::from_env) found no region: set `OSS_REGION`
    /// or a `region_id` in the aliyun CLI profile.
    #[error("no region: set OSS_REGION or the profile's region_id")]
    MissingRegion,
    /// The credentials provider failed.
    #[error("could not load credentials")]
    Credentials(#[source] oss_sign::Error),
    /// Signing failed (expiry outside 1..=604800 s, a time out of range, ...).
    #[error("could not sign the URL")]
    Sign(#[source] oss_sign::Error),
    /// The callback could not be encoded.
    #[error("could not encode the callback")]
    Callback(#[source] oss_callback::Error),
    /// The URL built from endpoint, bucket, key and query is not a valid URI.
    #[error("the presigned URL is not a valid URI")]
    InvalidUri(#[source] http::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }
}
