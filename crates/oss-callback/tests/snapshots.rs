//! insta snapshots of the documented example bodies and of our callback JSON.
//! Plain `cargo test` compares against the committed files; under `CI=true` a mismatch fails.

#[path = "support/shared.rs"]
mod common;

use common::{by_id, str_at};
use oss_callback::{Callback, CallbackBodyType, CallbackVars, SystemValues, Template};

const SEED_TEMPLATE: &str = r#"{"bucket":${bucket},"object":${object},"mimeType":${mimeType},"size":${size},"my_var1":${x:var1},"my_var2":${x:var2}}"#;
const SEED_RESOLVED: &str = r#"{"bucket":"examplebucket","object":"exampledir/exampleobject.txt","mimeType":"text/plain","size":"9","my_var1":"value1","my_var2":"value2"}"#;

fn seed_values() -> (SystemValues, CallbackVars) {
    let values = SystemValues {
        bucket: "examplebucket".into(),
        object: "exampledir/exampleobject.txt".into(),
        mime_type: "text/plain".into(),
        size: "9".into(),
        ..SystemValues::default()
    };
    let vars = CallbackVars::new()
        .with("x:var1", "value1")
        .unwrap()
        .with("x:var2", "value2")
        .unwrap();
    (values, vars)
}

#[test]
fn seed_json_example_resolves_exactly() {
    let callback = Callback::builder()
        .with_url("http://www.example.com/callback")
        .with_body(SEED_TEMPLATE)
        .with_body_type(CallbackBodyType::Json)
        .build()
        .unwrap();
    let (values, vars) = seed_values();
    let body = callback
        .template()
        .unwrap()
        .resolve(&values, &vars, callback.body_type())
        .unwrap();
    assert_eq!(body, SEED_RESOLVED);
    insta::assert_snapshot!("seed_json_body", body);
}

#[test]
fn doc_form_example_body() {
    let v = by_id("callback-doc-form-body-example");
    let template = Template::parse(str_at(&v, "/input/callbackBody")).unwrap();
    let values = SystemValues {
        bucket: "callback-test".into(),
        object: "test.txt".into(),
        etag: "D8E8FCA2DC0F896FD7CB4CB0031BA249".into(),
        size: "5".into(),
        mime_type: "text/plain".into(),
        ..SystemValues::default()
    };
    let vars = CallbackVars::new()
        .with("x:var1", "for-callback-test")
        .unwrap();
    let body = template
        .resolve(&values, &vars, CallbackBodyType::FormUrlEncoded)
        .unwrap();
    assert_eq!(body, str_at(&v, "/expected/body"));
    insta::assert_snapshot!("doc_form_body", body);
}

#[test]
fn callback_json_shape() {
    let callback = Callback::builder()
        .with_url("https://a.example.com/cb")
        .with_url("http://b.example.com:8080/cb?x=1")
        .with_host("cb.example.com")
        .with_body(SEED_TEMPLATE)
        .with_body_type(CallbackBodyType::Json)
        .with_sni(true)
        .with_additional_header("x-trace", "abc")
        .build()
        .unwrap();
    insta::assert_snapshot!("callback_json_text", callback.to_json());
    let json: serde_json::Value = serde_json::from_str(&callback.to_json()).unwrap();
    insta::assert_json_snapshot!("callback_json", json);
}
