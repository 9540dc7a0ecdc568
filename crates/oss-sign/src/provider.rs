//! Credential providers: where [`Credentials`] come from.

use std::fmt;
use std::sync::Arc;

use crate::{Credentials, Error};

/// A source of [`Credentials`], asked before each signing.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Returns the credentials to sign with now.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] when the source has none.
    fn provide_credentials(&self) -> Result<Credentials, Error>;
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide_credentials(&self) -> Result<Credentials, Error> {
        (**self).provide_credentials()
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Box<T> {
    fn provide_credentials(&self) -> Result<Credentials, Error> {
        (**self).provide_credentials()
    }
}

/// Always returns the same credentials.
#[derive(Debug, Clone)]
pub struct StaticCredentialsProvider {
    credentials: Credentials,
}

impl StaticCredentialsProvider {
    /// A provider returning `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl ProvideCredentials for StaticCredentialsProvider {
    fn provide_credentials(&self) -> Result<Credentials, Error> {
        Ok(self.credentials.clone())
    }
}

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Reads `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and (optionally) `OSS_SESSION_TOKEN`.
///
/// The variables are read on every call to [`provide_credentials`](ProvideCredentials::provide_credentials).
/// The lookup is injectable ([`EnvCredentialsProvider::with_lookup`]) so tests never touch the
/// process environment.
///
/// ```
/// use oss_sign::{EnvCredentialsProvider, ProvideCredentials};
/// let provider = EnvCredentialsProvider::with_lookup(|name| match name {
///     "OSS_ACCESS_KEY_ID" => Some("ak".to_owned()),
///     "OSS_ACCESS_KEY_SECRET" => Some("sk".to_owned()),
///     _ => None,
/// });
/// let creds = provider.provide_credentials()?;
/// assert_eq!(creds.access_key_id(), "ak");
/// assert!(creds.security_token().is_none());
/// # Ok::<(), oss_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct EnvCredentialsProvider {
    lookup: Arc<Lookup>,
}

impl EnvCredentialsProvider {
    /// Environment variable holding the access key id.
    pub const ACCESS_KEY_ID: &'static str = "OSS_ACCESS_KEY_ID";
    /// Environment variable holding the access key secret.
    pub const ACCESS_KEY_SECRET: &'static str = "OSS_ACCESS_KEY_SECRET";
    /// Environment variable holding the optional STS token.
    pub const SESSION_TOKEN: &'static str = "OSS_SESSION_TOKEN";

    /// Reads the process environment.
    pub fn new() -> Self {
        Self::with_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` instead of the process environment.
    pub fn with_lookup(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            lookup: Arc::new(lookup),
        }
    }

    fn required(&self, variable: &'static str) -> Result<String, Error> {
        match (self.lookup)(variable) {
            Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            _ => Err(Error::MissingCredentials { variable }),
        }
    }
}

impl Default for EnvCredentialsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EnvCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvCredentialsProvider")
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for EnvCredentialsProvider {
    fn provide_credentials(&self) -> Result<Credentials, Error> {
        let id = self.required(Self::ACCESS_KEY_ID)?;
        let secret = self.required(Self::ACCESS_KEY_SECRET)?;
        let mut creds = Credentials::new(id, secret);
        if let Some(token) = (self.lookup)(Self::SESSION_TOKEN) {
            creds = creds.with_security_token(token.trim());
        }
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> EnvCredentialsProvider {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        EnvCredentialsProvider::with_lookup(move |name| map.get(name).cloned())
    }

    #[test]
    fn reads_all_three_variables() {
        let p = env(&[
            ("OSS_ACCESS_KEY_ID", "id"),
            ("OSS_ACCESS_KEY_SECRET", "secret"),
            ("OSS_SESSION_TOKEN", "tok"),
        ]);
        let c = p.provide_credentials().expect("credentials");
        assert_eq!(c.access_key_id(), "id");
        assert_eq!(c.access_key_secret().expose(), "secret");
        assert_eq!(c.security_token().map(|t| t.expose()), Some("tok"));
    }

    #[test]
    fn missing_secret_is_typed_error() {
        let p = env(&[("OSS_ACCESS_KEY_ID", "id")]);
        match p.provide_credentials() {
            Err(Error::MissingCredentials { variable }) => {
                assert_eq!(variable, "OSS_ACCESS_KEY_SECRET")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_id_is_missing() {
        let p = env(&[("OSS_ACCESS_KEY_ID", " "), ("OSS_ACCESS_KEY_SECRET", "s")]);
        assert!(matches!(
            p.provide_credentials(),
            Err(Error::MissingCredentials {
                variable: "OSS_ACCESS_KEY_ID"
            })
        ));
    }

    #[test]
    fn static_provider_returns_clone() {
        let c = Credentials::new("a", "b");
        let p: Arc<dyn ProvideCredentials> = Arc::new(StaticCredentialsProvider::new(c.clone()));
        assert_eq!(p.provide_credentials().expect("static"), c);
        assert!(!format!("{p:?}").contains("\"b\""));
    }
}
