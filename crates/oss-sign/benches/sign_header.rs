//! `sign_header`: header-sign a PutObject with three `x-oss-` headers, signing key cached.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use oss_sign::{Credentials, Signer, SigningParams};

fn put_object(c: &mut Criterion) {
    let signer = Signer::new();
    let creds = Credentials::new(
        "LTAI5tExampleAccessKeyId",
        "ExampleAccessKeySecretExampleSecre",
    );
    let params = SigningParams::builder("cn-hangzhou")
        .with_bucket("examplebucket")
        .with_key("exampledir/exampleobject.txt")
        .with_time(UNIX_EPOCH + Duration::from_secs(1_702_743_657))
        .build()
        .expect("valid params");
    let (template, ()) = http::Request::put(
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/exampledir/exampleobject.txt",
    )
    .header("content-type", "text/plain")
    .header("content-length", "1024")
    .header("x-oss-callback", "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9jYiIsImNhbGxiYWNrQm9keSI6ImJ1Y2tldD0ke2J1Y2tldH0ifQ==")
    .header("x-oss-callback-var", "eyJ4OnVzZXIiOiJhbGljZSJ9")
    .header("x-oss-forbid-overwrite", "true")
    .body(())
    .expect("valid request")
    .into_parts();

    // Warm the key cache: the benchmark measures the cached path.
    let mut parts = clone_parts(&template);
    signer
        .sign_headers(&mut parts, &creds, &params)
        .expect("signs");

    c.bench_function("sign_header/put_object_3_x_oss_headers", |b| {
        b.iter(|| {
            signer
                .sign_headers(black_box(&mut parts), black_box(&creds), black_box(&params))
                .expect("signs");
        })
    });
}

fn clone_parts(p: &http::request::Parts) -> http::request::Parts {
    let mut b = http::Request::builder()
        .method(p.method.clone())
        .uri(p.uri.clone());
    for (k, v) in &p.headers {
        b = b.header(k, v);
    }
    b.body(()).expect("valid request").into_parts().0
}

/// What the cache saves: deriving the signing key (four HMACs) on every call.
fn derive_key(c: &mut Criterion) {
    let scope = oss_sign::Scope::new("20231216", "cn-hangzhou", oss_sign::Product::Oss);
    c.bench_function("sign_header/derive_signing_key_uncached", |b| {
        b.iter(|| {
            oss_sign::SigningKey::derive(black_box("ExampleAccessKeySecretExampleSecre"), &scope)
        })
    });
}

criterion_group!(benches, put_object, derive_key);
criterion_main!(benches);
