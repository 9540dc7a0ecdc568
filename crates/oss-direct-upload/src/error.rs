//! The crate's one error type: what can go wrong while building the kit or issuing a token.

/// Errors from [`DirectUploadBuilder::build`](crate::DirectUploadBuilder::build) and from
/// issuing a token. Request-level refusals (a rejected user, a forged callback) are not errors:
/// they are answered with a status and JSON by the service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required setting was not given.
    #[error("the direct-upload kit needs `{name}`")]
    Missing {
        /// The builder method that sets it.
        name: &'static str,
    },
    /// A setting has a value the kit cannot use.
    #[error("invalid `{name}`: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The authorization hook returned a grant that cannot be turned into a safe policy.
    #[error("invalid upload grant: {reason}")]
    InvalidGrant {
        /// Why it was refused.
        reason: String,
    },
    /// The OSS client behind the token could not be built.
    #[error("could not configure the OSS client")]
    Client(#[source] oss_upload::Error),
    /// The POST policy could not be signed (credentials unavailable, bad policy).
    #[error("could not sign the upload policy")]
    Sign(#[source] oss_upload::Error),
    /// The callback or its variables were refused by `oss-callback`'s validation.
    #[error("could not build the upload callback")]
    Callback(#[source] oss_callback::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}
