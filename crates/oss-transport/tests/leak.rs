//! The connection-leak test: 1 000 callback-style requests whose responses the caller drops
//! unread reuse one connection; a plain hyper client doing the same opens many.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use oss_transport::{Addressing, Auth, CallbackCarrier, Client, Endpoint, Request};
use tokio::net::TcpListener;

/// A 256 KiB JSON callback answer: far larger than hyper's read buffer, so an unread body really
/// keeps the connection busy.
fn callback_answer() -> Bytes {
    let filler = "x".repeat(256 * 1024);
    Bytes::from(format!("{{\"Status\":\"OK\",\"filler\":\"{filler}\"}}"))
}

/// Serves 200 + the JSON body on every request; counts accepted TCP connections.
async fn counting_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    let body = callback_answer();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .header("x-oss-request-id", "leak-test")
                                .body(Full::new(body))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (addr, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thousand_dropped_responses_use_one_connection() {
    // The transport: every response is dropped by the caller without looking at the body.
    let (addr, connections) = counting_server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .build()
        .unwrap();
    for i in 0..1000 {
        let req = Request::new(Method::PUT)
            .with_bucket("bucket")
            .with_key(format!("obj-{i}"))
            .with_header(
                HeaderName::from_static("x-oss-callback"),
                HeaderValue::from_static("eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9leGFtcGxlLmNvbSJ9"),
            )
            .with_callback(CallbackCarrier::Header)
            .with_auth(Auth::None)
            .with_body("payload");
        let response = client.send(req).await.unwrap();
        assert_eq!(response.status, 200);
        drop(response);
    }
    let used = connections.load(Ordering::SeqCst);
    eprintln!("transport: 1000 requests over {used} connection(s)");
    assert_eq!(used, 1, "the transport must reuse its one connection");

    // Negative control: a plain hyper client whose caller drops unread bodies.
    let (addr, connections) = counting_server().await;
    let plain: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let requests = 50;
    for i in 0..requests {
        let req = hyper::Request::put(format!("http://{addr}/bucket/obj-{i}"))
            .header(
                "x-oss-callback",
                "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9leGFtcGxlLmNvbSJ9",
            )
            .body(Full::new(Bytes::from_static(b"payload")))
            .unwrap();
        let response = plain.request(req).await.unwrap();
        assert_eq!(response.status(), 200);
        drop(response); // body unread: the connection cannot go back to the pool
    }
    let opened = connections.load(Ordering::SeqCst);
    eprintln!("plain hyper client: {requests} requests over {opened} connections");
    assert!(
        opened > requests / 2,
        "the negative control should open many connections, opened {opened}"
    );
}

#[tokio::test]
async fn streaming_bodies_read_to_the_end_are_reused_and_dropped_ones_discarded() {
    let (addr, connections) = counting_server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .build()
        .unwrap();
    let get = || {
        Request::new(Method::GET)
            .with_bucket("bucket")
            .with_key("obj")
            .with_auth(Auth::None)
    };
    let expected = callback_answer().len();
    for _ in 0..20 {
        let mut resp = client.send_streaming(get()).await.unwrap();
        let mut total = 0;
        while let Some(chunk) = resp.body.chunk().await {
            total += chunk.unwrap().len();
        }
        assert_eq!(total, expected);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);

    // Dropped unread: that connection is closed, the next request dials anew.
    let resp = client.send_streaming(get()).await.unwrap();
    assert_eq!(resp.status, 200);
    drop(resp);
    let again = client.send(get()).await.unwrap();
    assert_eq!(again.body.len(), expected);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn pooling_can_be_disabled() {
    let (addr, connections) = counting_server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..5 {
        let req = Request::new(Method::GET)
            .with_bucket("bucket")
            .with_key("obj")
            .with_auth(Auth::None);
        client.send(req).await.unwrap();
    }
    assert_eq!(connections.load(Ordering::SeqCst), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_at_most_one_connection_each() {
    let (addr, connections) = counting_server().await;
    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let req = Request::new(Method::GET)
                    .with_bucket("bucket")
                    .with_key(format!("t{t}-{i}"))
                    .with_auth(Auth::None);
                assert_eq!(client.send(req).await.unwrap().status, 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let opened = connections.load(Ordering::SeqCst);
    assert!((1..=8).contains(&opened), "opened {opened}");
}
