//! The network links of the default chain, as slots: OIDC/RRSA, ECS metadata (IMDS) and the
//! credentials URI. This version fills none of them; a later one plugs its providers in here.

use std::fmt;
use std::sync::Arc;

use crate::LoadCredentials;

/// Providers for the chain's network links. Each slot left empty makes its link report
/// "configured, but this build has no provider for it" when the link is enabled, so nothing
/// ever contacts `100.100.100.200` or an STS endpoint.
///
/// ```
/// use oss_credentials::NetworkLinks;
/// let links = NetworkLinks::new();
/// assert!(links.is_empty());
/// ```
#[derive(Clone, Default)]
pub struct NetworkLinks {
    pub(crate) oidc: Option<Arc<dyn LoadCredentials>>,
    pub(crate) ecs_metadata: Option<Arc<dyn LoadCredentials>>,
    pub(crate) credentials_uri: Option<Arc<dyn LoadCredentials>>,
}

impl NetworkLinks {
    /// All slots empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// The OIDC/RRSA link (AssumeRoleWithOIDC), used when `ALIBABA_CLOUD_ROLE_ARN`,
    /// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set.
    pub fn with_oidc(mut self, provider: impl LoadCredentials + 'static) -> Self {
        self.oidc = Some(Arc::new(provider));
        self
    }

    /// The ECS RAM role link (instance metadata), used unless
    /// `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
    pub fn with_ecs_metadata(mut self, provider: impl LoadCredentials + 'static) -> Self {
        self.ecs_metadata = Some(Arc::new(provider));
        self
    }

    /// The credentials URI link, used when `ALIBABA_CLOUD_CREDENTIALS_URI` is set.
    pub fn with_credentials_uri(mut self, provider: impl LoadCredentials + 'static) -> Self {
        self.credentials_uri = Some(Arc::new(provider));
        self
    }

    /// Whether every slot is empty.
    pub fn is_empty(&self) -> bool {
        self.oidc.is_none() && self.ecs_metadata.is_none() && self.credentials_uri.is_none()
    }
}

impl fmt::Debug for NetworkLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkLinks")
            .field("oidc", &self.oidc)
            .field("ecs_metadata", &self.ecs_metadata)
            .field("credentials_uri", &self.credentials_uri)
            .finish()
    }
}
