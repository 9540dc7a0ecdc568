//! Signs requests described as JSON lines on stdin, one answer line each on stdout; used by the
//! conformance suite to compare random requests with the official Python SDK's signer.
//!
//! Input line: `{"method","url","headers":{..},"region","product","bucket","key","time",
//! "additional":[..]|null,"secret","token":str|null,"presign":bool,"expires":secs}`.
//! Output line: `{"signature","canonical_request"}` (the `Authorization` signature, or the
//! presigned URL's `x-oss-signature`).

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::time::{Duration, UNIX_EPOCH};

use oss_sign::{decode_query, Credentials, Product, Signer, SigningParams};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    region: String,
    product: String,
    bucket: String,
    key: String,
    time: u64,
    additional: Option<Vec<String>>,
    secret: String,
    token: Option<String>,
    presign: bool,
    expires: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let signer = Signer::new();
    for line in std::io::stdin().lock().lines() {
        let case: Case = serde_json::from_str(&line?)?;
        let mut request = http::Request::builder()
            .method(case.method.as_str())
            .uri(case.url.as_str());
        for (name, value) in &case.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let (mut parts, ()) = request.body(())?.into_parts();
        let params = SigningParams::builder(case.region)
            .with_product(case.product.parse::<Product>()?)
            .with_bucket(case.bucket)
            .with_key(case.key)
            .with_time(UNIX_EPOCH + Duration::from_secs(case.time))
            .with_additional_headers(case.additional.unwrap_or_default())
            .build()?;
        let mut creds = Credentials::new("ak", case.secret);
        if let Some(token) = case.token {
            creds = creds.with_security_token(token);
        }
        let (signature, canonical_request) = if case.presign {
            let presigned =
                signer.presign(&parts, &creds, &params, Duration::from_secs(case.expires))?;
            let query = decode_query(presigned.uri.query().unwrap_or(""));
            let signature = query
                .into_iter()
                .find(|(name, _)| name == "x-oss-signature")
                .map(|(_, value)| value)
                .ok_or("presign produced no x-oss-signature")?;
            (signature, presigned.canonical_request.to_string())
        } else {
            let stages = signer.sign_headers_with_stages(&mut parts, &creds, &params)?;
            (stages.signature, stages.canonical_request.to_string())
        };
        println!(
            "{}",
            serde_json::json!({"signature": signature, "canonical_request": canonical_request})
        );
    }
    Ok(())
}
