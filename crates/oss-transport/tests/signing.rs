//! The request the transport puts on the wire for a signed PutObject is what `oss-sign` expects:
//! captured at a local server, then checked against the official vector and re-verified stage by
//! stage with `oss-sign`'s public types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use oss_sign::{
    decode_query, parse_authorization, parse_datetime, CanonicalRequest, Credentials, SigningKey,
    StaticCredentialsProvider, StringToSign, UNSIGNED_PAYLOAD,
};
use oss_transport::{Addressing, Client, Endpoint, Request};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn vector(id: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/vectors/official.json"
    );
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter().find(|v| v["id"] == id).unwrap()
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn headers_of(r: &wiremock::Request) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in r.headers.iter() {
        map.append(
            HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    map
}

/// Recomputes the signature of a captured request with oss-sign's stages.
fn verify(r: &wiremock::Request, bucket: &str, key: &str, secret: &str) {
    let headers = headers_of(r);
    let auth = parse_authorization(headers["authorization"].to_str().unwrap()).unwrap();
    let datetime = headers["x-oss-date"].to_str().unwrap();
    let query = decode_query(r.url.query().unwrap_or(""));
    let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
    let canonical = CanonicalRequest::new(
        &method,
        Some(bucket),
        Some(key),
        &query,
        &headers,
        &auth.additional_headers,
        headers["x-oss-content-sha256"].to_str().unwrap(),
    );
    let sts = StringToSign::new(datetime, &auth.scope, &canonical);
    let expected = SigningKey::derive(secret, &auth.scope).sign(&sts.to_string());
    assert_eq!(expected, auth.signature, "canonical request:\n{canonical}");
}

#[tokio::test]
async fn signed_put_object_matches_the_official_vector() {
    let v = vector("v4-header-basic");
    let input = &v["input"];
    let at = UNIX_EPOCH + Duration::from_secs(input["signing_time_unix"].as_u64().unwrap());
    let server = server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_region(input["region"].as_str().unwrap())
        .with_credentials_provider(StaticCredentialsProvider::new(Credentials::new(
            input["access_key_id"].as_str().unwrap(),
            input["access_key_secret"].as_str().unwrap(),
        )))
        .with_clock(move || at)
        .build()
        .unwrap();

    let bucket = input["bucket"].as_str().unwrap();
    let key = input["key"].as_str().unwrap();
    let mut req = Request::new(Method::PUT)
        .with_bucket(bucket)
        .with_key(key)
        .with_body("hello");
    for pair in input["query"].as_array().unwrap() {
        req = req.with_query(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    for (name, value) in input["headers"].as_object().unwrap() {
        req = req.with_header(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
        );
    }
    client.send(req).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    let h = headers_of(r);
    assert_eq!(
        h["authorization"],
        v["expected"]["authorization"].as_str().unwrap()
    );
    for (name, value) in v["signer_adds_headers"].as_object().unwrap() {
        assert_eq!(h[name.as_str()], value.as_str().unwrap(), "{name}");
    }
    for (name, value) in input["headers"].as_object().unwrap() {
        assert_eq!(h[name.as_str()], value.as_str().unwrap(), "{name}");
    }
    assert_eq!(h["date"], "Sat, 16 Dec 2023 16:20:57 GMT");
    assert!(h["user-agent"].to_str().unwrap().starts_with("oss-rs/"));
    assert_eq!(h["content-length"], "5");
    assert_eq!(r.url.path(), "/bucket/1234%2B-/123/1.txt");
    assert_eq!(&r.body[..], b"hello");
    verify(r, bucket, key, "sk");
}

#[tokio::test]
async fn signed_put_object_with_callback_and_sts_verifies() {
    let server = server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_region("cn-hangzhou")
        .with_credentials_provider(StaticCredentialsProvider::new(
            Credentials::new("LTAI-test", "secret-test").with_security_token("sts-token"),
        ))
        .build()
        .unwrap();
    let key = "dir/子目录/a b~c+d%e=f&g?h#i.txt";
    let req = Request::new(Method::PUT)
        .with_bucket("examplebucket")
        .with_key(key)
        .with_header(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain"),
        )
        .with_header(
            HeaderName::from_static("x-oss-callback"),
            HeaderValue::from_static("eyJhIjoiYiJ9"),
        )
        .with_header(
            HeaderName::from_static("x-oss-callback-var"),
            HeaderValue::from_static("eyJ4OmEiOiJiIn0="),
        )
        .with_header(
            HeaderName::from_static("x-custom"),
            HeaderValue::from_static("v"),
        )
        .with_additional_signed_headers(["x-custom"])
        .with_body(vec![7u8; 1000]);
    let before = SystemTime::now();
    client.send(req).await.unwrap();

    let received = server.received_requests().await.unwrap();
    let r = &received[0];
    let h = headers_of(r);
    assert_eq!(h["x-oss-content-sha256"], UNSIGNED_PAYLOAD);
    assert_eq!(h["x-oss-security-token"], "sts-token");
    assert_eq!(h["x-oss-callback"], "eyJhIjoiYiJ9");
    let auth = parse_authorization(h["authorization"].to_str().unwrap()).unwrap();
    assert_eq!(auth.access_key_id, "LTAI-test");
    assert_eq!(auth.additional_headers, vec!["x-custom".to_owned()]);
    let signed_at = parse_datetime(h["x-oss-date"].to_str().unwrap()).unwrap();
    assert!(
        signed_at + Duration::from_secs(2) >= before,
        "fresh signing time"
    );
    verify(r, "examplebucket", key, "secret-test");
}
