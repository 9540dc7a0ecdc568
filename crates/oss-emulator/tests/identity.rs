//! The identity side: keys from the mock IMDS and STS (fetched with oss-credentials' own
//! providers, the STS over HTTPS trusting the emulator's CA) are accepted by the OSS side until
//! they are expired on demand; AssumeRole's signature v1 is verified; session policies limit
//! writes to their prefix; the request log names each request's access key id.

#[path = "support/client.rs"]
mod client;

use bytes::Bytes;
use client::{Req, TestClient, AK, REGION, SK};
use http::{Method, StatusCode};
use oss_credentials::{
    assume_role_for_prefix, AssumeRoleProvider, Context, EcsRamRoleProvider, HyperHttp,
    LoadCredentials as _, MemFiles, OidcProvider, StaticEnv, StsEndpoint,
};
use oss_emulator::{Emulator, IdentityConfig, Operation};
use oss_sign::{Credentials, StaticCredentialsProvider};

const ROLE: &str = "acs:ram::1234567890123456:role/uploader";

async fn start(dir: &std::path::Path) -> Emulator {
    client::builder()
        .with_identity(
            IdentityConfig::new()
                .with_oidc_token("the-oidc-token")
                .with_ca_file(dir.join("ca.pem")),
        )
        .start()
        .await
        .expect("emulator starts")
}

fn ctx(dir: &std::path::Path) -> Context {
    Context::new()
        .with_env(StaticEnv::new())
        .with_http(HyperHttp::with_ca_file(dir.join("ca.pem")).expect("CA file"))
}

fn sts(emu: &Emulator) -> StsEndpoint {
    StsEndpoint::new().with_endpoint(emu.sts_endpoint().expect("STS on"))
}

#[tokio::test]
async fn imds_keys_are_accepted_until_expired_and_then_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let imds = EcsRamRoleProvider::new(ctx(dir.path()))
        .with_endpoint(emu.imds_endpoint().expect("IMDS on"));
    let first = imds.load().await.expect("IMDS credentials").credentials;
    assert!(first.access_key_id().starts_with("STS."), "{first:?}");
    assert!(first.security_token().is_some() && first.expiration().is_some());

    let client = TestClient::with(emu.endpoint(), first.clone(), REGION);
    let put = client.send(Req::put("bkt", "a.txt", "one")).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let log = emu.requests();
    let last = log.entries().last().unwrap();
    assert_eq!(last.access_key_id.as_deref(), Some(first.access_key_id()));
    // A presigned URL carries the token in its query; it works too.
    let (uri, headers) = client.presign(
        &Req::get("bkt", "a.txt"),
        std::time::Duration::from_secs(60),
    );
    let mut parts = Req::get("bkt", "a.txt").parts(emu.endpoint());
    parts.uri = uri;
    parts.headers = headers;
    assert_eq!(
        client.send_parts(parts, Bytes::new()).await.status,
        StatusCode::OK
    );

    assert_eq!(
        emu.expire_temporary_keys(Some(first.access_key_id())),
        vec![first.access_key_id().to_owned()]
    );
    let refused = client.send(Req::put("bkt", "a.txt", "two")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code().as_deref(), Some("InvalidSecurityToken"));
    assert_eq!(
        refused.xml("Message").as_deref(),
        Some("The security token you provided has expired.")
    );
    let second = imds
        .load()
        .await
        .expect("fresh IMDS credentials")
        .credentials;
    assert_ne!(second.access_key_id(), first.access_key_id());
    let ok = TestClient::with(emu.endpoint(), second, REGION)
        .send(Req::put("bkt", "a.txt", "two"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // A wrong token for a live key is refused as invalid, not expired.
    let live = imds.load().await.unwrap().credentials;
    let forged = Credentials::new(live.access_key_id(), live.access_key_secret().expose())
        .with_security_token("forged");
    let bad = TestClient::with(emu.endpoint(), forged, REGION)
        .send(Req::put("bkt", "a.txt", "x"))
        .await;
    assert_eq!(
        bad.xml("Message").as_deref(),
        Some("The security token you provided is invalid.")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_list_expire_rotate_and_arm() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let client = TestClient::new(&emu);
    let rotated = client
        .send_raw(
            Method::POST,
            "/__emulator/identity/rotate",
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&rotated.text()).unwrap();
    let id = body["imds_access_key_id"].as_str().unwrap().to_owned();
    let keys = client
        .send_raw(Method::GET, "/__emulator/identity/keys", &[], Bytes::new())
        .await
        .text();
    assert!(keys.contains(&id) && !keys.contains("emu-token-"), "{keys}");
    let armed = client
        .send_raw(
            Method::POST,
            "/__emulator/identity/expire-after?operation=PutObject&count=2",
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(armed.status, StatusCode::OK, "{}", armed.text());
    let creds = EcsRamRoleProvider::new(ctx(dir.path()))
        .with_endpoint(emu.imds_endpoint().unwrap())
        .load()
        .await
        .unwrap()
        .credentials;
    assert_eq!(creds.access_key_id(), id);
    let temp = TestClient::with(emu.endpoint(), creds, REGION);
    for (n, want) in [(1, 200), (2, 200), (3, 403)] {
        let r = temp.send(Req::put("bkt", &format!("k{n}"), "x")).await;
        assert_eq!(r.status.as_u16(), want, "PUT {n}: {}", r.text());
    }
    let missing = client
        .send_raw(
            Method::POST,
            "/__emulator/identity/expire?access-key-id=STS.nobody",
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test]
async fn sts_assume_role_verifies_signature_v1_and_session_policy_limits_writes() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let source = StaticCredentialsProvider::new(Credentials::new(AK, SK));
    let assumed = AssumeRoleProvider::new(ctx(dir.path()), source.clone())
        .with_role_arn(ROLE)
        .with_session_name("oss-rs-test")
        .with_endpoint(sts(&emu))
        .load()
        .await
        .expect("AssumeRole")
        .credentials;
    let ok = TestClient::with(emu.endpoint(), assumed, REGION)
        .send(Req::put("bkt", "anywhere.txt", "x"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());

    // A wrong secret: STS's SignatureDoesNotMatch, as a typed error naming the source.
    let err = AssumeRoleProvider::new(
        ctx(dir.path()),
        StaticCredentialsProvider::new(Credentials::new(AK, "wrong")),
    )
    .with_role_arn(ROLE)
    .with_endpoint(sts(&emu))
    .load()
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains("wrong"), "{err}");

    // The prefix helper's credentials write inside the prefix only.
    let limited =
        assume_role_for_prefix(ctx(dir.path()), source, ROLE, "bkt", "users/42/", sts(&emu))
            .await
            .expect("prefix credentials");
    let app = TestClient::with(emu.endpoint(), limited, REGION);
    let inside = app.send(Req::put("bkt", "users/42/photo.jpg", "x")).await;
    assert_eq!(inside.status, StatusCode::OK, "{}", inside.text());
    for (bucket, key) in [
        ("bkt", "users/43/photo.jpg"),
        ("other", "users/42/photo.jpg"),
    ] {
        let outside = app.send(Req::put(bucket, key, "x")).await;
        assert_eq!(outside.status, StatusCode::FORBIDDEN, "{bucket}/{key}");
        assert_eq!(outside.code().as_deref(), Some("AccessDenied"));
    }
    let multipart = app
        .send(Req::new(Method::POST, "bkt", Some("elsewhere/big.bin")).query("uploads", ""))
        .await;
    assert_eq!(multipart.code().as_deref(), Some("AccessDenied"));
    assert!(emu
        .requests()
        .entries()
        .iter()
        .any(|r| r.operation == Some(Operation::PutObject) && r.status == 403));
    emu.shutdown().await;
}

#[tokio::test]
async fn oidc_accepts_only_the_configured_token() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let oidc = |token: &str| {
        OidcProvider::new(
            ctx(dir.path()).with_files(MemFiles::new().with_file("/token", token.to_owned())),
        )
        .with_role_arn(ROLE)
        .with_provider_arn("acs:ram::1234567890123456:oidc-provider/ack")
        .with_token_file("/token")
        .with_endpoint(sts(&emu))
    };
    let creds = oidc("the-oidc-token")
        .load()
        .await
        .expect("OIDC")
        .credentials;
    let ok = TestClient::with(emu.endpoint(), creds, REGION)
        .send(Req::put("bkt", "o.txt", "x"))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let err = oidc("another-token").load().await.unwrap_err().to_string();
    assert!(
        err.contains("AuthenticationFail.OIDCToken.Invalid"),
        "{err}"
    );
    assert!(!err.contains("another-token"), "{err}");
    emu.shutdown().await;
}
