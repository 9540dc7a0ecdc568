//! Component benches for the performance targets: CRC-64/ECMA throughput (one core), callback
//! template resolution and callback signature verification.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oss_callback::{Callback, CallbackBodyType, CallbackVars, SystemValues};

fn crc64(c: &mut Criterion) {
    let data = vec![0x5au8; 8 << 20];
    let mut group = c.benchmark_group("crc64");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("ecma_8MiB", |b| {
        b.iter(|| oss_upload::Crc64::checksum(black_box(&data)))
    });
    group.finish();
}

fn template(c: &mut Criterion) {
    let callback = Callback::builder()
        .url("https://app.example.com/oss-callback")
        .body(r#"{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"user":${x:user}}"#)
        .body_type(CallbackBodyType::Json)
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
    let private = oss_callback::private_key_from_pem(pem).expect("test key");
    let public = oss_callback::rsa::RsaPublicKey::from(&private);
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

criterion_group!(benches, crc64, template, verify);
criterion_main!(benches);
