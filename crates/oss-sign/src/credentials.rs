//! Access keys: [`Secret`] and [`Credentials`].

use std::fmt;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A secret string (access key secret or STS token).
///
/// It has no `Display` and no `Deref`; read it with [`Secret::expose`]. `Debug` prints `***`,
/// and the memory is zeroed when the value is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret text. Never log or display it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// OSS credentials: access key id, access key secret, an optional STS security token and an
/// optional expiry.
///
/// `Debug` shows only the access key id (and the expiry, when set); the secret and the token
/// print as `***`.
///
/// ```
/// use oss_sign::Credentials;
/// let creds = Credentials::new("ak", "sk").with_security_token("token");
/// assert_eq!(
///     format!("{creds:?}"),
///     r#"Credentials { access_key_id: "ak", access_key_secret: ***, security_token: Some(***) }"#
/// );
/// ```
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: Secret,
    security_token: Option<Secret>,
    expiration: Option<SystemTime>,
    /// SHA-256 of the secret (domain-separated), computed once: the signing-key cache key.
    fingerprint: [u8; 32],
}

impl Credentials {
    /// Long-term (or STS) credentials from an access key id and secret.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        let access_key_secret = Secret::new(access_key_secret);
        let mut hasher = Sha256::new();
        hasher.update(b"oss-sign signing-key cache\0");
        hasher.update(access_key_secret.expose().as_bytes());
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret,
            security_token: None,
            expiration: None,
            fingerprint: hasher.finalize().into(),
        }
    }

    /// Adds an STS security token. An empty token is ignored (OSS SDKs send nothing for it).
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        let token = Secret::new(token);
        self.security_token = if token.is_empty() { None } else { Some(token) };
        self
    }

    /// When these credentials stop working (STS tokens). Default: never.
    pub fn with_expiration(mut self, expiration: SystemTime) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// When these credentials stop working, if they expire.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.expiration
    }

    /// Whether the credentials have expired at `now` (an expiry equal to `now` counts as
    /// expired, as in the OSS Go SDK V2).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expiration.is_some_and(|e| e <= now)
    }

    /// The access key id (not secret; it appears in every signed request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The access key secret.
    pub fn access_key_secret(&self) -> &Secret {
        &self.access_key_secret
    }

    /// The STS security token, if any (never empty).
    pub fn security_token(&self) -> Option<&Secret> {
        self.security_token.as_ref()
    }

    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        self.access_key_id == other.access_key_id
            && self.access_key_secret == other.access_key_secret
            && self.security_token == other.security_token
            && self.expiration == other.expiration
    }
}

impl Eq for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Credentials");
        d.field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.access_key_secret)
            .field("security_token", &self.security_token);
        if let Some(e) = self.expiration {
            d.field("expiration", &crate::format_datetime(e));
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_token_is_none() {
        let c = Credentials::new("ak", "sk").with_security_token("");
        assert!(c.security_token().is_none());
    }

    #[test]
    fn expiry_is_inclusive_and_shown_in_debug() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_702_743_657);
        let c = Credentials::new("ak", "sk")
            .with_security_token("tok")
            .with_expiration(t);
        assert!(!c.is_expired_at(t - std::time::Duration::from_secs(1)));
        assert!(c.is_expired_at(t));
        assert!(!Credentials::new("ak", "sk").is_expired_at(t));
        assert_eq!(
            format!("{c:?}"),
            r#"Credentials { access_key_id: "ak", access_key_secret: ***, security_token: Some(***), expiration: "20231216T162057Z" }"#
        );
    }

    #[test]
    fn fingerprint_depends_on_secret_only() {
        let a = Credentials::new("ak", "sk");
        let b = Credentials::new("other", "sk").with_security_token("t");
        let c = Credentials::new("ak", "sk2");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
