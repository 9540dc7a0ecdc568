//! STS: AssumeRole (RAM role ARN, signed with RPC signature v1) and AssumeRoleWithOIDC
//! (RRSA, unsigned), spec §5.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use oss_sign::{Credentials, ProvideCredentials};
use rand::RngCore as _;
use serde::Deserialize;

use crate::context::BoxFuture;
use crate::net::{self, CredentialsBody};
use crate::source::provide_by_loading;
use crate::{rpc, Context, CredentialSource, Error, LoadCredentials, Sourced};

/// Explicit STS host or URL (aliyun CLI; injected by the ACK pod identity webhook).
pub const STS_ENDPOINT_VAR: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
/// Region of the STS host `sts.<region>.aliyuncs.com`.
pub const STS_REGION_VAR: &str = "ALIBABA_CLOUD_STS_REGION";
/// `true`: `sts-vpc.<region>.aliyuncs.com` (needs a region).
pub const VPC_ENDPOINT_ENABLED_VAR: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// Role to assume (OIDC link; default of the role ARN provider).
pub const ROLE_ARN_VAR: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// The OIDC provider ARN (RRSA).
pub const OIDC_PROVIDER_ARN_VAR: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// The OIDC token file, re-read at each refresh (RRSA).
pub const OIDC_TOKEN_FILE_VAR: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
/// `RoleSessionName`.
pub const ROLE_SESSION_NAME_VAR: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";

const ASSUME_ROLE: &str = "STS AssumeRole";
const ASSUME_ROLE_OIDC: &str = "STS AssumeRoleWithOIDC";
const VERSION: &str = "2015-04-01";
/// 5 s connect + 10 s read in all three libraries; one deadline for the whole exchange here.
const TIMEOUT: Duration = Duration::from_secs(15);
const DEFAULT_DURATION: u32 = 3600;
const MIN_DURATION: u32 = 900;

/// Where STS is and how to reach it, shared by both STS providers.
///
/// Precedence: [`with_endpoint`](Self::with_endpoint), `ALIBABA_CLOUD_STS_ENDPOINT` (honoured
/// as the aliyun CLI does, spec §8.5), then a region ([`with_region`](Self::with_region) or
/// `ALIBABA_CLOUD_STS_REGION`) giving `sts.<region>.aliyuncs.com`, or
/// `sts-vpc.<region>.aliyuncs.com` with `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`; else
/// `sts.aliyuncs.com`. An endpoint without a scheme gets `https://`.
///
/// ```
/// use oss_credentials::{Context, StaticEnv, StsEndpoint};
/// let ctx = Context::new().with_env(
///     StaticEnv::new()
///         .with_var("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou")
///         .with_var("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true"),
/// );
/// assert_eq!(StsEndpoint::new().resolve(&ctx), "https://sts-vpc.cn-hangzhou.aliyuncs.com");
/// assert_eq!(StsEndpoint::new().resolve(&Context::new().with_env(StaticEnv::new())),
///            "https://sts.aliyuncs.com");
/// ```
#[derive(Debug, Clone, Default)]
pub struct StsEndpoint {
    endpoint: Option<String>,
    region: Option<String>,
    vpc: Option<bool>,
}

impl StsEndpoint {
    /// Everything from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// An explicit host or URL.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into()).filter(|e: &String| !e.trim().is_empty());
        self
    }

    /// The STS region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into()).filter(|r: &String| !r.trim().is_empty());
        self
    }

    /// Whether to use the VPC host.
    pub fn with_vpc(mut self, vpc: bool) -> Self {
        self.vpc = Some(vpc);
        self
    }

    /// The base URL, without a trailing slash.
    pub fn resolve(&self, ctx: &Context) -> String {
        let explicit = self
            .endpoint
            .clone()
            .or_else(|| ctx.non_empty(STS_ENDPOINT_VAR));
        let host = match explicit {
            Some(e) => e,
            None => match self
                .region
                .clone()
                .or_else(|| ctx.non_empty(STS_REGION_VAR))
            {
                Some(region) => {
                    let vpc = self
                        .vpc
                        .unwrap_or_else(|| ctx.is_true(VPC_ENDPOINT_ENABLED_VAR));
                    if vpc {
                        format!("sts-vpc.{region}.aliyuncs.com")
                    } else {
                        format!("sts.{region}.aliyuncs.com")
                    }
                }
                None => "sts.aliyuncs.com".to_owned(),
            },
        };
        let url = if host.contains("://") {
            host
        } else {
            format!("https://{host}")
        };
        url.trim_end_matches('/').to_owned()
    }
}

/// Checks `acs:ram::<account digits>:role/<name>` (spec §5.2).
fn check_role_arn(source_name: &'static str, arn: &str) -> Result<(), Error> {
    let invalid = |why: &str| Error::InvalidSetting {
        source_name,
        name: "RoleArn",
        reason: format!(
            "{:?} {why}; expected acs:ram::<account id>:role/<role name>",
            arn.chars().take(200).collect::<String>()
        ),
    };
    let rest = arn
        .strip_prefix("acs:ram::")
        .ok_or_else(|| invalid("does not start with acs:ram::"))?;
    let (account, role) = rest
        .split_once(":role/")
        .ok_or_else(|| invalid("has no :role/"))?;
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("has no numeric account id"));
    }
    if role.is_empty() || role.contains(char::is_whitespace) {
        return Err(invalid("has no role name"));
    }
    Ok(())
}

/// The settings both STS calls share.
#[derive(Debug, Clone, Default)]
struct RoleSettings {
    role_arn: Option<String>,
    session_name: Option<String>,
    duration: Option<u32>,
    policy: Option<String>,
    endpoint: StsEndpoint,
}

impl RoleSettings {
    fn role_arn(&self, ctx: &Context, source_name: &'static str) -> Result<String, Error> {
        let arn = self
            .role_arn
            .clone()
            .or_else(|| ctx.non_empty(ROLE_ARN_VAR))
            .ok_or_else(|| Error::InvalidSetting {
                source_name,
                name: "RoleArn",
                reason: format!("not set (set {ROLE_ARN_VAR} or the profile's role ARN)"),
            })?;
        check_role_arn(source_name, &arn)?;
        Ok(arn)
    }

    fn session_name(&self, ctx: &Context, source_name: &'static str) -> Result<String, Error> {
        let name = self
            .session_name
            .clone()
            .or_else(|| ctx.non_empty(ROLE_SESSION_NAME_VAR))
            .unwrap_or_else(|| {
                let ms = ctx
                    .clock()
                    .now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis();
                format!("oss-rs-{ms}")
            });
        let ok = (2..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
        if !ok {
            return Err(Error::InvalidSetting {
                source_name,
                name: "RoleSessionName",
                reason: format!("{name:?} must be 2-64 letters, digits or . @ - _"),
            });
        }
        Ok(name)
    }

    fn duration(&self, source_name: &'static str) -> Result<u32, Error> {
        let d = self.duration.unwrap_or(DEFAULT_DURATION);
        if d < MIN_DURATION {
            return Err(Error::InvalidSetting {
                source_name,
                name: "DurationSeconds",
                reason: format!("{d} is below the minimum of {MIN_DURATION}"),
            });
        }
        Ok(d)
    }
}

/// Common RPC parameters, in the order they are sent (the signature sorts its own copy).
fn common_params(ctx: &Context, action: &'static str) -> Vec<(&'static str, String)> {
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    vec![
        ("Action", action.to_owned()),
        ("Format", "JSON".to_owned()),
        ("Version", VERSION.to_owned()),
        ("Timestamp", net::format_iso8601(ctx.clock().now())),
        ("SignatureNonce", hex::encode(nonce)),
    ]
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleBody {
    credentials: Option<CredentialsBody>,
}

/// POSTs `params` as a form to STS and reads the `Credentials` of a 200 answer.
async fn call_sts(
    ctx: &Context,
    source_name: &'static str,
    base: &str,
    params: &[(&str, String)],
) -> Result<Credentials, Error> {
    let url = format!("{base}/");
    let body = rpc::form_encode(params.iter().map(|(k, v)| (*k, v.as_str())));
    let req = http::Request::post(&url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Bytes::from(body))
        .map_err(|e| net::bad(source_name, &url, e.to_string()))?;
    let resp = net::send(ctx, source_name, req, TIMEOUT).await?;
    if resp.status() != http::StatusCode::OK {
        return Err(net::service_error(source_name, &url, &resp));
    }
    let parsed: AssumeRoleBody = serde_json::from_slice(resp.body())
        .map_err(|e| net::bad(source_name, &url, net::not_json(&e)))?;
    parsed
        .credentials
        .ok_or_else(|| net::bad(source_name, &url, "no Credentials"))?
        .into_credentials(source_name, &url, false)
}

/// Assumes a RAM role with STS AssumeRole, signed with the credentials of any other provider
/// (a long-term key, or STS credentials for role chaining: their token is sent as
/// `SecurityToken`).
///
/// Settings: role ARN ([`with_role_arn`](Self::with_role_arn), else `ALIBABA_CLOUD_ROLE_ARN`),
/// session name (else `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `oss-rs-<ms>`), duration (default
/// 3600 s, at least 900), an optional session policy and external id, and the [`StsEndpoint`].
/// The request is a POST whose form body holds every parameter, signed with RPC signature v1.
///
/// ```
/// use oss_credentials::{AssumeRoleProvider, Context};
/// use oss_sign::{Credentials, StaticCredentialsProvider};
/// let p = AssumeRoleProvider::new(
///     Context::new(),
///     StaticCredentialsProvider::new(Credentials::new("AKID", "SECRET")),
/// )
/// .with_role_arn("acs:ram::1234567890123456:role/uploader")
/// .with_session_name("oss-rs")
/// .with_duration_seconds(900);
/// # let _ = p;
/// ```
#[derive(Clone)]
pub struct AssumeRoleProvider {
    ctx: Context,
    source: Arc<dyn ProvideCredentials>,
    settings: RoleSettings,
    external_id: Option<String>,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.settings.role_arn)
            .field("session_name", &self.settings.session_name)
            .field("duration", &self.settings.duration)
            .field("has_policy", &self.settings.policy.is_some())
            .field("endpoint", &self.settings.endpoint)
            .finish_non_exhaustive()
    }
}

impl AssumeRoleProvider {
    /// Assumes a role using credentials from `source`.
    pub fn new(ctx: Context, source: impl ProvideCredentials + 'static) -> Self {
        Self::from_shared(ctx, Arc::new(source))
    }

    /// As [`new`](Self::new) with a shared source.
    pub fn from_shared(ctx: Context, source: Arc<dyn ProvideCredentials>) -> Self {
        Self {
            ctx,
            source,
            settings: RoleSettings::default(),
            external_id: None,
        }
    }

    /// `RoleArn`. Default: `ALIBABA_CLOUD_ROLE_ARN`.
    pub fn with_role_arn(mut self, arn: impl Into<String>) -> Self {
        self.settings.role_arn = Some(arn.into()).filter(|a: &String| !a.trim().is_empty());
        self
    }

    /// `RoleSessionName`. Default: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `oss-rs-<ms>`.
    pub fn with_session_name(mut self, name: impl Into<String>) -> Self {
        self.settings.session_name = Some(name.into()).filter(|n: &String| !n.is_empty());
        self
    }

    /// `DurationSeconds`. Default 3600; below 900 is refused before any request.
    pub fn with_duration_seconds(mut self, seconds: u32) -> Self {
        self.settings.duration = Some(seconds);
        self
    }

    /// A session `Policy` (JSON) that narrows the role's permissions.
    pub fn with_policy(mut self, policy: impl Into<String>) -> Self {
        self.settings.policy = Some(policy.into()).filter(|p: &String| !p.is_empty());
        self
    }

    /// `ExternalId`.
    pub fn with_external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into()).filter(|i: &String| !i.is_empty());
        self
    }

    /// Where STS is.
    pub fn with_endpoint(mut self, endpoint: StsEndpoint) -> Self {
        self.settings.endpoint = endpoint;
        self
    }

    async fn assume(&self) -> Result<Sourced, Error> {
        let s = &self.settings;
        let role_arn = s.role_arn(&self.ctx, ASSUME_ROLE)?;
        let session = s.session_name(&self.ctx, ASSUME_ROLE)?;
        let duration = s.duration(ASSUME_ROLE)?;
        if let Some(id) = &self.external_id {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
            if !ok {
                return Err(Error::InvalidSetting {
                    source_name: ASSUME_ROLE,
                    name: "ExternalId",
                    reason: "must be 2-1224 characters of [\\w+=,.@:/-]".to_owned(),
                });
            }
        }
        let source = self
            .source
            .provide()
            .await
            .map_err(|e| Error::SourceCredentials {
                source_name: ASSUME_ROLE,
                source: Box::new(e),
            })?;
        let mut params = common_params(&self.ctx, "AssumeRole");
        params.extend([
            ("AccessKeyId", source.access_key_id().to_owned()),
            ("SignatureMethod", rpc::SIGNATURE_METHOD.to_owned()),
            ("SignatureVersion", rpc::SIGNATURE_VERSION.to_owned()),
            ("RoleArn", role_arn.clone()),
            ("RoleSessionName", session),
            ("DurationSeconds", duration.to_string()),
        ]);
        if let Some(token) = source.security_token() {
            params.push(("SecurityToken", token.expose().to_owned()));
        }
        if let Some(p) = &s.policy {
            params.push(("Policy", p.clone()));
        }
        if let Some(id) = &self.external_id {
            params.push(("ExternalId", id.clone()));
        }
        let signature = rpc::sign(
            "POST",
            source.access_key_secret().expose(),
            params.iter().map(|(k, v)| (*k, v.as_str())),
        );
        params.push(("Signature", signature));
        let base = s.endpoint.resolve(&self.ctx);
        let creds = call_sts(&self.ctx, ASSUME_ROLE, &base, &params).await?;
        Ok(Sourced::new(
            creds,
            CredentialSource::AssumeRole { role_arn },
        ))
    }
}

impl LoadCredentials for AssumeRoleProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.assume())
    }
}

provide_by_loading!(AssumeRoleProvider);

/// OIDC / RRSA: exchanges the OIDC token in a file for role credentials with STS
/// AssumeRoleWithOIDC (unsigned). The token file is read anew at every load, because ACK
/// renews it (spec §2).
///
/// Settings default to `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, read at each load.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    ctx: Context,
    settings: RoleSettings,
    provider_arn: Option<String>,
    token_file: Option<PathBuf>,
}

impl OidcProvider {
    /// A provider reading unset settings from `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            settings: RoleSettings::default(),
            provider_arn: None,
            token_file: None,
        }
    }

    /// `RoleArn`. Default: `ALIBABA_CLOUD_ROLE_ARN`.
    pub fn with_role_arn(mut self, arn: impl Into<String>) -> Self {
        self.settings.role_arn = Some(arn.into()).filter(|a: &String| !a.trim().is_empty());
        self
    }

    /// `OIDCProviderArn`. Default: `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`.
    pub fn with_provider_arn(mut self, arn: impl Into<String>) -> Self {
        self.provider_arn = Some(arn.into()).filter(|a: &String| !a.trim().is_empty());
        self
    }

    /// The token file. Default: `ALIBABA_CLOUD_OIDC_TOKEN_FILE`.
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// `RoleSessionName`. Default: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `oss-rs-<ms>`.
    pub fn with_session_name(mut self, name: impl Into<String>) -> Self {
        self.settings.session_name = Some(name.into()).filter(|n: &String| !n.is_empty());
        self
    }

    /// `DurationSeconds`. Default 3600.
    pub fn with_duration_seconds(mut self, seconds: u32) -> Self {
        self.settings.duration = Some(seconds);
        self
    }

    /// A session `Policy`.
    pub fn with_policy(mut self, policy: impl Into<String>) -> Self {
        self.settings.policy = Some(policy.into()).filter(|p: &String| !p.is_empty());
        self
    }

    /// Where STS is.
    pub fn with_endpoint(mut self, endpoint: StsEndpoint) -> Self {
        self.settings.endpoint = endpoint;
        self
    }

    async fn assume(&self) -> Result<Sourced, Error> {
        let s = &self.settings;
        let role_arn = s.role_arn(&self.ctx, ASSUME_ROLE_OIDC)?;
        let provider_arn = self
            .provider_arn
            .clone()
            .or_else(|| self.ctx.non_empty(OIDC_PROVIDER_ARN_VAR))
            .ok_or_else(|| Error::InvalidSetting {
                source_name: ASSUME_ROLE_OIDC,
                name: "OIDCProviderArn",
                reason: format!("not set (set {OIDC_PROVIDER_ARN_VAR})"),
            })?;
        let path = self
            .token_file
            .clone()
            .or_else(|| {
                self.ctx
                    .non_empty(OIDC_TOKEN_FILE_VAR)
                    .map(|p| self.ctx.expand_home(&p))
            })
            .ok_or_else(|| Error::InvalidSetting {
                source_name: ASSUME_ROLE_OIDC,
                name: "OIDCTokenFile",
                reason: format!("not set (set {OIDC_TOKEN_FILE_VAR})"),
            })?;
        let session = s.session_name(&self.ctx, ASSUME_ROLE_OIDC)?;
        let duration = s.duration(ASSUME_ROLE_OIDC)?;
        let bytes = self
            .ctx
            .files()
            .read(&path)
            .await
            .map_err(|source| Error::ReadFile {
                source_name: ASSUME_ROLE_OIDC,
                path: path.clone(),
                source,
            })?;
        let token = String::from_utf8(bytes)
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        if token.is_empty() {
            return Err(Error::EmptyFile {
                source_name: ASSUME_ROLE_OIDC,
                path,
            });
        }
        let mut params = common_params(&self.ctx, "AssumeRoleWithOIDC");
        params.extend([
            ("RoleArn", role_arn.clone()),
            ("OIDCProviderArn", provider_arn),
            ("OIDCToken", token),
            ("RoleSessionName", session),
            ("DurationSeconds", duration.to_string()),
        ]);
        if let Some(p) = &s.policy {
            params.push(("Policy", p.clone()));
        }
        let base = s.endpoint.resolve(&self.ctx);
        let creds = call_sts(&self.ctx, ASSUME_ROLE_OIDC, &base, &params).await?;
        Ok(Sourced::new(creds, CredentialSource::Oidc { role_arn }))
    }
}

impl LoadCredentials for OidcProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.assume())
    }
}

provide_by_loading!(OidcProvider);

/// A session policy allowing only `oss:PutObject` on `acs:oss:*:*:<bucket>/<prefix>*`, for
/// the direct-upload kit: hand the resulting temporary credentials to an app, and it can
/// upload under `prefix` and nowhere else.
///
/// ```
/// let p = oss_credentials::prefix_upload_policy("photos", "users/42/");
/// assert!(p.contains(r#""Resource":["acs:oss:*:*:photos/users/42/*"]"#));
/// ```
pub fn prefix_upload_policy(bucket: &str, prefix: &str) -> String {
    let resource = format!("acs:oss:*:*:{bucket}/{prefix}*");
    serde_json::json!({
        "Version": "1",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["oss:PutObject"],
            "Resource": [resource],
        }],
    })
    .to_string()
}

/// Assumes `role_arn` with [`prefix_upload_policy`] and returns the temporary credentials.
///
/// # Errors
/// As [`AssumeRoleProvider`]'s load.
pub async fn assume_role_for_prefix(
    ctx: Context,
    source: impl ProvideCredentials + 'static,
    role_arn: &str,
    bucket: &str,
    prefix: &str,
    endpoint: StsEndpoint,
) -> Result<Credentials, Error> {
    AssumeRoleProvider::new(ctx, source)
        .with_role_arn(role_arn)
        .with_policy(prefix_upload_policy(bucket, prefix))
        .with_endpoint(endpoint)
        .load()
        .await
        .map(|s| s.credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_shapes() {
        for good in [
            "acs:ram::1234567890123456:role/uploader",
            "acs:ram::1:role/a.b",
        ] {
            check_role_arn("t", good).unwrap();
        }
        for bad in [
            "arn:aws:iam::1:role/x",
            "acs:ram::abc:role/x",
            "acs:ram::1:user/x",
            "acs:ram::1:role/",
        ] {
            let e = check_role_arn("t", bad).unwrap_err().to_string();
            assert!(e.starts_with("t: invalid RoleArn"), "{e}");
        }
    }
}
