//! Alibaba Cloud credentials for oss-rs, found where the official SDKs look for them.
//!
//! - [`DefaultChain`]: environment ([`EnvProvider`]: `OSS_*`, then `ALIBABA_CLOUD_*`), the
//!   aliyun CLI's `~/.aliyun/config.json` ([`CliProfileProvider`]), the INI credentials file
//!   `~/.alibabacloud/credentials` ([`ProfileFileProvider`]), with slots for the network links
//!   (OIDC/RRSA, ECS metadata, credentials URI) in [`NetworkLinks`]. The first link that
//!   succeeds is pinned; when all fail, one error lists every link.
//! - [`CachedProvider`]: refresh-ahead (15 minutes, or half the lifetime), single-flight,
//!   keeps serving still-valid credentials when a refresh fails, never serves expired ones.
//! - [`Context`]: environment, files, clock and HTTP are injected, so tests use
//!   [`StaticEnv`], [`MemFiles`] and [`ManualClock`] and never touch the real `HOME`.
//!
//! The provider trait and the credential types live in `oss-sign`
//! ([`oss_sign::ProvideCredentials`]), which does no I/O; this crate is the I/O above it.
//!
//! # Example
//!
//! Credentials from an INI profile under a test home directory, then a cached provider for a
//! client, as `oss_upload::Client::from_env` does with the real environment:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oss_credentials::{Context, CredentialSource, DefaultChain, MemFiles, StaticEnv};
//! let ctx = Context::new()
//!     .with_env(
//!         StaticEnv::new()
//!             .with_var("HOME", "/home/u")
//!             .with_var("OSS_REGION", "cn-hangzhou")
//!             .with_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
//!     )
//!     .with_files(MemFiles::new().with_file(
//!         "/home/u/.alibabacloud/credentials",
//!         "[default]\ntype = access_key\naccess_key_id = AKID\naccess_key_secret = SECRET\n",
//!     ));
//! let config = DefaultChain::new(ctx).resolve_config().await?;
//! assert_eq!(config.region.as_deref(), Some("cn-hangzhou"));
//! assert!(matches!(config.source, CredentialSource::IniFile { .. }));
//! let creds = config.provider.provide().await?;
//! assert_eq!(creds.access_key_id(), "AKID");
//! # Ok(())
//! # }
//! ```
//!
//! # Secrets
//!
//! Errors name variables, files, profiles and line numbers, never a value read from them;
//! JSON parse errors keep only the position because the parser's text can quote a value.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod cache;
mod chain;
mod cli_profile;
mod context;
mod env;
mod error;
mod http;
mod imds;
mod ini;
mod net;
mod network;
mod profile;
pub mod rpc;
mod source;
mod sts;
mod uri;

pub use cache::{CachedProvider, REFRESH_AHEAD};
pub use chain::{
    from_env, DefaultChain, DefaultChainBuilder, ResolvedConfig, ECS_METADATA_DISABLED_VAR,
};
pub use cli_profile::{CliProfileProvider, CLI_PROFILE_DISABLED_VAR, CONFIG_FILE_VAR};
pub use context::{
    BoxFuture, Clock, Context, Env, FileRead, HttpFetch, ManualClock, MemFiles, NoHttp, OsEnv,
    OsFiles, StaticEnv, SystemClock,
};
pub use env::EnvProvider;
pub use error::{Attempt, AttemptOutcome, Error};
pub use http::{extra_roots_from_env, read_ca_file, FetchTimeout, HyperHttp, CA_FILE_VAR};
pub use imds::{
    EcsRamRoleProvider, ECS_METADATA_VAR, IMDSV1_DISABLED_VAR, IMDS_DEFAULT_ENDPOINT,
    IMDS_ENDPOINT_VAR,
};
pub use network::NetworkLinks;
pub use oss_sign::{Credentials, ProvideCredentials, StaticCredentialsProvider};
pub use profile::{ProfileFileProvider, CREDENTIALS_FILE_VAR, PROFILE_VAR};
pub use source::{CredentialSource, LoadCredentials, Sourced};
pub use sts::{
    assume_role_for_prefix, prefix_upload_policy, AssumeRoleProvider, OidcProvider, StsEndpoint,
    OIDC_PROVIDER_ARN_VAR, OIDC_TOKEN_FILE_VAR, ROLE_ARN_VAR, ROLE_SESSION_NAME_VAR,
    STS_ENDPOINT_VAR, STS_REGION_VAR, VPC_ENDPOINT_ENABLED_VAR,
};
pub use uri::{CredentialsUriProvider, CREDENTIALS_URI_VAR};
