//! The baselines: unsigned hyper PUTs over N keep-alive connections, with nothing else (no
//! signing, no CRC, no retries).

use std::os::unix::fs::FileExt as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::args::Args;
use crate::metrics::{cpu_seconds, Report};

/// `host:port` of an `http://host:port` endpoint.
pub(crate) fn authority(endpoint: &str) -> Result<String, String> {
    endpoint
        .strip_prefix("http://")
        .map(|a| a.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("endpoint must be http://host:port, got {endpoint}"))
}

async fn connect(authority: &str) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn put(
    sender: &mut SendRequest<Full<Bytes>>,
    authority: &str,
    path: &str,
    body: Bytes,
) -> Result<Duration, String> {
    let started = Instant::now();
    sender.ready().await.map_err(|e| e.to_string())?;
    let request = http::Request::put(path)
        .header("host", authority)
        .header("content-length", body.len())
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let _ = response.into_body().collect().await;
    if !status.is_success() {
        return Err(format!("PUT {path}: HTTP {status}"));
    }
    Ok(started.elapsed())
}

/// `raw-put`: the file in `--part-size` ranges over `--parallel` connections.
pub(crate) async fn put_file(args: &Args) -> Result<(), String> {
    let authority = authority(args.required("endpoint")?)?;
    let path = args.required("file")?.to_owned();
    let parallel = args.number("parallel", 4)?.max(1);
    let part_size = args.number("part-size", 8 << 20)?.max(1);
    let file = Arc::new(std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?);
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let parts = size.div_ceil(part_size);
    let next = Arc::new(AtomicU64::new(0));
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let (authority, file, next) = (authority.clone(), Arc::clone(&file), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&authority).await?;
            let mut latencies = Vec::new();
            loop {
                let part = next.fetch_add(1, Ordering::Relaxed);
                if part >= parts {
                    return Ok::<_, String>(latencies);
                }
                let offset = part * part_size;
                let len = part_size.min(size - offset) as usize;
                let file = Arc::clone(&file);
                let body = tokio::task::spawn_blocking(move || {
                    let mut buf = BytesMut::zeroed(len);
                    file.read_exact_at(&mut buf, offset).map(|()| buf.freeze())
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                let path = format!("/bench/raw.bin?partNumber={}&uploadId=raw", part + 1);
                latencies.push(put(&mut sender, &authority, &path, body).await?);
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())??);
    }
    Report {
        bench: "raw-put".into(),
        bytes: size,
        requests: parts,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        cpu_start,
    }
    .print();
    Ok(())
}

/// `small --mode raw`: `--count` PUTs of `--size` bytes over `--concurrency` keep-alive
/// connections.
pub(crate) async fn small(args: &Args) -> Result<(), String> {
    let authority = authority(args.required("endpoint")?)?;
    let count = args.number("count", 2000)?;
    let size = args.number("size", 4096)? as usize;
    let concurrency = args.number("concurrency", 16)?.max(1);
    let body = Bytes::from(vec![b'x'; size]);
    let next = Arc::new(AtomicU64::new(0));
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (authority, body, next) = (authority.clone(), body.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&authority).await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, String>(latencies);
                }
                let path = format!("/bench/small/{i}");
                latencies.push(put(&mut sender, &authority, &path, body.clone()).await?);
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())??);
    }
    Report {
        bench: format!("small-raw-{}k-c{concurrency}", size / 1024),
        bytes: count * size as u64,
        requests: count,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        cpu_start,
    }
    .print();
    Ok(())
}
