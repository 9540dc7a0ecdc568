//! Behaviour of header signing beyond the vectors: STS, atomicity on error, re-signing.

use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;
use oss_sign::{parse_authorization, Credentials, Error, Product, Signer, SigningParams};

fn put() -> http::request::Parts {
    http::Request::put("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/obj.txt")
        .header("content-type", "text/plain")
        .header("x-oss-callback", "e30=")
        .header("host", "examplebucket.oss-cn-hangzhou.aliyuncs.com")
        .body(())
        .expect("request")
        .into_parts()
        .0
}

fn params(secs: u64) -> SigningParams {
    SigningParams::builder("cn-hangzhou")
        .with_bucket("examplebucket")
        .with_key("dir/obj.txt")
        .with_additional_headers(["Host"])
        .with_time(UNIX_EPOCH + Duration::from_secs(secs))
        .build()
        .expect("params")
}

#[test]
fn sets_headers_and_marks_secrets_sensitive() {
    let mut parts = put();
    let creds = Credentials::new("ak", "sk").with_security_token("Sts-T0ken");
    Signer::new()
        .sign_headers(&mut parts, &creds, &params(1_702_743_657))
        .expect("signs");
    let h = &parts.headers;
    assert_eq!(h["x-oss-date"], "20231216T162057Z");
    assert_eq!(h["date"], "Sat, 16 Dec 2023 16:20:57 GMT");
    assert_eq!(h["x-oss-content-sha256"], "UNSIGNED-PAYLOAD");
    assert_eq!(h["x-oss-security-token"], "Sts-T0ken");
    assert!(h["x-oss-security-token"].is_sensitive());
    assert!(h["authorization"].is_sensitive());
    let auth = parse_authorization(h["authorization"].to_str().expect("ascii")).expect("parses");
    assert_eq!(auth.access_key_id, "ak");
    assert_eq!(auth.additional_headers, ["host"]);
    assert_eq!(
        auth.scope.to_string(),
        "20231216/cn-hangzhou/oss/aliyun_v4_request"
    );
    assert!(!format!("{:?}", parts.headers).contains("Sts-T0ken"));
}

#[test]
fn resigning_replaces_previous_signature() {
    let signer = Signer::new();
    let creds = Credentials::new("ak", "sk");
    let mut once = put();
    signer
        .sign_headers(&mut once, &creds, &params(1_702_743_657))
        .expect("signs");
    let first = once.headers["authorization"].clone();
    // A retry re-signs the same parts with a fresh time.
    signer
        .sign_headers(&mut once, &creds, &params(1_702_743_700))
        .expect("signs");
    assert_ne!(once.headers["authorization"], first);
    assert_eq!(once.headers.get_all("authorization").iter().count(), 1);
    assert_eq!(once.headers.get_all("x-oss-date").iter().count(), 1);
    // Signing afresh at the second time gives the same result as re-signing.
    let mut fresh = put();
    signer
        .sign_headers(&mut fresh, &creds, &params(1_702_743_700))
        .expect("signs");
    assert_eq!(
        fresh.headers["authorization"],
        once.headers["authorization"]
    );
}

#[test]
fn error_leaves_parts_unchanged() {
    let mut parts = put();
    parts.headers.insert(
        "x-oss-meta-bin",
        HeaderValue::from_bytes(b"caf\xe9").expect("obs-text value"),
    );
    let before = parts.headers.clone();
    let err = Signer::new()
        .sign_headers(
            &mut parts,
            &Credentials::new("ak", "sk"),
            &params(1_702_743_657),
        )
        .expect_err("non-UTF-8 signed value");
    assert!(matches!(err, Error::InvalidHeaderValue { ref name } if name == "x-oss-meta-bin"));
    assert_eq!(parts.headers, before);

    // An access key id that cannot be a header value: typed error, no panic, no change.
    let mut parts = put();
    let before = parts.headers.clone();
    let err = Signer::new()
        .sign_headers(
            &mut parts,
            &Credentials::new("a\nk", "sk"),
            &params(1_702_743_657),
        )
        .expect_err("bad key id");
    assert!(matches!(err, Error::InvalidHeaderValue { .. }));
    assert_eq!(parts.headers, before);

    let err = Signer::new()
        .sign_headers(
            &mut parts,
            &Credentials::new("ak", "sk").with_security_token("bad\ntoken"),
            &params(1_702_743_657),
        )
        .expect_err("bad token");
    assert!(!err.to_string().contains("bad\ntoken"));
    assert_eq!(parts.headers, before);

    let err = Signer::new()
        .sign_headers(
            &mut parts,
            &Credentials::new("ak", "sk"),
            &params(0).with_time(UNIX_EPOCH - Duration::from_secs(1)),
        )
        .expect_err("time before 1970");
    assert!(matches!(err, Error::TimeOutOfRange));
    assert_eq!(parts.headers, before);
}

#[test]
fn canonical_uri_comes_from_params_not_uri_path() {
    let signer = Signer::new();
    let creds = Credentials::new("ak", "sk");
    let mut virtual_hosted = put();
    let (mut path_style, ()) =
        http::Request::put("https://oss-cn-hangzhou.aliyuncs.com/examplebucket/dir%2Fobj.txt")
            .header("content-type", "text/plain")
            .header("x-oss-callback", "e30=")
            .header("host", "examplebucket.oss-cn-hangzhou.aliyuncs.com")
            .body(())
            .expect("request")
            .into_parts();
    signer
        .sign_headers(&mut virtual_hosted, &creds, &params(1_702_743_657))
        .expect("signs");
    signer
        .sign_headers(&mut path_style, &creds, &params(1_702_743_657))
        .expect("signs");
    assert_eq!(
        virtual_hosted.headers["authorization"],
        path_style.headers["authorization"]
    );
}

#[test]
fn cloudbox_scope_in_authorization() {
    let mut parts = put();
    let p = SigningParams::builder("cb-123")
        .with_product(Product::CloudBox)
        .with_bucket("examplebucket")
        .with_key("dir/obj.txt")
        .with_time(UNIX_EPOCH + Duration::from_secs(1_702_743_657))
        .build()
        .expect("params");
    Signer::new()
        .sign_headers(&mut parts, &Credentials::new("ak", "sk"), &p)
        .expect("signs");
    assert!(parts.headers["authorization"]
        .to_str()
        .expect("ascii")
        .starts_with(
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,Signature="
    ));
}

#[test]
fn signer_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Signer>();
    assert_traits::<Credentials>();
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
}
