//! Retry and error scenarios against a wiremock server.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use oss_sign::{Credentials, StaticCredentialsProvider};
use oss_transport::{
    Addressing, CallbackCarrier, Client, Endpoint, Error, ExpectedCrc64, Request, RetryConfig,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_region("cn-hangzhou")
        .with_credentials_provider(StaticCredentialsProvider::new(Credentials::new("ak", "sk")))
        .with_retry(RetryConfig::default().with_base_delay(Duration::ZERO))
        .build()
        .unwrap()
}

fn put(key: &str) -> Request {
    Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key(key)
        .with_body("hello")
}

fn with_callback(req: Request) -> Request {
    req.with_header(
        HeaderName::from_static("x-oss-callback"),
        HeaderValue::from_static("eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9leGFtcGxlLmNvbSJ9"),
    )
    .with_callback(CallbackCarrier::Header)
}

fn error_xml(code: &str, message: &str, ec: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n  <RequestId>5C3D9175B6FC201293AD****</RequestId>\n  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n  <EC>{ec}</EC>\n  <RecommendDoc>https://api.aliyun.com/troubleshoot?q={ec}</RecommendDoc>\n</Error>"
    )
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn two_500s_then_200_succeeds_on_the_third_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/bucket/k"))
        .respond_with(ResponseTemplate::new(500).set_body_string(error_xml(
            "InternalError",
            "boom",
            "0000-1",
        )))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/bucket/k"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-oss-request-id", "ok-1"))
        .mount(&server)
        .await;
    let resp = client(&server).send(put("k")).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.request_id(), Some("ok-1"));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert_eq!(&r.body[..], b"hello", "every attempt resends the body");
        assert!(
            r.headers.get("authorization").is_some(),
            "every attempt is signed"
        );
    }
}

#[tokio::test]
async fn three_503s_exhaust_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503).set_body_string(error_xml(
            "ServiceUnavailable",
            "busy",
            "0000-2",
        )))
        .mount(&server)
        .await;
    let err = client(&server).send(put("k")).await.unwrap_err();
    match &err {
        Error::Exhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert_eq!(last.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        }
        other => panic!("expected Exhausted, got {other:?}"),
    }
    assert_eq!(err.service().unwrap().code, "ServiceUnavailable");
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 3);
}

#[tokio::test]
async fn signature_mismatch_is_final_and_parsed() {
    let server = MockServer::start().await;
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><RequestId>RID403</RequestId><HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId><OSSAccessKeyId>ak</OSSAccessKeyId><StringToSign>OSS4-HMAC-SHA256\n20231216T162057Z</StringToSign><EC>0002-00000040</EC></Error>";
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "application/xml")
                .set_body_string(body),
        )
        .mount(&server)
        .await;
    let err = client(&server).send(put("k")).await.unwrap_err();
    let Error::Service(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.status, StatusCode::FORBIDDEN);
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert_eq!(e.request_id.as_deref(), Some("RID403"));
    assert_eq!(e.ec.as_deref(), Some("0002-00000040"));
    assert_eq!(
        e.host_id.as_deref(),
        Some("bucket.oss-cn-hangzhou.aliyuncs.com")
    );
    assert_eq!(e.field("OSSAccessKeyId"), Some("ak"));
    assert_eq!(
        e.field("StringToSign"),
        Some("OSS4-HMAC-SHA256\n20231216T162057Z")
    );
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn callback_failed_203_is_typed_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(203)
                .insert_header("etag", "\"D41D8CD98F00B204E9800998ECF8427E\"")
                .insert_header("x-oss-hash-crc64ecma", "8707180448768400016")
                .insert_header("x-oss-version-id", "v-1")
                .insert_header("x-oss-request-id", "RID203")
                .set_body_string(error_xml(
                    "CallbackFailed",
                    "Error status : 301.",
                    "0007-00000203",
                )),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .send(with_callback(put("k")))
        .await
        .unwrap_err();
    let Error::CallbackFailed(cb) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(cb.status, StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert_eq!(cb.code, "CallbackFailed");
    assert_eq!(cb.message, "Error status : 301.");
    assert_eq!(cb.ec.as_deref(), Some("0007-00000203"));
    assert_eq!(cb.request_id.as_deref(), Some("5C3D9175B6FC201293AD****"));
    assert_eq!(
        cb.etag.as_deref(),
        Some("\"D41D8CD98F00B204E9800998ECF8427E\"")
    );
    assert_eq!(cb.crc64, Some(8707180448768400016));
    assert_eq!(cb.version_id.as_deref(), Some("v-1"));
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 1);

    // Without a callback, 203 is an ordinary success.
    let resp = client(&server).send(put("k")).await.unwrap();
    assert_eq!(resp.status, StatusCode::NON_AUTHORITATIVE_INFORMATION);
}

#[tokio::test]
async fn callback_request_answered_500_after_its_body_is_unconfirmed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string(error_xml(
            "InternalError",
            "x",
            "0000-1",
        )))
        .mount(&server)
        .await;
    let err = client(&server)
        .send(with_callback(put("k")))
        .await
        .unwrap_err();
    assert!(err.is_unconfirmed(), "{err:?}");
    assert!(
        matches!(err.last(), Error::Service(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn x_oss_err_header_on_head() {
    let server = MockServer::start().await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(error_xml(
        "NoSuchKey",
        "The specified key does not exist.",
        "0026-00000001",
    ));
    Mock::given(method("HEAD"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-oss-err", encoded.as_str())
                .insert_header("x-oss-request-id", "RIDHEAD"),
        )
        .mount(&server)
        .await;
    let req = Request::new(Method::HEAD)
        .with_bucket("bucket")
        .with_key("missing");
    let err = client(&server).send(req).await.unwrap_err();
    let e = err.service().expect("service error");
    assert_eq!(e.status, StatusCode::NOT_FOUND);
    assert_eq!(e.code, "NoSuchKey");
    assert_eq!(e.message, "The specified key does not exist.");
    assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn json_error_body() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(409)
                .insert_header("content-type", "application/json")
                .set_body_string(r#"{"Error":{"Code":"BucketAlreadyExists","Message":"taken","RequestId":"RIDJ","EC":"0015-00000104"}}"#),
        )
        .mount(&server)
        .await;
    let err = client(&server).send(put("k")).await.unwrap_err();
    let e = err.service().expect("service error");
    assert_eq!(e.code, "BucketAlreadyExists");
    assert_eq!(e.message, "taken");
    assert_eq!(e.request_id.as_deref(), Some("RIDJ"));
    assert_eq!(e.ec.as_deref(), Some("0015-00000104"));
}

#[tokio::test]
async fn garbage_body_is_bad_error_response() {
    let server = MockServer::start().await;
    let garbage = "<html>".to_owned() + &"x".repeat(1000);
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(400).set_body_string(garbage))
        .mount(&server)
        .await;
    let err = client(&server).send(put("k")).await.unwrap_err();
    match &err {
        Error::BadErrorResponse {
            status, snippet, ..
        } => {
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert!(snippet.starts_with("<html>xxx"));
            assert!(snippet.len() <= 256);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn a_crc_mismatch_is_retried_inside_the_loop() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-oss-hash-crc64ecma", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-oss-hash-crc64ecma", "42"))
        .mount(&server)
        .await;
    let req = put("k").with_expected_crc64(ExpectedCrc64::Known(42));
    let resp = client(&server).send(req).await.unwrap();
    assert_eq!(resp.header("x-oss-hash-crc64ecma"), Some("42"));
    assert_eq!(hits(&server).await, 2);
}

#[tokio::test]
async fn a_persistent_crc_mismatch_is_retried_then_reported_with_both_values() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-oss-hash-crc64ecma", "7"))
        .mount(&server)
        .await;
    let client_crc = oss_types::Crc64::checksum(b"hello");
    let req = put("k").with_expected_crc64(ExpectedCrc64::Known(client_crc));
    assert!(req.body().is_replayable());
    let err = client(&server).send(req).await.unwrap_err();
    match &err {
        Error::Exhausted { attempts: 3, last } => match **last {
            Error::CrcMismatch { client, server } => {
                assert_eq!(client, client_crc);
                assert_eq!(server, 7);
            }
            ref other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(hits(&server).await, 3);
    // An answer without the header passes: nothing to compare.
    let quiet = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&quiet)
        .await;
    let req = put("k").with_expected_crc64(ExpectedCrc64::Known(client_crc));
    client(&quiet).send(req).await.unwrap();
}

#[tokio::test]
async fn clock_skew_is_learnt_from_the_server_date() {
    let server = MockServer::start().await;
    let server_time = std::time::SystemTime::now() + Duration::from_secs(3600);
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("date", httpdate::fmt_http_date(server_time).as_str())
                .set_body_string(error_xml("RequestTimeTooSkewed", "skewed", "0002-00000504")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client(&server);
    client.send(put("k")).await.unwrap();
    let skew = client.clock_skew_ms();
    assert!((3_590_000..3_610_000).contains(&skew), "{skew}");
    let received = server.received_requests().await.unwrap();
    let date = |i: usize| {
        let v = received[i]
            .headers
            .get("x-oss-date")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        oss_sign::parse_datetime(&v).unwrap()
    };
    let shift = date(1).duration_since(date(0)).unwrap();
    assert!(shift >= Duration::from_secs(3590), "{shift:?}");
}

#[tokio::test]
async fn oversized_body_is_rejected_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 10_000]))
        .mount(&server)
        .await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_max_response_body(1000)
        .build()
        .unwrap();
    let req = Request::new(Method::GET)
        .with_bucket("bucket")
        .with_key("big")
        .with_auth(oss_transport::Auth::None);
    let err = client.send(req).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn streaming_get_reads_incrementally() {
    let server = MockServer::start().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(data.clone()))
        .mount(&server)
        .await;
    let client = client(&server);
    let req = Request::new(Method::GET)
        .with_bucket("bucket")
        .with_key("obj");
    let mut resp = client.send_streaming(req).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    let mut got = Vec::new();
    while let Some(chunk) = resp.body.chunk().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, data);
    // An expected CRC cannot be used with streaming (it needs the whole answer).
    let req = Request::new(Method::GET)
        .with_bucket("bucket")
        .with_key("obj")
        .with_expected_crc64(ExpectedCrc64::Known(0));
    assert!(matches!(
        client.send_streaming(req).await,
        Err(Error::InvalidRequest { .. })
    ));
}

#[tokio::test]
async fn signed_request_without_credentials_is_a_config_error() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .build()
        .unwrap();
    let err = client.send(put("k")).await.unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert_eq!(hits(&server).await, 0);
}

#[tokio::test]
async fn file_range_bodies_are_reopened_on_retry_and_report_progress() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(502).set_body_string(error_xml(
            "BadGateway",
            "x",
            "0000-3",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("oss-transport-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("part.bin");
    let data: Vec<u8> = (0..500_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &data).unwrap();

    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("part")
        .with_query("partNumber", "2")
        .with_query("uploadId", "u-1")
        .with_body(oss_transport::Body::file(&path, 100_000, 300_000))
        .with_progress(move |attempt, n| sink.lock().unwrap().push((attempt, n)));
    client(&server).send(req).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(&r.body[..], &data[100_000..400_000]);
        assert_eq!(r.headers.get("content-length").unwrap(), "300000");
        assert_eq!(r.url.query(), Some("partNumber=2&uploadId=u-1"));
    }
    let reports = reports.lock().unwrap();
    assert_eq!(
        reports.iter().filter(|&&(_, n)| n == 300_000).count(),
        2,
        "each attempt reports up to the full length"
    );
    // Each report names its attempt: the retry is told, not inferred from a falling count.
    assert!(reports.iter().any(|&(a, n)| a == 1 && n == 300_000));
    assert!(reports.iter().any(|&(a, n)| a == 2 && n == 300_000));
    assert!(reports.windows(2).all(|w| w[0].0 <= w[1].0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn stream_bodies_are_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string(error_xml(
            "InternalError",
            "x",
            "0000-1",
        )))
        .mount(&server)
        .await;
    let chunks = futures_util::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"chunk-1 ")),
        Ok(bytes::Bytes::from_static(b"chunk-2")),
    ]);
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("s")
        .with_body(oss_transport::Body::stream(chunks));
    let err = client(&server).send(req).await.unwrap_err();
    assert!(
        matches!(&err, Error::Service(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR),
        "{err:?}"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(&received[0].body[..], b"chunk-1 chunk-2");
}

#[test]
fn client_debug_never_shows_the_secret() {
    let client = Client::builder()
        .with_region("cn-hangzhou")
        .with_credentials_provider(StaticCredentialsProvider::new(
            Credentials::new("LTAI-visible", "very-secret-sk")
                .with_security_token("very-secret-token"),
        ))
        .build()
        .unwrap();
    let text = format!("{client:?}");
    assert!(!text.contains("very-secret"), "{text}");
    assert!(text.contains("oss-cn-hangzhou.aliyuncs.com"), "{text}");
}
