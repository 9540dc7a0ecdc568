//! Bucket CORS (Put/Get/DeleteBucketCors, preflight by the rules, headers on actual answers,
//! errors included), PostObject `success_action_redirect`, and policy conditions on `x:` fields.

#[path = "support/client.rs"]
mod client;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use client::{start, Req, Resp, TestClient, AK, REGION, SK};
use http::{Method, StatusCode};
use oss_sign::{Credentials, Product, Signer};

const B: &str = "cors-bucket";
const ORIGIN: &str = "https://app.example";

const RULES: &str = "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedOrigin>http://localhost:*</AllowedOrigin><AllowedMethod>POST</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-oss-request-id</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>";

async fn put_cors(c: &TestClient, xml: &str) -> Resp {
    c.send(
        Req::new(Method::PUT, B, None)
            .query("cors", "")
            .body(xml.to_owned()),
    )
    .await
}

async fn preflight(c: &TestClient, origin: &str, method: &str, headers: Option<&str>) -> Resp {
    let mut h = vec![
        ("origin", origin),
        ("access-control-request-method", method),
    ];
    if let Some(v) = headers {
        h.push(("access-control-request-headers", v));
    }
    c.send_raw(Method::OPTIONS, &format!("/{B}/"), &h, Bytes::new())
        .await
}

fn no_cors_headers(r: &Resp) {
    assert!(
        !r.headers
            .keys()
            .any(|k| k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn preflight_is_answered_by_the_rules() {
    let emu = start().await;
    let c = TestClient::new(&emu);

    // CORS is off by default: preflight 403, GetBucketCors 404.
    let r = preflight(&c, ORIGIN, "POST", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code().as_deref(), Some("AccessForbidden"));
    no_cors_headers(&r);
    let r = c
        .send(Req::new(Method::GET, B, None).query("cors", ""))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("NoSuchCORSConfiguration"));

    let r = put_cors(&c, RULES).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c
        .send(Req::new(Method::GET, B, None).query("cors", ""))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text()
            .contains("<AllowedOrigin>https://app.example</AllowedOrigin>"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("<MaxAgeSeconds>600</MaxAgeSeconds>"));

    // An allowed origin, method and headers: the Access-Control-* headers, unsigned.
    let r = preflight(&c, ORIGIN, "POST", Some("content-type, x-oss-date")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("POST, PUT, GET")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, x-oss-date")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag, x-oss-request-id")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    // The wildcard origin rule.
    let r = preflight(&c, "http://localhost:5173", "PUT", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );

    // A disallowed origin or method: 403 without the headers.
    for (origin, method) in [("https://evil.example", "POST"), (ORIGIN, "DELETE")] {
        let r = preflight(&c, origin, method, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin} {method}");
        no_cors_headers(&r);
    }

    // DeleteBucketCors turns it off again.
    let r = c
        .send(Req::new(Method::DELETE, B, None).query("cors", ""))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight(&c, ORIGIN, "POST", None).await.status,
        StatusCode::FORBIDDEN
    );

    // Cors calls are signed like any other.
    let r = c
        .send_raw(Method::PUT, &format!("/{B}/?cors"), &[], Bytes::from(RULES))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = put_cors(&c, "<NotCors/>").await;
    assert_eq!(r.code().as_deref(), Some("MalformedXML"), "{}", r.text());
    for bad in [
        "<CORSConfiguration></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    ] {
        let r = put_cors(&c, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code().as_deref(), Some("InvalidArgument"), "{}", r.text());
    }
    emu.shutdown().await;
}

/// A signed PostObject form (fields then `file`) with the given extra fields and conditions.
fn form(key: &str, conditions: &[serde_json::Value], extra: &[(&str, &str)]) -> (String, Bytes) {
    let now = SystemTime::now();
    let exp = time::OffsetDateTime::from(now + Duration::from_secs(600))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let creds = Credentials::new(AK, SK);
    let credential = oss_sign::post_policy_credential(AK, REGION, Product::Oss, now);
    let mut all = vec![
        serde_json::json!({"bucket": B}),
        serde_json::json!({"x-oss-signature-version": "OSS4-HMAC-SHA256"}),
        serde_json::json!({"x-oss-credential": credential}),
        serde_json::json!({"x-oss-date": oss_sign::format_datetime(now)}),
    ];
    all.extend_from_slice(conditions);
    let policy = serde_json::json!({"expiration": exp, "conditions": all}).to_string();
    let sig = Signer::new().sign_post_policy(&policy, &creds, REGION, Product::Oss, now);
    let mut fields = vec![("key".to_owned(), key.to_owned())];
    fields.extend(sig.form_fields());
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let boundary = "cors-test-boundary";
    let mut body = String::new();
    for (k, v) in &fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nform bytes\r\n--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

async fn post(c: &TestClient, form: (String, Bytes), origin: Option<&str>) -> Resp {
    let mut h = vec![("content-type", form.0.as_str())];
    if let Some(o) = origin {
        h.push(("origin", o));
    }
    c.send_raw(Method::POST, &format!("/{B}/"), &h, form.1)
        .await
}

#[tokio::test]
async fn actual_answers_carry_the_cors_headers_errors_included() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    assert_eq!(put_cors(&c, RULES).await.status, StatusCode::OK);

    // A PostObject from an allowed origin.
    let r = post(&c, form("up/a.txt", &[], &[]), Some(ORIGIN)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag, x-oss-request-id")
    );
    // An error answer to the same origin (policy violation) carries them too.
    let r = post(
        &c,
        form(
            "elsewhere/a.txt",
            &[serde_json::json!(["starts-with", "$key", "up/"])],
            &[],
        ),
        Some(ORIGIN),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    // A disallowed origin, or none: no CORS headers, the upload itself still works.
    let r = post(&c, form("up/b.txt", &[], &[]), Some("https://evil.example")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    no_cors_headers(&r);
    let r = post(&c, form("up/c.txt", &[], &[]), None).await;
    no_cors_headers(&r);
    // A signed GET from an allowed origin.
    let r = c
        .send(Req::get(B, "up/a.txt").header("origin", ORIGIN))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    emu.shutdown().await;
}

#[tokio::test]
async fn success_action_redirect_is_a_303_to_the_page_with_the_object() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let r = post(
        &c,
        form(
            "up/r.txt",
            &[],
            &[("success_action_redirect", "https://app.example/done?s=1")],
        ),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let etag = c
        .get(B, "up/r.txt")
        .await
        .header("etag")
        .unwrap()
        .trim_matches('"')
        .to_owned();
    assert_eq!(
        r.header("location").unwrap(),
        format!("https://app.example/done?s=1&bucket={B}&key=up%2Fr.txt&etag={etag}")
    );
    assert!(r.body.is_empty());
    // A redirect that is not an absolute http(s) URL: 400, nothing stored.
    let r = post(
        &c,
        form(
            "up/bad.txt",
            &[],
            &[("success_action_redirect", "/relative")],
        ),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    assert_eq!(c.get(B, "up/bad.txt").await.status, StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test]
async fn policy_conditions_apply_to_x_fields_like_any_other() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let pins = [
        serde_json::json!(["eq", "$x:user", "alice"]),
        serde_json::json!(["starts-with", "$x:tenant", "t-"]),
    ];
    let ok = post(
        &c,
        form(
            "x/ok.txt",
            &pins,
            &[("x:user", "alice"), ("x:tenant", "t-1")],
        ),
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text());
    // Field names match conditions case-insensitively, `x:` ones too.
    let r = post(
        &c,
        form(
            "x/case.txt",
            &pins,
            &[("X:User", "alice"), ("x:tenant", "t-1")],
        ),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    for (key, extra, ec) in [
        (
            "x/eq.txt",
            vec![("x:user", "bob"), ("x:tenant", "t-1")],
            "0006-00000227",
        ),
        (
            "x/sw.txt",
            vec![("x:user", "alice"), ("x:tenant", "other")],
            "0006-00000227",
        ),
        ("x/missing.txt", vec![("x:tenant", "t-1")], "0006-00000226"),
    ] {
        let r = post(&c, form(key, &pins, &extra), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{key}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("AccessDenied"));
        assert_eq!(r.ec().as_deref(), Some(ec), "{key}");
        assert_eq!(c.get(B, key).await.status, StatusCode::NOT_FOUND, "{key}");
    }
    emu.shutdown().await;
}
