//! Authentication: the 403/400 table (every signed component changed), skew, presigned URLs
//! (expiry, signed headers), STS tokens, `Date`-only requests, unknown keys.

#[path = "support/client.rs"]
mod client;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use client::{start, Req, TestClient, AK, REGION, SK};
use http::{HeaderValue, Method, StatusCode};
use oss_sign::Credentials;

const B: &str = "auth-bucket";

fn base() -> Req {
    Req::put(B, "dir/obj.txt", "payload")
        .query("param", "value")
        .header("content-type", "text/plain")
        .header("x-oss-meta-a", "1")
}

/// Signs `base()` then applies one tamper to the signed request before sending.
#[tokio::test]
async fn any_changed_signed_component_is_signature_does_not_match() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let ok = c.send(base()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());

    type Tamper = fn(&mut http::request::Parts, &str);
    let cases: Vec<(&str, Tamper)> = vec![
        ("method", |p, _| p.method = Method::POST),
        ("key", |p, ep| {
            p.uri = format!("{ep}/{B}/dir/other.txt?param=value")
                .parse()
                .unwrap()
        }),
        ("query value", |p, ep| {
            p.uri = format!("{ep}/{B}/dir/obj.txt?param=changed")
                .parse()
                .unwrap()
        }),
        ("signed header", |p, _| {
            p.headers
                .insert("x-oss-meta-a", HeaderValue::from_static("2"));
        }),
        ("content-type", |p, _| {
            p.headers
                .insert("content-type", HeaderValue::from_static("text/html"));
        }),
        ("date", |p, _| {
            let t = oss_sign::parse_datetime(p.headers["x-oss-date"].to_str().unwrap()).unwrap();
            let moved = oss_sign::format_datetime(t + Duration::from_secs(1));
            p.headers
                .insert("x-oss-date", HeaderValue::from_str(&moved).unwrap());
        }),
    ];
    for (name, tamper) in cases {
        let mut parts = c.sign(&base());
        tamper(&mut parts, &c.endpoint);
        let r = c.send_parts(parts, Bytes::from_static(b"payload")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"), "{name}");
        assert_eq!(r.ec().as_deref(), Some("0002-00000201"), "{name}");
        assert!(
            r.xml("StringToSign")
                .is_some_and(|s| s.starts_with("OSS4-HMAC-SHA256\n")),
            "{name}"
        );
        assert!(r.xml("CanonicalRequest").is_some(), "{name}");
    }
    // Wrong secret.
    let bad = TestClient::with(&c.endpoint, Credentials::new(AK, "wrong"), REGION);
    let r = bad.send(base()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    emu.shutdown().await;
}

#[tokio::test]
async fn region_and_credential_errors() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    // Signed for another region: OSS's "Invalid signing region" (400, 0002-00000226).
    let other = TestClient::with(&c.endpoint, Credentials::new(AK, SK), "cn-shanghai");
    let r = other.send(base()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    assert_eq!(r.ec().as_deref(), Some("0002-00000226"));
    assert_eq!(
        r.xml("Message").as_deref(),
        Some("Invalid signing region in Authorization header.")
    );

    let malformed = [
        ("OSS4-HMAC-SHA256 Signature=abc", "0002-00000202"),
        ("OSS4-HMAC-SHA256 Credential=test-ak/2023/cn-hangzhou/oss/aliyun_v4_request,Signature=ab", "0002-00000212"),
        ("OSS4-HMAC-SHA256 Credential=test-ak/20231216/cn-hangzhou/oss/wrong_terminator,Signature=ab", "0002-00000213"),
        ("AWS4-HMAC-SHA256 Credential=x", "0002-00000061"),
    ];
    for (auth, ec) in malformed {
        let mut parts = c.sign(&base());
        parts
            .headers
            .insert("authorization", HeaderValue::from_str(auth).unwrap());
        let r = c.send_parts(parts, Bytes::new()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{auth}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("InvalidArgument"), "{auth}");
        assert_eq!(r.ec().as_deref(), Some(ec), "{auth}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_access_key_and_anonymous() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let stranger = TestClient::with(&c.endpoint, Credentials::new("who", SK), REGION);
    let r = stranger.send(Req::get(B, "x")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("InvalidAccessKeyId"));
    assert_eq!(r.ec().as_deref(), Some("0002-00000902"));
    assert_eq!(r.xml("OSSAccessKeyId").as_deref(), Some("who"));
    let r = c
        .send_raw(Method::GET, &format!("/{B}/x"), &[], Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("AccessDenied"));
    emu.shutdown().await;
}

#[tokio::test]
async fn clock_skew_beyond_15_minutes() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = c
        .send(base().time(SystemTime::now() - Duration::from_secs(16 * 60)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("RequestTimeTooSkewed"));
    assert_eq!(r.ec().as_deref(), Some("0002-00000504"));
    let r = c
        .send(base().time(SystemTime::now() + Duration::from_secs(16 * 60)))
        .await;
    assert_eq!(r.code().as_deref(), Some("RequestTimeTooSkewed"));
    let r = c
        .send(base().time(SystemTime::now() - Duration::from_secs(14 * 60)))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "14 minutes is within the allowed skew"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn date_header_only_is_accepted() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    // As one official SDK does: the ISO time in `Date`, no `x-oss-date` at all. Sign the
    // request as if `x-oss-date` were absent, using oss-sign's stages.
    let now = SystemTime::now();
    let iso = oss_sign::format_datetime(now);
    let mut parts = base().parts(&c.endpoint);
    parts
        .headers
        .insert("date", HeaderValue::from_str(&iso).unwrap());
    let query = oss_sign::decode_query(parts.uri.query().unwrap());
    let canonical = oss_sign::CanonicalRequest::new(
        &parts.method,
        Some(B),
        Some("dir/obj.txt"),
        &query,
        &parts.headers,
        &[],
        oss_sign::UNSIGNED_PAYLOAD,
    );
    let scope = oss_sign::Scope::new(&iso[..8], REGION, oss_sign::Product::Oss);
    let sts = oss_sign::StringToSign::new(&iso, &scope, &canonical);
    let sig = oss_sign::SigningKey::derive(SK, &scope).sign(sts.as_str());
    let auth = format!("OSS4-HMAC-SHA256 Credential={AK}/{scope},Signature={sig}");
    parts
        .headers
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    let r = c.send_parts(parts, Bytes::from_static(b"payload")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    emu.shutdown().await;
}

#[tokio::test]
async fn additional_headers_are_signed() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let req = base().header("abc", "v").additional(&["abc"]);
    assert_eq!(c.send(req.clone()).await.status, StatusCode::OK);
    let mut parts = c.sign(&req);
    parts
        .headers
        .insert("abc", HeaderValue::from_static("changed"));
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    emu.shutdown().await;
}

#[tokio::test]
async fn presigned_urls() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    c.put(B, "pre/get.txt", b"fetch me").await;

    let (uri, headers) = c.presign(&Req::get(B, "pre/get.txt"), Duration::from_secs(60));
    let mut parts = Req::get(B, "pre/get.txt").parts(&c.endpoint);
    parts.uri = uri.clone();
    parts.headers = headers;
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "fetch me");

    // A presigned PUT whose signed header is not sent fails.
    let put = Req::put(B, "pre/put.txt", "x").header("x-oss-meta-k", "v");
    let (uri, headers) = c.presign(&put, Duration::from_secs(60));
    let mut parts = Req::put(B, "pre/put.txt", "x").parts(&c.endpoint);
    parts.uri = uri.clone();
    let r = c.send_parts(parts.clone(), Bytes::from_static(b"x")).await;
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    parts.headers = headers;
    let r = c.send_parts(parts, Bytes::from_static(b"x")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Expired: signed 120 s ago for 60 s.
    let old = Req::get(B, "pre/get.txt").time(SystemTime::now() - Duration::from_secs(120));
    let (uri, _) = c.presign(&old, Duration::from_secs(60));
    let mut parts = Req::get(B, "pre/get.txt").parts(&c.endpoint);
    parts.uri = uri;
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("AccessDenied"));
    assert_eq!(r.xml("Message").as_deref(), Some("Request has expired."));
    assert_eq!(r.ec().as_deref(), Some("0002-00000236"));

    // A changed query value.
    let (uri, _) = c.presign(&Req::get(B, "pre/get.txt"), Duration::from_secs(60));
    let tampered = uri
        .to_string()
        .replace("x-oss-expires=60", "x-oss-expires=61");
    let mut parts = Req::get(B, "pre/get.txt").parts(&c.endpoint);
    parts.uri = tampered.parse().unwrap();
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));

    // x-oss-expires beyond 7 days.
    let tampered = uri
        .to_string()
        .replace("x-oss-expires=60", "x-oss-expires=604801");
    let mut parts = Req::get(B, "pre/get.txt").parts(&c.endpoint);
    parts.uri = tampered.parse().unwrap();
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.ec().as_deref(), Some("0002-00000232"));

    // No signature at all.
    let stripped: String = uri
        .to_string()
        .split('&')
        .filter(|p| !p.starts_with("x-oss-signature="))
        .collect::<Vec<_>>()
        .join("&");
    let mut parts = Req::get(B, "pre/get.txt").parts(&c.endpoint);
    parts.uri = stripped.parse().unwrap();
    let r = c.send_parts(parts, Bytes::new()).await;
    assert_eq!(r.ec().as_deref(), Some("0002-00000219"), "{}", r.text());
    emu.shutdown().await;
}

#[tokio::test]
async fn sts_token_is_checked() {
    let emu = client::builder()
        .with_sts_token("the-token")
        .start()
        .await
        .unwrap();
    let with = TestClient::with(
        emu.endpoint(),
        Credentials::new(AK, SK).with_security_token("the-token"),
        REGION,
    );
    assert_eq!(with.put(B, "sts", b"x").await.status, StatusCode::OK);
    let wrong = TestClient::with(
        emu.endpoint(),
        Credentials::new(AK, SK).with_security_token("nope"),
        REGION,
    );
    let r = wrong.put(B, "sts", b"x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("InvalidSecurityToken"));
    let none = TestClient::new(&emu);
    assert_eq!(
        none.put(B, "sts", b"x").await.code().as_deref(),
        Some("InvalidSecurityToken")
    );
    // Presigned with the token in the query.
    let (uri, _) = with.presign(&Req::get(B, "sts"), Duration::from_secs(60));
    assert!(uri
        .query()
        .unwrap()
        .contains("x-oss-security-token=the-token"));
    let mut parts = Req::get(B, "sts").parts(&with.endpoint);
    parts.uri = uri;
    assert_eq!(
        with.send_parts(parts, Bytes::new()).await.status,
        StatusCode::OK
    );
    emu.shutdown().await;
}
