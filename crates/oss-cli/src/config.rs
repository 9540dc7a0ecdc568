//! From the global options to a region, credentials, an upload client and a presigner.

use std::sync::Arc;

use oss_credentials::{Context, DefaultChain};
use oss_sign::{Credentials, ProvideCredentials, StaticCredentialsProvider};

use crate::args::GlobalArgs;
use crate::Error;

/// Credentials for a command, where they came from, and the region their profile names.
pub(crate) struct Resolved {
    pub(crate) provider: Arc<dyn ProvideCredentials>,
    pub(crate) credentials: Credentials,
    pub(crate) source: String,
    pub(crate) profile_region: Option<String>,
}

impl GlobalArgs {
    /// The region: `--region` / `OSS_REGION`, else taken from an `oss-<region>.aliyuncs.com`
    /// (or `-internal`) endpoint, else the credentials profile's `region_id`.
    /// Checked against [`oss_types::Region`], so `--region oss-cn-hangzhou` is refused with a
    /// did-you-mean before anything is sent.
    /// An explicit region must agree with an `oss-<region>.aliyuncs.com` endpoint.
    pub(crate) fn resolved_region(&self, profile_region: Option<&str>) -> Result<String, Error> {
        let region = self.unchecked_region(profile_region)?;
        oss_types::Region::new(region.as_str()).map_err(|e| Error::Config(e.to_string()))?;
        if let Some(endpoint) = &self.endpoint {
            crate::validate::check_region_agrees(&region, endpoint)?;
        }
        Ok(region)
    }

    /// `--path-style`, or implied by an IP or `localhost` endpoint (see
    /// [`crate::validate::implies_path_style`]).
    pub(crate) fn path_style(&self) -> bool {
        self.path_style
            || self
                .endpoint
                .as_deref()
                .is_some_and(crate::validate::implies_path_style)
    }

    fn unchecked_region(&self, profile_region: Option<&str>) -> Result<String, Error> {
        if let Some(r) = self.region.as_deref().filter(|r| !r.is_empty()) {
            return Ok(r.to_owned());
        }
        self.endpoint
            .as_deref()
            .and_then(region_from_endpoint)
            .or_else(|| profile_region.map(str::to_owned))
            .ok_or_else(|| {
                Error::Config(
                    "a region is required: pass --region, set OSS_REGION, or set region_id in \
                     the aliyun CLI profile"
                        .into(),
                )
            })
    }

    /// Credentials: `--access-key-id` and `--access-key-secret` (or their `OSS_*`
    /// variables) when both are given; otherwise the default chain, with `--profile` and
    /// `--credentials-file`, behind a refresh-ahead cache.
    pub(crate) async fn credentials(&self) -> Result<Resolved, Error> {
        let id = self.access_key_id.as_deref().filter(|v| !v.is_empty());
        let secret = self.access_key_secret.as_deref().filter(|v| !v.is_empty());
        if let (Some(id), Some(secret)) = (id, secret) {
            let mut creds = Credentials::new(id, secret);
            if let Some(token) = self.session_token.as_deref().filter(|v| !v.is_empty()) {
                creds = creds.with_security_token(token);
            }
            // clap fills the flags from OSS_*: say which one the user actually used.
            let from_env = std::env::var("OSS_ACCESS_KEY_ID").ok().as_deref() == Some(id);
            let source = if from_env {
                "environment (OSS_ACCESS_KEY_ID)"
            } else {
                "command line (--access-key-id)"
            };
            return Ok(Resolved {
                provider: Arc::new(StaticCredentialsProvider::new(creds.clone())),
                credentials: creds,
                source: source.to_owned(),
                profile_region: None,
            });
        }
        // A real HTTP client (trusting OSS_RS_CA_FILE) for the IMDS, STS and URI links.
        let ctx = Context::new()
            .with_default_http()
            .map_err(|e| Error::Credentials(Box::new(e)))?;
        let mut chain = DefaultChain::builder().with_context(ctx);
        if let Some(p) = self.profile.as_deref().filter(|p| !p.is_empty()) {
            chain = chain.with_profile(p);
        }
        if let Some(path) = &self.credentials_file {
            chain = chain.with_credentials_file(path.clone());
        }
        let config = chain
            .build()
            .resolve_config()
            .await
            .map_err(|e| Error::Credentials(Box::new(e)))?;
        Ok(Resolved {
            provider: config.provider,
            credentials: config.credentials,
            source: config.source.to_string(),
            profile_region: config.region,
        })
    }

    /// An upload client for `bucket`.
    pub(crate) async fn upload_client(&self, bucket: &str) -> Result<oss_upload::Client, Error> {
        self.upload_client_with_crc(bucket, true).await
    }

    /// An upload client for `bucket` that computes and checks CRC-64 only when `crc_check`
    /// (`cp --no-crc`).
    pub(crate) async fn upload_client_with_crc(
        &self,
        bucket: &str,
        crc_check: bool,
    ) -> Result<oss_upload::Client, Error> {
        let resolved = self.credentials().await?;
        // OSS_RS_CA_FILE: the OSS side trusts the same private CA as the STS client.
        let transport = oss_credentials::extra_roots_from_env(&Context::new())
            .map_err(|e| Error::Credentials(Box::new(e)))?
            .into_iter()
            .fold(oss_transport::Client::builder(), |b, der| {
                b.with_root_certificate(der)
            });
        let mut builder = oss_upload::Client::builder(bucket)
            .with_region(self.resolved_region(resolved.profile_region.as_deref())?)
            .with_credentials_provider(resolved.provider)
            .with_transport_config(transport)
            .with_path_style(self.path_style())
            .with_crc_check(crc_check);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        tracing::info!(
            bucket,
            endpoint = self.endpoint.as_deref().unwrap_or("(the region's)"),
            path_style = self.path_style(),
            credentials = %resolved.source,
            "OSS client"
        );
        Ok(builder.build()?)
    }

    /// A presigner.
    pub(crate) async fn presigner(&self) -> Result<oss_presign::Presigner, Error> {
        let resolved = self.credentials().await?;
        let mut builder = oss_presign::Presigner::builder(
            self.resolved_region(resolved.profile_region.as_deref())?,
        )
        .with_shared_credentials_provider(resolved.provider);
        if let Some(endpoint) = &self.endpoint {
            let endpoint = if endpoint.contains("://") {
                endpoint.clone()
            } else {
                format!("https://{endpoint}")
            };
            builder = builder.with_endpoint(endpoint);
        }
        if self.path_style() {
            builder = builder.with_addressing(oss_presign::Addressing::PathStyle);
        }
        Ok(builder.build()?)
    }
}

/// `cn-hangzhou` from `https://oss-cn-hangzhou.aliyuncs.com` or
/// `oss-cn-hangzhou-internal.aliyuncs.com`.
fn region_from_endpoint(endpoint: &str) -> Option<String> {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split(['/', ':'])
        .next()?;
    let region = host.strip_suffix(".aliyuncs.com")?.rsplit('.').next()?;
    let region = region.strip_prefix("oss-")?;
    let region = region.strip_suffix("-internal").unwrap_or(region);
    (!region.is_empty()).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_from_public_and_internal_endpoints() {
        for (e, r) in [
            ("https://oss-cn-hangzhou.aliyuncs.com", Some("cn-hangzhou")),
            (
                "oss-eu-central-1-internal.aliyuncs.com",
                Some("eu-central-1"),
            ),
            (
                "http://bucket.oss-cn-beijing.aliyuncs.com:80/",
                Some("cn-beijing"),
            ),
            ("http://127.0.0.1:9000", None),
            ("https://cdn.example.com", None),
        ] {
            assert_eq!(region_from_endpoint(e).as_deref(), r, "{e}");
        }
    }
}
