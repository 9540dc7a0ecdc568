//! The INI credentials file link: `~/.alibabacloud/credentials` (then `credentials.ini`), or
//! `ALIBABA_CLOUD_CREDENTIALS_FILE`; section `ALIBABA_CLOUD_PROFILE` or `default`.

use std::io;
use std::path::PathBuf;

use oss_sign::Credentials;

use crate::context::BoxFuture;
use crate::ini::Ini;
use crate::source::provide_by_loading;
use crate::{
    AssumeRoleProvider, Context, CredentialSource, EcsRamRoleProvider, Error, LoadCredentials,
    OidcProvider, Sourced, StsEndpoint,
};
use oss_sign::StaticCredentialsProvider;

/// The STS endpoint of a role profile: `sts_endpoint`, else `region_id` / `sts_region`, with
/// `enable_vpc`; unset keys fall back to the environment.
fn sts_endpoint(opt: &dyn Fn(&str) -> Option<String>) -> StsEndpoint {
    let mut e = StsEndpoint::new();
    if let Some(v) = opt("sts_endpoint") {
        e = e.with_endpoint(v);
    }
    if let Some(v) = opt("sts_region").or_else(|| opt("region_id")) {
        e = e.with_region(v);
    }
    if let Some(v) = opt("enable_vpc") {
        e = e.with_vpc(v.eq_ignore_ascii_case("true"));
    }
    e
}

const SOURCE: &str = "INI credentials file";

/// Variable naming the file explicitly.
pub const CREDENTIALS_FILE_VAR: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// Variable naming the profile (for this file and for the aliyun CLI config).
pub const PROFILE_VAR: &str = "ALIBABA_CLOUD_PROFILE";

/// Reads a profile of the INI credentials file the official credentials libraries share.
///
/// The file is, in order: [`with_path`](Self::with_path), `ALIBABA_CLOUD_CREDENTIALS_FILE`,
/// else the first of `~/.alibabacloud/credentials` (credentials-go) and
/// `~/.alibabacloud/credentials.ini` (credentials-python/java) that exists. A file named
/// explicitly must exist. The profile is [`with_profile`](Self::with_profile), else
/// `ALIBABA_CLOUD_PROFILE`, else `default`.
///
/// Supported `type`: `access_key` (`access_key_id`, `access_key_secret`). `type = sts` is
/// refused: a static file must not hold an expiring token (credentials-go does the same).
/// `ecs_ram_role` (`role_name` optional) asks the metadata service; `ram_role_arn` (the key
/// pair plus `role_arn`, `role_session_name`, `policy`, `external_id`, `region_id`/`sts_region`,
/// `sts_endpoint`, `enable_vpc`) calls STS AssumeRole; `oidc_role_arn` (`role_arn`,
/// `oidc_provider_arn`, `oidc_token_file_path`, …) calls AssumeRoleWithOIDC. Each load calls
/// the service again; the cache above the chain keeps the result.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oss_credentials::Error> {
/// use oss_credentials::{Context, LoadCredentials, MemFiles, ProfileFileProvider, StaticEnv};
/// let ctx = Context::new()
///     .with_env(StaticEnv::new().with_var("HOME", "/home/u"))
///     .with_files(MemFiles::new().with_file(
///         "/home/u/.alibabacloud/credentials",
///         "[uploader]\ntype = access_key\naccess_key_id = AKID\naccess_key_secret = SECRET\n",
///     ));
/// let loaded = ProfileFileProvider::new(ctx).with_profile("uploader").load().await?;
/// assert_eq!(loaded.credentials.access_key_id(), "AKID");
/// assert_eq!(
///     loaded.source.to_string(),
///     "INI credentials file /home/u/.alibabacloud/credentials, profile uploader"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ProfileFileProvider {
    ctx: Context,
    path: Option<PathBuf>,
    profile: Option<String>,
}

impl ProfileFileProvider {
    /// A provider reading through `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            path: None,
            profile: None,
        }
    }

    /// The file to read, overriding `ALIBABA_CLOUD_CREDENTIALS_FILE` and the defaults.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The profile (section), overriding `ALIBABA_CLOUD_PROFILE`. Default: `default`.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    fn profile(&self) -> String {
        self.profile
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| self.ctx.non_empty(PROFILE_VAR))
            .unwrap_or_else(|| "default".to_owned())
    }

    /// Finds and reads the file: `(path, contents)`.
    async fn read_file(&self) -> Result<(PathBuf, Vec<u8>), Error> {
        let explicit = self.path.clone().or_else(|| {
            self.ctx
                .non_empty(CREDENTIALS_FILE_VAR)
                .map(|p| self.ctx.expand_home(&p))
        });
        let read_error = |path: PathBuf, source| Error::ReadFile {
            source_name: SOURCE,
            path,
            source,
        };
        if let Some(path) = explicit {
            return match self.ctx.files().read(&path).await {
                Ok(bytes) => Ok((path, bytes)),
                Err(e) => Err(read_error(path, e)),
            };
        }
        let home = self.ctx.env().home_dir().ok_or(Error::NoHome {
            source_name: SOURCE,
        })?;
        let candidates = [
            home.join(".alibabacloud").join("credentials"),
            home.join(".alibabacloud").join("credentials.ini"),
        ];
        for path in &candidates {
            match self.ctx.files().read(path).await {
                Ok(bytes) => return Ok((path.clone(), bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(read_error(path.clone(), e)),
            }
        }
        Err(Error::NoFile {
            source_name: SOURCE,
            paths: candidates.to_vec(),
        })
    }

    async fn read(&self) -> Result<Sourced, Error> {
        let (path, bytes) = self.read_file().await?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Error::MalformedIni {
                path: path.clone(),
                line,
                reason: "not valid UTF-8",
            }
        })?;
        let ini = Ini::parse(text).map_err(|e| Error::MalformedIni {
            path: path.clone(),
            line: e.line,
            reason: e.reason,
        })?;
        let profile = self.profile();
        let Some(section) = ini.section(&profile) else {
            return Err(Error::UnknownProfile {
                source_name: SOURCE,
                path,
                profile,
            });
        };
        let get = |key: &'static str| {
            section
                .get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::MissingKey {
                    source_name: SOURCE,
                    path: path.clone(),
                    profile: profile.clone(),
                    key,
                })
        };
        let opt = |key: &str| {
            section
                .get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let kind = get("type")?;
        let unsupported = |reason| Error::UnsupportedProfile {
            source_name: SOURCE,
            path: path.clone(),
            profile: profile.clone(),
            field: "type",
            value: kind.to_owned(),
            reason,
        };
        match kind {
            "access_key" => {
                let creds = Credentials::new(get("access_key_id")?, get("access_key_secret")?);
                Ok(Sourced::new(
                    creds,
                    CredentialSource::IniFile {
                        path: path.clone(),
                        profile: profile.clone(),
                    },
                ))
            }
            "sts" => Err(unsupported(
                "an STS token expires within hours, so a static file must not hold one \
                 (credentials-go refuses it too); use type = ram_role_arn, or pass the token \
                 in OSS_SESSION_TOKEN / ALIBABA_CLOUD_SECURITY_TOKEN",
            )),
            "ecs_ram_role" => {
                let mut p = EcsRamRoleProvider::new(self.ctx.clone());
                if let Some(role) = opt("role_name") {
                    p = p.with_role_name(role);
                }
                p.load().await
            }
            "ram_role_arn" => {
                let source = Credentials::new(get("access_key_id")?, get("access_key_secret")?);
                let mut p = AssumeRoleProvider::new(
                    self.ctx.clone(),
                    StaticCredentialsProvider::new(source),
                )
                .with_role_arn(get("role_arn")?)
                .with_endpoint(sts_endpoint(&opt));
                if let Some(v) = opt("role_session_name") {
                    p = p.with_session_name(v);
                }
                if let Some(v) = opt("policy") {
                    p = p.with_policy(v);
                }
                if let Some(v) = opt("external_id") {
                    p = p.with_external_id(v);
                }
                p.load().await
            }
            "oidc_role_arn" => {
                let mut p = OidcProvider::new(self.ctx.clone())
                    .with_role_arn(get("role_arn")?)
                    .with_provider_arn(get("oidc_provider_arn")?)
                    .with_token_file(self.ctx.expand_home(get("oidc_token_file_path")?))
                    .with_endpoint(sts_endpoint(&opt));
                if let Some(v) = opt("role_session_name") {
                    p = p.with_session_name(v);
                }
                if let Some(v) = opt("policy") {
                    p = p.with_policy(v);
                }
                p.load().await
            }
            _ => Err(unsupported(
                "known types are access_key, ecs_ram_role, ram_role_arn and oidc_role_arn",
            )),
        }
    }
}

impl LoadCredentials for ProfileFileProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.read())
    }
}

provide_by_loading!(ProfileFileProvider);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemFiles, StaticEnv};

    const GOOD: &str = "[default]\ntype = access_key\naccess_key_id = AK_DEFAULT\n\
                        access_key_secret = SK_DEFAULT\n\n[p]\ntype = access_key\n\
                        access_key_id = AK_P\naccess_key_secret = SK_P\n";

    fn provider(env: StaticEnv, files: MemFiles) -> ProfileFileProvider {
        ProfileFileProvider::new(
            Context::new()
                .with_env(env.with_var("HOME", "/h"))
                .with_files(files),
        )
    }

    async fn load(env: StaticEnv, files: MemFiles) -> Result<Sourced, Error> {
        provider(env, files).read().await
    }

    #[tokio::test]
    async fn default_path_then_ini_suffix() {
        let s = load(
            StaticEnv::new(),
            MemFiles::new().with_file("/h/.alibabacloud/credentials.ini", GOOD),
        )
        .await
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "AK_DEFAULT");
        assert_eq!(
            s.source,
            CredentialSource::IniFile {
                path: "/h/.alibabacloud/credentials.ini".into(),
                profile: "default".into()
            }
        );
        // `credentials` comes first when both exist.
        let s = load(
            StaticEnv::new(),
            MemFiles::new()
                .with_file(
                    "/h/.alibabacloud/credentials",
                    GOOD.replace("AK_DEFAULT", "AK_FIRST"),
                )
                .with_file("/h/.alibabacloud/credentials.ini", GOOD),
        )
        .await
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "AK_FIRST");
    }

    #[tokio::test]
    async fn env_file_and_profile_variables() {
        let s = load(
            StaticEnv::new()
                .with_var(CREDENTIALS_FILE_VAR, "~/elsewhere.ini")
                .with_var(PROFILE_VAR, "p"),
            MemFiles::new().with_file("/h/elsewhere.ini", GOOD),
        )
        .await
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "AK_P");
        assert_eq!(s.credentials.access_key_secret().expose(), "SK_P");
        // The builder overrides both variables.
        let s = provider(
            StaticEnv::new()
                .with_var(CREDENTIALS_FILE_VAR, "/nope")
                .with_var(PROFILE_VAR, "nope"),
            MemFiles::new().with_file("/x.ini", GOOD),
        )
        .with_path("/x.ini")
        .with_profile("default")
        .read()
        .await
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "AK_DEFAULT");
    }

    #[tokio::test]
    async fn missing_files() {
        let err = load(StaticEnv::new(), MemFiles::new()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "INI credentials file: no file at /h/.alibabacloud/credentials or /h/.alibabacloud/credentials.ini"
        );
        // An explicitly named file must exist.
        let err = load(
            StaticEnv::new().with_var(CREDENTIALS_FILE_VAR, "/etc/creds.ini"),
            MemFiles::new().with_file("/h/.alibabacloud/credentials", GOOD),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::ReadFile { path, source, .. }
                if path == &PathBuf::from("/etc/creds.ini") && source.kind() == io::ErrorKind::NotFound),
            "{err:?}"
        );
        let err = ProfileFileProvider::new(Context::new().with_env(StaticEnv::new()))
            .read()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NoHome { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn unreadable_file_is_named() {
        let err = load(
            StaticEnv::new(),
            MemFiles::new().with_unreadable("/h/.alibabacloud/credentials"),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "INI credentials file: cannot read /h/.alibabacloud/credentials"
        );
    }

    #[tokio::test]
    async fn malformed_file_names_the_line_and_hides_the_text() {
        let text = "[default]\ntype = access_key\naccess_key_secret SECRET_NO_EQUALS\n";
        let err = load(
            StaticEnv::new(),
            MemFiles::new().with_file("/h/.alibabacloud/credentials", text),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "INI credentials file /h/.alibabacloud/credentials: line 3: expected `key = value` or `[section]`"
        );
        assert!(!format!("{err:?}").contains("SECRET_NO_EQUALS"));
        let err = load(
            StaticEnv::new(),
            MemFiles::new().with_file("/h/.alibabacloud/credentials", b"[a]\nk = \xff\n".to_vec()),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::MalformedIni { line: 2, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unknown_profile_and_missing_keys() {
        let files = || {
            MemFiles::new().with_file(
                "/h/.alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = AK\n[typeless]\naccess_key_id = AK\n",
            )
        };
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "prod"), files())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "INI credentials file /h/.alibabacloud/credentials: no profile \"prod\""
        );
        let err = load(StaticEnv::new(), files()).await.unwrap_err();
        assert!(
            matches!(&err, Error::MissingKey { key: "access_key_secret", profile, .. } if profile == "default"),
            "{err:?}"
        );
        let err = load(StaticEnv::new().with_var(PROFILE_VAR, "typeless"), files())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::MissingKey { key: "type", .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn sts_type_is_refused_with_the_reason() {
        let text = "[default]\ntype = sts\naccess_key_id = STS.AK\naccess_key_secret = SK_STS\n\
                    security_token = TOKEN_VALUE\n";
        let err = load(
            StaticEnv::new(),
            MemFiles::new().with_file("/h/.alibabacloud/credentials", text),
        )
        .await
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("has type \"sts\", which is not supported"),
            "{msg}"
        );
        assert!(msg.contains("must not hold one"), "{msg}");
        assert!(!msg.contains("TOKEN_VALUE") && !msg.contains("SK_STS"));
        let text = "[default]\ntype = bearer\n";
        let err = load(
            StaticEnv::new(),
            MemFiles::new().with_file("/h/.alibabacloud/credentials", text),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedProfile { field: "type", value, .. } if value == "bearer"),
            "{err:?}"
        );
        // The role types are supported now: without their keys they name the missing one.
        for (kind, key) in [
            ("ram_role_arn", "access_key_id"),
            ("oidc_role_arn", "role_arn"),
        ] {
            let text = format!("[default]\ntype = {kind}\n");
            let err = load(
                StaticEnv::new(),
                MemFiles::new().with_file("/h/.alibabacloud/credentials", text),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(&err, Error::MissingKey { key: k, .. } if *k == key),
                "{err:?}"
            );
        }
    }
}
