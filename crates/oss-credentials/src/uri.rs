//! The credentials URI link: `GET ALIBABA_CLOUD_CREDENTIALS_URI` (spec §6).

use std::time::Duration;

use bytes::Bytes;

use crate::context::BoxFuture;
use crate::net::{self, CredentialsBody};
use crate::source::provide_by_loading;
use crate::{Context, CredentialSource, Error, LoadCredentials, Sourced};

/// The URI to fetch.
pub const CREDENTIALS_URI_VAR: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";
const SOURCE: &str = "credentials URI";
const TIMEOUT: Duration = Duration::from_secs(15);

/// Temporary credentials from a local or remote URL, fetched unsigned.
///
/// Only HTTP 200 is accepted, and the JSON must have `Code == "Success"`, `AccessKeyId`,
/// `AccessKeySecret`, `SecurityToken` and `Expiration` (the stricter reading of the libraries,
/// spec §6). Errors show the URL without its query, which may carry a token.
#[derive(Debug, Clone)]
pub struct CredentialsUriProvider {
    ctx: Context,
    uri: Option<String>,
}

impl CredentialsUriProvider {
    /// A provider reading `ALIBABA_CLOUD_CREDENTIALS_URI` from `ctx` at each load.
    pub fn new(ctx: Context) -> Self {
        Self { ctx, uri: None }
    }

    /// The URI, overriding the variable.
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    async fn fetch(&self) -> Result<Sourced, Error> {
        let uri = self
            .uri
            .clone()
            .or_else(|| self.ctx.non_empty(CREDENTIALS_URI_VAR))
            .ok_or_else(|| Error::InvalidSetting {
                source_name: SOURCE,
                name: CREDENTIALS_URI_VAR,
                reason: "not set".to_owned(),
            })?;
        let shown = net::display_url(&uri);
        let req = http::Request::get(uri.as_str())
            .body(Bytes::new())
            .map_err(|_| Error::InvalidSetting {
                source_name: SOURCE,
                name: CREDENTIALS_URI_VAR,
                reason: format!("{shown:?} is not a URL"),
            })?;
        let resp = net::send(&self.ctx, SOURCE, req, TIMEOUT).await?;
        if resp.status() != http::StatusCode::OK {
            return Err(net::service_error(SOURCE, &uri, &resp));
        }
        let creds = CredentialsBody::parse(SOURCE, &uri, resp.body())?
            .into_credentials(SOURCE, &uri, true)?;
        Ok(Sourced::new(
            creds,
            CredentialSource::CredentialsUri { url: shown },
        ))
    }
}

impl LoadCredentials for CredentialsUriProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        Box::pin(self.fetch())
    }
}

provide_by_loading!(CredentialsUriProvider);
