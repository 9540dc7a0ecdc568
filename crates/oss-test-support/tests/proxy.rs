//! The fault proxy seen by a raw client: each fault kind, keep-alive, chunked answers, the
//! exemption, events in order and both hold stages. The upstream is a tiny raw server that
//! reports whether it got each request whole.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oss_test_support::{ErrorStatus, EventKind, Fault, FaultConfig, FaultProxy, HoldStage};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Safety bound on any wait: a broken proxy fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(10);

/// What the upstream saw of one request.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Whole(usize),
    Broken,
}

struct Upstream {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

/// Answers `got N bytes` with a length, or chunked for paths under `/chunked`.
async fn upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let (tx, seen) = mpsc::unbounded_channel();
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut r = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                    let mut len = 0;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                            let _ = tx.send(Seen::Broken);
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).await.is_err() {
                        let _ = tx.send(Seen::Broken);
                        return;
                    }
                    let _ = tx.send(Seen::Whole(len));
                    let text = format!("got {len} bytes");
                    let reply = if path.starts_with("/chunked") {
                        format!(
                            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{text}\r\n0\r\n\r\n",
                            text.len()
                        )
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{text}",
                            text.len()
                        )
                    };
                    if r.get_mut().write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Upstream {
        addr,
        accepted,
        seen,
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, f)
        .await
        .expect("within the deadline")
}

fn request(method: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nhost: proxy\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response with a content-length (or chunked, as raw text) from `s`.
async fn read_response(s: &mut BufReader<TcpStream>) -> std::io::Result<(u16, String, String)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let lower = head.to_ascii_lowercase();
    let body = if let Some(len) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap())
    {
        let mut b = vec![0; len];
        s.read_exact(&mut b).await?;
        String::from_utf8(b).unwrap()
    } else {
        let mut raw = String::new();
        loop {
            let mut line = String::new();
            s.read_line(&mut line).await?;
            raw.push_str(&line);
            if raw.ends_with("0\r\n\r\n") {
                break;
            }
        }
        raw
    };
    Ok((status, head, body))
}

async fn connect(proxy: &FaultProxy) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(proxy.addr()).await.unwrap())
}

fn only(fault: Fault) -> FaultConfig {
    FaultConfig::new(1).with(fault, 1)
}

#[tokio::test]
async fn passes_requests_through_on_one_kept_alive_connection() {
    let mut up = upstream().await;
    let proxy = FaultProxy::start(up.addr, FaultConfig::none())
        .await
        .unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "hello"))
        .await
        .unwrap();
    let (status, _, body) = within(read_response(&mut c)).await.unwrap();
    assert_eq!((status, body.as_str()), (200, "got 5 bytes"));
    c.get_mut()
        .write_all(&request("PUT", "/chunked/k", "abc"))
        .await
        .unwrap();
    let (status, head, body) = within(read_response(&mut c)).await.unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert_eq!(body, "b\r\ngot 3 bytes\r\n0\r\n\r\n");
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(5)));
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(3)));
    assert_eq!(proxy.counts()[&Fault::None], 2);
}

#[tokio::test]
async fn a_mid_body_reset_leaves_the_server_without_a_whole_request() {
    let mut up = upstream().await;
    let proxy = FaultProxy::start(up.addr, only(Fault::ResetMidBody))
        .await
        .unwrap();
    let mut c = connect(&proxy).await;
    let _ = c
        .get_mut()
        .write_all(&request("PUT", "/b/k", &"x".repeat(1000)))
        .await;
    assert!(within(read_response(&mut c)).await.is_err());
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Broken));
    assert_eq!(proxy.counts()[&Fault::ResetMidBody], 1);
}

#[tokio::test]
async fn a_reset_before_the_response_comes_after_the_server_answered() {
    let mut up = upstream().await;
    let proxy = FaultProxy::start(up.addr, only(Fault::ResetBeforeResponse))
        .await
        .unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "hello"))
        .await
        .unwrap();
    let mut buf = Vec::new();
    // A reset or an EOF, never a byte of the answer.
    let read = within(c.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "{read:?} {buf:?}");
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(5)));
}

#[tokio::test]
async fn a_rejection_never_reaches_the_server_and_keeps_the_connection() {
    let up = upstream().await;
    let proxy = FaultProxy::start(
        up.addr,
        only(Fault::Reject(ErrorStatus::ServiceUnavailable)),
    )
    .await
    .unwrap();
    let mut c = connect(&proxy).await;
    for _ in 0..2 {
        c.get_mut()
            .write_all(&request("PUT", "/b/k", "hello"))
            .await
            .unwrap();
        let (status, head, body) = within(read_response(&mut c)).await.unwrap();
        assert_eq!(status, 503);
        assert!(head.contains("x-oss-request-id: FAULTPROXY"), "{head}");
        assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
        assert!(body.contains("<RequestId>FAULTPROXY"), "{body}");
    }
    assert_eq!(up.accepted.load(Ordering::SeqCst), 0);
    assert_eq!(
        proxy.counts()[&Fault::Reject(ErrorStatus::ServiceUnavailable)],
        2
    );
}

#[tokio::test]
async fn a_replaced_response_hides_what_the_server_did() {
    let mut up = upstream().await;
    let proxy = FaultProxy::start(
        up.addr,
        only(Fault::ReplaceResponse(ErrorStatus::InternalError)),
    )
    .await
    .unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "hello"))
        .await
        .unwrap();
    let (status, _, body) = within(read_response(&mut c)).await.unwrap();
    assert_eq!(status, 500);
    assert!(body.contains("<Code>InternalError</Code>"), "{body}");
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(5)));
}

#[tokio::test]
async fn a_delayed_response_outlasts_a_short_read_timeout() {
    let mut up = upstream().await;
    let config = only(Fault::DelayResponse).with_delay(Duration::from_secs(30));
    let proxy = FaultProxy::start(up.addr, config).await.unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "hello"))
        .await
        .unwrap();
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(5)));
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), c.read(&mut byte)).await;
    assert!(
        waited.is_err(),
        "no byte within the client's timeout: {waited:?}"
    );
    assert_eq!(proxy.counts()[&Fault::DelayResponse], 1);
}

#[tokio::test]
async fn a_truncated_response_promises_more_than_it_sends() {
    let up = upstream().await;
    let proxy = FaultProxy::start(up.addr, only(Fault::TruncateResponse))
        .await
        .unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "hello"))
        .await
        .unwrap();
    let mut raw = Vec::new();
    within(c.read_to_end(&mut raw)).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("content-length: 75"), "{head}");
    assert_eq!(body, "got 5");
}

#[tokio::test]
async fn exempt_requests_pass_untouched_and_uncounted() {
    let up = upstream().await;
    let config = only(Fault::Reject(ErrorStatus::TooManyRequests));
    let proxy = FaultProxy::start(up.addr, config).await.unwrap();
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("GET", "/__emulator/stats", ""))
        .await
        .unwrap();
    let (status, _, _) = within(read_response(&mut c)).await.unwrap();
    assert_eq!(status, 200);
    c.get_mut()
        .write_all(&request("PUT", "/b/k", "x"))
        .await
        .unwrap();
    let (status, _, body) = within(read_response(&mut c)).await.unwrap();
    assert_eq!(status, 429);
    assert!(body.contains("<Code>TooManyRequests</Code>"));
    assert_eq!(proxy.counts().values().sum::<u64>(), 1);
    assert_eq!(proxy.injections()[0].head.path, "/b/k");
}

#[tokio::test]
async fn events_come_in_protocol_order_and_holds_stall_at_their_stage() {
    let mut up = upstream().await;
    let proxy = FaultProxy::start(up.addr, FaultConfig::none())
        .await
        .unwrap();
    let mut events = proxy.events();
    let mut before = proxy.hold(HoldStage::BeforeRequest, |h| h.has_query("partNumber"));
    let mut c = connect(&proxy).await;
    c.get_mut()
        .write_all(&request("PUT", "/b/k?partNumber=1&uploadId=U", "hello"))
        .await
        .unwrap();
    let held = within(before.arrived()).await.unwrap();
    assert_eq!((held.method.as_str(), held.path.as_str()), ("PUT", "/b/k"));
    assert_eq!(
        up.accepted.load(Ordering::SeqCst),
        0,
        "nothing forwarded while held"
    );
    let mut after = proxy.hold(HoldStage::BeforeResponse, |h| h.path == "/b/k");
    before.release();
    within(after.arrived()).await.unwrap();
    assert_eq!(within(up.seen.recv()).await, Some(Seen::Whole(5)));
    // The answer is written only after the hold: nothing forwarded yet.
    let mut kinds = Vec::new();
    while let Some(e) = events.try_next() {
        kinds.push(e.kind);
    }
    assert!(!kinds.contains(&EventKind::ResponseForwarded), "{kinds:?}");
    after.release();
    let (status, _, _) = within(read_response(&mut c)).await.unwrap();
    assert_eq!(status, 200);
    while kinds.last() != Some(&EventKind::ResponseForwarded) {
        kinds.push(within(events.next()).await.unwrap().kind);
    }
    assert_eq!(
        kinds,
        [
            EventKind::RequestHead,
            EventKind::RequestBodyForwarded,
            EventKind::ResponseHead { status: 200 },
            EventKind::ResponseForwarded
        ]
    );
    // wait_for skips to the match.
    c.get_mut()
        .write_all(&request("PUT", "/b/other", ""))
        .await
        .unwrap();
    let e = within(events.wait_for(|e| matches!(e.kind, EventKind::ResponseHead { .. })))
        .await
        .unwrap();
    assert_eq!((e.request, e.head.path.as_str()), (1, "/b/other"));
}
