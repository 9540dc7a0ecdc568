//! The hyper fetcher reaches OSS's key host over TLS on port 443 even when OSS names it with
//! `http://`. An injected connector records where the fetcher connects and hands it a loopback
//! socket instead, so nothing leaves the machine.
#![cfg(feature = "server")]

#[path = "support/shared.rs"]
mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::rt::TokioIo;
use oss_callback::{
    signature_headers, CallbackPrivateKey, CallbackVerifier, Error, HyperKeyFetcher, KeyFetcher,
};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream};

/// Records each URI the fetcher asks to connect to, then connects to `local` whatever it was.
#[derive(Clone)]
struct RecordingConnector {
    local: SocketAddr,
    seen: Arc<Mutex<Vec<Uri>>>,
}

impl tower::Service<Uri> for RecordingConnector {
    type Response = TokioIo<TcpStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        self.seen.lock().unwrap().push(uri);
        let local = self.local;
        Box::pin(async move { TcpStream::connect(local).await.map(TokioIo::new) })
    }
}

/// Accepts one connection on 127.0.0.1:0 and returns the first bytes the client sent.
async fn first_bytes() -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0; 4096];
        let n = stream.read(&mut buf).await.unwrap();
        buf.truncate(n);
        buf
    });
    (addr, task)
}

fn effective_port(uri: &Uri) -> u16 {
    uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    })
}

#[tokio::test]
async fn official_http_key_url_is_fetched_over_tls_on_443() {
    let (local, received) = first_bytes().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fetcher = HyperKeyFetcher::with_connector(RecordingConnector {
        local,
        seen: Arc::clone(&seen),
    });

    // What OSS sends, through the default verifier.
    let key_url = "http://gosspublic.alicdn.com/callback_pub_key_v1.pem";
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_512).unwrap();
    let headers = signature_headers(&key, key_url, "/cb", "", b"a=1").unwrap();
    let uri: Uri = "/cb".parse().unwrap();
    let result = CallbackVerifier::new()
        .verify(&uri, &headers, b"a=1", &fetcher)
        .await;
    // The loopback peer is no TLS server, so the fetch fails after the ClientHello.
    assert!(matches!(result, Err(Error::KeyFetch { .. })), "{result:?}");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].scheme_str(), Some("https"));
    assert_eq!(seen[0].host(), Some("gosspublic.alicdn.com"));
    assert_eq!(effective_port(&seen[0]), 443);

    // A TLS handshake record (0x16, version 3.x) whose ClientHello names the official host.
    let bytes = received.await.unwrap();
    assert!(bytes.len() > 5, "{bytes:?}");
    assert_eq!((bytes[0], bytes[1]), (0x16, 0x03), "{bytes:?}");
    assert!(
        bytes
            .windows(b"gosspublic.alicdn.com".len())
            .any(|w| w == b"gosspublic.alicdn.com"),
        "SNI missing"
    );
    assert!(!bytes.starts_with(b"GET "));
}

#[tokio::test]
async fn other_http_hosts_are_fetched_as_written() {
    let (local, received) = first_bytes().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fetcher = HyperKeyFetcher::with_connector(RecordingConnector {
        local,
        seen: Arc::clone(&seen),
    })
    .with_timeout(std::time::Duration::from_secs(2));
    let url = format!("http://{local}/__emulator/pub_key.pem");
    let fetch = tokio::spawn(async move { fetcher.fetch(&url).await.map(drop) });

    let bytes = received.await.unwrap();
    assert!(
        bytes.starts_with(b"GET /__emulator/pub_key.pem HTTP/1.1\r\n"),
        "{bytes:?}"
    );
    // The peer closed without answering.
    assert!(matches!(fetch.await.unwrap(), Err(Error::KeyFetch { .. })));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].scheme_str(), Some("http"));
    assert_eq!(effective_port(&seen[0]), local.port());
}
