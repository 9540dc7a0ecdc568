//! From the global options to a region, credentials, an upload client and a presigner.

use oss_sign::Credentials;

use crate::args::GlobalArgs;
use crate::Error;

impl GlobalArgs {
    /// The region: `--region` / `OSS_REGION`, else taken from an `oss-<region>.aliyuncs.com`
    /// (or `-internal`) endpoint.
    pub(crate) fn resolved_region(&self) -> Result<String, Error> {
        if let Some(r) = self.region.as_deref().filter(|r| !r.is_empty()) {
            return Ok(r.to_owned());
        }
        self.endpoint
            .as_deref()
            .and_then(region_from_endpoint)
            .ok_or_else(|| {
                Error::Config("a region is required: pass --region or set OSS_REGION".into())
            })
    }

    /// Credentials from the flags or `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` /
    /// `OSS_SESSION_TOKEN`.
    pub(crate) fn credentials(&self) -> Result<Credentials, Error> {
        let (Some(id), Some(secret)) = (
            self.access_key_id.as_deref().filter(|v| !v.is_empty()),
            self.access_key_secret.as_deref().filter(|v| !v.is_empty()),
        ) else {
            return Err(Error::Config(
                "credentials are required: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET \
                 (or pass --access-key-id and --access-key-secret)"
                    .into(),
            ));
        };
        let mut creds = Credentials::new(id, secret);
        if let Some(token) = self.session_token.as_deref().filter(|v| !v.is_empty()) {
            creds = creds.with_security_token(token);
        }
        Ok(creds)
    }

    /// An upload client for `bucket`.
    pub(crate) fn upload_client(&self, bucket: &str) -> Result<oss_upload::Client, Error> {
        let mut builder = oss_upload::Client::builder(bucket)
            .with_region(self.resolved_region()?)
            .with_credentials(self.credentials()?)
            .with_path_style(self.path_style);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        Ok(builder.build()?)
    }

    /// A presigner.
    pub(crate) fn presigner(&self) -> Result<oss_presign::Presigner, Error> {
        let mut builder = oss_presign::Presigner::builder(self.resolved_region()?)
            .with_credentials(self.credentials()?);
        if let Some(endpoint) = &self.endpoint {
            let endpoint = if endpoint.contains("://") {
                endpoint.clone()
            } else {
                format!("https://{endpoint}")
            };
            builder = builder.with_endpoint(endpoint);
        }
        if self.path_style {
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
