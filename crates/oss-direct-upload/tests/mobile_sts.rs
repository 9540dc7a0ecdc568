//! The example's mobile variant: `GET /uploads/sts` hands an app SDK temporary credentials from
//! `oss_credentials::assume_role_for_prefix` (here against the emulator's mock STS over HTTPS),
//! and OSS accepts them inside the user's prefix only. The app is the `serve_uploads` example's
//! own module, served on loopback.

#[allow(dead_code)]
#[path = "../examples/serve_uploads/app.rs"]
mod app;
#[allow(dead_code)]
#[path = "../examples/serve_uploads/bucket.rs"]
mod bucket;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use oss_emulator::Operation;
use oss_sign::Credentials;

const AK: &str = "app-ak";
const SK: &str = "app-sk";
const REGION: &str = "cn-hangzhou";
const BUCKET: &str = "uploads";

async fn get(url: &str) -> (StatusCode, serde_json::Value) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let resp = client
        .get(url.parse().expect("url"))
        .await
        .expect("the app answers");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).expect("JSON"))
}

fn oss_client(endpoint: &str, creds: Credentials) -> oss_upload::Client {
    oss_upload::Client::builder(BUCKET)
        .with_region(REGION)
        .with_endpoint(endpoint)
        .with_path_style(true)
        .with_credentials(creds)
        .build()
        .expect("client")
}

#[tokio::test]
async fn sts_route_credentials_write_inside_the_prefix_only() {
    let local = bucket::LocalOss::start(REGION, AK, SK)
        .await
        .expect("emulator");
    let endpoint = local.emulator.endpoint().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = app::App::new(app::Settings {
        bucket: BUCKET.into(),
        region: REGION.into(),
        endpoint: endpoint.clone(),
        path_style: true,
        access_key_id: AK.into(),
        access_key_secret: SK.into(),
        public_base_url: base.clone(),
        page: Bytes::from_static(app::DEFAULT_PAGE.as_bytes()),
        test_hooks: false,
        sts: Some(app::StsSettings {
            role_arn: bucket::EMULATOR_ROLE_ARN.into(),
            endpoint: local.emulator.sts_endpoint(),
            ca_file: Some(local.ca_file.clone()),
        }),
    })
    .expect("app");
    let server = tokio::spawn(app::serve(app, listener));

    let (status, _) = get(&format!("{base}{}", app::STS_PATH)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get(&format!("{base}{}?user=mallory", app::STS_PATH)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, sts) = get(&format!("{base}{}?user=bob", app::STS_PATH)).await;
    assert_eq!(status, StatusCode::OK, "{sts}");
    assert_eq!(sts["prefix"], "users/bob/");
    assert_eq!(sts["bucket"], BUCKET);
    let key_id = sts["AccessKeyId"].as_str().expect("AccessKeyId");
    assert!(key_id.starts_with("STS."), "{key_id}");
    let expiration = sts["Expiration"].as_str().expect("Expiration");
    assert!(
        expiration.len() == 20 && expiration.ends_with('Z'),
        "{expiration}"
    );
    let creds = Credentials::new(key_id, sts["AccessKeySecret"].as_str().expect("secret"))
        .with_security_token(sts["SecurityToken"].as_str().expect("token"));
    let mobile = oss_client(&endpoint, creds);

    mobile
        .put_object("users/bob/photo.jpg", Bytes::from_static(b"inside"))
        .send()
        .await
        .expect("a write inside the prefix is accepted");
    for key in ["users/alice/photo.jpg", "photo.jpg"] {
        let err = mobile
            .put_object(key, Bytes::from_static(b"outside"))
            .send()
            .await
            .expect_err(key);
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{key}: {err}");
        assert_eq!(err.service_code(), Some("AccessDenied"), "{key}: {err}");
    }

    // What is stored, read back with the app's own key.
    let owner = oss_client(&endpoint, Credentials::new(AK, SK));
    let got = owner
        .get_object("users/bob/photo.jpg")
        .send()
        .await
        .expect("stored")
        .body
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&got[..], b"inside");
    for key in ["users/alice/photo.jpg", "photo.jpg"] {
        let missing = owner.head_object(key).await.expect_err(key);
        assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND), "{key}");
    }
    let log = local.emulator.requests();
    let by_temp_key = log
        .entries()
        .iter()
        .filter(|r| {
            r.operation == Some(Operation::PutObject) && r.access_key_id.as_deref() == Some(key_id)
        })
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(by_temp_key, [200, 403, 403]);
    server.abort();
    local.emulator.shutdown().await;
}
