//! The ECS RAM role link: temporary credentials from the instance metadata service (spec §4).

use std::time::Duration;

use bytes::Bytes;

use crate::context::BoxFuture;
use crate::net::{self, CredentialsBody};
use crate::source::provide_by_loading;
use crate::{Context, CredentialSource, Error, LoadCredentials, Sourced};

const SOURCE: &str = "ECS metadata";
/// The real metadata service: plain HTTP on a link-local-like address.
pub const IMDS_DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
/// Project test/emulation hook (not an Alibaba name): the IMDS base URL, e.g. the emulator's
/// `http://127.0.0.1:PORT`. [`EcsRamRoleProvider::with_endpoint`] takes precedence.
pub const IMDS_ENDPOINT_VAR: &str = "OSS_RS_IMDS_ENDPOINT";
/// The role name, which skips role discovery.
pub const ECS_METADATA_VAR: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `true`: a failed token request is fatal (no fallback to the token-less v1 mode).
pub const IMDSV1_DISABLED_VAR: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// The token lifetime the official libraries ask for (the maximum).
const TOKEN_TTL: &str = "21600";
/// Per-request deadline: the libraries use 1 s connect + 1 s read, so a chain run off ECS
/// loses about two seconds here at most.
const TIMEOUT: Duration = Duration::from_secs(1);
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// Credentials of the ECS instance's RAM role.
///
/// 1. `PUT /latest/api/token` (hardened mode); on failure go on without a token unless
///    `ALIBABA_CLOUD_IMDSV1_DISABLED=true` / [`with_imdsv1_disabled`](Self::with_imdsv1_disabled).
/// 2. The role: [`with_role_name`](Self::with_role_name), else `ALIBABA_CLOUD_ECS_METADATA`,
///    else `GET /latest/meta-data/ram/security-credentials/` (trimmed).
/// 3. `GET …/security-credentials/<role>`: `Code` must be `Success`, with the three keys and
///    `Expiration`.
///
/// A GET that fails with a token is retried once without it unless v1 is disabled (the
/// credentials-java/python rule, spec §4 and §8.4). Each request has a 1 s deadline.
///
/// The base URL is [`with_endpoint`](Self::with_endpoint), else `OSS_RS_IMDS_ENDPOINT` (a test
/// hook of this project), else `http://100.100.100.200`.
#[derive(Debug, Clone)]
pub struct EcsRamRoleProvider {
    ctx: Context,
    endpoint: Option<String>,
    role_name: Option<String>,
    imdsv1_disabled: Option<bool>,
}

impl EcsRamRoleProvider {
    /// A provider reading its settings from `ctx` at each load.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            endpoint: None,
            role_name: None,
            imdsv1_disabled: None,
        }
    }

    /// The IMDS base URL (scheme, host, port). Default: `OSS_RS_IMDS_ENDPOINT`, else
    /// `http://100.100.100.200`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The role name, skipping discovery. Default: `ALIBABA_CLOUD_ECS_METADATA`.
    pub fn with_role_name(mut self, role: impl Into<String>) -> Self {
        self.role_name = Some(role.into()).filter(|r: &String| !r.trim().is_empty());
        self
    }

    /// Whether the token-less v1 mode is forbidden. Default: `ALIBABA_CLOUD_IMDSV1_DISABLED`.
    pub fn with_imdsv1_disabled(mut self, disabled: bool) -> Self {
        self.imdsv1_disabled = Some(disabled);
        self
    }

    fn base(&self) -> String {
        let base = self
            .endpoint
            .clone()
            .or_else(|| self.ctx.non_empty(IMDS_ENDPOINT_VAR))
            .unwrap_or_else(|| IMDS_DEFAULT_ENDPOINT.to_owned());
        let base = if base.contains("://") {
            base
        } else {
            format!("http://{base}")
        };
        base.trim_end_matches('/').to_owned()
    }

    fn v1_disabled(&self) -> bool {
        self.imdsv1_disabled
            .unwrap_or_else(|| self.ctx.is_true(IMDSV1_DISABLED_VAR))
    }

    async fn token(&self, base: &str) -> Result<String, Error> {
        let url = format!("{base}/latest/api/token");
        let req = http::Request::put(&url)
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", TOKEN_TTL)
            .body(Bytes::new())
            .map_err(|e| net::bad(SOURCE, &url, e.to_string()))?;
        let resp = net::send(&self.ctx, SOURCE, req, TIMEOUT).await?;
        if !resp.status().is_success() {
            return Err(net::service_error(SOURCE, &url, &resp));
        }
        let token = std::str::from_utf8(resp.body())
            .map(str::trim)
            .unwrap_or("")
            .to_owned();
        if token.is_empty() || token.contains(char::is_control) {
            return Err(net::bad(SOURCE, &url, "the token is empty or not text"));
        }
        Ok(token)
    }

    /// GET `path` with the token, and once more without it when that fails and v1 is allowed.
    async fn get(&self, base: &str, path: &str, token: Option<&str>) -> Result<Bytes, Error> {
        let url = format!("{base}{path}");
        let first = self.get_once(&url, token).await;
        match first {
            Err(e) if token.is_some() && !self.v1_disabled() => {
                tracing::debug!(error = %e, "IMDS GET with a token failed; retrying in v1 mode");
                self.get_once(&url, None).await
            }
            other => other,
        }
    }

    async fn get_once(&self, url: &str, token: Option<&str>) -> Result<Bytes, Error> {
        let mut req = http::Request::get(url);
        if let Some(t) = token {
            req = req.header("X-aliyun-ecs-metadata-token", t);
        }
        let req = req
            .body(Bytes::new())
            .map_err(|e| net::bad(SOURCE, url, e.to_string()))?;
        let resp = net::send(&self.ctx, SOURCE, req, TIMEOUT).await?;
        if resp.status() == http::StatusCode::NOT_FOUND {
            return Err(net::bad(
                SOURCE,
                url,
                "HTTP 404: no such role on this instance (is a RAM role attached?)",
            ));
        }
        if !resp.status().is_success() {
            return Err(net::service_error(SOURCE, url, &resp));
        }
        Ok(resp.into_body())
    }

    async fn fetch(&self) -> Result<Sourced, Error> {
        let base = self.base();
        let token = match self.token(&base).await {
            Ok(t) => Some(t),
            Err(e) if self.v1_disabled() => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "IMDS token request failed; going on in v1 mode");
                None
            }
        };
        let role = match self
            .role_name
            .clone()
            .or_else(|| self.ctx.non_empty(ECS_METADATA_VAR))
        {
            Some(r) => r,
            None => {
                let body = self.get(&base, CREDENTIALS_PATH, token.as_deref()).await?;
                let url = format!("{base}{CREDENTIALS_PATH}");
                let role = std::str::from_utf8(&body)
                    .map(str::trim)
                    .unwrap_or("")
                    .to_owned();
                let valid = !role.is_empty()
                    && role
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
                if !valid {
                    return Err(net::bad(
                        SOURCE,
                        &url,
                        "the role list is empty or not a role name",
                    ));
                }
                role
            }
        };
        let path = format!("{CREDENTIALS_PATH}{role}");
        let url = format!("{base}{path}");
        let body = self.get(&base, &path, token.as_deref()).await?;
        let creds =
            CredentialsBody::parse(SOURCE, &url, &body)?.into_credentials(SOURCE, &url, true)?;
        Ok(Sourced::new(creds, CredentialSource::EcsRamRole { role }))
    }
}

impl LoadCredentials for EcsRamRoleProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.fetch())
    }
}

provide_by_loading!(EcsRamRoleProvider);
