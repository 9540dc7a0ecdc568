//! What the bucket needs before a page can post to it: an in-process emulator when no endpoint
//! is given (with its mock STS for the mobile route), and a CORS rule for the app's origin.

use std::path::PathBuf;

use bytes::Bytes;
use http::Method;
use oss_emulator::{Emulator, IdentityConfig};
use oss_sign::{Credentials, StaticCredentialsProvider};
use oss_transport::{Addressing, Endpoint, Request};

/// The role the emulator's STS lets the app assume (any `acs:ram::` ARN works there).
pub const EMULATOR_ROLE_ARN: &str = "acs:ram::1234567890123456:role/uploader";

/// An in-process emulator with its identity side on; the STS CA is written into `dir`.
pub struct LocalOss {
    /// The running emulator (stops when dropped with the process).
    pub emulator: Emulator,
    /// The CA file the mobile route trusts for the emulator's STS.
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl LocalOss {
    /// Starts it on 127.0.0.1, port 0, with the app's key.
    ///
    /// # Errors
    /// When the emulator cannot start or the temporary directory cannot be made.
    pub async fn start(
        region: &str,
        access_key_id: &str,
        access_key_secret: &str,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let dir = tempfile::tempdir()?;
        let ca_file = dir.path().join("sts-ca.pem");
        let emulator = Emulator::builder()
            .with_region(region)
            .with_credentials(access_key_id, access_key_secret)
            .with_identity(IdentityConfig::new().with_ca_file(&ca_file))
            .start()
            .await?;
        Ok(Self {
            emulator,
            ca_file,
            _dir: dir,
        })
    }
}

/// `PutBucketCors` with one rule for the page's origins. The browser's `XMLHttpRequest` with an
/// upload progress listener always sends a preflight `OPTIONS`, which OSS answers from these
/// rules; `ETag` and `x-oss-request-id` are exposed so the page can read them. This replaces any
/// rules the bucket had.
///
/// # Errors
/// When the request cannot be signed or sent, or OSS refuses it.
pub async fn put_cors(
    endpoint: &str,
    path_style: bool,
    bucket: &str,
    region: &str,
    credentials: Credentials,
    origins: &[String],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let addressing = if path_style {
        Addressing::PathStyle
    } else {
        Addressing::VirtualHosted
    };
    let client = oss_transport::Client::builder()
        .with_endpoint(Endpoint::custom(endpoint)?.with_addressing(addressing))
        .with_region(region)
        .with_credentials_provider(StaticCredentialsProvider::new(credentials))
        .build()?;
    let origins: String = origins
        .iter()
        .map(|o| format!("<AllowedOrigin>{o}</AllowedOrigin>"))
        .collect();
    let xml = format!(
        "<CORSConfiguration><CORSRule>{origins}\
         <AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod>\
         <AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>\
         <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-oss-request-id</ExposeHeader>\
         <MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>\
         <ResponseVary>false</ResponseVary></CORSConfiguration>"
    );
    client
        .send(
            Request::new(Method::PUT)
                .with_bucket(bucket)
                .with_query("cors", "")
                .with_body(Bytes::from(xml)),
        )
        .await?;
    Ok(())
}
