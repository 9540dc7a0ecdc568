//! Clock skew under concurrency: N requests signed with a clock 15 minutes behind the server all
//! get `RequestTimeTooSkewed` at once; the learnt offset must be the server's offset (one
//! absolute value), not N corrections added together, and every request then succeeds.

mod raw_http;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::Method;
use oss_sign::{Credentials, StaticCredentialsProvider};
use oss_transport::{Addressing, Client, Endpoint, Request, RetryConfig};
use raw_http::{error_xml, response, serve};

/// Requests answered together (all signed before any correction is learnt).
const N: usize = 8;
/// How far the server's clock is ahead of the local one.
const AHEAD: Duration = Duration::from_secs(900);
/// The server's tolerance for a request's signing time (OSS allows 15 minutes; tighter here so a
/// wrong correction is refused too).
const TOLERANCE: Duration = Duration::from_secs(60);

fn server_now() -> SystemTime {
    SystemTime::now() + AHEAD
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_skew_answers_learn_one_offset() {
    let seen = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    // The first N requests wait for each other, so all N answers arrive with the client's
    // offset still at 0.
    let gate = Arc::new(tokio::sync::Barrier::new(N));
    let (addr, _) = {
        let (seen, refused, gate) = (seen.clone(), refused.clone(), gate.clone());
        serve(move |_, mut conn| {
            let (seen, refused, gate) = (seen.clone(), refused.clone(), gate.clone());
            async move {
                while let Some(head) = conn.read_request().await {
                    if seen.fetch_add(1, Ordering::SeqCst) < N {
                        gate.wait().await;
                    }
                    let signed = head
                        .header("x-oss-date")
                        .and_then(|d| oss_sign::parse_datetime(d).ok());
                    let now = server_now();
                    let off = signed.map(|t| match now.duration_since(t) {
                        Ok(d) => d,
                        Err(e) => e.duration(),
                    });
                    let date = format!("date: {}", httpdate::fmt_http_date(now));
                    let reply = if off.is_some_and(|o| o <= TOLERANCE) {
                        response("200 OK", &[date], "")
                    } else {
                        refused.fetch_add(1, Ordering::SeqCst);
                        let xml = error_xml("RequestTimeTooSkewed");
                        response("403 Forbidden", &[date], &xml)
                    };
                    if conn.write(&reply).await.is_none() {
                        return;
                    }
                }
            }
        })
        .await
    };

    let client = Client::builder()
        .with_endpoint(
            Endpoint::custom(&format!("http://{addr}"))
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_region("cn-hangzhou")
        .with_credentials_provider(StaticCredentialsProvider::new(Credentials::new("ak", "sk")))
        .with_retry(RetryConfig::default().with_base_delay(Duration::ZERO))
        .build()
        .unwrap();

    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let req = Request::new(Method::PUT)
                    .with_bucket("bucket")
                    .with_key(format!("k{i}"))
                    .with_body("x");
                client.send(req).await
            })
        })
        .collect();
    let deadline = Duration::from_secs(30);
    let mut ok = 0;
    for t in tasks {
        let result = tokio::time::timeout(deadline, t).await.unwrap().unwrap();
        match result {
            Ok(resp) => {
                assert_eq!(resp.status, 200);
                ok += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let skew = client.clock_skew_ms();
    println!(
        "requests {N}, refused {}, ok {ok}, learnt skew {skew} ms",
        refused.load(Ordering::SeqCst)
    );
    assert_eq!(ok, N);
    assert_eq!(refused.load(Ordering::SeqCst), N, "only the first round");
    let expected = i64::try_from(AHEAD.as_millis()).unwrap();
    assert!(
        (skew - expected).abs() <= 2_000,
        "learnt {skew} ms, the server is {expected} ms ahead"
    );
}
