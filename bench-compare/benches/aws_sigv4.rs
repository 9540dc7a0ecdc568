//! `aws-sigv4` signing an S3 PutObject comparable to oss-sign's `sign_header` bench (three
//! `x-amz-` headers, unsigned payload, fixed time): the yardstick for the ≤ 1.5 µs target.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{criterion_group, criterion_main, Criterion};

fn put_object(c: &mut Criterion) {
    let identity: Identity = Credentials::new(
        "AKIDEXAMPLEACCESSKEY",
        "ExampleSecretAccessKeyExampleSecretKey",
        None,
        None,
        "bench",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(UNIX_EPOCH + Duration::from_secs(1_702_743_657))
        .settings(SigningSettings::default())
        .build()
        .expect("valid params")
        .into();
    let headers = [
        ("host", "examplebucket.s3.us-east-1.amazonaws.com"),
        ("content-type", "text/plain"),
        ("content-length", "1024"),
        ("x-amz-meta-callback", "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9jYiJ9"),
        ("x-amz-meta-var", "eyJ4OnVzZXIiOiJhbGljZSJ9"),
        ("x-amz-storage-class", "STANDARD"),
    ];
    c.bench_function("aws_sigv4/s3_put_object_3_x_amz_headers", |b| {
        b.iter(|| {
            let signable = SignableRequest::new(
                "PUT",
                "https://examplebucket.s3.us-east-1.amazonaws.com/exampledir/exampleobject.txt",
                headers.iter().copied(),
                SignableBody::UnsignedPayload,
            )
            .expect("signable");
            black_box(sign(signable, black_box(&params)).expect("signs"))
        })
    });
}

criterion_group!(benches, put_object);
criterion_main!(benches);
