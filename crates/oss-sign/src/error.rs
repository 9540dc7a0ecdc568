//! The crate's one error type.

/// Everything that can go wrong while signing, presigning or parsing signatures.
///
/// Variants carry the context needed to act on them, never a secret or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A presign expiry outside `1..=604800` seconds (OSS rejects longer or empty lifetimes).
    #[error("presign expiry must be between 1 and 604800 seconds, got {seconds} s")]
    InvalidExpiry {
        /// The requested expiry, in whole seconds.
        seconds: u64,
    },

    /// [`SigningParams`](crate::SigningParams) were built without a signing time.
    #[error("signing parameters need a signing time (the signer never reads the clock)")]
    MissingSigningTime,

    /// The region (or CloudBox id) is not an [`oss_types::Region`]; the error names the rule
    /// and, for `oss-cn-hangzhou`, suggests `cn-hangzhou`.
    #[error("{0}")]
    InvalidRegion(oss_types::Error),

    /// Signing parameters that do not fit together (for example an object key without a bucket).
    #[error("invalid signing parameters: {reason}")]
    InvalidParams {
        /// What is wrong.
        reason: &'static str,
    },

    /// A header value that cannot be signed or sent: not visible ASCII / UTF-8, or containing
    /// control characters. The value itself is not repeated here because it may be secret.
    #[error("invalid value for header `{name}`")]
    InvalidHeaderValue {
        /// The header name.
        name: String,
    },

    /// The signing time lies before 1970 or after the year 9999.
    #[error("signing time is outside the supported range (1970..=9999)")]
    TimeOutOfRange,

    /// A timestamp that is not `yyyyMMdd'T'HHmmss'Z'` (or, for HTTP dates, not RFC 1123).
    #[error("invalid timestamp {value:?}: expected {expected}")]
    InvalidDateTime {
        /// The rejected text.
        value: String,
        /// The expected format.
        expected: &'static str,
    },

    /// A scope that is not `<yyyyMMdd>/<region>/<product>/aliyun_v4_request`.
    #[error("invalid signing scope {value:?}: {reason}")]
    InvalidScope {
        /// The rejected scope text.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },

    /// An `Authorization` header that is not a well-formed OSS V4 authorization.
    #[error("malformed OSS V4 Authorization header: {reason}")]
    MalformedAuthorization {
        /// What is wrong.
        reason: &'static str,
    },

    /// A presigned URL query lacking a required `x-oss-*` parameter.
    #[error("presigned URL lacks the `{name}` query parameter")]
    MissingQueryParameter {
        /// The missing parameter.
        name: &'static str,
    },

    /// A presigned URL query parameter with an unusable value.
    #[error("invalid value for query parameter `{name}`: {reason}")]
    InvalidQueryParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },

    /// The request URI cannot be turned into a presigned URI.
    #[error("cannot build the presigned URI: {reason}")]
    InvalidUri {
        /// What is wrong.
        reason: &'static str,
    },

    /// A credentials provider could not supply credentials. The source is the provider's own
    /// error (for the providers in `oss-credentials`, an `oss_credentials::Error`, which names
    /// the variable, file or link that failed); it never contains a secret.
    #[error("the credentials provider failed")]
    CredentialsProvider {
        /// The provider's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}
