//! The aliyun CLI link: a profile of `~/.aliyun/config.json`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use oss_sign::{Credentials, ProvideCredentials, StaticCredentialsProvider};
use serde::Deserialize;

use crate::context::BoxFuture;
use crate::profile::PROFILE_VAR;
use crate::source::provide_by_loading;
use crate::{
    AssumeRoleProvider, Context, CredentialSource, EcsRamRoleProvider, Error, LoadCredentials,
    OidcProvider, Sourced, StsEndpoint,
};

const SOURCE: &str = "aliyun CLI config";

/// `true` removes this link from the default chain.
pub const CLI_PROFILE_DISABLED_VAR: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// Names the config file instead of `~/.aliyun/config.json` (read by credentials-go).
pub const CONFIG_FILE_VAR: &str = "ALIBABA_CLOUD_CONFIG_FILE";

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    #[serde(default)]
    sts_token: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
    /// Unix seconds, written by the CLI for STS profiles.
    #[serde(default)]
    sts_expiration: Option<u64>,
    #[serde(default)]
    ram_role_arn: Option<String>,
    #[serde(default)]
    ram_session_name: Option<String>,
    #[serde(default)]
    ram_role_name: Option<String>,
    #[serde(default)]
    expired_seconds: Option<u32>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    source_profile: Option<String>,
    #[serde(default)]
    sts_region: Option<String>,
    #[serde(default)]
    sts_endpoint: Option<String>,
    #[serde(default)]
    enable_vpc: Option<bool>,
    #[serde(default)]
    oidc_provider_arn: Option<String>,
    #[serde(default)]
    oidc_token_file: Option<String>,
}

/// Reads a profile of the aliyun CLI's `config.json` (written by `aliyun configure`).
///
/// The file is [`with_path`](Self::with_path), else `ALIBABA_CLOUD_CONFIG_FILE`, else
/// `~/.aliyun/config.json`. The profile is [`with_profile`](Self::with_profile), else
/// `ALIBABA_CLOUD_PROFILE`, else the file's `current`. Modes: `AK`, `StsToken` (with
/// `sts_expiration` as the expiry), `RamRoleArn` and `ChainableRamRoleArn` (STS AssumeRole
/// from the profile's key or from `source_profile`, followed up to 8 hops), `EcsRamRole`
/// (`ram_role_name` optional) and `OIDC`. The profile's `region_id` is returned as [`Sourced::region`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oss_credentials::Error> {
/// use oss_credentials::{CliProfileProvider, Context, LoadCredentials, MemFiles, StaticEnv};
/// let config = r#"{"current": "dev", "profiles": [{"name": "dev", "mode": "AK",
///     "access_key_id": "AKID", "access_key_secret": "SECRET", "region_id": "cn-hangzhou"}]}"#;
/// let ctx = Context::new()
///     .with_env(StaticEnv::new().with_var("HOME", "/home/u"))
///     .with_files(MemFiles::new().with_file("/home/u/.aliyun/config.json", config));
/// let loaded = CliProfileProvider::new(ctx).load().await?;
/// assert_eq!(loaded.credentials.access_key_id(), "AKID");
/// assert_eq!(loaded.region.as_deref(), Some("cn-hangzhou"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CliProfileProvider {
    ctx: Context,
    path: Option<PathBuf>,
    profile: Option<String>,
}

impl CliProfileProvider {
    /// A provider reading through `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            path: None,
            profile: None,
        }
    }

    /// The config file, overriding `ALIBABA_CLOUD_CONFIG_FILE` and `~/.aliyun/config.json`.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The profile, overriding `ALIBABA_CLOUD_PROFILE` and the file's `current`.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    async fn read(&self) -> Result<Sourced, Error> {
        let path = match self.path.clone().or_else(|| {
            self.ctx
                .non_empty(CONFIG_FILE_VAR)
                .map(|p| self.ctx.expand_home(&p))
        }) {
            Some(p) => p,
            None => self
                .ctx
                .env()
                .home_dir()
                .ok_or(Error::NoHome {
                    source_name: SOURCE,
                })?
                .join(".aliyun")
                .join("config.json"),
        };
        let bytes = match self.ctx.files().read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoFile {
                    source_name: SOURCE,
                    paths: vec![path],
                })
            }
            Err(source) => {
                return Err(Error::ReadFile {
                    source_name: SOURCE,
                    path,
                    source,
                })
            }
        };
        // serde_json's message can quote a value from the file (a secret): keep only where.
        let config: Config = serde_json::from_slice(&bytes).map_err(|e| Error::MalformedJson {
            source_name: SOURCE,
            path: path.clone(),
            line: e.line(),
            column: e.column(),
        })?;
        let profile_name = self
            .profile
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| self.ctx.non_empty(PROFILE_VAR))
            .or(config.current.clone().filter(|c| !c.is_empty()))
            .unwrap_or_else(|| "default".to_owned());
        self.resolve(&path, &config, profile_name, 0).await
    }

    /// The credentials of profile `name`; `depth` counts `source_profile` hops.
    fn resolve<'a>(
        &'a self,
        path: &'a Path,
        config: &'a Config,
        profile_name: String,
        depth: usize,
    ) -> BoxFuture<'a, Result<Sourced, Error>> {
        Box::pin(async move {
            let Some(profile) = config.profiles.iter().find(|p| p.name == profile_name) else {
                return Err(Error::UnknownProfile {
                    source_name: SOURCE,
                    path: path.to_owned(),
                    profile: profile_name,
                });
            };
            let missing = |key| Error::MissingKey {
                source_name: SOURCE,
                path: path.to_owned(),
                profile: profile_name.clone(),
                key,
            };
            let field = |value: &Option<String>, key: &'static str| {
                value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| missing(key))
            };
            let region = profile.region_id.clone().filter(|r| !r.trim().is_empty());
            let assume =
                |source: Arc<dyn ProvideCredentials>| -> Result<AssumeRoleProvider, Error> {
                    let mut p = AssumeRoleProvider::from_shared(self.ctx.clone(), source)
                        .with_role_arn(field(&profile.ram_role_arn, "ram_role_arn")?)
                        .with_endpoint(sts_endpoint(profile));
                    if let Some(v) = nonblank(&profile.ram_session_name) {
                        p = p.with_session_name(v);
                    }
                    if let Some(secs) = profile.expired_seconds.filter(|s| *s > 0) {
                        p = p.with_duration_seconds(secs);
                    }
                    if let Some(v) = nonblank(&profile.policy) {
                        p = p.with_policy(v);
                    }
                    if let Some(v) = nonblank(&profile.external_id) {
                        p = p.with_external_id(v);
                    }
                    Ok(p)
                };
            let loaded = match profile.mode.as_str() {
                "AK" | "StsToken" => {
                    let mut creds = Credentials::new(
                        field(&profile.access_key_id, "access_key_id")?,
                        field(&profile.access_key_secret, "access_key_secret")?,
                    );
                    if profile.mode == "StsToken" {
                        creds = creds.with_security_token(field(&profile.sts_token, "sts_token")?);
                        if let Some(secs) = profile.sts_expiration.filter(|s| *s > 0) {
                            creds = creds.with_expiration(UNIX_EPOCH + Duration::from_secs(secs));
                        }
                    }
                    Sourced::new(
                        creds,
                        CredentialSource::CliProfile {
                            path: path.to_owned(),
                            profile: profile_name.clone(),
                        },
                    )
                }
                "RamRoleArn" => {
                    let source = Credentials::new(
                        field(&profile.access_key_id, "access_key_id")?,
                        field(&profile.access_key_secret, "access_key_secret")?,
                    );
                    assume(Arc::new(StaticCredentialsProvider::new(source)))?
                        .load()
                        .await?
                }
                "ChainableRamRoleArn" => {
                    let source_name = field(&profile.source_profile, "source_profile")?;
                    if depth >= MAX_CHAIN || source_name == profile_name {
                        return Err(Error::UnsupportedProfile {
                            source_name: SOURCE,
                            path: path.to_owned(),
                            profile: profile_name.clone(),
                            field: "source_profile",
                            value: source_name,
                            reason: "the source_profile chain loops or is longer than 8 profiles",
                        });
                    }
                    let source = self
                        .resolve(path, config, source_name, depth + 1)
                        .await?
                        .credentials;
                    assume(Arc::new(StaticCredentialsProvider::new(source)))?
                        .load()
                        .await?
                }
                "EcsRamRole" => {
                    let mut p = EcsRamRoleProvider::new(self.ctx.clone());
                    if let Some(role) = nonblank(&profile.ram_role_name) {
                        p = p.with_role_name(role);
                    }
                    p.load().await?
                }
                "OIDC" => {
                    let mut p = OidcProvider::new(self.ctx.clone())
                        .with_role_arn(field(&profile.ram_role_arn, "ram_role_arn")?)
                        .with_provider_arn(field(&profile.oidc_provider_arn, "oidc_provider_arn")?)
                        .with_token_file(
                            self.ctx
                                .expand_home(&field(&profile.oidc_token_file, "oidc_token_file")?),
                        )
                        .with_endpoint(sts_endpoint(profile));
                    if let Some(v) = nonblank(&profile.ram_session_name) {
                        p = p.with_session_name(v);
                    }
                    if let Some(v) = nonblank(&profile.policy) {
                        p = p.with_policy(v);
                    }
                    p.load().await?
                }
                other => {
                    return Err(Error::UnsupportedProfile {
                        source_name: SOURCE,
                        path: path.to_owned(),
                        profile: profile_name.clone(),
                        field: "mode",
                        value: other.to_owned(),
                        reason: match other {
                            "" => "the profile has no mode; use AK or StsToken",
                            _ => {
                                "supported modes are AK, StsToken, RamRoleArn, \
                                 ChainableRamRoleArn, EcsRamRole and OIDC"
                            }
                        },
                    })
                }
            };
            Ok(loaded.with_region(region))
        })
    }
}

/// Longest `source_profile` chain followed.
const MAX_CHAIN: usize = 8;

fn nonblank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The STS endpoint of a role profile: `sts_endpoint`, else `sts_region` with `enable_vpc`.
fn sts_endpoint(p: &Profile) -> StsEndpoint {
    let mut e = StsEndpoint::new();
    if let Some(v) = nonblank(&p.sts_endpoint) {
        e = e.with_endpoint(v);
    }
    if let Some(v) = nonblank(&p.sts_region) {
        e = e.with_region(v);
    }
    if let Some(v) = p.enable_vpc {
        e = e.with_vpc(v);
    }
    e
}

impl LoadCredentials for CliProfileProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.read())
    }
}

provide_by_loading!(CliProfileProvider);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemFiles, StaticEnv};

    const CONFIG: &str = r#"{
  "current": "dev",
  "profiles": [
    {"name": "dev", "mode": "AK", "access_key_id": "AK_DEV", "access_key_secret": "SK_DEV",
     "region_id": "cn-hangzhou"},
    {"name": "sts", "mode": "StsToken", "access_key_id": "STS.AK", "access_key_secret": "SK_STS",
     "sts_token": "TOKEN", "sts_expiration": 1702743657, "region_id": "cn-beijing"},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "AK", "access_key_secret": "SK",
     "ram_role_arn": "acs:ram::1:role/r"},
    {"name": "weird", "mode": "Sorcery"},
    {"name": "half", "mode": "AK", "access_key_id": "AK_HALF"}
  ],
  "meta_path": ""
}"#;

    async fn load(env: StaticEnv, config: &str) -> Result<Sourced, Error> {
        CliProfileProvider::new(
            Context::new()
                .with_env(env.with_var("HOME", "/h"))
                .with_files(MemFiles::new().with_file("/h/.aliyun/config.json", config)),
        )
        .read()
        .await
    }

    #[tokio::test]
    async fn current_profile_ak_mode_with_region() {
        let s = load(StaticEnv::new(), CONFIG).await.unwrap();
        assert_eq!(s.credentials.access_key_id(), "AK_DEV");
        assert_eq!(s.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(
            s.source.to_string(),
            "aliyun CLI config /h/.aliyun/config.json, profile dev"
        );
    }

    #[tokio::test]
    async fn sts_token_mode_carries_token_and_expiry() {
        let s = load(StaticEnv::new().with_var(PROFILE_VAR, "sts"), CONFIG)
            .await
            .unwrap();
        assert_eq!(
            s.credentials.security_token().map(|t| t.expose()),
            Some("TOKEN")
        );
        assert_eq!(
            s.credentials.expiration(),
            Some(UNIX_EPOCH + Duration::from_secs(1_702_743_657))
        );
    }

    #[tokio::test]
    async fn unknown_profile_unsupported_mode_missing_key() {
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "nope"), CONFIG)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "aliyun CLI config /h/.aliyun/config.json: no profile \"nope\""
        );
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "weird"), CONFIG)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedProfile { field: "mode", value, .. } if value == "Sorcery"),
            "{err:?}"
        );
        // A role mode goes to STS; this context has no HTTP, so the error names STS.
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "role"), CONFIG)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Network { source_name: "STS AssumeRole", url, .. } if url == "https://sts.aliyuncs.com/"),
            "{err:?}"
        );
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "half"), CONFIG)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingKey {
                    key: "access_key_secret",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn malformed_json_gives_position_not_content() {
        let err = load(
            StaticEnv::new(),
            "{\"current\": \"dev\",\n \"profiles\": [ SECRET_TEXT",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::MalformedJson { line: 2, .. }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("SECRET_TEXT"));
        // A wrong type: serde would quote the value; we must not.
        let err = load(
            StaticEnv::new(),
            r#"{"profiles": [{"name": "dev", "access_key_secret": 12345678}]}"#,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::MalformedJson { line: 1, .. }),
            "{err:?}"
        );
        assert!(!format!("{err:?} {err}").contains("12345678"));
    }

    #[tokio::test]
    async fn missing_and_unreadable_files() {
        let ctx = |files: MemFiles| {
            Context::new()
                .with_env(StaticEnv::new().with_var("HOME", "/h"))
                .with_files(files)
        };
        let err = CliProfileProvider::new(ctx(MemFiles::new()))
            .read()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "aliyun CLI config: no file at /h/.aliyun/config.json"
        );
        let err = CliProfileProvider::new(ctx(
            MemFiles::new().with_unreadable("/h/.aliyun/config.json")
        ))
        .read()
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "aliyun CLI config: cannot read /h/.aliyun/config.json"
        );
    }
}
