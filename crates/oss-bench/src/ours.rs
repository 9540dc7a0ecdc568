//! Our side: `oss_upload`'s multipart uploader and PutObject through one shared client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use oss_upload::{Client, UploadSource};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

use crate::args::Args;
use crate::metrics::{cpu_seconds, Report};

fn client(args: &Args, crc: bool) -> Result<Client, String> {
    let mut transport = oss_transport::Client::builder();
    // The bench's TLS server has a root made at run time; only the bench trusts it.
    if let Some(ca_file) = args.get("ca-file") {
        for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{ca_file}: {e}"))? {
            let cert = cert.map_err(|e| format!("{ca_file}: {e}"))?;
            transport = transport.with_root_certificate(cert.as_ref().to_vec());
        }
    }
    Client::builder(args.get("bucket").unwrap_or("bench"))
        .with_transport_config(transport)
        .with_endpoint(args.required("endpoint")?)
        .with_region(args.get("region").unwrap_or("cn-hangzhou"))
        .with_static_credentials(
            args.get("access-key-id").unwrap_or("ak"),
            args.get("access-key-secret").unwrap_or("sk"),
        )
        .with_path_style(true)
        .with_crc_check(crc)
        .build()
        .map_err(|e| e.to_string())
}

/// `ours`: a multipart upload of `--file`.
pub(crate) async fn upload_file(args: &Args) -> Result<(), String> {
    let crc = args.flag("crc", true);
    let client = client(args, crc)?;
    let path = args.required("file")?.to_owned();
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{path}: {e}"))?
        .len();
    let part_size = args.number("part-size", 6 << 20)?;
    let parallel = args.number("parallel", 3)? as usize;
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    client
        .multipart_upload(
            args.get("key").unwrap_or("bench/ours.bin"),
            UploadSource::file(&path),
        )
        .with_part_size(part_size)
        .with_parallelism(parallel)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    Report {
        // `with_crc_check(false)` skips the hashing as well as the compare.
        bench: format!(
            "lib-{}-crc-{}-p{parallel}",
            if args.required("endpoint")?.starts_with("https://") {
                "tls"
            } else {
                "tcp"
            },
            if crc { "on" } else { "off" }
        ),
        bytes: size,
        requests: size.div_ceil(part_size) + 2,
        seconds: started.elapsed().as_secs_f64(),
        latencies: Vec::new(),
        cpu_start,
    }
    .print();
    Ok(())
}

/// `small --mode ours`: `--count` PutObjects of `--size` bytes, `--concurrency` at a time,
/// through one shared client.
pub(crate) async fn small(args: &Args) -> Result<(), String> {
    let client = client(args, args.flag("crc", true))?;
    let count = args.number("count", 2000)?;
    let size = args.number("size", 4096)? as usize;
    let concurrency = args.number("concurrency", 16)?.max(1);
    let body = Bytes::from(vec![b'x'; size]);
    let next = Arc::new(AtomicU64::new(0));
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, body, next) = (client.clone(), body.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, String>(latencies);
                }
                let t = Instant::now();
                client
                    .put_object(format!("bench/small/{i}"), body.clone())
                    .send()
                    .await
                    .map_err(|e| error_chain(&e))?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())??);
    }
    Report {
        bench: format!("small-ours-{}k-c{concurrency}", size / 1024),
        bytes: count * size as u64,
        requests: count,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        cpu_start,
    }
    .print();
    Ok(())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
