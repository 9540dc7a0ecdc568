//! Connection-level failures against a raw TCP server: a response cut off mid-body, a refused
//! connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use oss_transport::{
    Addressing, Auth, CallbackCarrier, Client, Endpoint, Error, Request, RetryConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads one request (head, then `content-length` bytes of body).
async fn read_request(socket: &mut TcpStream) -> Option<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while data.len() < head_end + len {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(())
}

/// The first connection gets half a response and is then closed with a reset; later ones get a
/// full `200 ok`. Returns the address and the number of accepted connections.
async fn half_then_full() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while read_request(&mut socket).await.is_some() {
                    if n == 0 {
                        let _ = socket
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                            .await;
                        let _ = socket.flush().await;
                        let _ = socket.set_zero_linger();
                        return; // dropped: RST mid-body
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    (addr, accepted)
}

fn client(addr: std::net::SocketAddr) -> Client {
    Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_retry(RetryConfig::default().with_base_delay(Duration::ZERO))
        .build()
        .unwrap()
}

#[tokio::test]
async fn reset_mid_response_is_retried() {
    let (addr, accepted) = half_then_full().await;
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("k")
        .with_body("data")
        .with_auth(Auth::None);
    let resp = client(addr).send(req).await.unwrap();
    assert_eq!(&resp.body[..], b"ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn reset_mid_response_is_unconfirmed_for_a_callback_request() {
    let (addr, accepted) = half_then_full().await;
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("k")
        .with_body("data")
        .with_header(
            HeaderName::from_static("x-oss-callback"),
            HeaderValue::from_static("e30="),
        )
        .with_callback(CallbackCarrier::Header)
        .with_auth(Auth::None);
    let err = client(addr).send(req).await.unwrap_err();
    let Error::Unconfirmed { attempts: 1, last } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(
            **last,
            Error::Connection {
                response_started: true,
                ..
            }
        ),
        "{last:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refused_connections_are_retried_even_with_a_callback() {
    // A port that was just free: nothing listens there.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("k")
        .with_query("callback", "e30=")
        .with_callback(CallbackCarrier::Query)
        .with_body("data")
        .with_auth(Auth::None);
    let err = client(addr).send(req).await.unwrap_err();
    match err {
        Error::Exhausted { attempts, last } => {
            assert_eq!(attempts, 3);
            assert!(matches!(*last, Error::Connect { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
}

/// Accepts connections, reads the request, never answers.
async fn silent_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let _ = read_request(&mut socket).await;
            held.push(socket);
        }
    });
    addr
}

#[tokio::test]
async fn a_stalled_response_hits_the_read_timeout_then_the_overall_one() {
    let addr = silent_server().await;
    let endpoint = Endpoint::custom(&format!("http://{addr}"))
        .unwrap()
        .with_addressing(Addressing::PathStyle);
    let get = || {
        Request::new(Method::GET)
            .with_bucket("bucket")
            .with_key("k")
            .with_auth(Auth::None)
    };

    let client = Client::builder()
        .with_endpoint(endpoint.clone())
        .with_read_timeout(Duration::from_millis(150))
        .with_retry(RetryConfig::default().with_base_delay(Duration::ZERO))
        .build()
        .unwrap();
    let err = client.send(get()).await.unwrap_err();
    match err {
        Error::Exhausted { attempts: 3, last } => assert!(
            matches!(
                *last,
                Error::Timeout {
                    phase: oss_transport::TimeoutPhase::Read
                }
            ),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }

    let client = Client::builder()
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = client.send(get()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: oss_transport::TimeoutPhase::Overall
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
