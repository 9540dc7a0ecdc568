//! An UploadPart whose upload is aborted while its body is still arriving answers 404
//! `NoSuchUpload` (EC 0042-00000104), as OSS answers any part of a finished upload, not a 500
//! from the storage; and the aborted upload stays gone.
//!
//! The race is driven, not timed: the part is sent by hand with `Expect: 100-continue`, and the
//! server's `100 Continue` says the handler has found the upload and started reading the body.
//! Only then is the upload aborted, and only after the Abort's 204 is the body sent.

#[path = "support/client.rs"]
mod client;

use std::time::Duration;

use bytes::Bytes;
use client::{Req, TestClient};
use http::{Method, StatusCode};
use oss_emulator::Emulator;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const B: &str = "abort-race";
/// A safety bound on each read: a hang fails the test instead of stalling it.
const DEADLINE: Duration = Duration::from_secs(20);

/// Reads one response head (through the blank line) and returns it with the bytes after it.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
            .await
            .expect("the emulator answers within the deadline")
            .expect("read");
        assert!(n > 0, "connection closed before a full head: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

async fn abort_while_a_part_is_sent(emu: &Emulator) {
    let c = TestClient::new(emu);
    let key = "race/part.bin";
    let r = c
        .send(Req::new(Method::POST, B, Some(key)).query("uploads", ""))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.xml("UploadId").expect("upload id");

    let body = vec![0x5Au8; 64 * 1024];
    let req = Req::put(B, key, Bytes::from(body.clone()))
        .query("partNumber", "1")
        .query("uploadId", &id);
    let parts = c.sign(&req);
    let mut head = format!(
        "PUT {} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nexpect: 100-continue\r\n",
        parts.uri.path_and_query().expect("path").as_str(),
        emu.local_addr(),
        body.len()
    );
    for (name, value) in &parts.headers {
        head.push_str(&format!(
            "{name}: {}\r\n",
            value.to_str().expect("ascii header")
        ));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(emu.local_addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let cont = read_head(&mut stream, &mut buf).await;
    assert!(
        cont.starts_with("HTTP/1.1 100"),
        "the handler reads the body only after finding the upload: {cont}"
    );

    let r = c
        .send(Req::new(Method::DELETE, B, Some(key)).query("uploadId", &id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    stream.write_all(&body).await.unwrap();
    let answer = read_head(&mut stream, &mut buf).await;
    let len = content_length(&answer);
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
            .await
            .expect("the body arrives within the deadline")
            .expect("read");
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf[..len]).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 404"),
        "a part of an aborted upload: {answer}\n{text}"
    );
    assert_eq!(
        client::xml_field(&text, "Code").as_deref(),
        Some("NoSuchUpload"),
        "{text}"
    );
    assert_eq!(
        client::xml_field(&text, "EC").as_deref(),
        Some("0042-00000104"),
        "{text}"
    );
    assert_eq!(
        client::xml_field(&text, "UploadId").as_deref(),
        Some(id.as_str()),
        "{text}"
    );

    // The late part brought nothing back: no open upload, no parts to list.
    let open = c
        .send_raw(Method::GET, "/__emulator/uploads", &[], Bytes::new())
        .await;
    assert_eq!(open.status, StatusCode::OK);
    assert_eq!(open.text().trim(), "[]", "no upload is left open");
    let r = c
        .send(Req::new(Method::GET, B, Some(key)).query("uploadId", &id))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn a_part_racing_an_abort_answers_no_such_upload_in_memory() {
    let emu = client::builder().with_bucket(B).start().await.unwrap();
    abort_while_a_part_is_sent(&emu).await;
}

#[tokio::test]
async fn a_part_racing_an_abort_answers_no_such_upload_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let emu = client::builder()
        .with_bucket(B)
        .with_data_dir(dir.path())
        .start()
        .await
        .unwrap();
    abort_while_a_part_is_sent(&emu).await;
}
