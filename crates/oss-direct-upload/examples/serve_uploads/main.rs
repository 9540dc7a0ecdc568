//! A runnable app server: the direct-upload kit with a toy auth hook and a page that uploads
//! straight to OSS, on plain hyper.
//!
//! ```text
//! cargo run -p oss-direct-upload --example serve_uploads
//! ```
//!
//! starts an in-process emulator (with bucket CORS set for the page's origin and a mock STS),
//! then prints `serve-uploads listening on http://ADDR` and `serve-uploads oss endpoint ENDPOINT`;
//! open the first URL in a browser. Flags:
//!
//! ```text
//! [--listen 127.0.0.1:0] [--endpoint http://127.0.0.1:9000] [--bucket uploads]
//! [--region cn-hangzhou] [--access-key-id ak] [--access-key-secret sk]
//! [--public-base-url http://127.0.0.1:PORT] [--page page.html] [--put-cors]
//! [--role-arn ARN] [--sts-endpoint URL] [--sts-ca-file PEM] [--test-hooks]
//! ```
//!
//! Routes: `GET /` (the page, or `--page`), `GET /uploads/token`, `POST /uploads/callback` (the
//! kit), and `GET /uploads/sts` (the mobile variant: temporary credentials limited to the
//! user's prefix, from `oss_credentials::assume_role_for_prefix`). The toy hook takes the user
//! from the `x-user` header or the `user` query parameter (never do this for real): none is 401,
//! `mallory` is 403, anyone else may upload up to 10 MiB under `users/<user>/`.
//!
//! With `--endpoint`, bucket CORS is set only with `--put-cors` (it replaces the bucket's
//! rules), and `/uploads/sts` works with `--role-arn` (Alibaba Cloud's STS unless
//! `--sts-endpoint`). `--test-hooks` is for the browser test only: the token route honours
//! `expired=1` and `max_size=N`, and `/__test/presign?key=` and `/__test/handled` answer.

mod app;
mod bucket;

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use oss_sign::Credentials;

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
    put_cors: bool,
    role_arn: Option<String>,
    sts_endpoint: Option<String>,
    sts_ca_file: Option<PathBuf>,
    test_hooks: bool,
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
        put_cors: false,
        role_arn: None,
        sts_endpoint: None,
        sts_ca_file: None,
        test_hooks: false,
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
            "--put-cors" => args.put_cors = true,
            "--role-arn" => args.role_arn = Some(value()?),
            "--sts-endpoint" => args.sts_endpoint = Some(value()?),
            "--sts-ca-file" => args.sts_ca_file = Some(value()?.into()),
            "--test-hooks" => args.test_hooks = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = parse_args()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let public_base_url = args
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let local = match args.endpoint {
        Some(_) => None,
        None => Some(
            bucket::LocalOss::start(&args.region, &args.access_key_id, &args.access_key_secret)
                .await?,
        ),
    };
    let (endpoint, sts) = match &local {
        Some(l) => (
            l.emulator.endpoint().to_owned(),
            Some(app::StsSettings {
                role_arn: args
                    .role_arn
                    .clone()
                    .unwrap_or_else(|| bucket::EMULATOR_ROLE_ARN.into()),
                endpoint: l.emulator.sts_endpoint(),
                ca_file: Some(l.ca_file.clone()),
            }),
        ),
        None => (
            args.endpoint.clone().unwrap_or_default(),
            args.role_arn.clone().map(|role_arn| app::StsSettings {
                role_arn,
                endpoint: args.sts_endpoint.clone(),
                ca_file: args.sts_ca_file.clone(),
            }),
        ),
    };
    if local.is_some() || args.put_cors {
        // The page's origin as the browser names it; `localhost` too, for people who type it.
        let mut origins = vec![origin_of(&public_base_url)];
        if let Some(port) = origins[0].strip_prefix("http://127.0.0.1:") {
            origins.push(format!("http://localhost:{port}"));
        }
        bucket::put_cors(
            &endpoint,
            true,
            &args.bucket,
            &args.region,
            Credentials::new(args.access_key_id.clone(), args.access_key_secret.clone()),
            &origins,
        )
        .await?;
    }
    let page = match &args.page {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => Bytes::from_static(app::DEFAULT_PAGE.as_bytes()),
    };
    let app = app::App::new(app::Settings {
        bucket: args.bucket,
        region: args.region,
        endpoint: endpoint.clone(),
        path_style: true,
        access_key_id: args.access_key_id,
        access_key_secret: args.access_key_secret,
        public_base_url,
        page,
        test_hooks: args.test_hooks,
        sts,
    })?;
    println!("serve-uploads listening on http://{addr}");
    println!("serve-uploads oss endpoint {endpoint}");
    app::serve(app, listener).await?;
    Ok(())
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}
