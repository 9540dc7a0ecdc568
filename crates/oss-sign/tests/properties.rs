//! Property tests: every signed component changes the signature; unsigned headers don't.

use std::time::{Duration, UNIX_EPOCH};

use oss_sign::{percent_encode, Credentials, Signer, SigningParams};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    key: String,
    query: Vec<(String, String)>,
    meta: String,
    extra: String,
    user_agent: String,
    additional: bool,
    secs: u64,
    region: String,
    secret: String,
}

fn request(c: &Case) -> (http::request::Parts, SigningParams) {
    let q: Vec<String> = c
        .query
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n, false), percent_encode(v, false)))
        .collect();
    let mut uri = format!(
        "https://bucket.oss-{}.aliyuncs.com/{}",
        c.region,
        percent_encode(&c.key, true)
    );
    if !q.is_empty() {
        uri.push('?');
        uri.push_str(&q.join("&"));
    }
    let (parts, ()) = http::Request::builder()
        .method(c.method)
        .uri(uri)
        .header("x-oss-meta-m", c.meta.as_str())
        .header("x-extra", c.extra.as_str())
        .header("user-agent", c.user_agent.as_str())
        .body(())
        .expect("request")
        .into_parts();
    let mut params = SigningParams::builder(c.region.as_str())
        .with_bucket("bucket")
        .with_key(c.key.as_str())
        .with_time(UNIX_EPOCH + Duration::from_secs(c.secs));
    if c.additional {
        params = params.with_additional_headers(["X-Extra"]);
    }
    (parts, params.build().expect("params"))
}

/// The signature, through the stage-recording path.
fn sign(c: &Case) -> String {
    let (mut parts, params) = request(c);
    Signer::new()
        .sign_headers_with_stages(
            &mut parts,
            &Credentials::new("ak", c.secret.as_str()),
            &params,
        )
        .expect("signs")
        .signature
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,12}"
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec!["GET", "PUT", "POST", "HEAD", "DELETE"]),
        "[A-Za-z0-9/ _.+!()~-]{1,40}",
        prop::collection::vec((token(), "[A-Za-z0-9 /+=_.-]{0,12}"), 0..4),
        token(),
        token(),
        token(),
        any::<bool>(),
        1_600_000_000u64..1_900_000_000,
        prop::sample::select(vec![
            "cn-hangzhou",
            "cn-beijing",
            "ap-southeast-1",
            "cb-123",
        ]),
        "[A-Za-z0-9]{8,30}",
    )
        .prop_map(
            |(method, key, query, meta, extra, user_agent, additional, secs, region, secret)| {
                Case {
                    method,
                    key,
                    query,
                    meta,
                    extra,
                    user_agent,
                    additional,
                    secs,
                    region: region.to_owned(),
                    secret,
                }
            },
        )
}

/// Replaces the byte at `index % len` with `replacement` when that changes the text.
fn mutate_byte(s: &str, index: usize, replacement: char) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let i = index % chars.len().max(1);
    if chars.get(i) == Some(&replacement) {
        return None;
    }
    let mut out: Vec<char> = chars;
    if out.is_empty() {
        out.push(replacement);
    } else {
        out[i] = replacement;
    }
    Some(out.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn method_is_signed(c in case(), m in prop::sample::select(vec!["GET", "PUT", "POST", "HEAD", "DELETE"])) {
        prop_assume!(m != c.method);
        let mut d = c.clone();
        d.method = m;
        prop_assert_ne!(sign(&c), sign(&d));
    }

    #[test]
    fn every_key_byte_is_signed(c in case(), i in any::<usize>(), r in prop::sample::select(vec!['a', 'Z', '/', ' ', '+', '%', '~', '7', 'é'])) {
        let Some(key) = mutate_byte(&c.key, i, r) else { return Ok(()); };
        let mut d = c.clone();
        d.key = key;
        prop_assert_ne!(sign(&c), sign(&d));
    }

    #[test]
    fn query_names_and_values_are_signed(c in case(), i in any::<usize>(), name in token(), value in "[A-Za-z0-9 /+=_.-]{0,12}", change_name in any::<bool>()) {
        let mut d = c.clone();
        if d.query.is_empty() {
            d.query.push((name, value));
        } else {
            let j = i % d.query.len();
            if change_name {
                prop_assume!(d.query[j].0 != name);
                d.query[j].0 = name;
            } else {
                prop_assume!(d.query[j].1 != value);
                d.query[j].1 = value;
            }
        }
        let mut a = c.query.clone();
        let mut b = d.query.clone();
        a.sort();
        b.sort();
        prop_assume!(a != b);
        prop_assert_ne!(sign(&c), sign(&d));
    }

    #[test]
    fn signed_header_values_are_signed(c in case(), v in token()) {
        prop_assume!(v != c.meta);
        let mut d = c.clone();
        d.meta = v;
        prop_assert_ne!(sign(&c), sign(&d));
    }

    #[test]
    fn additional_header_is_signed_only_when_listed(c in case(), v in token()) {
        prop_assume!(v != c.extra);
        let mut d = c.clone();
        d.extra = v;
        if c.additional {
            prop_assert_ne!(sign(&c), sign(&d));
        } else {
            prop_assert_eq!(sign(&c), sign(&d));
        }
    }

    #[test]
    fn time_region_and_secret_are_signed(c in case(), delta in 1u64..400_000, region in "[a-z]{2}-[a-z]{3,10}", secret in "[A-Za-z0-9]{8,30}") {
        let mut d = c.clone();
        d.secs += delta;
        prop_assert_ne!(sign(&c), sign(&d));
        if region != c.region {
            let mut d = c.clone();
            d.region = region;
            prop_assert_ne!(sign(&c), sign(&d));
        }
        if secret != c.secret {
            let mut d = c.clone();
            d.secret = secret;
            prop_assert_ne!(sign(&c), sign(&d));
        }
    }

    #[test]
    fn lean_and_staged_paths_agree(c in case(), token in proptest::option::of(token())) {
        let mut creds = Credentials::new("ak", c.secret.as_str());
        if let Some(t) = token {
            creds = creds.with_security_token(t);
        }
        let (mut lean, params) = request(&c);
        let (mut staged, _) = request(&c);
        let signer = Signer::new();
        signer.sign_headers(&mut lean, &creds, &params).expect("signs");
        let stages = signer.sign_headers_with_stages(&mut staged, &creds, &params).expect("signs");
        prop_assert_eq!(&lean.headers, &staged.headers);
        let auth = lean.headers["authorization"].to_str().expect("ascii");
        let suffix = format!("Signature={}", stages.signature);
        prop_assert!(auth.ends_with(&suffix), "{} vs {}", auth, suffix);
    }

    #[test]
    fn unsigned_headers_do_not_matter(c in case(), ua in token()) {
        let mut d = c.clone();
        d.user_agent = ua;
        prop_assert_eq!(sign(&c), sign(&d));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Input from the wire never panics the parsers; results are typed.
    #[test]
    fn parsers_never_panic(s in "\\PC{0,200}", raw in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = oss_sign::parse_authorization(&s);
        let _ = oss_sign::parse_authorization(&format!("OSS4-HMAC-SHA256 {s}"));
        let _ = oss_sign::Scope::parse(&s);
        let _ = oss_sign::parse_datetime(&s);
        let _ = oss_sign::parse_http_date(&s);
        let q = oss_sign::decode_query(&s);
        let _ = oss_sign::parse_presigned_query(&q);
        let lossy = String::from_utf8_lossy(&raw);
        let _ = oss_sign::decode_query(&lossy);
    }

    /// Any valid header value and any key sign or fail with a typed error; never panic.
    #[test]
    fn signing_arbitrary_values_never_panics(
        key in "\\PC{0,60}",
        value in prop::collection::vec(32u8..=255, 0..40),
        ak in "\\PC{1,20}",
        token in proptest::option::of("\\PC{0,20}"),
    ) {
        let mut b = http::Request::put("https://bucket.oss-cn-hangzhou.aliyuncs.com/k");
        if let Ok(v) = http::HeaderValue::from_bytes(&value) {
            b = b.header("x-oss-meta-v", v);
        }
        let (mut parts, ()) = b.body(()).expect("request").into_parts();
        let before = parts.headers.clone();
        let params = SigningParams::builder("cn-hangzhou")
            .with_bucket("bucket")
            .with_key(key)
            .with_time(UNIX_EPOCH + Duration::from_secs(1_702_743_657))
            .build()
            .expect("params");
        let mut creds = Credentials::new(ak, "sk");
        if let Some(t) = token {
            creds = creds.with_security_token(t);
        }
        if Signer::new().sign_headers(&mut parts, &creds, &params).is_err() {
            prop_assert_eq!(parts.headers, before);
        } else {
            prop_assert!(parts.headers.contains_key("authorization"));
        }
    }
}
