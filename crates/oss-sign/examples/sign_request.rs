//! Signs a PutObject with an upload callback and prints every stage. Nothing is sent.
//!
//! `cargo run -p oss-sign --example sign_request` (also `cargo xtask demo`).

use std::time::SystemTime;

use base64::Engine as _;
use oss_sign::{Credentials, Signer, SigningParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Fixed demo credentials: they open no real account.
    let creds = Credentials::new("LTAI5tDemoAccessKeyId", "DemoAccessKeySecretNotReal");
    let callback_json = r#"{"callbackUrl":"http://127.0.0.1:8080/callback","callbackBody":"bucket=${bucket}&object=${object}&etag=${etag}&size=${size}","callbackBodyType":"application/x-www-form-urlencoded"}"#;
    let callback = base64::engine::general_purpose::STANDARD.encode(callback_json);

    let (mut parts, ()) = http::Request::put(
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/exampledir/exampleobject.txt",
    )
    .header("content-type", "text/plain")
    .header("content-length", "11")
    .header("x-oss-callback", callback.as_str())
    .body(())?
    .into_parts();
    let params = SigningParams::builder("cn-hangzhou")
        .with_bucket("examplebucket")
        .with_key("exampledir/exampleobject.txt")
        .with_time(SystemTime::now())
        .build()?;
    let stages = Signer::new().sign_headers_with_stages(&mut parts, &creds, &params)?;

    println!("oss-sign demo: signing a PutObject with an upload callback (demo credentials).");
    println!("NOTHING WAS SENT: this only signs and prints the request; no upload happened.\n");
    println!("callback JSON: {callback_json}\n");
    println!("--- canonical request ---\n{}\n", stages.canonical_request);
    println!("--- string to sign ---\n{}\n", stages.string_to_sign);
    println!("--- request ---");
    println!("{} {}", parts.method, parts.uri);
    for (name, value) in &parts.headers {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    println!("\n(request signed, not sent: no network connection was made)");
    Ok(())
}
