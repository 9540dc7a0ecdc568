//! The kit against the emulator: token contents, an upload that reaches the handler once with
//! the server's trusted values, each bad input rejected by OSS's rules with nothing stored, and
//! forged or altered callbacks refused before the handler.

#[path = "support/harness.rs"]
mod harness;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use harness::{exists, form_fields, post_form, send, set, start, token, BUCKET};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

fn b64_json(s: &Value) -> Value {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("string"))
        .expect("base64");
    serde_json::from_slice(&raw).expect("json")
}

fn form_url(h: &harness::Harness) -> String {
    format!("{}/{BUCKET}/", h.emu.endpoint())
}

#[tokio::test]
async fn token_json_carries_the_form_and_the_policy_pins_it() {
    let h = start().await;
    let (status, t) = token(&h, Some("alice")).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["host"], form_url(&h));
    assert_eq!(t["dir"], "users/alice/");
    assert_eq!(t["key"], "users/alice/${filename}");
    assert_eq!(t["x_oss_signature_version"], "OSS4-HMAC-SHA256");
    assert!(t["x_oss_credential"]
        .as_str()
        .unwrap()
        .starts_with("kit-ak/"));
    assert_eq!(
        t["x_oss_credential"].as_str().unwrap().len(),
        "kit-ak/20250101/cn-hangzhou/oss/aliyun_v4_request".len()
    );
    assert_eq!(t["signature"].as_str().unwrap().len(), 64);
    assert!(
        t.get("security_token").is_none(),
        "static credentials: no STS token"
    );
    assert_eq!(t["success_action_status"], "200");
    assert_eq!(t["max_size"], 16);
    assert_eq!(t["content_types"], json!(["text/plain", "image/png"]));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expire = t["expire"].as_u64().unwrap();
    assert!(
        expire > now + 290 && expire <= now + 300,
        "{expire} vs {now}"
    );

    // The exact form fields, each equal to its top-level twin.
    let f = &t["fields"];
    for (field, top) in [
        ("policy", "policy"),
        ("x-oss-signature-version", "x_oss_signature_version"),
        ("x-oss-credential", "x_oss_credential"),
        ("x-oss-date", "x_oss_date"),
        ("x-oss-signature", "signature"),
        ("callback", "callback"),
        ("success_action_status", "success_action_status"),
        ("key", "key"),
    ] {
        assert_eq!(f[field], t[top], "{field}");
    }
    assert_eq!(f["x:user"], "alice");
    assert!(f.get("x-oss-security-token").is_none());

    // The callback: issued URL (from the configured base, not a Host header), constants in
    // the body, JSON body type.
    let cb = b64_json(&t["callback"]);
    assert_eq!(cb["callbackUrl"], format!("{}/uploads/callback", h.kit_url));
    assert_eq!(cb["callbackBodyType"], "application/json");
    let body = cb["callbackBody"].as_str().unwrap();
    assert!(body.contains(r#""trusted":{"user":"alice"}"#), "{body}");
    assert!(body.contains("${object}") && body.contains("${size}") && body.contains("${mimeType}"));

    // The policy's conditions.
    let p = b64_json(&t["policy"]);
    let conditions = p["conditions"].as_array().unwrap();
    let has = |c: Value| conditions.contains(&c);
    assert!(has(json!(["starts-with", "$key", "users/alice/"])), "{p}");
    assert!(has(json!(["content-length-range", 0, 16])), "{p}");
    assert!(
        has(json!(["in", "$content-type", ["text/plain", "image/png"]])),
        "{p}"
    );
    assert!(has(json!(["eq", "$success_action_status", "200"])), "{p}");
    assert!(has(json!(["eq", "$x:user", "alice"])), "{p}");
    assert!(has(json!({ "callback": t["callback"] })), "{p}");
    assert!(has(json!({ "bucket": BUCKET })), "{p}");
    assert!(
        has(json!({ "x-oss-signature-version": "OSS4-HMAC-SHA256" })),
        "{p}"
    );
    assert!(
        has(json!({ "x-oss-credential": t["x_oss_credential"] })),
        "{p}"
    );
    assert!(has(json!({ "x-oss-date": t["x_oss_date"] })), "{p}");
    assert!(p["expiration"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn the_hook_refuses_with_401_and_403_json() {
    let h = start().await;
    let (status, body) = token(&h, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "Unauthorized", "message": "who are you?"})
    );
    let (status, body) = token(&h, Some("mallory")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "Forbidden");
    // Wrong method, unknown route.
    let (status, _, _) = send(
        Request::post(format!("{}/uploads/token", h.kit_url))
            .body(Full::default())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, _) = send(
        Request::get(format!("{}/elsewhere", h.kit_url))
            .body(Full::default())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_upload_with_the_token_is_stored_and_the_handler_runs_once_with_trusted_values() {
    let h = start().await;
    let (_, t) = token(&h, Some("alice")).await;
    // The default key: OSS replaces `${filename}`.
    let mut fields = form_fields(&t, "users/alice/${filename}", "text/plain");
    set(&mut fields, "key", "users/alice/${filename}");
    let (status, _, body) = post_form(
        &form_url(&h),
        &fields,
        "hello.txt",
        "text/plain",
        b"hello, kit",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("the handler's JSON, relayed");
    assert_eq!(
        answer,
        json!({"stored": "users/alice/hello.txt", "user": "alice", "size": 10})
    );
    assert!(exists(&h, "users/alice/hello.txt").await);
    let calls = h.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let c = &calls[0];
    assert_eq!(c.bucket, BUCKET);
    assert_eq!(c.object, "users/alice/hello.txt");
    assert_eq!(c.size, 10);
    assert_eq!(c.mime_type, "text/plain");
    assert!(!c.etag.is_empty());
    assert_eq!(c.trusted.get("user").map(String::as_str), Some("alice"));
    assert_eq!(c.trusted.len(), 1);
}

/// One rejected form: OSS's status, code and EC; nothing stored; the handler never called.
async fn rejected(
    h: &harness::Harness,
    fields: &[(String, String)],
    key: &str,
    file_type: &str,
    data: &[u8],
    want: (StatusCode, &str, &str),
) {
    let (status, headers, body) =
        post_form(&form_url(h), fields, "f.bin", file_type, data, None).await;
    assert_eq!(status, want.0, "{body}");
    assert!(body.contains(&format!("<Code>{}</Code>", want.1)), "{body}");
    assert_eq!(
        headers.get("x-oss-ec").and_then(|v| v.to_str().ok()),
        Some(want.2),
        "{body}"
    );
    assert!(!exists(h, key).await, "{key} must not be stored");
    assert!(
        h.calls.lock().unwrap().is_empty(),
        "the handler must not run"
    );
}

#[tokio::test]
async fn each_bad_input_gets_oss_error_and_nothing_is_stored() {
    let h = start().await;
    let (_, t) = token(&h, Some("alice")).await;
    let denied = |ec| (StatusCode::FORBIDDEN, "AccessDenied", ec);

    // A file over the size limit (16 bytes).
    let key = "users/alice/big.txt";
    let fields = form_fields(&t, key, "text/plain");
    rejected(
        &h,
        &fields,
        key,
        "text/plain",
        &[b'x'; 17],
        (StatusCode::BAD_REQUEST, "EntityTooLarge", "0006-00000004"),
    )
    .await;

    // A key outside the prefix.
    let key = "users/bob/x.txt";
    let fields = form_fields(&t, key, "text/plain");
    rejected(
        &h,
        &fields,
        key,
        "text/plain",
        b"x",
        denied("0006-00000227"),
    )
    .await;

    // A changed `x:` field: the page claims to be bob.
    let key = "users/alice/claim.txt";
    let mut fields = form_fields(&t, key, "text/plain");
    set(&mut fields, "x:user", "bob");
    rejected(
        &h,
        &fields,
        key,
        "text/plain",
        b"x",
        denied("0006-00000227"),
    )
    .await;

    // A wrong content type.
    let key = "users/alice/x.zip";
    let fields = form_fields(&t, key, "application/zip");
    rejected(
        &h,
        &fields,
        key,
        "application/zip",
        b"x",
        denied("0006-00000227"),
    )
    .await;

    // A changed callback (pointing elsewhere).
    let key = "users/alice/cb.txt";
    let mut fields = form_fields(&t, key, "text/plain");
    let forged = base64::engine::general_purpose::STANDARD
        .encode(r#"{"callbackUrl":"http://127.0.0.1:1/evil","callbackBody":"${object}"}"#);
    set(&mut fields, "callback", &forged);
    rejected(
        &h,
        &fields,
        key,
        "text/plain",
        b"x",
        denied("0006-00000227"),
    )
    .await;

    // An expired policy: a token signed 10 minutes ago for 5 minutes.
    let old = h
        .kit
        .issue_token(
            &harness::grant_for("alice"),
            SystemTime::now() - Duration::from_secs(600),
        )
        .await
        .unwrap();
    let old = serde_json::to_value(&old).unwrap();
    let key = "users/alice/late.txt";
    let fields = form_fields(&old, key, "text/plain");
    rejected(
        &h,
        &fields,
        key,
        "text/plain",
        b"x",
        denied("0006-00000213"),
    )
    .await;
}

#[tokio::test]
async fn a_form_that_changes_x_user_never_reaches_the_handler_as_someone_else() {
    let h = start().await;
    let (_, t) = token(&h, Some("alice")).await;
    let key = "users/alice/spoof.txt";
    let mut fields = form_fields(&t, key, "text/plain");
    set(&mut fields, "x:user", "admin");
    let (status, _, body) =
        post_form(&form_url(&h), &fields, "s.txt", "text/plain", b"x", None).await;
    // Either the policy refuses it, or the handler sees the server's user: never "admin".
    let calls = h.calls.lock().unwrap().clone();
    if status == StatusCode::FORBIDDEN {
        assert!(body.contains("$x:user"), "{body}");
        assert!(calls.is_empty());
    } else {
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].trusted["user"], "alice");
    }
    // The emulator enforces `x:` conditions, so here it is the policy rejection.
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn forged_and_altered_callbacks_get_403_and_the_handler_is_not_called() {
    let h = start().await;
    let url = format!("{}/uploads/callback", h.kit_url);
    let pub_key_url = base64::engine::general_purpose::STANDARD
        .encode(format!("{}/__emulator/pubkey.pem", h.emu.endpoint()));
    let body = r#"{"bucket":"kit-bucket","object":"users/alice/x","etag":"E","size":"1","mimeType":"text/plain","trusted":{"user":"admin"}}"#;

    // Forged: a made-up signature under the emulator's (allowed) key URL.
    let forged = Request::post(&url)
        .header(
            "authorization",
            base64::engine::general_purpose::STANDARD.encode([7u8; 64]),
        )
        .header("x-oss-pub-key-url", &pub_key_url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let (status, _, answer) = send(forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // No signature at all, and a key URL outside the allow-list.
    let (status, _, _) = send(
        Request::post(&url)
            .body(Full::new(Bytes::from(body)))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let evil_key = base64::engine::general_purpose::STANDARD.encode("http://127.0.0.1:1/key.pem");
    let (status, _, _) = send(
        Request::post(&url)
            .header(
                "authorization",
                base64::engine::general_purpose::STANDARD.encode([7u8; 64]),
            )
            .header("x-oss-pub-key-url", evil_key)
            .body(Full::new(Bytes::from(body)))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(h.calls.lock().unwrap().is_empty());

    // A genuine callback (one real upload), then the same request with one byte changed.
    let (_, t) = token(&h, Some("alice")).await;
    let key = "users/alice/real.txt";
    let fields = form_fields(&t, key, "text/plain");
    let (status, _, _) = post_form(
        &form_url(&h),
        &fields,
        "real.txt",
        "text/plain",
        b"real",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.calls.lock().unwrap().len(), 1);
    let (headers, genuine) = h.raw_callbacks.lock().unwrap().last().cloned().unwrap();
    let altered = String::from_utf8(genuine.to_vec())
        .unwrap()
        .replace(r#""user":"alice""#, r#""user":"admin""#);
    assert_ne!(altered.as_bytes(), &genuine[..]);
    let mut req = Request::post(&url)
        .body(Full::new(Bytes::from(altered)))
        .unwrap();
    *req.headers_mut() = headers.clone();
    req.headers_mut().remove("content-length");
    let (status, _, _) = send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed for the issued path only: the same bytes on another path are refused too.
    let mut req = Request::post(format!("{url}?extra=1"))
        .body(Full::new(genuine.clone()))
        .unwrap();
    *req.headers_mut() = headers;
    let (status, _, _) = send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.calls.lock().unwrap().len(),
        1,
        "no handler call for altered callbacks"
    );
}
