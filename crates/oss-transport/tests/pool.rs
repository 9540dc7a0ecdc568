//! Connection reuse: at a steady concurrency of N, the pool keeps (and reuses) N connections.

mod raw_http;

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::Method;
use oss_transport::{Addressing, Auth, Client, ClientBuilder, Endpoint, Request};
use raw_http::{response, serve};

/// A keep-alive server answering every request with `200 ok`.
async fn keep_alive() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    serve(|_, mut conn| async move {
        while conn.read_request().await.is_some() {
            if conn.write(&response("200 OK", &[], "ok")).await.is_none() {
                return;
            }
        }
    })
    .await
}

fn builder(addr: std::net::SocketAddr) -> ClientBuilder {
    Client::builder().with_endpoint(
        Endpoint::custom(&format!("http://{addr}"))
            .unwrap()
            .with_addressing(Addressing::PathStyle),
    )
}

fn put(i: usize) -> Request {
    Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key(format!("k{i}"))
        .with_body("payload")
        .with_auth(Auth::None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_16_opens_at_most_16_connections_for_2000_requests() {
    const TASKS: usize = 16;
    const REQUESTS: usize = 2_000;
    let (addr, accepted) = keep_alive().await;
    let client = builder(addr).build().unwrap();
    // Rounds: every task finishes its request before any starts the next, so all 16
    // connections are idle at once between rounds (a pool capped below 16 closes some there and
    // dials again in the next round).
    let round = std::sync::Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let client = client.clone();
            let round = round.clone();
            tokio::spawn(async move {
                for i in (t..REQUESTS).step_by(TASKS) {
                    // `send` returns the whole body, read before the next request starts.
                    let resp = client.send(put(i)).await.unwrap();
                    assert_eq!(&resp.body[..], b"ok");
                    round.wait().await;
                }
            })
        })
        .collect();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .expect("the requests finish")
            .unwrap();
    }
    let opened = accepted.load(Ordering::SeqCst);
    println!("requests {REQUESTS}, concurrency {TASKS}, connections opened {opened}");
    assert!(opened >= 1);
    assert!(opened <= TASKS, "{opened} connections for {TASKS} tasks");
}

#[tokio::test]
async fn the_knob_stays_zero_disables_pooling() {
    let (addr, accepted) = keep_alive().await;
    let client = builder(addr)
        .with_pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for i in 0..5 {
        client.send(put(i)).await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);

    let (addr, accepted) = keep_alive().await;
    let client = builder(addr).build().unwrap();
    for i in 0..5 {
        client.send(put(i)).await.unwrap();
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "sequential requests share one"
    );
}
