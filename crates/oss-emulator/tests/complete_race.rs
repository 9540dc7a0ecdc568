//! Two CompleteMultipartUploads of one upload id at once (a client's retry racing its first
//! attempt): they take turns, so exactly one commits and delivers the callback and the other
//! answers `NoSuchUpload`; never a second callback, a second commit or an `InvalidPart` from a
//! half-consumed upload.

#[path = "support/client.rs"]
mod client;

use bytes::Bytes;
use client::{Req, Resp, TestClient};
use http::{Method, StatusCode};
use oss_callback::{Callback, CallbackBodyType};
use oss_emulator::{CallbackOutcome, Emulator, MIN_PART_SIZE};
use oss_test_support::{Answer, CallbackServer};
use oss_types::Crc64;

const B: &str = "race-bucket";

async fn initiate(c: &TestClient, key: &str) -> String {
    let r = c
        .send(Req::new(Method::POST, B, Some(key)).query("uploads", ""))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.xml("UploadId").expect("upload id")
}

/// Uploads `parts` and returns the Complete body listing them.
async fn upload_parts(c: &TestClient, key: &str, id: &str, parts: &[Vec<u8>]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, data) in parts.iter().enumerate() {
        let n = i + 1;
        let r = c
            .send(
                Req::put(B, key, Bytes::copy_from_slice(data))
                    .query("partNumber", &n.to_string())
                    .query("uploadId", id),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let etag = r.header("etag").expect("etag");
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}

fn complete_req(key: &str, id: &str, body: &str, cb: &Callback) -> Req {
    let mut req = Req::new(Method::POST, B, Some(key))
        .query("uploadId", id)
        .body(body.to_owned());
    oss_callback::encode_headers(cb, None, &mut req.headers).expect("callback headers");
    req
}

fn callback_for(server: &CallbackServer, key: &str) -> Callback {
    Callback::builder()
        .with_url(format!("{}/race?key={key}", server.url))
        .with_body(r#"{"object":${object},"size":${size},"crc64":${crc64}}"#)
        .with_body_type(CallbackBodyType::Json)
        .build()
        .expect("callback")
}

/// Sends the two Completes at once, each on its own connection.
async fn race(c: &TestClient, req: Req) -> (Resp, Resp) {
    let (a, b) = (c.clone(), c.clone());
    let (ra, rb) = (req.clone(), req);
    let first = tokio::spawn(async move { a.send(ra).await });
    let second = tokio::spawn(async move { b.send(rb).await });
    (first.await.expect("first"), second.await.expect("second"))
}

/// Checks one pair of answers: one 200 with the callback's answer, one `NoSuchUpload`.
fn one_wins(key: &str, a: &Resp, b: &Resp) -> String {
    let (won, lost) = match (a.status, b.status) {
        (StatusCode::OK, _) => (a, b),
        (_, StatusCode::OK) => (b, a),
        _ => panic!(
            "{key}: neither Complete succeeded: {} / {}",
            a.text(),
            b.text()
        ),
    };
    assert_eq!(won.header("content-type"), Some("application/json"));
    let answer: serde_json::Value = serde_json::from_slice(&won.body).expect("json answer");
    assert_eq!(answer["ok"], true, "{key}: {}", won.text());
    assert_eq!(
        lost.status,
        StatusCode::NOT_FOUND,
        "{key}: the other Complete: {}",
        lost.text()
    );
    assert_eq!(lost.code().as_deref(), Some("NoSuchUpload"), "{key}");
    answer["received"].as_str().unwrap_or_default().to_owned()
}

async fn check_object(c: &TestClient, key: &str, parts: &[Vec<u8>]) {
    let all = parts.concat();
    let got = c.get(B, key).await;
    assert_eq!(got.status, StatusCode::OK, "{key}");
    assert!(got.body[..] == all[..], "{key}: stored bytes differ");
    assert_eq!(
        got.header("x-oss-hash-crc64ecma"),
        Some(Crc64::checksum(&all).to_string().as_str())
    );
}

async fn setup(emu: &Emulator) -> (TestClient, CallbackServer) {
    let server = CallbackServer::start(emu, Answer::Echo).await;
    (TestClient::new(emu), server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_completes_of_one_upload_commit_and_call_back_once() {
    let emu = client::start().await;
    let (c, server) = setup(&emu).await;
    let key = "race/one.bin";
    let parts = vec![
        vec![7u8; MIN_PART_SIZE as usize],
        vec![8u8; MIN_PART_SIZE as usize + 3],
        b"tail".to_vec(),
    ];
    let id = initiate(&c, key).await;
    let body = upload_parts(&c, key, &id, &parts).await;
    let (a, b) = race(
        &c,
        complete_req(key, &id, &body, &callback_for(&server, key)),
    )
    .await;
    let received = one_wins(key, &a, &b);
    let delivered = server.received();
    assert_eq!(delivered.len(), 1, "exactly one callback");
    assert!(delivered[0].verified);
    assert_eq!(
        received, delivered[0].body,
        "the winner got the callback's answer"
    );
    let cb: serde_json::Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(cb["object"], key);
    assert_eq!(cb["size"], parts.concat().len().to_string());
    let log = emu.callbacks();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, CallbackOutcome::Delivered);
    check_object(&c, key, &parts).await;
    emu.shutdown().await;
}

/// Many pairs at once, on disk storage (where a Complete copies its parts, the widest window
/// for two Completes to interleave): every pair has one winner and one callback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_racing_pairs_on_disk_each_commit_once() {
    const UPLOADS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let emu = client::builder()
        .with_data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let (c, server) = setup(&emu).await;
    let mut prepared = Vec::new();
    for i in 0..UPLOADS {
        let key = format!("race/many-{i}.bin");
        let parts: Vec<Vec<u8>> = (0..4u8)
            .map(|p| vec![p ^ i as u8; MIN_PART_SIZE as usize + p as usize])
            .collect();
        let id = initiate(&c, &key).await;
        let body = upload_parts(&c, &key, &id, &parts).await;
        let req = complete_req(&key, &id, &body, &callback_for(&server, &key));
        prepared.push((key, parts, req));
    }
    let races: Vec<_> = prepared
        .iter()
        .map(|(_, _, req)| {
            let (c, req) = (c.clone(), req.clone());
            tokio::spawn(async move { race(&c, req).await })
        })
        .collect();
    for ((key, parts, _), pair) in prepared.iter().zip(races) {
        let (a, b) = pair.await.expect("pair");
        one_wins(key, &a, &b);
        check_object(&c, key, parts).await;
    }
    let delivered = server.received();
    println!(
        "complete_race: {UPLOADS} uploads, {} Completes, {} callbacks",
        2 * UPLOADS,
        delivered.len()
    );
    assert_eq!(delivered.len(), UPLOADS, "one callback per upload");
    for (key, _, _) in &prepared {
        let n = delivered
            .iter()
            .filter(|r| r.path_and_query.ends_with(&format!("key={key}")))
            .count();
        assert_eq!(n, 1, "{key}: callbacks delivered");
    }
    emu.shutdown().await;
}
