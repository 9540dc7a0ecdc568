//! Upload callbacks: delivery and RSA signature (verified by a real local server with
//! oss-callback), template values, carriers, failures (500, non-JSON, timeout → 203 with the
//! object stored), fallback to the next URL, and the 400s for bad callbacks.

#[path = "support/client.rs"]
mod client;

use base64::Engine as _;
use client::{start, Req, TestClient};
use http::{Method, StatusCode};
use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_emulator::{CallbackOutcome, Emulator};
use oss_test_support::{Answer, CallbackServer};

const B: &str = "callback-bucket";

async fn setup() -> (Emulator, TestClient, CallbackServer) {
    let emu = start().await;
    let server = CallbackServer::start(&emu, Answer::StatusOk).await;
    let c = TestClient::new(&emu);
    (emu, c, server)
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn with_callback(req: Req, cb: &Callback, vars: Option<&CallbackVars>) -> Req {
    let mut req = req;
    oss_callback::encode_headers(cb, vars, &mut req.headers).unwrap();
    req
}

#[tokio::test]
async fn put_object_json_callback_is_delivered_and_verifies() {
    let (emu, c, server) = setup().await;
    let cb = Callback::builder()
        .with_url(format!("{}/notify?id=1&index=2", server.url))
        .with_body(r#"{"bucket":${bucket},"object":${object},"size":${size},"etag":${etag},"mimeType":${mimeType},"crc64":${crc64},"md5":${contentMd5},"op":${operation},"v":${x:var1}}"#)
        .with_body_type(CallbackBodyType::Json)
        .build()
        .unwrap();
    let vars = CallbackVars::new().with("x:var1", "value 1").unwrap();
    let req = with_callback(
        Req::put(B, "dir/a b.txt", "123456789").header("content-type", "text/plain"),
        &cb,
        Some(&vars),
    );
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"Status":"OK"}"#,
        "the uploader gets the callback's answer"
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("etag").is_some() && r.header("x-oss-hash-crc64ecma").is_some());

    let got = server.last();
    assert!(
        got.verified,
        "RSA signature verifies with the emulator's public key"
    );
    assert_eq!(got.path_and_query, "/notify?id=1&index=2");
    assert_eq!(got.content_type, "application/json");
    assert_eq!(got.pub_key_url, emu.public_key_url());
    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let etag = r.header("etag").unwrap().trim_matches('"');
    assert_eq!(body["bucket"], B);
    assert_eq!(body["object"], "dir/a b.txt");
    assert_eq!(body["size"], "9");
    assert_eq!(body["etag"], etag);
    assert_eq!(body["mimeType"], "text/plain");
    assert_eq!(body["crc64"], "11051210869376104954");
    assert_eq!(body["md5"], r.header("content-md5").unwrap());
    assert_eq!(body["op"], "PutObject");
    assert_eq!(body["v"], "value 1");

    let log = emu.callbacks();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, CallbackOutcome::Delivered);
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[0].key, "dir/a b.txt");
    // The admin endpoint shows the same record.
    let admin = c
        .send_raw(
            Method::GET,
            "/__emulator/callbacks",
            &[],
            Default::default(),
        )
        .await;
    let json: serde_json::Value = serde_json::from_slice(&admin.body).unwrap();
    assert_eq!(json[0]["outcome"], "delivered");
    assert_eq!(json[0]["operation"], "PutObject");
    emu.shutdown().await;
}

#[tokio::test]
async fn form_body_host_and_query_carrier() {
    let (emu, c, server) = setup().await;
    let cb = Callback::builder()
        .with_url(format!("{}/form", server.url))
        .with_host("callback.example.com")
        .with_body("object=${object}&size=${size}&v=${x:v}")
        .build()
        .unwrap();
    let vars = CallbackVars::new().with("x:v", "a b&c").unwrap();
    let mut req = Req::put(B, "q/x+y.txt", "hello");
    for (k, v) in oss_callback::encode_query(&cb, Some(&vars)) {
        req = req.query(&k, &v);
    }
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = server.last();
    assert!(got.verified);
    assert_eq!(got.host, "callback.example.com");
    assert_eq!(got.content_type, "application/x-www-form-urlencoded");
    assert_eq!(got.body, "object=q%2Fx%2By.txt&size=5&v=a%20b%26c");
    emu.shutdown().await;
}

async fn expect_203(c: &TestClient, key: &str, url: String, message_part: &str, ec: &str) {
    let cb = Callback::builder()
        .with_url(url)
        .with_body("object=${object}")
        .build()
        .unwrap();
    let r = c
        .send(with_callback(Req::put(B, key, "kept anyway"), &cb, None))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        "{}",
        r.text()
    );
    assert_eq!(r.code().as_deref(), Some("CallbackFailed"));
    assert_eq!(r.ec().as_deref(), Some(ec));
    assert!(
        r.xml("Message").unwrap().contains(message_part),
        "{}",
        r.text()
    );
    assert!(
        r.header("etag").is_some(),
        "203 still carries the upload's headers"
    );
    let got = c.get(B, key).await;
    assert_eq!(
        got.status,
        StatusCode::OK,
        "object stored despite the failed callback"
    );
    assert_eq!(got.text(), "kept anyway");
}

#[tokio::test]
async fn failing_callbacks_answer_203_and_keep_the_object() {
    let (emu, c, server) = setup().await;
    expect_203(
        &c,
        "f/500",
        format!("{}/fail", server.url),
        "Error status : 500.",
        "0007-00000203",
    )
    .await;
    expect_203(
        &c,
        "f/text",
        format!("{}/text", server.url),
        "not valid json",
        "0007-00000205",
    )
    .await;
    expect_203(
        &c,
        "f/slow",
        format!("{}/slow", server.url),
        "Cost too long time",
        "0007-00000202",
    )
    .await;
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    expect_203(
        &c,
        "f/closed",
        format!("http://{closed}/x"),
        "can not connect",
        "0007-00000203",
    )
    .await;
    let outcomes: Vec<_> = emu.callbacks().iter().map(|c| c.outcome).collect();
    assert_eq!(outcomes, vec![CallbackOutcome::Failed; 4]);
    assert_eq!(emu.callbacks()[0].status, Some(500));
    emu.shutdown().await;
}

#[tokio::test]
async fn falls_back_to_the_next_url() {
    let (emu, c, server) = setup().await;
    let cb = Callback::builder()
        .with_url(format!("{}/fail-first", server.url))
        .with_url(format!("{}/second", server.url))
        .with_body("object=${object}")
        .build()
        .unwrap();
    let r = c
        .send(with_callback(Req::put(B, "fallback", "x"), &cb, None))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let paths: Vec<_> = server
        .received()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert_eq!(paths, ["/fail-first", "/second"]);
    let log = emu.callbacks();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].outcome, CallbackOutcome::Failed);
    assert_eq!(log[1].outcome, CallbackOutcome::Delivered);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_callbacks_are_400_and_store_nothing() {
    let (emu, c, server) = setup().await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("not base64", "%%%".into(), "0007-00000002"),
        ("not json", b64("{nope"), "0007-00000003"),
        (
            "empty body",
            b64(r#"{"callbackUrl":"http://127.0.0.1:1/x","callbackBody":""}"#),
            "0007-00000011",
        ),
        (
            "six urls",
            b64(&format!(
                r#"{{"callbackUrl":"{0};{0};{0};{0};{0};{0}","callbackBody":"a"}}"#,
                "http://127.0.0.1:1/x"
            )),
            "0007-00000005",
        ),
        (
            "bad body type",
            b64(
                r#"{"callbackUrl":"http://127.0.0.1:1/x","callbackBody":"a","callbackBodyType":"text/plain"}"#,
            ),
            "0007-00000013",
        ),
    ];
    for (name, value, ec) in cases {
        let r = c
            .send(Req::put(B, "bad-cb", "x").header("x-oss-callback", &value))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("InvalidArgument"), "{name}");
        assert_eq!(r.ec().as_deref(), Some(ec), "{name}: {}", r.text());
    }
    // Mixing carriers: header and query.
    let cb = Callback::builder()
        .with_url(format!("{}/x", server.url))
        .with_body("a=1")
        .build()
        .unwrap();
    let req = with_callback(Req::put(B, "bad-cb", "x"), &cb, None).query("callback", &cb.encode());
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.ec().as_deref(), Some("0007-00000027"));
    assert_eq!(c.get(B, "bad-cb").await.status, StatusCode::NOT_FOUND);
    assert!(server.received().is_empty() && emu.callbacks().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn strict_mode_refuses_loopback_callback_hosts() {
    let emu = client::builder()
        .with_strict_callback_urls(true)
        .start()
        .await
        .unwrap();
    let c = TestClient::new(&emu);
    let cb = Callback::builder()
        .with_url("http://127.0.0.1:9/cb")
        .with_body("a=1")
        .build()
        .unwrap();
    let r = c
        .send(with_callback(Req::put(B, "strict", "x"), &cb, None))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.ec().as_deref(), Some("0007-00000008"));
    emu.shutdown().await;
}
