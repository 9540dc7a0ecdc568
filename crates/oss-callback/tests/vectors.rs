//! The 12 callback vectors of `conformance/vectors/official.json`: every
//! `callback_header_encoding` vector, the `callback_request_body` vector and the
//! `callback_signature` vector. Fails if any is missing.

#[path = "support/shared.rs"]
mod common;

use common::{by_id, by_kind, str_at};
use oss_callback::{
    decode_form, decode_headers, string_to_sign, verify_callback, Callback, CallbackBodyType,
    CallbackPublicKey, CallbackVars, Error, SystemValues, Template,
};
use serde_json::Value;

const HEADER_IDS: [&str; 10] = [
    "callback-go-mock",
    "callback-var-go-mock",
    "callback-go-json-encoder",
    "callback-python-sample",
    "callback-var-python-sample",
    "callback-java-jsonize",
    "callback-var-java-jsonize",
    "callback-doc-header-example",
    "callback-var-doc-header-example",
    "callback-doc-postobject-form-field",
];

#[test]
fn all_twelve_callback_vectors_are_present() {
    let header = by_kind("callback_header_encoding");
    assert_eq!(header.len(), 10, "callback_header_encoding vectors");
    let ids: Vec<&str> = header.iter().map(|v| str_at(v, "/id")).collect();
    for id in HEADER_IDS {
        assert!(ids.contains(&id), "missing {id}");
    }
    assert_eq!(by_kind("callback_request_body").len(), 1);
    assert_eq!(by_kind("callback_signature").len(), 1);
}

/// The base64 in each vector is exactly base64(json_text).
#[test]
fn header_values_are_base64_of_the_json_text() {
    use base64::Engine as _;
    for v in by_kind("callback_header_encoding") {
        let json = str_at(&v, "/input/json_text");
        let b64 = str_at(&v, "/expected/header_value_base64");
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(json),
            b64,
            "{}",
            v["id"]
        );
    }
}

/// What we expect each callback vector to decode to, built with our builder from the same
/// inputs the SDK (or doc) used.
fn expected_callback(id: &str) -> Callback {
    let b = Callback::builder();
    let b = match id {
        "callback-go-mock" => b
            .with_url("www.aliyuncs.com")
            .with_body("filename=${object}&size=${size}&mimeType=${mimeType}&x=${x:a}&b=${x:b}"),
        "callback-go-json-encoder" => b
            .with_url("www.aliyuncs.com")
            .with_body("filename=${object}&size=${size}&mimeType=${mimeType}")
            .with_body_type(CallbackBodyType::FormUrlEncoded),
        "callback-python-sample" => b
            .with_url("http://www.example.com/callback")
            .with_body("bucket=${bucket}&object=${object}&my_var_1=${x:var1}&my_var_2=${x:var2}"),
        "callback-java-jsonize" => b
            .with_url("http://oss-demo.aliyuncs.com:23450")
            .with_host("oss-cn-hangzhou.aliyuncs.com")
            .with_body("bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&my_var1=${x:var1}&my_var2=${x:var2}")
            .with_body_type(CallbackBodyType::FormUrlEncoded),
        "callback-doc-header-example" => b
            .with_url("121.43.113.8:23456/index.html")
            .with_body("bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&imageInfo.height=${imageInfo.height}&imageInfo.width=${imageInfo.width}&imageInfo.format=${imageInfo.format}&my_var=${x:my_var}"),
        "callback-doc-postobject-form-field" => b
            .with_url("10.101.166.30:8083/callback.php")
            .with_host("10.101.166.30")
            .with_body("filename=$(filename)&table=${x:table}")
            .with_body_type(CallbackBodyType::FormUrlEncoded),
        other => panic!("no expectation for {other}"),
    };
    b.build().expect("builder accepts the vector's inputs")
}

fn expected_vars(id: &str) -> CallbackVars {
    let pairs: &[(&str, &str)] = match id {
        "callback-var-go-mock" => &[("x:a", "a"), ("x:b", "b")],
        "callback-var-python-sample" | "callback-var-java-jsonize" => {
            &[("x:var1", "value1"), ("x:var2", "value2")]
        }
        "callback-var-doc-header-example" => &[("x:my_var", "for-callback-test")],
        other => panic!("no expectation for {other}"),
    };
    let mut vars = CallbackVars::new();
    for (k, v) in pairs {
        vars.insert(*k, *v).unwrap();
    }
    vars
}

/// JSON semantics with OSS defaults made explicit (a missing body type is form-urlencoded).
fn normalized(json: &str) -> Value {
    let mut v: Value = serde_json::from_str(json).unwrap();
    if let Some(obj) = v.as_object_mut() {
        if obj.contains_key("callbackUrl") && !obj.contains_key("callbackBodyType") {
            obj.insert(
                "callbackBodyType".into(),
                Value::from("application/x-www-form-urlencoded"),
            );
        }
    }
    v
}

#[test]
fn every_header_vector_decodes_to_the_typed_value() {
    for v in by_kind("callback_header_encoding") {
        let id = str_at(&v, "/id");
        let header = str_at(&v, "/input/header");
        let json_text = str_at(&v, "/input/json_text");
        let b64 = str_at(&v, "/expected/header_value_base64");
        if header == "x-oss-callback-var" {
            let vars = CallbackVars::decode(b64).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(vars, expected_vars(id), "{id}");
            // Same JSON semantics as the SDK's text.
            assert_eq!(
                serde_json::from_str::<Value>(&vars.to_json()).unwrap(),
                serde_json::from_str::<Value>(json_text).unwrap(),
                "{id}"
            );
        } else {
            let cb = Callback::decode(b64).unwrap_or_else(|e| panic!("{id}: {e}"));
            let expected = expected_callback(id);
            assert_eq!(cb.urls(), expected.urls(), "{id} urls");
            assert_eq!(cb.host(), expected.host(), "{id} host");
            assert_eq!(cb.body(), expected.body(), "{id} body");
            assert_eq!(cb.body_type(), expected.body_type(), "{id} body type");
            assert!(!cb.sni(), "{id} sni");
            assert!(cb.additional_headers().is_empty(), "{id} headers");
            assert_eq!(cb, expected, "{id}");
            assert_eq!(
                normalized(&expected.to_json()),
                normalized(json_text),
                "{id} JSON semantics"
            );
        }
    }
}

#[test]
fn field_values_of_selected_vectors() {
    let cb = Callback::decode(str_at(
        &by_id("callback-doc-header-example"),
        "/expected/header_value_base64",
    ))
    .unwrap();
    assert_eq!(cb.urls(), ["121.43.113.8:23456/index.html"]);
    assert_eq!(
        cb.template().unwrap().variables().collect::<Vec<_>>(),
        [
            "bucket",
            "object",
            "etag",
            "size",
            "mimeType",
            "imageInfo.height",
            "imageInfo.width",
            "imageInfo.format",
            "x:my_var"
        ]
    );
    let cb = Callback::decode(str_at(
        &by_id("callback-java-jsonize"),
        "/expected/header_value_base64",
    ))
    .unwrap();
    assert_eq!(cb.host(), Some("oss-cn-hangzhou.aliyuncs.com"));
    assert_eq!(cb.urls(), ["http://oss-demo.aliyuncs.com:23450"]);
}

/// Where our field order and compactness match the source's, the bytes match too.
#[test]
fn byte_identical_encodings() {
    for id in [
        "callback-java-jsonize",
        "callback-doc-postobject-form-field",
    ] {
        let v = by_id(id);
        assert_eq!(
            expected_callback(id).encode(),
            str_at(&v, "/expected/header_value_base64"),
            "{id}"
        );
    }
    let v = by_id("callback-var-python-sample");
    assert_eq!(
        expected_vars("callback-var-python-sample").encode(),
        str_at(&v, "/expected/header_value_base64")
    );
}

#[test]
fn header_and_form_carriers_decode_vectors() {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-oss-callback",
        str_at(&by_id("callback-go-mock"), "/expected/header_value_base64")
            .parse()
            .unwrap(),
    );
    headers.insert(
        "x-oss-callback-var",
        str_at(
            &by_id("callback-var-go-mock"),
            "/expected/header_value_base64",
        )
        .parse()
        .unwrap(),
    );
    let (cb, vars) = decode_headers(&headers).unwrap().unwrap();
    assert_eq!(cb, expected_callback("callback-go-mock"));
    assert_eq!(vars, expected_vars("callback-var-go-mock"));

    let form = vec![
        ("key".to_owned(), "a.txt".to_owned()),
        (
            "callback".to_owned(),
            str_at(
                &by_id("callback-doc-postobject-form-field"),
                "/expected/header_value_base64",
            )
            .to_owned(),
        ),
        ("x:table".to_owned(), "users".to_owned()),
    ];
    let (cb, vars) = decode_form(&form).unwrap().unwrap();
    assert_eq!(cb, expected_callback("callback-doc-postobject-form-field"));
    assert_eq!(vars.get("x:table"), Some("users"));
    assert_eq!(vars.len(), 1);
}

#[test]
fn request_body_vector() {
    let v = by_id("callback-doc-form-body-example");
    let template = Template::parse(str_at(&v, "/input/callbackBody")).unwrap();
    let body_type = CallbackBodyType::from_mime(str_at(&v, "/input/callbackBodyType")).unwrap();
    let mut values = SystemValues::default();
    let mut vars = CallbackVars::new();
    for (k, val) in v["input"]["variables"].as_object().unwrap() {
        let val = val.as_str().unwrap();
        if k.starts_with("x:") {
            vars.insert(k.clone(), val).unwrap();
        } else {
            values.set(k, val).unwrap();
        }
    }
    let body = template.resolve(&values, &vars, body_type).unwrap();
    assert_eq!(body, str_at(&v, "/expected/body"));
    assert_eq!(
        body.len() as u64,
        v["expected"]["content_length"].as_u64().unwrap()
    );
    assert_eq!(body_type.as_mime(), str_at(&v, "/expected/content_type"));
}

#[test]
fn signature_vector() {
    let v = by_id("callback-signature-doc-example");
    let path = str_at(&v, "/input/path");
    let query = str_at(&v, "/input/query_string");
    let body = str_at(&v, "/input/body").as_bytes();
    let auth = str_at(&v, "/input/headers/authorization");

    let sts = string_to_sign(path, query, body);
    assert_eq!(sts, str_at(&v, "/expected/string_to_sign").as_bytes());
    let md5_hex: String = {
        use md5::Digest as _;
        md5::Md5::digest(&sts)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(md5_hex, str_at(&v, "/expected/md5_hex"));

    let key = CallbackPublicKey::from_pem(str_at(&v, "/input/public_key_pem")).unwrap();
    let der = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(str_at(&v, "/input/public_key_der_b64"))
            .unwrap()
    };
    assert_eq!(CallbackPublicKey::from_der(&der).unwrap(), key);
    assert_eq!(v["expected"]["valid"], true);
    verify_callback(&key, path, query, body, auth).unwrap();

    // The doc's typo'd request line does not verify.
    assert_eq!(v["expected"]["invalid_variant"]["valid"], false);
    let bad = str_at(&v, "/expected/invalid_variant/string_to_sign");
    let (bad_head, bad_body) = bad.split_once('\n').unwrap();
    let (bad_path, bad_query) = bad_head.split_at(bad_head.find('?').unwrap());
    assert!(matches!(
        verify_callback(&key, bad_path, bad_query, bad_body.as_bytes(), auth),
        Err(Error::SignatureMismatch)
    ));

    // The key URL header decodes to the documented URL, which the default allow-list accepts.
    let url =
        oss_callback::decode_pub_key_url(str_at(&v, "/input/headers/x-oss-pub-key-url")).unwrap();
    assert_eq!(url, str_at(&v, "/input/public_key_url"));
    assert!(oss_callback::CallbackVerifier::new().is_allowed(&url));
}
