//! Object operations end to end: PutObject, GetObject (ranges), HeadObject, DeleteObject, keys
//! with awkward characters, virtual-hosted addressing, OSS key rules, error shapes, admin.

#[path = "support/client.rs"]
mod client;

use base64::Engine as _;
use bytes::Bytes;
use client::{start, Req, TestClient};
use http::{Method, StatusCode};

const B: &str = "objects-bucket";

#[tokio::test]
async fn put_get_head_delete_round_trip() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let put = c
        .send(
            Req::put(B, "dir/hi.txt", "hi oss")
                .header("content-type", "text/plain")
                .header("x-oss-meta-owner", "me"),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let md5 = md5_hex_upper(b"hi oss");
    assert_eq!(put.header("etag"), Some(format!("\"{md5}\"").as_str()));
    assert_eq!(
        put.header("x-oss-hash-crc64ecma"),
        Some("8707180448768400016")
    );
    assert!(put
        .header("x-oss-request-id")
        .is_some_and(|r| r.len() == 24));
    assert!(put.header("content-md5").is_some());

    let get = c.get(B, "dir/hi.txt").await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(&get.body[..], b"hi oss");
    assert_eq!(get.header("content-type"), Some("text/plain"));
    assert_eq!(get.header("x-oss-meta-owner"), Some("me"));
    assert_eq!(
        get.header("x-oss-hash-crc64ecma"),
        Some("8707180448768400016")
    );
    assert_eq!(get.header("etag"), put.header("etag"));

    let head = c.send(Req::new(Method::HEAD, B, Some("dir/hi.txt"))).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("6"));
    assert!(head.body.is_empty());

    let del = c
        .send(Req::new(Method::DELETE, B, Some("dir/hi.txt")))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = c.get(B, "dir/hi.txt").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code().as_deref(), Some("NoSuchKey"));
    assert_eq!(
        gone.header("x-oss-request-id"),
        gone.xml("RequestId").as_deref()
    );
    assert_eq!(gone.header("x-oss-ec"), gone.ec().as_deref());
    // Deleting again is still 204.
    assert_eq!(
        c.send(Req::new(Method::DELETE, B, Some("dir/hi.txt")))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let log = emu.requests();
    assert_eq!(
        log.count(oss_emulator::Operation::PutObject, "dir/hi.txt"),
        1
    );
    assert_eq!(
        log.count(oss_emulator::Operation::DeleteObject, "dir/hi.txt"),
        2
    );
    emu.shutdown().await;
}

fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

fn md5_hex_upper(data: &[u8]) -> String {
    md5_of(data).iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn awkward_keys_round_trip() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    for key in [
        "a b+c%d",
        "dir//inner//x",
        "子目录/文件.txt",
        "q?x=1&y#z",
        "dots/../x",
        "~tilde*star'",
    ] {
        let data = format!("body of {key}");
        let put = c.put(B, key, data.as_bytes()).await;
        assert_eq!(put.status, StatusCode::OK, "{key}: {}", put.text());
        let get = c.get(B, key).await;
        assert_eq!(get.status, StatusCode::OK, "{key}");
        assert_eq!(get.text(), data, "{key}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn range_reads() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    c.put(B, "r", b"0123456789").await;
    let r = c.send(Req::get(B, "r").header("range", "bytes=2-5")).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"2345");
    assert_eq!(r.header("content-range"), Some("bytes 2-5/10"));
    let r = c.send(Req::get(B, "r").header("range", "bytes=-3")).await;
    assert_eq!(&r.body[..], b"789");
    let r = c.send(Req::get(B, "r").header("range", "bytes=8-")).await;
    assert_eq!(&r.body[..], b"89");
    let r = c.send(Req::get(B, "r").header("range", "bytes=5-1")).await;
    assert_eq!(r.status, StatusCode::OK, "an invalid range is ignored");
    assert_eq!(&r.body[..], b"0123456789");
    let r = c.send(Req::get(B, "r").header("range", "bytes=20-")).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.code().as_deref(), Some("InvalidRange"));
    emu.shutdown().await;
}

#[tokio::test]
async fn virtual_hosted_addressing() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    c.put(B, "vh/key.txt", b"virtual").await;
    // Same signature rules: the canonical URI comes from bucket + key, not the URL path.
    let req = Req::get(B, "vh/key.txt");
    let mut parts = c.sign(&req);
    let port = emu.local_addr().port();
    parts.uri = format!("{}/vh/key.txt", emu.endpoint()).parse().unwrap();
    parts
        .headers
        .insert("host", format!("{B}.127.0.0.1:{port}").parse().unwrap());
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "virtual");
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_object_names_after_signature() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = c.put(B, "/leading-slash", b"x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code().as_deref(), Some("InvalidObjectName"));
    assert_eq!(r.ec().as_deref(), Some("0016-00000005"));
    let long = "k".repeat(1024);
    let r = c.put(B, &long, b"x").await;
    assert_eq!(r.ec().as_deref(), Some("0016-00000003"));
    let r = c.put("Bad_Bucket", "k", b"x").await;
    assert_eq!(r.code().as_deref(), Some("InvalidBucketName"));
    emu.shutdown().await;
}

#[tokio::test]
async fn head_errors_use_x_oss_err() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = c.send(Req::new(Method::HEAD, B, Some("missing"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());
    let xml = base64::engine::general_purpose::STANDARD
        .decode(r.header("x-oss-err").expect("x-oss-err"))
        .unwrap();
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains("<Code>NoSuchKey</Code>"), "{xml}");
    assert_eq!(r.header("x-oss-ec"), Some("0026-00000001"));
    emu.shutdown().await;
}

#[tokio::test]
async fn content_md5_is_checked() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let good = base64::engine::general_purpose::STANDARD.encode(md5_of(b"abc"));
    let r = c
        .send(Req::put(B, "md5", "abc").header("content-md5", &good))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .send(Req::put(B, "md5-bad", "abd").header("content-md5", &good))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code().as_deref(), Some("InvalidDigest"));
    assert_eq!(r.ec().as_deref(), Some("0017-00000503"));
    assert_eq!(
        c.get(B, "md5-bad").await.status,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
    let r = c
        .send(Req::put(B, "md5-bad", "abd").header("content-md5", "bm9wZQ=="))
        .await;
    assert_eq!(r.ec().as_deref(), Some("0017-00000502"));
    emu.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_need_no_signature() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = c
        .send_raw(Method::GET, "/__emulator/callbacks", &[], Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "[]");
    let r = c
        .send_raw(Method::GET, "/__emulator/pubkey.pem", &[], Bytes::new())
        .await;
    assert_eq!(r.text(), emu.public_key_pem());
    oss_callback::CallbackPublicKey::from_pem(&r.text()).expect("a valid public key");
    c.put(B, "logged", b"x").await;
    let r = c
        .send_raw(Method::GET, "/__emulator/requests", &[], Bytes::new())
        .await;
    assert!(r.text().contains("\"PutObject\""), "{}", r.text());
    emu.shutdown().await;
}

#[tokio::test]
async fn disk_storage_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu = client::builder()
        .with_data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let c = TestClient::new(&emu);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.put(B, "big/file.bin", &data).await.status, StatusCode::OK);
    emu.shutdown().await;
    let emu = client::builder()
        .with_data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let c = TestClient::new(&emu);
    let r = c.get(B, "big/file.bin").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], &data[..]);
    emu.shutdown().await;
}

/// Signed parts for a service-level `GET /` (no bucket), with the given secret.
fn signed_service_get(endpoint: &str, secret: &str) -> http::request::Parts {
    let (mut parts, ()) = http::Request::builder()
        .method(Method::GET)
        .uri(format!("{endpoint}/"))
        .body(())
        .unwrap()
        .into_parts();
    let params = oss_sign::SigningParams::builder(client::REGION)
        .with_time(std::time::SystemTime::now())
        .build()
        .unwrap();
    oss_sign::Signer::new()
        .sign_headers(
            &mut parts,
            &oss_sign::Credentials::new(client::AK, secret),
            &params,
        )
        .unwrap();
    parts
}

/// Every operation is authenticated first: an unsigned or badly signed request gets OSS's 403
/// whatever it asks for, and only a correctly signed one learns that it is not implemented.
#[tokio::test]
async fn unsupported_operations_are_typed_errors_after_authentication() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = c.send(Req::new(Method::PATCH, B, Some("k"))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code().as_deref(), Some("MethodNotAllowed"));

    let r = c.send_raw(Method::GET, "/", &[], Bytes::new()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("AccessDenied"));
    assert_eq!(r.ec().as_deref(), Some("0003-00000001"));
    assert!(r
        .text()
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
    assert_eq!(r.xml("RequestId").as_deref(), r.header("x-oss-request-id"));
    assert_eq!(r.header("content-type"), Some("application/xml"));

    let bad = signed_service_get(emu.endpoint(), "not-the-secret");
    let r = c.send_parts(bad, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    assert_eq!(r.ec().as_deref(), Some("0002-00000201"));
    assert!(r
        .xml("CanonicalRequest")
        .is_some_and(|c| c.starts_with("GET\n/\n")));

    // Signed, the service GET is ListBuckets (issue 18).
    let good = signed_service_get(emu.endpoint(), client::SK);
    let r = c.send_parts(good, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("<ListAllMyBucketsResult>"),
        "{}",
        r.text()
    );

    // A bucket-level operation the emulator lacks (GetBucketLifecycle): 403 unsigned, 501 signed.
    let r = c
        .send_raw(Method::GET, &format!("/{B}/?lifecycle"), &[], Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .send(Req::new(Method::GET, B, None).query("lifecycle", ""))
        .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("NotImplemented"));

    // A browser's CORS preflight carries no signature, as on OSS: it is answered by the rules.
    let r = c
        .send_raw(
            Method::OPTIONS,
            &format!("/{B}/k"),
            &[
                ("origin", "http://localhost:3000"),
                ("access-control-request-method", "PUT"),
            ],
            Bytes::new(),
        )
        .await;
    // No CORS rules on the bucket: 403, no Access-Control-* headers (tests/cors.rs has rules).
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("access-control-allow-origin"), None);
    emu.shutdown().await;
}
