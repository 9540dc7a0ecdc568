//! The callback rule on the wire: a request carrying an upload callback that fails after its whole
//! body was sent comes back as `Error::Unconfirmed` after one send; a failure while the body was
//! still being written is retried; without a callback every fault is retried as before.

mod raw_http;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use oss_transport::{
    Addressing, Auth, CallbackCarrier, Client, ClientBuilder, Endpoint, Error, Request,
    RetryConfig, TimeoutPhase,
};
use raw_http::{error_xml, response, serve_small_buffer};

/// What the server does to the first request it receives.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Reads the whole body, then resets the connection.
    Reset,
    /// Reads the whole body, then answers 503 with an OSS error document.
    Unavailable,
    /// Reads half the body, then resets the connection.
    ResetHalfway,
    /// Reads the whole body and never answers.
    Silence,
    /// Reads the head only and never reads on.
    NeverRead,
}

/// A server whose first request meets `fault`; every later request is read whole and answered
/// `200 ok`. Returns the address and the number of request heads received.
async fn faulty(fault: Fault) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let (addr, _) = serve_small_buffer(move |_, mut conn| {
        let seen = Arc::clone(&seen);
        async move {
            while let Some(head) = conn.read_head().await {
                let len = head.content_length();
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    match fault {
                        Fault::Reset => {
                            if conn.read_body(len).await.is_some() {
                                conn.reset();
                            }
                            return;
                        }
                        Fault::Unavailable => {
                            if conn.read_body(len).await.is_none() {
                                return;
                            }
                            let xml = error_xml("ServiceUnavailable");
                            if conn
                                .write(&response("503 Service Unavailable", &[], &xml))
                                .await
                                .is_none()
                            {
                                return;
                            }
                            continue;
                        }
                        Fault::ResetHalfway => {
                            if conn.read_body(len / 2).await.is_some() {
                                conn.reset();
                            }
                            return;
                        }
                        Fault::Silence => {
                            let _ = conn.read_body(len).await;
                            std::future::pending::<()>().await;
                        }
                        Fault::NeverRead => std::future::pending::<()>().await,
                    }
                }
                if conn.read_body(len).await.is_none() {
                    return;
                }
                let ok = response("200 OK", &["x-oss-request-id: ok".to_owned()], "ok");
                if conn.write(&ok).await.is_none() {
                    return;
                }
            }
        }
    })
    .await;
    (addr, requests)
}

fn builder(addr: std::net::SocketAddr) -> ClientBuilder {
    Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_retry(RetryConfig::default().with_base_delay(Duration::ZERO))
}

fn small() -> Bytes {
    Bytes::from(vec![b's'; 1024])
}

/// Far larger than what the client's socket, the server's fixed 64 KiB receive buffer and
/// hyper's write buffer hold together, so half of it read means the body is still being sent.
fn large() -> Bytes {
    Bytes::from(vec![b'l'; 24 << 20])
}

fn put(body: Bytes, callback: bool) -> Request {
    let req = Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("k")
        .with_body(body)
        .with_auth(Auth::None);
    if callback {
        req.with_header(
            HeaderName::from_static("x-oss-callback"),
            HeaderValue::from_static("e30="),
        )
        .with_callback(CallbackCarrier::Header)
    } else {
        req
    }
}

/// Sends `put(body, callback)` to a fresh `faulty(fault)` server; returns the outcome and the
/// number of requests the server received.
async fn run(
    fault: Fault,
    body: Bytes,
    callback: bool,
    client: impl Fn(std::net::SocketAddr) -> Client,
) -> (Result<oss_transport::Response, Error>, usize) {
    let (addr, requests) = faulty(fault).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        client(addr).send(put(body, callback)),
    )
    .await
    .expect("the request ends by itself");
    let received = requests.load(Ordering::SeqCst);
    println!(
        "fault {fault:?}, callback {callback}: {} after {received} request(s)",
        match &outcome {
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => format!("{e}"),
        }
    );
    (outcome, received)
}

fn plain(addr: std::net::SocketAddr) -> Client {
    builder(addr).build().unwrap()
}

fn unconfirmed(outcome: Result<oss_transport::Response, Error>) -> Error {
    let err = outcome.expect_err("an unconfirmed outcome");
    let Error::Unconfirmed { attempts, last } = err else {
        panic!("not Unconfirmed: {err:?}")
    };
    assert_eq!(attempts, 1);
    let err = Error::Unconfirmed { attempts, last };
    assert!(err.is_unconfirmed());
    assert!(!err.is_retryable());
    err
}

#[tokio::test]
async fn reset_after_the_whole_body_is_unconfirmed() {
    let (outcome, received) = run(Fault::Reset, small(), true, plain).await;
    let err = unconfirmed(outcome);
    assert!(
        matches!(err.last(), Error::Connection { .. }),
        "{:?}",
        err.last()
    );
    assert_eq!(received, 1, "never resent");

    let (outcome, received) = run(Fault::Reset, small(), false, plain).await;
    assert_eq!(outcome.unwrap().status, StatusCode::OK);
    assert_eq!(received, 2, "retried without a callback");
}

#[tokio::test]
async fn a_503_after_the_whole_body_is_unconfirmed() {
    let (outcome, received) = run(Fault::Unavailable, small(), true, plain).await;
    let err = unconfirmed(outcome);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(
        err.service().map(|s| s.code.as_str()),
        Some("ServiceUnavailable")
    );
    assert_eq!(received, 1, "never resent");

    let (outcome, received) = run(Fault::Unavailable, small(), false, plain).await;
    assert_eq!(outcome.unwrap().status, StatusCode::OK);
    assert_eq!(received, 2, "retried without a callback");
}

#[tokio::test]
async fn a_reset_while_the_body_is_sent_is_retried_even_with_a_callback() {
    for callback in [true, false] {
        let (outcome, received) = run(Fault::ResetHalfway, large(), callback, plain).await;
        let resp = outcome.unwrap_or_else(|e| panic!("callback {callback}: {e:?}"));
        assert_eq!(resp.status, StatusCode::OK);
        assert_eq!(&resp.body[..], b"ok");
        assert_eq!(received, 2, "callback {callback}");
    }
}

#[tokio::test]
async fn a_read_timeout_after_the_whole_body_is_unconfirmed() {
    let quick = |addr| {
        builder(addr)
            .with_read_timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    };
    let (outcome, received) = run(Fault::Silence, small(), true, quick).await;
    let err = unconfirmed(outcome);
    assert!(
        matches!(
            err.last(),
            Error::Timeout {
                phase: TimeoutPhase::Read
            }
        ),
        "{:?}",
        err.last()
    );
    assert_eq!(received, 1);

    let (outcome, received) = run(Fault::Silence, small(), false, quick).await;
    assert_eq!(outcome.unwrap().status, StatusCode::OK);
    assert_eq!(received, 2);
}

#[tokio::test]
async fn the_overall_timeout_is_unconfirmed_only_once_the_body_was_sent() {
    let bounded = |addr| {
        builder(addr)
            .with_timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    };
    let (outcome, received) = run(Fault::Silence, small(), true, bounded).await;
    let err = unconfirmed(outcome);
    assert!(
        matches!(
            err.last(),
            Error::Timeout {
                phase: TimeoutPhase::Overall
            }
        ),
        "{:?}",
        err.last()
    );
    assert_eq!(received, 1);

    // The server never reads the body: it cannot have stored anything.
    let (outcome, received) = run(Fault::NeverRead, large(), true, bounded).await;
    let err = outcome.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Overall
            }
        ),
        "{err:?}"
    );
    assert_eq!(received, 1);
}

#[tokio::test]
async fn file_and_stream_bodies_count_as_sent_at_their_length() {
    let dir =
        std::env::temp_dir().join(format!("oss-transport-unconfirmed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("body.bin");
    std::fs::write(&path, vec![b'f'; 200_000]).unwrap();

    // hyper stops polling a body once its length is written, before any final `None`.
    let file = put(Bytes::new(), true).with_body(oss_transport::Body::file(&path, 1_000, 150_000));
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..4).map(|_| Ok(small())).collect();
    let stream = put(Bytes::new(), true)
        .with_header(http::header::CONTENT_LENGTH, HeaderValue::from(4 * 1024u64))
        .with_body(oss_transport::Body::stream(futures_util::stream::iter(
            chunks,
        )));
    for (name, req) in [("file", file), ("stream", stream)] {
        let (addr, requests) = faulty(Fault::Reset).await;
        let outcome = tokio::time::timeout(Duration::from_secs(60), plain(addr).send(req))
            .await
            .expect("the request ends by itself");
        let received = requests.load(Ordering::SeqCst);
        println!("{name} body, reset after it: {outcome:?}, {received} request(s)");
        unconfirmed(outcome);
        assert_eq!(received, 1, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
