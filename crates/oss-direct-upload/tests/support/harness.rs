//! Test harness: an emulator, the kit served over loopback hyper, a counting upload handler,
//! and a hand-written multipart/form-data poster.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use oss_direct_upload::{DirectUpload, Rejection, UploadGrant, UploadedObject};
use oss_emulator::Emulator;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

pub const AK: &str = "kit-ak";
pub const SK: &str = "kit-sk";
pub const REGION: &str = oss_test_support::REGION;
pub const BUCKET: &str = "kit-bucket";

pub struct Harness {
    pub emu: Emulator,
    pub kit: DirectUpload,
    /// Where the kit listens, `http://127.0.0.1:PORT`.
    pub kit_url: String,
    /// Every object the handler was called with.
    pub calls: Arc<Mutex<Vec<UploadedObject>>>,
    /// Every request that reached the callback route, as received (headers, raw body).
    pub raw_callbacks: Arc<Mutex<Vec<(http::HeaderMap, Bytes)>>>,
}

/// The toy grant: `x-user: <name>` → `users/<name>/`, 16 bytes, text/plain or image/png.
pub fn grant_for(user: &str) -> UploadGrant {
    UploadGrant::new(format!("users/{user}/"))
        .with_max_size(16)
        .with_content_types(["text/plain", "image/png"])
        .with_expires_in(Duration::from_secs(300))
        .with_trusted("user", user)
}

pub async fn start() -> Harness {
    let emu = oss_test_support::emulator(AK, SK)
        .with_callback_timeout(Duration::from_secs(5))
        .start()
        .await
        .expect("emulator");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let kit_url = format!("http://{}", listener.local_addr().expect("addr"));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let kit = DirectUpload::builder()
        .with_bucket(BUCKET)
        .with_region(REGION)
        .with_endpoint(emu.endpoint())
        .with_path_style(true)
        .with_static_credentials(AK, SK)
        .with_public_base_url(kit_url.clone())
        .with_route_prefix("/uploads")
        .with_allowed_key_url_prefix(format!("{}/__emulator/", emu.endpoint()))
        .with_authorize(|req: Request<()>| async move {
            match req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
                Some("mallory") => Err(Rejection::forbidden("mallory may not upload")),
                Some(user) => Ok(grant_for(user)),
                None => Err(Rejection::unauthorized("who are you?")),
            }
        })
        .with_upload_handler(move |upload: UploadedObject| {
            let seen = Arc::clone(&seen);
            async move {
                let answer = serde_json::json!({
                    "stored": upload.object,
                    "user": upload.trusted.get("user"),
                    "size": upload.size,
                });
                seen.lock().unwrap().push(upload);
                Ok(answer)
            }
        })
        .build()
        .expect("kit");
    let served = kit.clone();
    let raw_callbacks = Arc::new(Mutex::new(Vec::new()));
    let raw = Arc::clone(&raw_callbacks);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let kit = served.clone();
            let raw = Arc::clone(&raw);
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let kit = kit.clone();
                    let raw = Arc::clone(&raw);
                    async move {
                        // Keep a copy of what OSS sent, to replay it altered.
                        let (parts, body) = req.into_parts();
                        let bytes = body
                            .collect()
                            .await
                            .map(|c| c.to_bytes())
                            .unwrap_or_default();
                        if parts.uri.path() == "/uploads/callback" {
                            raw.lock()
                                .unwrap()
                                .push((parts.headers.clone(), bytes.clone()));
                        }
                        let req = Request::from_parts(parts, Full::new(bytes));
                        Ok::<_, Infallible>(kit.oneshot(req).await.unwrap_or_else(|e| match e {}))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Harness {
        emu,
        kit,
        kit_url,
        calls,
        raw_callbacks,
    }
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends a request, returns status, headers and body.
pub async fn send(req: Request<Full<Bytes>>) -> (StatusCode, http::HeaderMap, String) {
    let resp = client().request(req).await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// `GET <kit>/uploads/token` as `user` (none: anonymous).
pub async fn token(h: &Harness, user: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut req = Request::get(format!("{}/uploads/token", h.kit_url));
    if let Some(u) = user {
        req = req.header("x-user", u);
    }
    let (status, _, body) = send(req.body(Full::default()).unwrap()).await;
    (status, serde_json::from_str(&body).expect("token JSON"))
}

/// The token's fields plus `key` and `Content-Type`, as (name, value) in order.
pub fn form_fields(
    token: &serde_json::Value,
    key: &str,
    content_type: &str,
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = token["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
        .collect();
    fields.retain(|(k, _)| k != "key");
    fields.push(("key".into(), key.into()));
    fields.push(("Content-Type".into(), content_type.into()));
    fields
}

/// Replaces (or adds) one field.
pub fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.into(), value.into()));
}

/// POSTs `fields` then `file` as multipart/form-data to `url`, with an optional `Origin`.
pub async fn post_form(
    url: &str,
    fields: &[(String, String)],
    file_name: &str,
    file_type: &str,
    data: &[u8],
    origin: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let boundary = "kit-test-boundary-7d1f0c";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = Request::post(url).header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    send(req.body(Full::new(Bytes::from(body))).unwrap()).await
}

/// A HEAD of `key` signed by the oss-upload client (200 or 404).
pub async fn exists(h: &Harness, key: &str) -> bool {
    let client = oss_upload::Client::builder(BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(REGION)
        .with_static_credentials(AK, SK)
        .with_path_style(true)
        .build()
        .expect("client");
    client.head_object(key).await.is_ok()
}
