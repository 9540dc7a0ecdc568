//! The default chain, in the order of the official credentials libraries (spec §1.1):
//! environment, OIDC/RRSA, aliyun CLI profile, INI credentials file, ECS metadata,
//! credentials URI.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use oss_sign::{Credentials, ProvideCredentials};

use crate::cli_profile::CLI_PROFILE_DISABLED_VAR;
use crate::context::BoxFuture;
use crate::source::provide_by_loading;
use crate::{
    Attempt, AttemptOutcome, CachedProvider, CliProfileProvider, Context, CredentialSource,
    CredentialsUriProvider, EcsRamRoleProvider, EnvProvider, Error, LoadCredentials, NetworkLinks,
    OidcProvider, ProfileFileProvider, Sourced,
};

/// `true` removes the ECS metadata link.
pub const ECS_METADATA_DISABLED_VAR: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
const OIDC_VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];
const CREDENTIALS_URI_VAR: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// Whether a link takes part: `Err` holds the reason it is skipped.
type Enabled = fn(&Context) -> Result<(), &'static str>;

struct Link {
    name: &'static str,
    enabled: Enabled,
    loader: Option<Arc<dyn LoadCredentials>>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("name", &self.name)
            .field("filled", &self.loader.is_some())
            .finish()
    }
}

/// The default credentials chain.
///
/// Each call tries the links in order until one yields credentials; that link is then pinned
/// and asked alone from then on (its errors are returned as they are, with no fall-through),
/// as credentials-python/java do by default. Before a link has succeeded, a failing link is
/// recorded and the next one tried; when all fail, [`Error::NoCredentials`] lists every link
/// with its error or the setting that skipped it.
///
/// | # | link | enabled when |
/// |---|---|---|
/// | 1 | `environment` ([`EnvProvider`]) | always |
/// | 2 | `oidc` (slot in [`NetworkLinks`]) | `ALIBABA_CLOUD_ROLE_ARN`, `_OIDC_PROVIDER_ARN`, `_OIDC_TOKEN_FILE` all set |
/// | 3 | `cli-profile` ([`CliProfileProvider`]) | not `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` |
/// | 4 | `ini-file` ([`ProfileFileProvider`]) | always |
/// | 5 | `ecs-metadata` (slot) | not `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` |
/// | 6 | `credentials-uri` (slot) | `ALIBABA_CLOUD_CREDENTIALS_URI` set |
///
/// The chain itself does not cache; [`DefaultChain::resolve_config`] wraps it in a
/// [`CachedProvider`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oss_credentials::Error> {
/// use oss_credentials::{Context, DefaultChain, MemFiles, StaticEnv};
/// let ctx = Context::new()
///     .with_env(StaticEnv::new().with_var("HOME", "/home/u"))
///     .with_files(MemFiles::new().with_file(
///         "/home/u/.alibabacloud/credentials",
///         "[p]\ntype = access_key\naccess_key_id = AKID\naccess_key_secret = SECRET\n",
///     ));
/// let chain = DefaultChain::builder().with_context(ctx).with_profile("p").build();
/// let loaded = chain.resolve().await?;
/// assert_eq!(loaded.credentials.access_key_id(), "AKID");
/// assert_eq!(chain.pinned_link(), Some("ini-file"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DefaultChain {
    ctx: Context,
    links: Vec<Link>,
    pinned: OnceLock<usize>,
}

/// Settings for a [`DefaultChain`].
#[derive(Debug, Default)]
#[must_use = "call .build()"]
pub struct DefaultChainBuilder {
    ctx: Option<Context>,
    profile: Option<String>,
    credentials_file: Option<PathBuf>,
    network: NetworkLinks,
}

impl DefaultChainBuilder {
    /// The outside world. Default: [`Context::new`] (process environment, real files).
    pub fn with_context(mut self, ctx: Context) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// The profile for the CLI config and the INI file, overriding `ALIBABA_CLOUD_PROFILE`
    /// (the CLI's `--profile`). Default: none.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The INI credentials file, overriding `ALIBABA_CLOUD_CREDENTIALS_FILE` (the CLI's
    /// `--credentials-file`). Default: none.
    pub fn with_credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    /// Providers for the network links. A slot left empty gets this crate's provider
    /// ([`OidcProvider`], [`EcsRamRoleProvider`], [`CredentialsUriProvider`]) over the
    /// chain's context. Default: [`NetworkLinks::new`] (all empty, so all defaults).
    pub fn with_network_links(mut self, links: NetworkLinks) -> Self {
        self.network = links;
        self
    }

    /// Builds the chain. Nothing is read yet.
    pub fn build(self) -> DefaultChain {
        let ctx = self.ctx.unwrap_or_default();
        let mut cli = CliProfileProvider::new(ctx.clone());
        let mut ini = ProfileFileProvider::new(ctx.clone());
        if let Some(p) = &self.profile {
            cli = cli.with_profile(p.clone());
            ini = ini.with_profile(p.clone());
        }
        if let Some(path) = self.credentials_file {
            ini = ini.with_path(path);
        }
        let oidc = self
            .network
            .oidc
            .unwrap_or_else(|| Arc::new(OidcProvider::new(ctx.clone())));
        let ecs_metadata = self
            .network
            .ecs_metadata
            .unwrap_or_else(|| Arc::new(EcsRamRoleProvider::new(ctx.clone())));
        let credentials_uri = self
            .network
            .credentials_uri
            .unwrap_or_else(|| Arc::new(CredentialsUriProvider::new(ctx.clone())));
        let links = vec![
            Link {
                name: "environment",
                enabled: |_| Ok(()),
                loader: Some(Arc::new(EnvProvider::new(ctx.clone()))),
            },
            Link {
                name: "oidc",
                enabled: |ctx| {
                    if OIDC_VARS.iter().all(|v| ctx.non_empty(v).is_some()) {
                        Ok(())
                    } else {
                        Err(
                            "ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and \
                             ALIBABA_CLOUD_OIDC_TOKEN_FILE are not all set",
                        )
                    }
                },
                loader: Some(oidc),
            },
            Link {
                name: "cli-profile",
                enabled: |ctx| {
                    if ctx.is_true(CLI_PROFILE_DISABLED_VAR) {
                        Err("ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true")
                    } else {
                        Ok(())
                    }
                },
                loader: Some(Arc::new(cli)),
            },
            Link {
                name: "ini-file",
                enabled: |_| Ok(()),
                loader: Some(Arc::new(ini)),
            },
            Link {
                name: "ecs-metadata",
                enabled: |ctx| {
                    if ctx.is_true(ECS_METADATA_DISABLED_VAR) {
                        Err("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
                    } else {
                        Ok(())
                    }
                },
                loader: Some(ecs_metadata),
            },
            Link {
                name: "credentials-uri",
                enabled: |ctx| match ctx.non_empty(CREDENTIALS_URI_VAR) {
                    Some(_) => Ok(()),
                    None => Err("ALIBABA_CLOUD_CREDENTIALS_URI is unset"),
                },
                loader: Some(credentials_uri),
            },
        ];
        DefaultChain {
            ctx,
            links,
            pinned: OnceLock::new(),
        }
    }
}

/// What [`DefaultChain::resolve_config`] found: a cached provider for clients, the first
/// credentials and their source, and the region and endpoint to use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResolvedConfig {
    /// The chain behind a [`CachedProvider`], seeded with [`credentials`](Self::credentials).
    pub provider: Arc<dyn ProvideCredentials>,
    /// The credentials found now.
    pub credentials: Credentials,
    /// Where they came from.
    pub source: CredentialSource,
    /// `OSS_REGION`, else the profile's region.
    pub region: Option<String>,
    /// `OSS_ENDPOINT`, if set.
    pub endpoint: Option<String>,
}

impl DefaultChain {
    /// Settings for a chain.
    pub fn builder() -> DefaultChainBuilder {
        DefaultChainBuilder::default()
    }

    /// The chain over `ctx`, with no profile or file overrides and empty network links.
    pub fn new(ctx: Context) -> Self {
        Self::builder().with_context(ctx).build()
    }

    /// The link names in order.
    pub fn link_names(&self) -> Vec<&'static str> {
        self.links.iter().map(|l| l.name).collect()
    }

    /// The link that supplied credentials first, once one has.
    pub fn pinned_link(&self) -> Option<&'static str> {
        self.pinned.get().map(|i| self.links[*i].name)
    }

    /// Loads credentials through the chain (see the type's docs for the rules).
    ///
    /// # Errors
    /// The pinned link's error once a link has succeeded; before that,
    /// [`Error::NoCredentials`] listing every link.
    pub async fn resolve(&self) -> Result<Sourced, Error> {
        if let Some(&i) = self.pinned.get() {
            let link = &self.links[i];
            return match &link.loader {
                Some(l) => l.load().await,
                None => Err(Error::LinkUnavailable { link: link.name }),
            };
        }
        let mut attempts = Vec::with_capacity(self.links.len());
        for (i, link) in self.links.iter().enumerate() {
            if let Err(why) = (link.enabled)(&self.ctx) {
                attempts.push(Attempt {
                    link: link.name,
                    outcome: AttemptOutcome::Skipped(why),
                });
                continue;
            }
            let result = match &link.loader {
                Some(l) => l.load().await,
                None => Err(Error::LinkUnavailable { link: link.name }),
            };
            match result {
                Ok(sourced) => {
                    let _ = self.pinned.set(i);
                    tracing::debug!(link = link.name, source = %sourced.source, "credentials found");
                    return Ok(sourced);
                }
                Err(e) => {
                    tracing::debug!(link = link.name, error = %e, "credentials link failed");
                    attempts.push(Attempt {
                        link: link.name,
                        outcome: AttemptOutcome::Failed(Box::new(e)),
                    });
                }
            }
        }
        Err(Error::NoCredentials { attempts })
    }

    /// Resolves once, then returns a cached provider over this chain together with what was
    /// found, the region (`OSS_REGION`, else the profile's `region_id`) and the endpoint
    /// (`OSS_ENDPOINT`).
    ///
    /// # Errors
    /// As [`resolve`](Self::resolve).
    pub async fn resolve_config(self) -> Result<ResolvedConfig, Error> {
        let sourced = self.resolve().await?;
        let region = self.ctx.non_empty("OSS_REGION").or(sourced.region);
        let endpoint = self.ctx.non_empty("OSS_ENDPOINT");
        let clock = self.ctx.clock();
        let provider = CachedProvider::new(self)
            .with_clock(clock)
            .with_initial(sourced.credentials.clone());
        Ok(ResolvedConfig {
            provider: Arc::new(provider),
            credentials: sourced.credentials,
            source: sourced.source,
            region,
            endpoint,
        })
    }
}

impl LoadCredentials for DefaultChain {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.resolve())
    }
}

provide_by_loading!(DefaultChain);

/// [`DefaultChain::resolve_config`] over the process environment, the real files and a real
/// HTTP client ([`Context::with_default_http`]).
///
/// # Errors
/// [`Error::NoCredentials`] when no link yields credentials; [`Error::BadCaFile`] or
/// [`Error::ReadFile`] when `OSS_RS_CA_FILE` names an unusable file.
pub async fn from_env() -> Result<ResolvedConfig, Error> {
    let ctx = Context::new().with_default_http()?;
    DefaultChain::new(ctx).resolve_config().await
}
