//! Loaded credentials together with where they came from: [`Sourced`], [`CredentialSource`],
//! and the [`LoadCredentials`] trait every provider of this crate implements.

use std::fmt;
use std::path::PathBuf;

use oss_sign::{Credentials, ProvideFuture};

use crate::context::BoxFuture;
use crate::Error;

/// Where a set of credentials came from; printed by `oss-rs credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Credentials given in code.
    Static,
    /// Environment variables; the id variable that was read (`OSS_ACCESS_KEY_ID` or
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID`).
    Environment {
        /// The access key id variable.
        variable: &'static str,
    },
    /// A profile of the INI credentials file.
    IniFile {
        /// The file.
        path: PathBuf,
        /// The section.
        profile: String,
    },
    /// A profile of the aliyun CLI's `config.json`.
    CliProfile {
        /// The file.
        path: PathBuf,
        /// The profile name.
        profile: String,
    },
    /// The ECS instance's RAM role, from the metadata service.
    EcsRamRole {
        /// The role name.
        role: String,
    },
    /// STS AssumeRole.
    AssumeRole {
        /// The role assumed.
        role_arn: String,
    },
    /// STS AssumeRoleWithOIDC (RRSA).
    Oidc {
        /// The role assumed.
        role_arn: String,
    },
    /// The credentials URI (shown without its query).
    CredentialsUri {
        /// The URL.
        url: String,
    },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Static => f.write_str("static credentials"),
            CredentialSource::Environment { variable } => {
                write!(f, "environment ({variable})")
            }
            CredentialSource::IniFile { path, profile } => {
                write!(
                    f,
                    "INI credentials file {}, profile {profile}",
                    path.display()
                )
            }
            CredentialSource::CliProfile { path, profile } => {
                write!(f, "aliyun CLI config {}, profile {profile}", path.display())
            }
            CredentialSource::EcsRamRole { role } => write!(f, "ECS RAM role {role}"),
            CredentialSource::AssumeRole { role_arn } => write!(f, "STS AssumeRole {role_arn}"),
            CredentialSource::Oidc { role_arn } => {
                write!(f, "STS AssumeRoleWithOIDC {role_arn}")
            }
            CredentialSource::CredentialsUri { url } => write!(f, "credentials URI {url}"),
        }
    }
}

/// Credentials, their source, and the region the source names (the CLI profile's
/// `region_id`), if any.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Sourced {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they came from.
    pub source: CredentialSource,
    /// The region configured next to them.
    pub region: Option<String>,
}

impl Sourced {
    /// Credentials from `source`, with no region.
    pub fn new(credentials: Credentials, source: CredentialSource) -> Self {
        Self {
            credentials,
            source,
            region: None,
        }
    }

    /// Sets the region.
    pub fn with_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }
}

/// What every provider of this crate implements: load credentials and say where they came
/// from. Object-safe; [`oss_sign::ProvideCredentials`] is implemented on top of it.
pub trait LoadCredentials: Send + Sync + fmt::Debug {
    /// Loads the credentials now (no caching at this level).
    ///
    /// # Errors
    /// The provider's [`Error`], naming the variable or file at fault.
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>>;
}

/// `ProvideCredentials::provide` for a [`LoadCredentials`].
pub(crate) fn provide_via_load<L: LoadCredentials + ?Sized>(loader: &L) -> ProvideFuture<'_> {
    Box::pin(async move {
        loader
            .load()
            .await
            .map(|s| s.credentials)
            .map_err(oss_sign::Error::from)
    })
}

/// Implements [`oss_sign::ProvideCredentials`] for a [`LoadCredentials`] type.
macro_rules! provide_by_loading {
    ($ty:ty) => {
        impl oss_sign::ProvideCredentials for $ty {
            fn provide(&self) -> oss_sign::ProvideFuture<'_> {
                $crate::source::provide_via_load(self)
            }
        }
    };
}
pub(crate) use provide_by_loading;
