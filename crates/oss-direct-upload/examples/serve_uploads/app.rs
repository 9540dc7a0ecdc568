//! The example app around the kit: the toy auth hook, the upload handler, the mobile route that
//! hands out prefix-scoped STS credentials, and (only with `--test-hooks`) the knobs the browser
//! test needs. `tests/mobile_sts.rs` mounts this same app in-process.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use oss_credentials::{assume_role_for_prefix, Context, HyperHttp, StaticEnv, StsEndpoint};
use oss_direct_upload::{DirectUpload, Rejection, UploadGrant, UploadedObject};
use oss_presign::{PresignRequest, Presigner};
use oss_sign::{Credentials, StaticCredentialsProvider};
use tower::ServiceExt as _;

/// The page served at `/` unless `--page` replaces it.
pub const DEFAULT_PAGE: &str = include_str!("page.html");

/// Where the kit's routes live: `GET /uploads/token`, `POST /uploads/callback`.
pub const ROUTE_PREFIX: &str = "/uploads";

/// The mobile variant's route: prefix-scoped temporary credentials for an app SDK.
pub const STS_PATH: &str = "/uploads/sts";

/// The toy grant's limit (the browser test uploads 5 MiB).
pub const MAX_SIZE: u64 = 10 << 20;

/// Content types the toy grant allows; the page sends the file's own type, or
/// `application/octet-stream` when the browser knows none.
pub const CONTENT_TYPES: [&str; 4] = [
    "text/plain",
    "image/png",
    "image/jpeg",
    "application/octet-stream",
];

/// Where the mobile route gets its credentials.
#[derive(Debug, Clone)]
pub struct StsSettings {
    /// The role to assume (`acs:ram::<account>:role/<name>`).
    pub role_arn: String,
    /// STS base URL; `None` for Alibaba Cloud's own endpoint.
    pub endpoint: Option<String>,
    /// An extra CA (PEM file) to trust for STS, such as the emulator's.
    pub ca_file: Option<PathBuf>,
}

/// Everything the app needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bucket uploads go to.
    pub bucket: String,
    /// Region id (`cn-hangzhou`).
    pub region: String,
    /// The OSS endpoint the page posts to, `http://127.0.0.1:PORT` for an emulator.
    pub endpoint: String,
    /// Path-style addressing (emulators).
    pub path_style: bool,
    /// The app's own key; it signs tokens and is the STS source identity.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
    /// The app's URL as the browser and OSS reach it, `http://127.0.0.1:PORT`.
    pub public_base_url: String,
    /// The page served at `/`.
    pub page: Bytes,
    /// Honour the browser test's knobs (`expired`, `max_size`, `/__test/*`). Never in production:
    /// they let any caller mint tokens the toy hook would not.
    pub test_hooks: bool,
    /// The mobile route, when configured.
    pub sts: Option<StsSettings>,
}

/// The running app: the kit plus the example's own routes.
#[derive(Clone)]
pub struct App {
    kit: DirectUpload,
    settings: Arc<Settings>,
    presigner: Presigner,
    handled: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("kit", &self.kit)
            .field("public_base_url", &self.settings.public_base_url)
            .finish_non_exhaustive()
    }
}

/// The query parameter `name` of a request, if present and non-empty.
fn query_param<'a>(uri: &'a http::Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name && !v.is_empty()).then_some(v)
    })
}

/// The toy hook: whoever the request says it is (never do this for real). None is 401,
/// `mallory` is 403, anyone else may write under `users/<user>/`.
fn toy_grant<B>(req: &Request<B>, test_hooks: bool) -> Result<UploadGrant, Rejection> {
    let user = req
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .or_else(|| query_param(req.uri(), "user"));
    let user = match user {
        None => return Err(Rejection::unauthorized("send x-user or ?user=")),
        Some("mallory") => return Err(Rejection::forbidden("mallory may not upload")),
        Some(u)
            if !u
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
        {
            return Err(Rejection::forbidden(
                "user names are lower-case letters and digits",
            ))
        }
        Some(u) => u,
    };
    let mut max_size = MAX_SIZE;
    if test_hooks {
        if let Some(n) = query_param(req.uri(), "max_size").and_then(|v| v.parse().ok()) {
            max_size = n;
        }
    }
    Ok(UploadGrant::new(format!("users/{user}/"))
        .with_max_size(max_size)
        .with_content_types(CONTENT_TYPES)
        .with_trusted("user", user))
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / f64::from(1 << 10))
    } else {
        format!("{bytes} bytes")
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn refusal(rejection: &Rejection) -> Response<Full<Bytes>> {
    let body = serde_json::from_str(&rejection.to_json()).unwrap_or_default();
    json(rejection.status(), &body)
}

/// `Expiration` as STS writes it (`2015-11-03T09:52:59Z`).
fn iso8601(t: SystemTime) -> String {
    let s = oss_sign::format_datetime(t);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

impl App {
    /// Builds the kit and the presigner for `settings`.
    ///
    /// # Errors
    /// When the kit or the presigner refuse the settings.
    pub fn new(settings: Settings) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let handled: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let seen = Arc::clone(&handled);
        let test_hooks = settings.test_hooks;
        let kit = DirectUpload::builder()
            .with_bucket(settings.bucket.clone())
            .with_region(settings.region.clone())
            .with_endpoint(settings.endpoint.clone())
            .with_path_style(settings.path_style)
            .with_static_credentials(
                settings.access_key_id.clone(),
                settings.access_key_secret.clone(),
            )
            .with_public_base_url(settings.public_base_url.clone())
            .with_route_prefix(ROUTE_PREFIX)
            .with_allowed_key_url_prefix(format!(
                "{}/__emulator/",
                settings.endpoint.trim_end_matches('/')
            ))
            .with_authorize(move |req: Request<()>| {
                let grant = toy_grant(&req, test_hooks);
                async move { grant }
            })
            .with_upload_handler(move |upload: UploadedObject| {
                let seen = Arc::clone(&seen);
                async move {
                    let user = upload.trusted.get("user").cloned().unwrap_or_default();
                    let answer = serde_json::json!({
                        "ok": true,
                        "object": upload.object,
                        "size": upload.size,
                        "etag": upload.etag,
                        "mimeType": upload.mime_type,
                        "user": user,
                        "message": format!(
                            "Thanks {user}: {} ({}) is stored.",
                            upload.object,
                            human_size(upload.size)
                        ),
                    });
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(answer.clone());
                    }
                    Ok(answer)
                }
            })
            .with_page("/", settings.page.clone())
            .build()?;
        let addressing = if settings.path_style {
            oss_presign::Addressing::PathStyle
        } else {
            oss_presign::Addressing::VirtualHosted
        };
        let presigner = Presigner::builder(settings.region.clone())
            .with_endpoint(settings.endpoint.clone())
            .with_addressing(addressing)
            .with_credentials(Credentials::new(
                settings.access_key_id.clone(),
                settings.access_key_secret.clone(),
            ))
            .build()?;
        Ok(Self {
            kit,
            settings: Arc::new(settings),
            presigner,
            handled,
        })
    }

    /// Answers one request: the example's routes first, then the kit.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path();
        if req.method() == Method::GET {
            if path == STS_PATH {
                return self.sts(&req).await;
            }
            if self.settings.test_hooks {
                let token_path = format!("{ROUTE_PREFIX}/token");
                if path == token_path && query_param(req.uri(), "expired").is_some() {
                    return self.expired_token(&req).await;
                }
                match path {
                    "/__test/presign" => return self.presign_get(&req).await,
                    "/__test/handled" => {
                        let seen = self.handled.lock().map(|s| s.clone()).unwrap_or_default();
                        return json(StatusCode::OK, &serde_json::Value::Array(seen));
                    }
                    _ => {}
                }
            }
        }
        match self.kit.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    /// A token signed two minutes ago that expired one minute ago: what a page that kept a token
    /// too long holds. The signing time stays within OSS's 15-minute skew, so the policy's
    /// expiry is what refuses it.
    async fn expired_token<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let grant = match toy_grant(req, true) {
            Ok(g) => g.with_expires_in(Duration::from_secs(60)),
            Err(r) => return refusal(&r),
        };
        let issued = SystemTime::now() - Duration::from_secs(120);
        match self.kit.issue_token(&grant, issued).await {
            Ok(token) => json(
                StatusCode::OK,
                &serde_json::to_value(&token).unwrap_or_default(),
            ),
            Err(e) => json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({ "error": "Internal Server Error", "message": e.to_string() }),
            ),
        }
    }

    /// A presigned GET for `?key=`, so the browser test can read the bucket without signing.
    async fn presign_get<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let Some(key) = query_param(req.uri(), "key") else {
            return json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": "Bad Request", "message": "send ?key=" }),
            );
        };
        let key = percent_decode(key);
        let request = PresignRequest::get_object(self.settings.bucket.clone(), key)
            .with_expires(Duration::from_secs(300));
        match self.presigner.presign(&request).await {
            Ok(p) => json(
                StatusCode::OK,
                &serde_json::json!({ "url": p.uri.to_string() }),
            ),
            Err(e) => json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({ "error": "Internal Server Error", "message": e.to_string() }),
            ),
        }
    }

    /// The mobile variant: temporary credentials that may only write under the user's prefix,
    /// for an app SDK that signs its own PutObject or multipart upload (with a callback).
    async fn sts<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let grant = match toy_grant(req, false) {
            Ok(g) => g,
            Err(r) => return refusal(&r),
        };
        let Some(sts) = &self.settings.sts else {
            return json(
                StatusCode::NOT_IMPLEMENTED,
                &serde_json::json!({
                    "error": "Not Implemented",
                    "message": "no STS configured (start with --role-arn, or without --endpoint)",
                }),
            );
        };
        let http = match &sts.ca_file {
            Some(ca) => HyperHttp::with_ca_file(ca),
            None => Ok(HyperHttp::new()),
        };
        let http = match http {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "STS client could not be built");
                return sts_unavailable();
            }
        };
        // The app's own environment must not redirect STS; its endpoint is configuration.
        let ctx = Context::new().with_env(StaticEnv::new()).with_http(http);
        let mut endpoint = StsEndpoint::new().with_region(self.settings.region.clone());
        if let Some(url) = &sts.endpoint {
            endpoint = endpoint.with_endpoint(url.clone());
        }
        let source = StaticCredentialsProvider::new(Credentials::new(
            self.settings.access_key_id.clone(),
            self.settings.access_key_secret.clone(),
        ));
        let creds = assume_role_for_prefix(
            ctx,
            source,
            &sts.role_arn,
            &self.settings.bucket,
            grant.key_prefix(),
            endpoint,
        )
        .await;
        match creds {
            Ok(c) => json(
                StatusCode::OK,
                &serde_json::json!({
                    "AccessKeyId": c.access_key_id(),
                    "AccessKeySecret": c.access_key_secret().expose(),
                    "SecurityToken": c.security_token().map(|t| t.expose()),
                    "Expiration": c.expiration().map(iso8601),
                    "bucket": self.settings.bucket,
                    "region": self.settings.region,
                    "endpoint": self.settings.endpoint,
                    "prefix": grant.key_prefix(),
                }),
            ),
            Err(e) => {
                tracing::error!(error = %e, "AssumeRole failed");
                sts_unavailable()
            }
        }
    }
}

fn sts_unavailable() -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_GATEWAY,
        &serde_json::json!({ "error": "Bad Gateway", "message": "temporary credentials unavailable" }),
    )
}

/// Decodes `%XX` escapes (`+` stays `+`: keys may contain it).
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves the app on `listener` until the process ends.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}
