//! HTTPS through rustls: a local TLS server whose CA is trusted with `with_root_certificate`.

use std::io::{Read, Write};
use std::sync::Arc;

use http::Method;
use oss_transport::{Addressing, Auth, Client, Endpoint, Error, Request, RetryConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const CA: &[u8] = include_bytes!("fixtures/ca.der");
const LEAF: &[u8] = include_bytes!("fixtures/server.der");
const KEY: &[u8] = include_bytes!("fixtures/server.key.der");

/// A blocking TLS server on its own thread answering each connection's requests with `200 tls`.
fn tls_server() -> std::net::SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(LEAF.to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
    )
    .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(socket) = socket else { return };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, socket);
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = tls.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(pos) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..pos + 4);
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\ntls";
                        if tls.write_all(reply).and_then(|()| tls.flush()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn get() -> Request {
    Request::new(Method::GET)
        .with_bucket("bucket")
        .with_key("k")
        .with_auth(Auth::None)
}

#[tokio::test]
async fn https_with_an_extra_trusted_root() {
    let addr = tls_server();
    let endpoint = Endpoint::custom(&format!("https://{addr}"))
        .unwrap()
        .with_addressing(Addressing::PathStyle);

    let client = Client::builder()
        .with_endpoint(endpoint.clone())
        .with_root_certificate(CA)
        .build()
        .unwrap();
    for _ in 0..3 {
        let resp = client.send(get()).await.unwrap();
        assert_eq!(&resp.body[..], b"tls");
    }

    // Without the test CA the handshake fails: a connect error.
    let untrusting = Client::builder()
        .with_endpoint(endpoint)
        .with_retry(RetryConfig::default().with_max_attempts(1))
        .build()
        .unwrap();
    let err = untrusting.send(get()).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
}

#[test]
fn an_invalid_root_is_a_config_error() {
    let err = Client::builder()
        .with_root_certificate(b"not a certificate".to_vec())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}
