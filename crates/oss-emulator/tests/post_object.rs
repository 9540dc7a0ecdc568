//! PostObject: V4 policy signature, conditions, success_action_status, callbacks via form fields.

#[path = "support/client.rs"]
mod client;

use std::time::SystemTime;

use bytes::Bytes;
use client::{start, TestClient, AK, REGION, SK};
use http::{Method, StatusCode};
use oss_sign::{post_policy_credential, Credentials, Product, Signer};
use oss_test_support::{Answer, CallbackServer};

const B: &str = "post-bucket";

fn expiration(in_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(in_secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Signed form fields for `conditions` (the V4 conditions are added here).
fn signed_fields(secret: &str, expires_in: i64, conditions: &[&str]) -> Vec<(String, String)> {
    let now = SystemTime::now();
    let credential = post_policy_credential(AK, REGION, Product::Oss, now);
    let date = oss_sign::format_datetime(now);
    let mut all = vec![
        format!(r#"{{"bucket":"{B}"}}"#),
        r#"{"x-oss-signature-version":"OSS4-HMAC-SHA256"}"#.to_owned(),
        format!(r#"{{"x-oss-credential":"{credential}"}}"#),
        format!(r#"{{"x-oss-date":"{date}"}}"#),
    ];
    all.extend(conditions.iter().map(|s| s.to_string()));
    let policy = format!(
        r#"{{"expiration":"{}","conditions":[{}]}}"#,
        expiration(expires_in),
        all.join(",")
    );
    let sig = Signer::new().sign_post_policy(
        &policy,
        &Credentials::new(AK, secret),
        REGION,
        Product::Oss,
        now,
    );
    sig.form_fields()
}

fn multipart(fields: &[(String, String)], file: Option<(&str, &[u8])>) -> (String, Bytes) {
    let boundary = "----oss-emulator-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, data)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

async fn post(
    c: &TestClient,
    fields: &[(String, String)],
    file: Option<(&str, &[u8])>,
) -> client::Resp {
    let (ct, body) = multipart(fields, file);
    c.send_raw(
        Method::POST,
        &format!("/{B}"),
        &[("content-type", &ct)],
        body,
    )
    .await
}

fn with(mut fields: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

#[tokio::test]
async fn post_object_stores_with_default_204_and_filename() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let fields = with(
        signed_fields(SK, 600, &[r#"["starts-with","$key","user/"]"#]),
        &[("key", "user/${filename}"), ("x-oss-meta-from", "form")],
    );
    let r = post(&c, &fields, Some(("photo.txt", b"posted bytes"))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.header("etag").is_some());
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(
            oss_types::Crc64::checksum(b"posted bytes")
                .to_string()
                .as_str()
        )
    );
    let got = c.get(B, "user/photo.txt").await;
    assert_eq!(got.text(), "posted bytes");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("x-oss-meta-from"), Some("form"));
    assert_eq!(
        emu.requests().count_ok(oss_emulator::Operation::PostObject),
        1
    );

    let fields = with(
        signed_fields(SK, 600, &[]),
        &[("key", "k201"), ("success_action_status", "201")],
    );
    let r = post(&c, &fields, Some(("a", b"x"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.xml("Key").as_deref(), Some("k201"));
    let fields = with(
        signed_fields(SK, 600, &[]),
        &[("key", "k200"), ("success_action_status", "200")],
    );
    assert_eq!(
        post(&c, &fields, Some(("a", b"x"))).await.status,
        StatusCode::OK
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn post_object_rejections() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    // Wrong secret.
    let fields = with(signed_fields("wrong", 600, &[]), &[("key", "k")]);
    let r = post(&c, &fields, Some(("a", b"x"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    assert_eq!(r.ec().as_deref(), Some("0002-00000705"));
    // Condition failures.
    type Case = (&'static str, Vec<(String, String)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "starts-with",
            with(
                signed_fields(SK, 600, &[r#"["starts-with","$key","user/"]"#]),
                &[("key", "other/k")],
            ),
            "0006-00000227",
        ),
        (
            "eq",
            with(
                signed_fields(SK, 600, &[r#"["eq","$success_action_status","201"]"#]),
                &[("key", "k"), ("success_action_status", "200")],
            ),
            "0006-00000227",
        ),
        (
            "in",
            with(
                signed_fields(SK, 600, &[r#"["in","$content-type",["image/png"]]"#]),
                &[("key", "k"), ("content-type", "text/plain")],
            ),
            "0006-00000227",
        ),
        (
            "not-in",
            with(
                signed_fields(SK, 600, &[r#"["not-in","$cache-control",["no-cache"]]"#]),
                &[("key", "k"), ("cache-control", "no-cache")],
            ),
            "0006-00000227",
        ),
        (
            "missing field",
            with(
                signed_fields(SK, 600, &[r#"["eq","$x-oss-meta-a","1"]"#]),
                &[("key", "k")],
            ),
            "0006-00000226",
        ),
        (
            "expired",
            with(signed_fields(SK, -60, &[]), &[("key", "k")]),
            "0006-00000213",
        ),
    ];
    for (name, fields, ec) in cases {
        let r = post(&c, &fields, Some(("a", b"x"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("AccessDenied"), "{name}");
        assert_eq!(r.ec().as_deref(), Some(ec), "{name}");
    }
    let fields = with(
        signed_fields(SK, 600, &[r#"["content-length-range",2,5]"#]),
        &[("key", "k")],
    );
    let r = post(&c, &fields, Some(("a", b"x"))).await;
    assert_eq!(r.code().as_deref(), Some("EntityTooSmall"));
    let r = post(&c, &fields, Some(("a", b"123456"))).await;
    assert_eq!(r.code().as_deref(), Some("EntityTooLarge"));
    assert_eq!(
        post(&c, &fields, Some(("a", b"1234"))).await.status,
        StatusCode::NO_CONTENT
    );
    // No file field; no signature field.
    let fields = with(signed_fields(SK, 600, &[]), &[("key", "k")]);
    assert_eq!(
        post(&c, &fields, None).await.code().as_deref(),
        Some("MalformedPOSTRequest")
    );
    let unsigned: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "x-oss-signature")
        .cloned()
        .collect();
    assert_eq!(
        post(&c, &unsigned, Some(("a", b"x"))).await.ec().as_deref(),
        Some("0002-00000703")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn post_object_callback_via_form_fields() {
    let emu = start().await;
    let server = CallbackServer::start(&emu, Answer::StatusOk).await;
    let c = TestClient::new(&emu);
    let cb = oss_callback::Callback::builder()
        .with_url(format!("{}/post", server.url))
        .with_body(r#"{"object":${object},"size":${size},"op":${operation},"v":${x:var1}}"#)
        .with_body_type(oss_callback::CallbackBodyType::Json)
        .build()
        .unwrap();
    let vars = oss_callback::CallbackVars::new()
        .with("x:var1", "form")
        .unwrap();
    let mut fields = with(signed_fields(SK, 600, &[]), &[("key", "cb/post.txt")]);
    fields.extend(oss_callback::encode_form(&cb, Some(&vars)));
    let r = post(&c, &fields, Some(("a", b"12345"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), r#"{"Status":"OK"}"#);
    let got = server.last();
    assert!(got.verified);
    assert_eq!(
        got.body,
        r#"{"object":"cb/post.txt","size":"5","op":"PostObject","v":"form"}"#
    );
    // A callback in the form and a query parameter together is a mix of carriers.
    let (ct, body) = multipart(&fields, Some(("a", b"x")));
    let r = c
        .send_raw(
            Method::POST,
            &format!("/{B}?callback={}", cb.encode().replace('=', "%3D")),
            &[("content-type", &ct)],
            body,
        )
        .await;
    assert_eq!(r.ec().as_deref(), Some("0007-00000027"), "{}", r.text());
    emu.shutdown().await;
}
