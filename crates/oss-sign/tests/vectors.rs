//! The official signing vectors (`conformance/vectors/official.json`, protocol §7), checked stage
//! by stage: canonical request and string to sign (where the vector has `derived`), then the
//! signature.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use oss_sign::{
    decode_query, percent_encode, CanonicalRequest, Credentials, Product, Scope, Signer,
    SigningKey, SigningParams, StringToSign, UNSIGNED_PAYLOAD,
};
use serde::Deserialize;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../conformance/vectors/official.json"
);
const SHARED_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/official.json"
);

/// Vectors usable for signing conformance: every `sign_header` and `presign_query` vector with
/// `use_for_conformance: true`.
const USABLE_SIGNING_VECTORS: usize = 19;

#[derive(Deserialize)]
struct Vector {
    id: String,
    kind: String,
    #[serde(default)]
    use_for_conformance: bool,
    /// Shape depends on `kind`; parsed as [`Input`] for signing vectors only.
    #[serde(default)]
    input: serde_json::Value,
    #[serde(default)]
    signer_adds_headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    expected: serde_json::Value,
    #[serde(default)]
    derived: Option<Derived>,
}

#[derive(Deserialize)]
struct Input {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    region: String,
    product: String,
    method: String,
    bucket: Option<String>,
    key: Option<String>,
    headers: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    additional_headers: Option<Vec<String>>,
    signing_time_unix: u64,
    #[serde(default)]
    expires_seconds: Option<u64>,
}

#[derive(Deserialize)]
struct Expected {
    #[serde(default)]
    authorization: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    query_params_decoded: Option<BTreeMap<String, String>>,
    #[serde(default)]
    asserted_query_values_as_encoded_in_url: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Derived {
    canonical_request: String,
    string_to_sign: String,
}

fn load() -> Vec<Vector> {
    let text = std::fs::read_to_string(VECTORS).expect("conformance/vectors/official.json");
    serde_json::from_str(&text).expect("vectors parse")
}

fn usable(v: &Vector) -> bool {
    // IOS/AND vectors that no implementation reproduces are `use_for_conformance: false`.
    v.use_for_conformance && (v.kind == "sign_header" || v.kind == "presign_query")
}

impl Input {
    fn credentials(&self) -> Credentials {
        let c = Credentials::new(&self.access_key_id, &self.access_key_secret);
        match &self.security_token {
            Some(t) => c.with_security_token(t),
            None => c,
        }
    }

    fn product(&self) -> Product {
        self.product.parse().expect("product")
    }

    fn time(&self) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.signing_time_unix)
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in &self.headers {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        h
    }

    fn raw_query(&self) -> String {
        self.query
            .iter()
            .map(|(n, v)| {
                if v.is_empty() {
                    percent_encode(n, false)
                } else {
                    format!("{}={}", percent_encode(n, false), percent_encode(v, false))
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn parts(&self) -> http::request::Parts {
        let path = match (&self.bucket, &self.key) {
            (Some(_), Some(k)) => format!("/{}", percent_encode(k, true)),
            _ => "/".to_owned(),
        };
        let host = self.bucket.as_deref().unwrap_or("oss");
        let q = self.raw_query();
        let uri = if q.is_empty() {
            format!("http://{host}.oss-{}.aliyuncs.com{path}", self.region)
        } else {
            format!("http://{host}.oss-{}.aliyuncs.com{path}?{q}", self.region)
        };
        let mut b = http::Request::builder()
            .method(self.method.as_str())
            .uri(uri);
        for (name, value) in &self.headers {
            b = b.header(name.as_str(), value.as_str());
        }
        b.body(()).expect("request").into_parts().0
    }

    fn params(&self) -> SigningParams {
        let mut b = SigningParams::builder(&self.region)
            .with_product(self.product())
            .with_time(self.time());
        if let Some(bucket) = &self.bucket {
            b = b.with_bucket(bucket);
        }
        if let Some(key) = &self.key {
            b = b.with_key(key);
        }
        if let Some(add) = &self.additional_headers {
            b = b.with_additional_headers(add.iter().cloned());
        }
        b.build().expect("params")
    }
}

/// Verifies one header vector with the stage types only (what the emulator does), with the
/// headers the official signer had on the request.
fn check_header_by_stages(v: &Vector, input: &Input) -> String {
    let mut headers = input.headers();
    for (name, value) in v.signer_adds_headers.iter().flatten() {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    let method: Method = input.method.parse().expect("method");
    let cr = CanonicalRequest::new(
        &method,
        input.bucket.as_deref(),
        input.key.as_deref(),
        &input.query,
        &headers,
        input.additional_headers.as_deref().unwrap_or(&[]),
        UNSIGNED_PAYLOAD,
    );
    let datetime = oss_sign::format_datetime(input.time());
    let scope = Scope::new(&datetime[..8], &input.region, input.product());
    let sts = StringToSign::new(&datetime, &scope, &cr);
    if let Some(d) = &v.derived {
        assert_eq!(
            cr.to_string(),
            d.canonical_request,
            "{}: canonical request",
            v.id
        );
        assert_eq!(
            sts.to_string(),
            d.string_to_sign,
            "{}: string to sign",
            v.id
        );
    }
    SigningKey::derive(&input.access_key_secret, &scope).sign(sts.as_str())
}

#[test]
fn all_usable_signing_vectors_match() {
    let vectors = load();
    let signer = Signer::new();
    let mut checked = Vec::new();
    for v in vectors.iter().filter(|v| usable(v)) {
        let input: Input = serde_json::from_value(v.input.clone()).expect("signing input");
        let input = &input;
        let expected: Expected =
            serde_json::from_value(v.expected.clone()).expect("signing expected");
        match v.kind.as_str() {
            "sign_header" => {
                let want_sig = expected.signature.as_deref().expect("signature");
                // The stage path works for every header vector, including the Android ones
                // whose time travels only in `Date`.
                assert_eq!(
                    check_header_by_stages(v, input),
                    want_sig,
                    "{}: stages",
                    v.id
                );

                let client_sends_x_oss_date = v
                    .signer_adds_headers
                    .as_ref()
                    .is_some_and(|h| h.contains_key("x-oss-date"));
                if client_sends_x_oss_date {
                    let mut parts = input.parts();
                    let stages = signer
                        .sign_headers_with_stages(&mut parts, &input.credentials(), &input.params())
                        .expect("signs");
                    if let Some(d) = &v.derived {
                        assert_eq!(
                            stages.canonical_request.to_string(),
                            d.canonical_request,
                            "{}: canonical request",
                            v.id
                        );
                        assert_eq!(
                            stages.string_to_sign.to_string(),
                            d.string_to_sign,
                            "{}: string to sign",
                            v.id
                        );
                    }
                    assert_eq!(stages.signature, want_sig, "{}: signature", v.id);
                    let auth = parts.headers["authorization"].to_str().expect("ascii");
                    assert_eq!(
                        Some(auth),
                        expected.authorization.as_deref(),
                        "{}: authorization",
                        v.id
                    );
                    // The lean path (no stage strings) gives the same headers.
                    let mut lean = input.parts();
                    signer
                        .sign_headers(&mut lean, &input.credentials(), &input.params())
                        .expect("signs");
                    assert_eq!(lean.headers, parts.headers, "{}: lean path", v.id);
                    for (name, value) in v.signer_adds_headers.iter().flatten() {
                        assert_eq!(
                            parts.headers[name.as_str()],
                            value.as_str(),
                            "{}: {name}",
                            v.id
                        );
                    }
                } else {
                    assert!(v.id.contains("no-x-oss-date"), "{}", v.id);
                }
            }
            "presign_query" => {
                let parts = input.parts();
                let out = signer
                    .presign(
                        &parts,
                        &input.credentials(),
                        &input.params(),
                        Duration::from_secs(input.expires_seconds.expect("expires")),
                    )
                    .expect("presigns");
                if let Some(d) = &v.derived {
                    assert_eq!(
                        out.canonical_request.to_string(),
                        d.canonical_request,
                        "{}: canonical request",
                        v.id
                    );
                    assert_eq!(
                        out.string_to_sign.to_string(),
                        d.string_to_sign,
                        "{}: string to sign",
                        v.id
                    );
                }
                let raw = out.uri.query().expect("query");
                let got: BTreeMap<String, String> = decode_query(raw).into_iter().collect();
                let want = expected.query_params_decoded.as_ref().expect("params");
                assert!(want.contains_key("x-oss-signature"), "{}", v.id);
                for (name, value) in want {
                    assert_eq!(got.get(name), Some(value), "{}: query {name}", v.id);
                }
                for (name, encoded) in expected
                    .asserted_query_values_as_encoded_in_url
                    .iter()
                    .flatten()
                {
                    assert!(
                        raw.contains(&format!("{name}={encoded}")),
                        "{}: {name} encoded as {encoded} in {raw}",
                        v.id
                    );
                }
                // The original parameters are kept.
                for (name, _) in &input.query {
                    assert!(got.contains_key(name), "{}: lost {name}", v.id);
                }
                assert_eq!(
                    out.expires_at,
                    input.time() + Duration::from_secs(input.expires_seconds.unwrap_or(0))
                );
            }
            other => unreachable!("filtered kind {other}"),
        }
        checked.push(v.id.clone());
    }
    assert!(
        checked.len() >= USABLE_SIGNING_VECTORS,
        "expected at least {USABLE_SIGNING_VECTORS} usable signing vectors, checked {}: {checked:?}",
        checked.len()
    );
}

#[test]
fn skipped_vectors_are_the_documented_unreproducible_ones() {
    // Only IOS/Android vectors that no implementation reproduces may be skipped (protocol §1.5).
    for v in load().iter().filter(|v| {
        (v.kind == "sign_header" || v.kind == "presign_query") && !v.use_for_conformance
    }) {
        assert!(
            v.id.contains("ios") || v.id.contains("android"),
            "{} is skipped but not an IOS/Android vector",
            v.id
        );
    }
}

#[test]
fn project_vectors_equal_shared_copy() {
    let Ok(shared) = std::fs::read(SHARED_VECTORS) else {
        // `../shared` is not beside every clone; when it is, the copies must be identical.
        return;
    };
    let ours = std::fs::read(VECTORS).expect("project vectors");
    assert!(
        ours == shared,
        "conformance/vectors/official.json differs from ../shared/vectors/official.json"
    );
}
