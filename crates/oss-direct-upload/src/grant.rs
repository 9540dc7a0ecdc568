//! What the authorization hook grants one user: where they may write, how much, what, for how
//! long, and the values the server vouches for.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Error;

/// Default largest upload a grant allows: 100 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 100 * 1024 * 1024;

/// Default validity of a token's policy: 10 minutes.
pub const DEFAULT_TOKEN_VALIDITY: Duration = Duration::from_secs(600);

/// Largest object a PostObject may upload (5 GiB).
const MAX_POST_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Longest token validity the kit signs (7 days, like presigned URLs).
const MAX_TOKEN_VALIDITY: Duration = Duration::from_secs(604_800);

/// The constraints an [`Authorize`](crate::Authorize) hook returns for an authenticated user.
/// Every constraint becomes a policy condition that OSS enforces; trusted values are also
/// written as constants into the callback body, where the browser cannot change them.
///
/// ```
/// use std::time::Duration;
/// use oss_direct_upload::UploadGrant;
/// let grant = UploadGrant::new("users/alice/")
///     .with_max_size(10 << 20)
///     .with_content_types(["image/png", "image/jpeg"])
///     .with_expires_in(Duration::from_secs(300))
///     .with_trusted("user", "alice");
/// assert_eq!(grant.key_prefix(), "users/alice/");
/// assert_eq!(grant.trusted()["user"], "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    key_prefix: String,
    max_size: u64,
    content_types: Vec<String>,
    expires_in: Duration,
    trusted: BTreeMap<String, String>,
}

impl UploadGrant {
    /// A grant to upload under `key_prefix` (policy `["starts-with","$key",prefix]`). The prefix
    /// must be non-empty: an empty one would let the browser write anywhere in the bucket.
    pub fn new(key_prefix: impl Into<String>) -> Self {
        Self {
            key_prefix: key_prefix.into(),
            max_size: DEFAULT_MAX_SIZE,
            content_types: Vec::new(),
            expires_in: DEFAULT_TOKEN_VALIDITY,
            trusted: BTreeMap::new(),
        }
    }

    /// Largest file, in bytes (policy `content-length-range`). Default [`DEFAULT_MAX_SIZE`].
    pub fn with_max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Allowed content types (policy `["in","$content-type",[..]]`); the page must send a
    /// `Content-Type` form field. Default: any type (no condition).
    pub fn with_content_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.content_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// How long the signed policy is valid. Default [`DEFAULT_TOKEN_VALIDITY`]; at most 7 days.
    pub fn with_expires_in(mut self, validity: Duration) -> Self {
        self.expires_in = validity;
        self
    }

    /// A value the server vouches for (a user id, a tenant): written as a constant into the
    /// callback body and sent as form field `x:<name>` pinned by `["eq","$x:<name>",value]`.
    /// `name` is lower-case, without the `x:` prefix.
    pub fn with_trusted(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.trusted.insert(name.into(), value.into());
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The largest file, in bytes.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The allowed content types (empty: any).
    pub fn content_types(&self) -> &[String] {
        &self.content_types
    }

    /// The policy's validity.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The trusted values, by name (without `x:`).
    pub fn trusted(&self) -> &BTreeMap<String, String> {
        &self.trusted
    }

    /// Refuses grants that would make an unsafe or unsignable policy.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let bad = |reason: String| Err(Error::InvalidGrant { reason });
        if self.key_prefix.is_empty() {
            return bad("the key prefix is empty (the browser could write any key)".into());
        }
        if self.key_prefix.contains("${") {
            return bad("the key prefix contains `${`".into());
        }
        if self.max_size > MAX_POST_OBJECT_SIZE {
            return bad(format!(
                "max size {} is above PostObject's 5 GiB",
                self.max_size
            ));
        }
        if self.expires_in.is_zero() || self.expires_in > MAX_TOKEN_VALIDITY {
            return bad("the validity must be between 1 second and 7 days".into());
        }
        for name in self.trusted.keys() {
            if oss_callback::CallbackVarKey::parse(format!("x:{name}")).is_err() {
                return bad(format!(
                    "trusted value name {name:?} is not a lower-case callback variable name"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_grants_are_refused() {
        assert!(UploadGrant::new("").check().is_err());
        assert!(UploadGrant::new("a/${x}").check().is_err());
        assert!(UploadGrant::new("a/")
            .with_max_size(6 << 30)
            .check()
            .is_err());
        assert!(UploadGrant::new("a/")
            .with_expires_in(Duration::ZERO)
            .check()
            .is_err());
        assert!(UploadGrant::new("a/")
            .with_trusted("User", "x")
            .check()
            .is_err());
        UploadGrant::new("a/")
            .with_trusted("user", "x")
            .check()
            .unwrap();
    }
}
