//! Signs a V4 POST policy read from stdin; used by the conformance cross-check.
//!
//! Input (one JSON object on stdin):
//! `{"access_key_id","access_key_secret","security_token"?,"region","product","time_unix","policy"}`
//! (`product` is `oss` or `oss-cloudbox`, `policy` the policy JSON text).
//! Output (stdout): `{"policy":"<b64>","signature":"<hex>","fields":{...}}`.

use std::io::Read as _;
use std::time::{Duration, UNIX_EPOCH};

use oss_sign::{Credentials, Product, Signer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Input {
    access_key_id: String,
    access_key_secret: String,
    #[serde(default)]
    security_token: Option<String>,
    region: String,
    product: String,
    time_unix: u64,
    policy: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut stdin = String::new();
    std::io::stdin().read_to_string(&mut stdin)?;
    let input: Input = serde_json::from_str(&stdin)?;
    let product: Product = input.product.parse()?;
    let mut creds = Credentials::new(input.access_key_id, input.access_key_secret);
    if let Some(token) = input.security_token {
        creds = creds.with_security_token(token);
    }
    let time = UNIX_EPOCH + Duration::from_secs(input.time_unix);
    let signed =
        Signer::new().sign_post_policy(&input.policy, &creds, &input.region, product, time);
    let fields: serde_json::Map<String, serde_json::Value> = signed
        .form_fields()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let out = serde_json::json!({
        "policy": signed.policy_base64(),
        "signature": signed.signature(),
        "fields": fields,
    });
    println!("{out}");
    Ok(())
}
