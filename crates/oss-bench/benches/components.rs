//! Component benches for the performance targets: CRC-64/ECMA throughput (one core, one buffer
//! that stays in cache: an upper bound, see `oss-bench crc` for fresh data), the combine of 171
//! part CRCs of 6 MiB (a 1 GiB upload at the CLI's default part size), V4 header signing with
//! and without a cached signing key, callback template resolution and callback signature
//! verification.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use oss_callback::{Callback, CallbackBodyType, CallbackVars, SystemValues};
use oss_sign::{Credentials, Signer, SigningParams};

/// Parts of a 1 GiB upload at the CLI's default part size (6 MiB): 170 full parts and a last
/// one of 4 MiB.
const PARTS: u64 = 171;
const PART_SIZE: u64 = 6 << 20;

fn crc64(c: &mut Criterion) {
    let data = vec![0x5au8; 8 << 20];
    let mut group = c.benchmark_group("crc64");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("ecma_8MiB", |b| {
        b.iter(|| oss_upload::Crc64::checksum(black_box(&data)))
    });
    group.finish();
}

/// Combining per-part CRCs into the object's, once per upload. The part CRCs are arbitrary
/// values: the combine's cost depends on the part lengths only.
fn crc64_combine(c: &mut Criterion) {
    let object = 1u64 << 30;
    let parts: Vec<(u64, u64)> = (0..PARTS)
        .map(|i| {
            let len = PART_SIZE.min(object - i * PART_SIZE);
            (i.wrapping_mul(0x9E37_79B9_7F4A_7C15), len)
        })
        .collect();
    c.bench_function("crc64/combine_171_parts_of_6MiB", |b| {
        b.iter(|| oss_upload::Crc64::combine_parts(black_box(parts.iter().copied())))
    });
    // The path before `Crc64Combiner`: crc-fast derives the shift operator on every call. Kept
    // as the yardstick the precomputed shift is measured against.
    c.bench_function("crc64/combine_171_parts_of_6MiB_per_call", |b| {
        b.iter(|| {
            black_box(parts.iter().copied()).fold(0, |acc, (crc, len)| {
                oss_upload::Crc64::combine(acc, crc, len)
            })
        })
    });
}

/// A PutObject with three `x-oss-` headers, signed as `oss-transport` does: with the signer's
/// signing-key cache warm (every request after the first of a day), and with a fresh signer
/// (the key derived inside the call: four HMACs more).
fn sign(c: &mut Criterion) {
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
    let request = || {
        http::Request::put(
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/exampledir/exampleobject.txt",
        )
        .header("content-type", "text/plain")
        .header("content-length", "1024")
        .header("x-oss-callback", "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9jYiIsImNhbGxiYWNrQm9keSI6ImJ1Y2tldD0ke2J1Y2tldH0ifQ==")
        .header("x-oss-callback-var", "eyJ4OnVzZXIiOiJhbGljZSJ9")
        .header("x-oss-forbid-overwrite", "true")
        .body(())
        .expect("valid request")
        .into_parts()
        .0
    };
    let cached = Signer::new();
    let mut parts = request();
    cached
        .sign_headers(&mut parts, &creds, &params)
        .expect("signs");
    c.bench_function("sign/put_object_key_cached", |b| {
        b.iter(|| {
            cached
                .sign_headers(black_box(&mut parts), black_box(&creds), black_box(&params))
                .expect("signs")
        })
    });
    c.bench_function("sign/put_object_key_uncached", |b| {
        b.iter_batched_ref(
            || (Signer::new(), request()),
            |(signer, parts)| {
                signer
                    .sign_headers(black_box(parts), black_box(&creds), black_box(&params))
                    .expect("signs")
            },
            BatchSize::SmallInput,
        )
    });
}

fn template(c: &mut Criterion) {
    let callback = Callback::builder()
        .with_url("https://app.example.com/oss-callback")
        .with_body(r#"{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"user":${x:user}}"#)
        .with_body_type(CallbackBodyType::Json)
        .build()
        .expect("valid callback");
    let vars = CallbackVars::new()
        .with("x:user", "alice")
        .expect("valid var");
    let values = SystemValues {
        bucket: "examplebucket".into(),
        object: "photos/2024/cat.jpg".into(),
        etag: "D41D8CD98F00B204E9800998ECF8427E".into(),
        size: "1048576".into(),
        mime_type: "image/jpeg".into(),
        ..SystemValues::default()
    };
    let template = callback.template().expect("inline template");
    c.bench_function("callback/template_resolve_json", |b| {
        b.iter(|| {
            template
                .resolve(black_box(&values), black_box(&vars), CallbackBodyType::Json)
                .expect("resolves")
        })
    });
}

fn verify(c: &mut Criterion) {
    let pem = include_str!("../../oss-callback/testdata/emulator_test_key.pem");
    let private = oss_callback::CallbackPrivateKey::from_pem(pem).expect("test key");
    let public = private.public_key();
    let body = br#"{"bucket":"examplebucket","object":"photos/cat.jpg","size":"1048576"}"#;
    let authorization =
        oss_callback::sign_callback(&private, "/oss-callback", "", body).expect("signs");
    c.bench_function("callback/verify_rsa_md5", |b| {
        b.iter(|| {
            oss_callback::verify_callback(
                black_box(&public),
                "/oss-callback",
                "",
                black_box(body),
                black_box(&authorization),
            )
            .expect("verifies")
        })
    });
}

criterion_group!(benches, crc64, crc64_combine, sign, template, verify);
criterion_main!(benches);
