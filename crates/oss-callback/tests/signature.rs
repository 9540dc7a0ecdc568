//! Known-answer signatures, sign/verify round trips, and tampering.

#[path = "support/shared.rs"]
mod common;

use common::{by_id, str_at, TEST_KEY_1024, TEST_KEY_512};
use oss_callback::{
    sign_callback, signature_headers, verify_callback, CallbackPrivateKey, CallbackPublicKey,
    CallbackVerifier, Error, PublicPath, StaticKeyFetcher,
};

fn oss_key() -> CallbackPublicKey {
    CallbackPublicKey::from_pem(str_at(
        &by_id("callback-signature-doc-example"),
        "/input/public_key_pem",
    ))
    .unwrap()
}

struct Case {
    path: &'static str,
    query: &'static str,
    body: &'static str,
    signature: &'static str,
}

/// Known answer 1: the OSS doc example (also the `callback-signature-doc-example` vector).
const DOC: Case = Case {
    path: "/index.php",
    query: "?id=1&index=2",
    body: "bucket=yonghu-test",
    signature:
        "kKQeGTRccDKyHB3H9vF+xYMSrmhMZjzzl2/kdD1ktNVgbWEfYTQG0G2SU/RaHBovRCE8OkQDjC3uG33esH2txA==",
};

/// Known answer 2: spec callbacks-and-users.md §1.2 (aliyun-oss-python-sdk#272), no query.
const PY272: Case = Case {
    path: "/api/File/15/upload_notify/",
    query: "",
    body: "filename=zmaplex%2F20210407_14%3A31%3A41_286180%2F20200130021612_pnfqp.jpg&size=112595",
    signature:
        "aMYUW1arI/qpU7cp/DCGXS56iFJPxwe7K3QIFVvbtSgiE6vwuu4/HuBxyDDX5IKU8vSJg/BI956SzVsRQt969g==",
};

#[test]
fn both_known_answers_verify() {
    let key = oss_key();
    for c in [&DOC, &PY272] {
        verify_callback(&key, c.path, c.query, c.body.as_bytes(), c.signature)
            .unwrap_or_else(|e| panic!("{}: {e}", c.path));
    }
}

/// Every single-byte change of path, query, body or signature fails verification.
#[test]
fn one_changed_byte_fails() {
    let key = oss_key();
    let mutate = |s: &str, i: usize| -> String {
        let mut b = s.as_bytes().to_vec();
        // Stay printable ASCII, always a different byte; avoid turning an escape's hex digit
        // into the other case of the same digit (none of these inputs contain '%').
        b[i] = if b[i] == b'x' { b'y' } else { b'x' };
        String::from_utf8(b).unwrap()
    };
    for c in [&DOC, &PY272] {
        for i in 0..c.path.len() {
            let p = mutate(c.path, i);
            assert!(
                verify_callback(&key, &p, c.query, c.body.as_bytes(), c.signature).is_err(),
                "path {p}"
            );
        }
        for i in 0..c.query.len() {
            let q = mutate(c.query, i);
            assert!(
                verify_callback(&key, c.path, &q, c.body.as_bytes(), c.signature).is_err(),
                "query {q}"
            );
        }
        for i in 0..c.body.len() {
            let b = mutate(c.body, i);
            assert!(
                verify_callback(&key, c.path, c.query, b.as_bytes(), c.signature).is_err(),
                "body {b}"
            );
        }
        // Signature: flip bits of the decoded bytes (a base64 character change could land in
        // the padding bits and decode to the same bytes).
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(c.signature)
            .unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            let bad = base64::engine::general_purpose::STANDARD.encode(&bad);
            assert!(matches!(
                verify_callback(&key, c.path, c.query, c.body.as_bytes(), &bad),
                Err(Error::SignatureMismatch)
            ));
        }
    }
    assert!(matches!(
        verify_callback(
            &key,
            DOC.path,
            DOC.query,
            DOC.body.as_bytes(),
            "not base64!"
        ),
        Err(Error::Base64 {
            field: "authorization",
            ..
        })
    ));
}

#[test]
fn sign_then_verify_with_512_and_1024_bit_keys() {
    for pem in [TEST_KEY_512, TEST_KEY_1024] {
        let private = CallbackPrivateKey::from_pem(pem).unwrap();
        let public = private.public_key();
        let round = CallbackPublicKey::from_pem(&public.to_pem().unwrap()).unwrap();
        assert_eq!(round, public);
        let sig = sign_callback(&private, "/cb%20x", "a=1", b"body").unwrap();
        verify_callback(&public, "/cb%20x", "?a=1", b"body", &sig).unwrap();
        verify_callback(&public, "/cb x", "a=1", b"body", &sig).unwrap();
        assert!(verify_callback(&public, "/cb+x", "a=1", b"body", &sig).is_err());
        assert!(verify_callback(&oss_key(), "/cb%20x", "a=1", b"body", &sig).is_err());
    }
}

#[test]
fn test_keys_sizes() {
    assert_eq!(
        CallbackPrivateKey::from_pem(TEST_KEY_512).unwrap().bits(),
        512
    );
    assert_eq!(
        CallbackPrivateKey::from_pem(TEST_KEY_1024).unwrap().bits(),
        1024
    );
    assert!(TEST_KEY_1024.starts_with("-----BEGIN PRIVATE KEY-----"));
}

fn request(uri: &str, headers: http::HeaderMap) -> (http::Uri, http::HeaderMap) {
    (uri.parse().unwrap(), headers)
}

#[tokio::test]
async fn verifier_with_doc_example_and_pinned_key() {
    let v = by_id("callback-signature-doc-example");
    let mut headers = http::HeaderMap::new();
    for name in ["authorization", "x-oss-pub-key-url"] {
        headers.insert(
            name,
            str_at(&v, &format!("/input/headers/{name}"))
                .parse()
                .unwrap(),
        );
    }
    let url = "http://gosspublic.alicdn.com/callback_pub_key_v1.pem";
    let (uri, headers) = request("/index.php?id=1&index=2", headers);

    let verifier = CallbackVerifier::builder()
        .with_pinned_key(url, oss_key())
        .build()
        .unwrap();
    let no_keys = StaticKeyFetcher::new();
    verifier
        .verify(&uri, &headers, DOC.body.as_bytes(), &no_keys)
        .await
        .unwrap();

    // Without the pin the key is fetched once, then cached.
    let pem = str_at(&v, "/input/public_key_pem").to_owned();
    let fetcher = StaticKeyFetcher::new().with_key(url, pem);
    let verifier = CallbackVerifier::new();
    assert!(verifier.cached_key(url).is_none());
    verifier
        .verify(&uri, &headers, DOC.body.as_bytes(), &fetcher)
        .await
        .unwrap();
    assert!(verifier.cached_key(url).is_some());
    verifier
        .verify(&uri, &headers, DOC.body.as_bytes(), &no_keys)
        .await
        .unwrap();

    // Forged body.
    assert!(matches!(
        verifier
            .verify(&uri, &headers, b"bucket=evil", &no_keys)
            .await,
        Err(Error::SignatureMismatch)
    ));

    // A proxy stripped "/index.php" to "/": the public path restores what OSS signed.
    let (rewritten, _) = request("/?id=1&index=2", http::HeaderMap::new());
    assert!(verifier
        .verify(&rewritten, &headers, DOC.body.as_bytes(), &no_keys)
        .await
        .is_err());
    let fixed = CallbackVerifier::builder()
        .with_pinned_key(url, oss_key())
        .with_public_path(PublicPath::Fixed("/index.php".into()))
        .build()
        .unwrap();
    let verified = fixed
        .verify(&rewritten, &headers, DOC.body.as_bytes(), &no_keys)
        .await
        .unwrap();
    // The handler is told what was signed, not what the proxy left of it.
    assert_eq!(verified.path, "/index.php");
    assert_eq!(verified.query, "id=1&index=2");
    assert_eq!(verified.key_url, url);
    assert_eq!(verified.signed_target(), "/index.php?id=1&index=2");
}

#[tokio::test]
async fn verifier_rejects_foreign_key_urls_and_missing_headers() {
    let private = CallbackPrivateKey::from_pem(TEST_KEY_512).unwrap();
    let emulator_url = "http://127.0.0.1:9/pub_key.pem";
    let headers = signature_headers(&private, emulator_url, "/cb", "", b"x=1").unwrap();
    let (uri, headers) = request("/cb", headers);
    let pem = private.public_key().to_pem().unwrap();
    let fetcher = StaticKeyFetcher::new().with_key(emulator_url, pem);

    let strict = CallbackVerifier::new();
    assert!(matches!(
        strict.verify(&uri, &headers, b"x=1", &fetcher).await,
        Err(Error::KeyUrlNotAllowed { url, .. }) if url == emulator_url
    ));
    let trusting = CallbackVerifier::builder()
        .with_allowed_prefix("http://127.0.0.1:9/")
        .build()
        .unwrap();
    trusting
        .verify(&uri, &headers, b"x=1", &fetcher)
        .await
        .unwrap();

    let mut no_auth = headers.clone();
    no_auth.remove("authorization");
    assert!(matches!(
        trusting.verify(&uri, &no_auth, b"x=1", &fetcher).await,
        Err(Error::MissingHeader {
            name: "authorization"
        })
    ));
    let other = CallbackVerifier::builder()
        .with_allowed_prefix("http://127.0.0.1:9/")
        .build()
        .unwrap();
    assert!(matches!(
        other
            .verify(&uri, &headers, b"x=1", &StaticKeyFetcher::new())
            .await,
        Err(Error::KeyFetch { .. })
    ));
    let bad_pem = StaticKeyFetcher::new().with_key(emulator_url, "not a key");
    assert!(matches!(
        other.verify(&uri, &headers, b"x=1", &bad_pem).await,
        Err(Error::InvalidKey { .. })
    ));
}
