//! Memory stays bounded: the request and callback logs are ring buffers that count what they
//! evict, and error answers quote only a short prefix of what they echo.

#[path = "support/client.rs"]
mod client;

use base64::Engine as _;
use bytes::Bytes;
use client::{builder, Req, TestClient};
use http::{Method, StatusCode};

const B: &str = "bounded-bucket";

#[tokio::test]
async fn logs_are_ring_buffers_with_an_eviction_count() {
    const CAP: usize = 4;
    let emu = builder().with_log_capacity(CAP).start().await.unwrap();
    let c = TestClient::new(&emu);
    for i in 0..10 {
        let r = c.put(B, &format!("k{i}"), b"x").await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let log = emu.requests();
    assert_eq!(log.entries().len(), CAP);
    assert_eq!(log.evicted(), 6);
    let keys: Vec<_> = log
        .entries()
        .iter()
        .map(|e| e.key.clone().unwrap())
        .collect();
    assert_eq!(keys, ["k6", "k7", "k8", "k9"], "the newest are kept");

    // Callbacks to a closed port fail and are logged, in their own ring.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cb", closed.local_addr().unwrap());
    drop(closed);
    let cb = base64::engine::general_purpose::STANDARD.encode(format!(
        r#"{{"callbackUrl":"{url}","callbackBody":"object=${{object}}"}}"#
    ));
    for i in 0..6 {
        let r = c
            .send(Req::put(B, &format!("cb{i}"), "x").header("x-oss-callback", &cb))
            .await;
        assert_eq!(r.status.as_u16(), 203, "{}", r.text());
    }
    assert_eq!(emu.callbacks().len(), CAP);
    let stats = emu.callback_log_stats();
    assert_eq!(
        (stats.capacity, stats.retained, stats.evicted),
        (CAP, CAP, 2)
    );

    let r = c
        .send_raw(Method::GET, "/__emulator/requests", &[], Bytes::new())
        .await;
    assert_eq!(r.header("x-oss-emulator-log-capacity"), Some("4"));
    let evicted: u64 = r
        .header("x-oss-emulator-log-evicted")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(evicted, emu.request_log_stats().evicted);
    let listed: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), CAP);

    let r = c
        .send_raw(Method::GET, "/__emulator/stats", &[], Bytes::new())
        .await;
    let stats: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(stats["callbacks"]["evicted"], 2);
    assert_eq!(stats["callbacks"]["capacity"], CAP);
    assert_eq!(stats["requests"]["retained"], CAP);
    assert!(stats["requests"]["evicted"].as_u64().unwrap() >= 12);
    println!(
        "capacity {CAP}: requests {:?}, callbacks {:?}",
        emu.request_log_stats(),
        emu.callback_log_stats()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn errors_quote_only_a_prefix_of_a_huge_value() {
    let emu = client::start().await;
    let c = TestClient::new(&emu);
    // A 300 KB Authorization header that is not a V4 signature is echoed in ArgumentValue.
    let huge = format!("OSS4-HMAC-SHA256 {}", "A".repeat(300_000));
    let r = c
        .send_raw(
            Method::GET,
            &format!("/{B}/k"),
            &[("authorization", &huge)],
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", &r.text()[..200]);
    assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    let value = r.xml("ArgumentValue").unwrap();
    assert!(huge.starts_with(value.trim_end_matches("...")));
    assert!(value.len() <= oss_emulator::MAX_ECHO_BYTES + 3);
    assert!(r.body.len() < 4096, "answer of {} bytes", r.body.len());
    println!("300 000-byte header → {}-byte error answer", r.body.len());
    emu.shutdown().await;
}
