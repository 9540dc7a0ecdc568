//! `GET /__emulator/uploads`: the open multipart uploads as JSON (bucket, key, upload id, part
//! count, initiation time), optionally of one bucket; an upload leaves it when completed or
//! aborted.

#[path = "support/client.rs"]
mod client;

use bytes::Bytes;
use client::{Req, TestClient};
use http::{Method, StatusCode};
use oss_emulator::MIN_PART_SIZE;

async fn uploads(c: &TestClient, query: &str) -> serde_json::Value {
    let r = c
        .send_raw(
            Method::GET,
            &format!("/__emulator/uploads{query}"),
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    serde_json::from_slice(&r.body).expect("json")
}

async fn initiate(c: &TestClient, bucket: &str, key: &str) -> String {
    let r = c
        .send(Req::new(Method::POST, bucket, Some(key)).query("uploads", ""))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.xml("UploadId").expect("upload id")
}

async fn part(c: &TestClient, bucket: &str, key: &str, id: &str, n: u32, data: Vec<u8>) {
    let r = c
        .send(
            Req::put(bucket, key, data)
                .query("partNumber", &n.to_string())
                .query("uploadId", id),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn lists_open_uploads_until_complete_or_abort(c: &TestClient) {
    assert_eq!(uploads(c, "").await, serde_json::json!([]));
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let a = initiate(c, "view-a", "dir/one two.bin").await;
    part(
        c,
        "view-a",
        "dir/one two.bin",
        &a,
        1,
        vec![1; MIN_PART_SIZE as usize],
    )
    .await;
    part(c, "view-a", "dir/one two.bin", &a, 2, b"end".to_vec()).await;
    let b = initiate(c, "view-b", "other").await;

    let all = uploads(c, "").await;
    let list = all.as_array().expect("a list");
    assert_eq!(list.len(), 2, "{all}");
    let first = list
        .iter()
        .find(|u| u["upload_id"] == a.as_str())
        .expect("upload a listed");
    assert_eq!(first["bucket"], "view-a");
    assert_eq!(first["key"], "dir/one two.bin");
    assert_eq!(first["parts"], 2);
    let initiated = first["initiated"].as_str().expect("RFC 3339 text");
    let t = time::OffsetDateTime::parse(initiated, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    assert!(t.unix_timestamp() as u64 + 1 >= started, "{initiated}");
    assert!(first["initiated_unix"].as_u64().unwrap() + 1 >= started);

    let only_b = uploads(c, "?bucket=view-b").await;
    assert_eq!(only_b.as_array().unwrap().len(), 1, "{only_b}");
    assert_eq!(only_b[0]["upload_id"], b.as_str());
    assert_eq!(only_b[0]["parts"], 0);
    assert_eq!(uploads(c, "?bucket=nobody").await, serde_json::json!([]));

    let done = c
        .send(
            Req::new(Method::POST, "view-a", Some("dir/one two.bin"))
                .query("uploadId", &a)
                .header("x-oss-complete-all", "yes"),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let left = uploads(c, "").await;
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["upload_id"], b.as_str());

    let aborted = c
        .send(Req::new(Method::DELETE, "view-b", Some("other")).query("uploadId", &b))
        .await;
    assert_eq!(aborted.status, StatusCode::NO_CONTENT, "{}", aborted.text());
    assert_eq!(uploads(c, "").await, serde_json::json!([]));
}

#[tokio::test]
async fn memory_storage() {
    let emu = client::start().await;
    lists_open_uploads_until_complete_or_abort(&TestClient::new(&emu)).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn disk_storage() {
    let dir = tempfile::tempdir().unwrap();
    let emu = client::builder()
        .with_data_dir(dir.path())
        .start()
        .await
        .unwrap();
    lists_open_uploads_until_complete_or_abort(&TestClient::new(&emu)).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn only_get_and_head() {
    let emu = client::start().await;
    let c = TestClient::new(&emu);
    let r = c
        .send_raw(Method::POST, "/__emulator/uploads", &[], Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    emu.shutdown().await;
}
