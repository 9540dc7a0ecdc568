//! The credential provider seam: [`ProvideCredentials`], and the one provider with no I/O.
//!
//! Providers that read the environment, files or the network live in the `oss-credentials`
//! crate, above this one, so that `oss-sign` never does I/O.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{Credentials, Error};

/// The future a [`ProvideCredentials`] returns: boxed so that the trait stays object-safe
/// (`Arc<dyn ProvideCredentials>`) without an async-trait macro.
pub type ProvideFuture<'a> = Pin<Box<dyn Future<Output = Result<Credentials, Error>> + Send + 'a>>;

/// A source of [`Credentials`], asked before each signing (every attempt, every presign).
///
/// The trait is object-safe: store providers as `Arc<dyn ProvideCredentials>`. A provider
/// whose credentials expire sets [`Credentials::expiration`]; a caching layer (in
/// `oss-credentials`) uses it to refresh ahead of time.
///
/// ```
/// use oss_sign::{Credentials, ProvideCredentials, ProvideFuture};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl ProvideCredentials for Fixed {
///     fn provide(&self) -> ProvideFuture<'_> {
///         Box::pin(async { Ok(Credentials::new("ak", "sk")) })
///     }
/// }
///
/// let provider: std::sync::Arc<dyn ProvideCredentials> = std::sync::Arc::new(Fixed);
/// # let _ = provider;
/// ```
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Returns the credentials to sign with now.
    ///
    /// # Errors
    ///
    /// [`Error::CredentialsProvider`] carrying the provider's own error when it has no usable
    /// credentials.
    fn provide(&self) -> ProvideFuture<'_>;

    /// Tells a caching provider that the service rejected the credentials whose key id is
    /// `access_key_id` (an expired or revoked STS token), so that the next
    /// [`provide`](Self::provide) fetches fresh ones instead of serving the cached copy.
    /// Returns whether cached credentials were dropped, that is whether asking again can
    /// give different ones. Credentials with another key id (already replaced) are kept.
    ///
    /// The default does nothing and returns `false`: a provider without a cache already
    /// fetches on every call.
    fn invalidate(&self, access_key_id: &str) -> bool {
        let _ = access_key_id;
        false
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide(&self) -> ProvideFuture<'_> {
        (**self).provide()
    }

    fn invalidate(&self, access_key_id: &str) -> bool {
        (**self).invalidate(access_key_id)
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Box<T> {
    fn provide(&self) -> ProvideFuture<'_> {
        (**self).provide()
    }

    fn invalidate(&self, access_key_id: &str) -> bool {
        (**self).invalidate(access_key_id)
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

    /// The credentials this provider returns.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

impl ProvideCredentials for StaticCredentialsProvider {
    fn provide(&self) -> ProvideFuture<'_> {
        let credentials = self.credentials.clone();
        Box::pin(async move { Ok(credentials) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll, Waker};

    /// Polls a future that never waits (the static provider) without an async runtime.
    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the static provider never waits"),
        }
    }

    #[test]
    fn static_provider_returns_clone_through_dyn() {
        let c = Credentials::new("a", "b");
        let p: Arc<dyn ProvideCredentials> = Arc::new(StaticCredentialsProvider::new(c.clone()));
        assert_eq!(ready(p.provide()).expect("static"), c);
        assert!(!p.invalidate("a"), "nothing cached, nothing dropped");
        assert_eq!(
            format!("{p:?}"),
            r#"StaticCredentialsProvider { credentials: Credentials { access_key_id: "a", access_key_secret: ***, security_token: None } }"#
        );
    }
}
