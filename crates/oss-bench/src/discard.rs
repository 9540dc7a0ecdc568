//! A minimal local "OSS" that reads and discards bodies: PutObject, UploadPart, Initiate and
//! Complete answer 200 with the few fields uploaders need. With `--crc` it also returns a correct
//! `x-oss-hash-crc64ecma` for every PUT body (costing server CPU).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::args::Args;

const ETAG: &str = "\"5B3E4D2C1A0F9E8D7C6B5A4938271605\"";

pub(crate) async fn run(args: &Args) -> Result<(), String> {
    let listen = args.get("listen").unwrap_or("127.0.0.1:0");
    let crc = args.flag("crc", false);
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("discard-server listening on http://{addr}");
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let ids = Arc::clone(&ids);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let ids = Arc::clone(&ids);
                async move { Ok::<_, Infallible>(handle(req, crc, &ids).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: http::Request<hyper::body::Incoming>,
    crc: bool,
    ids: &AtomicU64,
) -> http::Response<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
    let mut checksum = crc.then(oss_upload::Crc64::new);
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let (Some(c), Some(data)) = (checksum.as_mut(), frame.data_ref()) {
            c.update(data);
        }
    }
    let query = parts.uri.query().unwrap_or("");
    let id = ids.fetch_add(1, Ordering::Relaxed);
    let mut response = http::Response::builder()
        .status(200)
        .header("x-oss-request-id", format!("DISCARD{id:016X}"));
    let body = if parts.method == http::Method::POST && has_param(query, "uploads") {
        response = response.header("content-type", "application/xml");
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult><Bucket>bench</Bucket><Key>{}</Key><UploadId>UPLOAD{id:016X}</UploadId></InitiateMultipartUploadResult>",
            parts.uri.path().trim_start_matches('/')
        )
    } else if parts.method == http::Method::POST && has_param(query, "uploadId") {
        response = response
            .header("content-type", "application/xml")
            .header("etag", ETAG);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>{0}</Location><Bucket>bench</Bucket><Key>{0}</Key><ETag>{ETAG}</ETag></CompleteMultipartUploadResult>",
            parts.uri.path().trim_start_matches('/')
        )
    } else {
        response = response.header("etag", ETAG);
        if let Some(c) = checksum {
            response = response.header("x-oss-hash-crc64ecma", c.finish().to_string());
        }
        String::new()
    };
    response
        .header("content-length", body.len())
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn has_param(query: &str, name: &str) -> bool {
    query.split('&').any(|p| p.split('=').next() == Some(name))
}
