//! The app-server half of direct uploads to Alibaba Cloud OSS, as one tower `Service`.
//!
//! A web page or mobile app sends the file straight to OSS with a signed PostObject form; OSS
//! stores it, calls the app server back, and relays the app server's JSON answer to the page.
//! [`DirectUpload`] is that app server, mountable on hyper, axum or anything tower-compatible:
//!
//! - **`GET <prefix>/token`**: your async [`Authorize`] hook authenticates the request and
//!   returns an [`UploadGrant`] (key prefix, max size, content types, expiry, trusted values).
//!   The answer is an [`UploadToken`]: host, key prefix, the V4 POST policy and its `x-oss-*`
//!   fields (with `x-oss-security-token` for STS credentials), `success_action_status` and the
//!   callback. The browser cannot change who an upload belongs to: trusted values are constants
//!   in the callback body, the `callback` field and the key prefix are pinned by policy
//!   conditions, and each `x:` field is pinned with `eq`. A refusal is 401/403 JSON.
//! - **`POST <prefix>/callback`**: OSS's signature is checked over the raw body and the path of
//!   the callback URL the kit issued (built from the configured public base URL, never from a
//!   `Host` header), with `oss-callback`'s [`CallbackVerifier`](oss_callback::CallbackVerifier).
//!   Then your async [`HandleUpload`] hook gets an [`UploadedObject`] (bucket, object, size,
//!   mimeType, etag, trusted values), and its JSON is what OSS relays to the page. A forged or
//!   altered callback gets 403 and never reaches the hook.
//!
//! The policy and form come from `oss-upload` ([`oss_upload::PostPolicy`],
//! [`oss_upload::Client::browser_form`]); verification from `oss-callback`. The bucket needs a
//! CORS rule allowing `POST` from the page's origin (docs/guides/form-upload.md).
//!
//! # Example
//!
//! ```
//! use http::{Request, StatusCode};
//! use http_body_util::{BodyExt as _, Empty};
//! use oss_direct_upload::{DirectUpload, Rejection, UploadGrant};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let kit = DirectUpload::builder()
//!     .with_bucket("examplebucket")
//!     .with_region("cn-hangzhou")
//!     .with_static_credentials("ak", "sk")
//!     .with_public_base_url("https://app.example.com")
//!     .with_route_prefix("/uploads")
//!     .with_authorize(|req: Request<()>| async move {
//!         // A real app checks a session here.
//!         match req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
//!             Some(user) => Ok(UploadGrant::new(format!("users/{user}/"))
//!                 .with_max_size(10 << 20)
//!                 .with_trusted("user", user)),
//!             None => Err(Rejection::unauthorized("sign in first")),
//!         }
//!     })
//!     .with_upload_handler(|upload: oss_direct_upload::UploadedObject| async move {
//!         Ok(serde_json::json!({ "stored": upload.object, "user": upload.trusted["user"] }))
//!     })
//!     .build()?;
//! assert_eq!(kit.callback_url(), "https://app.example.com/uploads/callback");
//!
//! let request = Request::get("/uploads/token").header("x-user", "alice").body(Empty::<bytes::Bytes>::new())?;
//! let response = kit.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let token: serde_json::Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
//! assert_eq!(token["host"], "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/");
//! assert_eq!(token["dir"], "users/alice/");
//! assert_eq!(token["fields"]["x:user"], "alice");
//! assert_eq!(token["success_action_status"], "200");
//!
//! let anonymous = Request::get("/uploads/token").body(Empty::<bytes::Bytes>::new())?;
//! assert_eq!(kit.oneshot(anonymous).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! # Serving
//!
//! The service takes any `http_body::Body` and answers `Response<Full<Bytes>>` with
//! `Infallible` errors, so it can be an axum fallback or nested service, or be wrapped for hyper
//! with `hyper::service::service_fn` (the `serve_uploads` example does that, against the
//! emulator).
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod builder;
mod error;
mod grant;
mod hooks;
mod rejection;
mod service;
mod token;
mod uploaded;

pub use builder::{DirectUploadBuilder, DEFAULT_MAX_CALLBACK_BODY};
pub use error::Error;
pub use grant::{UploadGrant, DEFAULT_MAX_SIZE, DEFAULT_TOKEN_VALIDITY};
pub use hooks::{Authorize, BoxFuture, HandleUpload};
pub use rejection::Rejection;
pub use service::DirectUpload;
pub use token::{UploadToken, SUCCESS_ACTION_STATUS};
pub use uploaded::UploadedObject;
