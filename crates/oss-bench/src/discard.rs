//! A minimal local "OSS" that reads and discards bodies: PutObject, UploadPart, Initiate and
//! Complete answer 200 with the few fields uploaders need. With `--crc` it also returns a correct
//! `x-oss-hash-crc64ecma` for every PUT body (costing server CPU). With `--tls-cert` and
//! `--tls-key` (PEM files) it serves HTTPS through rustls (ring) instead.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::args::Args;

const ETAG: &str = "\"5B3E4D2C1A0F9E8D7C6B5A4938271605\"";

pub(crate) async fn run(args: &Args) -> Result<(), String> {
    let listen = args.get("listen").unwrap_or("127.0.0.1:0");
    let crc = args.flag("crc", false);
    let tls = match (args.get("tls-cert"), args.get("tls-key")) {
        (Some(cert), Some(key)) => Some(acceptor(cert, key)?),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("discard-server listening on {scheme}://{addr}");
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let ids = Arc::clone(&ids);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve(stream, crc, ids).await,
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve(stream, crc, ids).await;
                    }
                }
            }
        });
    }
}

async fn serve(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    crc: bool,
    ids: Arc<AtomicU64>,
) {
    let service = hyper::service::service_fn(move |req| {
        let ids = Arc::clone(&ids);
        async move { Ok::<_, Infallible>(handle(req, crc, &ids).await) }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// A rustls (ring) acceptor for the certificate chain and key in the two PEM files.
fn acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    Ok(TlsAcceptor::from(Arc::new(config)))
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
