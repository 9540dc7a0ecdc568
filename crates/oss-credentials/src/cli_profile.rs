//! The aliyun CLI link: a profile of `~/.aliyun/config.json`.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use oss_sign::Credentials;
use serde::Deserialize;

use crate::context::BoxFuture;
use crate::profile::PROFILE_VAR;
use crate::source::provide_by_loading;
use crate::{Context, CredentialSource, Error, LoadCredentials, Sourced};

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
}

/// Reads a profile of the aliyun CLI's `config.json` (written by `aliyun configure`).
///
/// The file is [`with_path`](Self::with_path), else `ALIBABA_CLOUD_CONFIG_FILE`, else
/// `~/.aliyun/config.json`. The profile is [`with_profile`](Self::with_profile), else
/// `ALIBABA_CLOUD_PROFILE`, else the file's `current`. Modes `AK` and `StsToken` are supported
/// (with `sts_expiration` as the expiry); the others need the network links and are refused
/// with that reason. The profile's `region_id` is returned as [`Sourced::region`].
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
            .or(config.current.filter(|c| !c.is_empty()))
            .unwrap_or_else(|| "default".to_owned());
        let Some(profile) = config.profiles.iter().find(|p| p.name == profile_name) else {
            return Err(Error::UnknownProfile {
                source_name: SOURCE,
                path,
                profile: profile_name,
            });
        };
        let missing = |key| Error::MissingKey {
            source_name: SOURCE,
            path: path.clone(),
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
        let mut creds = match profile.mode.as_str() {
            "AK" | "StsToken" => Credentials::new(
                field(&profile.access_key_id, "access_key_id")?,
                field(&profile.access_key_secret, "access_key_secret")?,
            ),
            other => {
                return Err(Error::UnsupportedProfile {
                    source_name: SOURCE,
                    path: path.clone(),
                    profile: profile_name.clone(),
                    field: "mode",
                    value: other.to_owned(),
                    reason: match other {
                        "" => "the profile has no mode; use AK or StsToken",
                        "RamRoleArn" | "EcsRamRole" | "OIDC" | "ChainableRamRoleArn" => {
                            "it needs the STS / ECS metadata links, which this build does not \
                             include yet"
                        }
                        _ => "supported modes are AK and StsToken",
                    },
                })
            }
        };
        if profile.mode == "StsToken" {
            creds = creds.with_security_token(field(&profile.sts_token, "sts_token")?);
            if let Some(secs) = profile.sts_expiration.filter(|s| *s > 0) {
                creds = creds.with_expiration(UNIX_EPOCH + Duration::from_secs(secs));
            }
        }
        Ok(Sourced::new(
            creds,
            CredentialSource::CliProfile {
                path,
                profile: profile_name,
            },
        )
        .with_region(profile.region_id.clone().filter(|r| !r.trim().is_empty())))
    }
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
        for (name, mode) in [("role", "RamRoleArn"), ("weird", "Sorcery")] {
            let err = load(StaticEnv::new().with_var(PROFILE_VAR, name), CONFIG)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::UnsupportedProfile { field: "mode", value, .. } if value == mode),
                "{err:?}"
            );
        }
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
