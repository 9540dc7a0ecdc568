//! A minimal runnable app server: the direct-upload kit with a toy auth hook, on plain hyper.
//!
//! ```text
//! cargo run -p oss-direct-upload --example serve_uploads -- \
//!     [--listen 127.0.0.1:8080] [--endpoint http://127.0.0.1:9000] [--bucket uploads] \
//!     [--region cn-hangzhou] [--access-key-id ak] [--access-key-secret sk] \
//!     [--public-base-url http://127.0.0.1:8080] [--page page.html]
//! ```
//!
//! Without `--endpoint` it starts an in-process emulator. Routes: `GET /uploads/token`,
//! `POST /uploads/callback`, and `GET /` serving `--page` when given. The toy auth hook takes
//! the user from the `x-user` header or the `user` query parameter (never do this for real):
//! none is 401, `mallory` is 403, anyone else may upload up to 1 MiB of text or images under
//! `users/<user>/`. The first line printed is `serve-uploads listening on http://ADDR`, then
//! `serve-uploads oss endpoint ENDPOINT`.

use std::convert::Infallible;
use std::net::SocketAddr;

use http::Request;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use oss_direct_upload::{DirectUpload, Rejection, UploadGrant, UploadedObject};
use tower::ServiceExt as _;

#[derive(Debug)]
struct Args {
    listen: SocketAddr,
    endpoint: Option<String>,
    bucket: String,
    region: String,
    access_key_id: String,
    access_key_secret: String,
    public_base_url: Option<String>,
    page: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        endpoint: None,
        bucket: "uploads".into(),
        region: "cn-hangzhou".into(),
        access_key_id: "ak".into(),
        access_key_secret: "sk".into(),
        public_base_url: None,
        page: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => args.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--endpoint" => args.endpoint = Some(value()?),
            "--bucket" => args.bucket = value()?,
            "--region" => args.region = value()?,
            "--access-key-id" => args.access_key_id = value()?,
            "--access-key-secret" => args.access_key_secret = value()?,
            "--public-base-url" => args.public_base_url = Some(value()?),
            "--page" => args.page = Some(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

/// The toy hook: whoever the request says it is.
fn user_of(req: &Request<()>) -> Option<String> {
    if let Some(u) = req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
        return Some(u.to_owned());
    }
    req.uri().query()?.split('&').find_map(|pair| {
        pair.strip_prefix("user=")
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let (endpoint, _emulator) = match args.endpoint {
        Some(e) => (e, None),
        None => {
            let emu = oss_emulator::Emulator::builder()
                .with_region(args.region.clone())
                .with_credentials(args.access_key_id.clone(), args.access_key_secret.clone())
                .start()
                .await?;
            (emu.endpoint().to_owned(), Some(emu))
        }
    };
    let mut kit = DirectUpload::builder()
        .with_bucket(args.bucket)
        .with_region(args.region)
        .with_endpoint(endpoint.clone())
        .with_path_style(true)
        .with_static_credentials(args.access_key_id, args.access_key_secret)
        .with_public_base_url(
            args.public_base_url
                .unwrap_or_else(|| format!("http://{addr}")),
        )
        .with_route_prefix("/uploads")
        .with_allowed_key_url_prefix(format!("{}/__emulator/", endpoint.trim_end_matches('/')))
        .with_authorize(|req: Request<()>| async move {
            match user_of(&req).as_deref() {
                None => Err(Rejection::unauthorized("send x-user or ?user=")),
                Some("mallory") => Err(Rejection::forbidden("mallory may not upload")),
                Some(user)
                    if !user
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
                {
                    Err(Rejection::forbidden(
                        "user names are lower-case letters and digits",
                    ))
                }
                Some(user) => Ok(UploadGrant::new(format!("users/{user}/"))
                    .with_max_size(1 << 20)
                    .with_content_types(["text/plain", "image/png", "image/jpeg"])
                    .with_trusted("user", user)),
            }
        })
        .with_upload_handler(|upload: UploadedObject| async move {
            Ok(serde_json::json!({
                "ok": true,
                "object": upload.object,
                "size": upload.size,
                "mimeType": upload.mime_type,
                "user": upload.trusted.get("user"),
            }))
        });
    if let Some(page) = args.page {
        kit = kit.with_page("/", std::fs::read(&page)?);
    }
    let kit = kit.build()?;
    println!("serve-uploads listening on http://{addr}");
    println!("serve-uploads oss endpoint {endpoint}");
    loop {
        let (stream, _) = listener.accept().await?;
        let kit = kit.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let kit = kit.clone();
                async move { Ok::<_, Infallible>(kit.oneshot(req).await.unwrap_or_else(|e| match e {})) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
