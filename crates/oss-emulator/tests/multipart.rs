//! Multipart uploads: initiate, upload part, list parts (paginated), complete (ETag, CRC-64,
//! callback), abort, and the Complete checks (EntityTooSmall, InvalidPart, InvalidPartOrder,
//! NoSuchUpload, MalformedXML, complete-all).

#[path = "support/client.rs"]
mod client;

use bytes::Bytes;
use client::{start, xml_field, Req, TestClient};
use http::{Method, StatusCode};
use md5::{Digest, Md5};
use oss_emulator::{Operation, MIN_PART_SIZE};
use oss_test_support::{Answer, CallbackServer};
use oss_types::Crc64;

const B: &str = "multipart-bucket";

async fn initiate(c: &TestClient, key: &str) -> String {
    let r = c
        .send(
            Req::new(Method::POST, B, Some(key))
                .query("uploads", "")
                .header("content-type", "application/x-test"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.xml("Key").as_deref(), Some(key));
    r.xml("UploadId").expect("upload id")
}

async fn upload_part(c: &TestClient, key: &str, id: &str, n: u32, data: &[u8]) -> String {
    let r = c
        .send(
            Req::put(B, key, Bytes::copy_from_slice(data))
                .query("partNumber", &n.to_string())
                .query("uploadId", id),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(Crc64::checksum(data).to_string().as_str())
    );
    r.header("etag").expect("etag").to_owned()
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let mut s = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        s.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

fn complete(key: &str, id: &str, body: String) -> Req {
    Req::new(Method::POST, B, Some(key))
        .query("uploadId", id)
        .body(body)
}

#[tokio::test]
async fn full_upload_with_etag_and_crc() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let key = "mp/object.bin";
    let id = initiate(&c, key).await;
    let p1 = vec![1u8; MIN_PART_SIZE as usize];
    let p2 = vec![2u8; MIN_PART_SIZE as usize + 7];
    let p3 = b"tail".to_vec();
    let e1 = upload_part(&c, key, &id, 1, &p1).await;
    let e2 = upload_part(&c, key, &id, 2, &p2).await;
    let e3 = upload_part(&c, key, &id, 3, &p3).await;
    let r = c
        .send(complete(
            key,
            &id,
            complete_body(&[(1, &e1), (2, &e2), (3, &e3)]),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut all = p1.clone();
    all.extend_from_slice(&p2);
    all.extend_from_slice(&p3);
    let mut md5s = Md5::new();
    for p in [&p1, &p2, &p3] {
        md5s.update(Md5::digest(p));
    }
    let want: String = md5s.finalize().iter().map(|b| format!("{b:02X}")).collect();
    let etag = format!("\"{want}-3\"");
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        r.xml("ETag").as_deref(),
        Some("&quot;".to_owned() + &want + "-3&quot;").as_deref()
    );
    let crc = Crc64::checksum(&all).to_string();
    assert_eq!(r.header("x-oss-hash-crc64ecma"), Some(crc.as_str()));
    let combined = Crc64::combine(
        Crc64::combine(Crc64::checksum(&p1), Crc64::checksum(&p2), p2.len() as u64),
        Crc64::checksum(&p3),
        3 + 1,
    );
    assert_eq!(combined.to_string(), crc);

    let got = c.get(B, key).await;
    assert_eq!(&got.body[..], &all[..]);
    assert_eq!(got.header("content-type"), Some("application/x-test"));
    assert_eq!(got.header("x-oss-object-type"), Some("Multipart"));
    // The upload is gone.
    let r = c.send(Req::get(B, key).query("uploadId", &id)).await;
    assert_eq!(r.code().as_deref(), Some("NoSuchUpload"));
    assert_eq!(emu.requests().count(Operation::UploadPart, key), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn list_parts_paginates() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let key = "mp/list";
    let id = initiate(&c, key).await;
    for n in 1..=5 {
        upload_part(&c, key, &id, n, &[n as u8; 10]).await;
    }
    let r = c
        .send(
            Req::get(B, key)
                .query("uploadId", &id)
                .query("max-parts", "2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.xml("IsTruncated").as_deref(), Some("true"));
    assert_eq!(r.xml("NextPartNumberMarker").as_deref(), Some("2"));
    assert_eq!(r.text().matches("<Part>").count(), 2);
    let r = c
        .send(
            Req::get(B, key)
                .query("uploadId", &id)
                .query("part-number-marker", "2")
                .query("max-parts", "10"),
        )
        .await;
    assert_eq!(r.xml("IsTruncated").as_deref(), Some("false"));
    assert_eq!(r.xml("PartNumber").as_deref(), Some("3"));
    assert_eq!(r.text().matches("<Part>").count(), 3);
    assert!(xml_field(&r.text(), "HashCrc64ecma").is_some());
    // Abort, then the upload is gone for every operation.
    let r = c
        .send(Req::new(Method::DELETE, B, Some(key)).query("uploadId", &id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c
        .send(Req::new(Method::DELETE, B, Some(key)).query("uploadId", &id))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.ec().as_deref(), Some("0042-00000002"));
    let r = c
        .send(
            Req::put(B, key, "x")
                .query("partNumber", "1")
                .query("uploadId", &id),
        )
        .await;
    assert_eq!(r.ec().as_deref(), Some("0042-00000104"));
    assert_eq!(r.xml("UploadId").as_deref(), Some(id.as_str()));
    emu.shutdown().await;
}

#[tokio::test]
async fn complete_checks() {
    let emu = start().await;
    let c = TestClient::new(&emu);
    let key = "mp/checks";
    let id = initiate(&c, key).await;
    let small = upload_part(&c, key, &id, 1, b"too small").await;
    let big = upload_part(&c, key, &id, 2, &vec![0u8; MIN_PART_SIZE as usize]).await;
    let last = upload_part(&c, key, &id, 3, b"last").await;

    let r = c
        .send(complete(
            key,
            &id,
            complete_body(&[(1, &small), (3, &last)]),
        ))
        .await;
    assert_eq!(r.code().as_deref(), Some("EntityTooSmall"), "{}", r.text());
    assert_eq!(r.ec().as_deref(), Some("0042-00000213"));
    let r = c
        .send(complete(key, &id, complete_body(&[(3, &last), (2, &big)])))
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidPartOrder"));
    let r = c
        .send(complete(
            key,
            &id,
            complete_body(&[(2, &big), (3, "\"0000\"")]),
        ))
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidPart"));
    assert_eq!(r.xml("PartNumber").as_deref(), Some("3"));
    let r = c
        .send(complete(key, &id, complete_body(&[(2, &big), (4, &last)])))
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidPart"));
    let r = c.send(complete(key, &id, "<nope/>".into())).await;
    assert_eq!(r.code().as_deref(), Some("MalformedXML"));
    let r = c
        .send(complete(key, &id, complete_body(&[(2, &big)])).header("x-oss-complete-all", "yes"))
        .await;
    assert_eq!(r.ec().as_deref(), Some("0042-00000216"));
    let r = c
        .send(complete(key, "NOSUCHID", complete_body(&[(2, &big)])))
        .await;
    assert_eq!(r.code().as_deref(), Some("NoSuchUpload"));
    let r = c
        .send(
            Req::put(B, key, "x")
                .query("partNumber", "0")
                .query("uploadId", &id),
        )
        .await;
    assert_eq!(r.ec().as_deref(), Some("0017-00000220"));
    let r = c
        .send(
            Req::put(B, key, "x")
                .query("partNumber", "")
                .query("uploadId", &id),
        )
        .await;
    assert_eq!(r.ec().as_deref(), Some("0017-00000219"));
    // Parts 2 and 3 are a valid selection (part 1 is simply left out).
    let r = c
        .send(complete(key, &id, complete_body(&[(2, &big), (3, &last)])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(c.get(B, key).await.body.len(), MIN_PART_SIZE as usize + 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn complete_all_header_and_callback() {
    let emu = start().await;
    let server = CallbackServer::start(&emu, Answer::StatusOk).await;
    let c = TestClient::new(&emu);
    let key = "mp/all";
    let id = initiate(&c, key).await;
    upload_part(&c, key, &id, 1, &vec![7u8; MIN_PART_SIZE as usize]).await;
    upload_part(&c, key, &id, 2, b"end").await;
    let cb = oss_callback::Callback::builder()
        .with_url(format!("{}/mpu", server.url))
        .with_body("size=${size}&op=${operation}&md5=${contentMd5}")
        .build()
        .unwrap();
    let mut req = Req::new(Method::POST, B, Some(key))
        .query("uploadId", &id)
        .header("x-oss-complete-all", "yes");
    oss_callback::encode_headers(&cb, None, &mut req.headers).unwrap();
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"Status":"OK"}"#,
        "the callback's body replaces the XML"
    );
    let got = server.last();
    assert!(got.verified);
    assert_eq!(
        got.body,
        format!("size={}&op=CompleteMultipartUpload&md5=", MIN_PART_SIZE + 3)
    );
    emu.shutdown().await;
}

/// A completed object is its parts' chunks joined (in memory no byte is copied): ranged GETs
/// across part boundaries, and an overwrite by a later upload, return the right bytes.
#[tokio::test]
async fn ranges_across_parts_and_overwrite() {
    for disk in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let emu = if disk {
            client::builder()
                .with_data_dir(dir.path())
                .start()
                .await
                .unwrap()
        } else {
            start().await
        };
        let c = TestClient::new(&emu);
        let key = "mp/ranges.bin";
        let mut want = Vec::new();
        for round in 0..2u8 {
            let id = initiate(&c, key).await;
            let parts: Vec<Vec<u8>> = (0..3u32)
                .map(|p| {
                    (0..MIN_PART_SIZE as u32 + p)
                        .map(|i| (i.wrapping_mul(31) ^ p ^ u32::from(round)) as u8)
                        .collect()
                })
                .collect();
            let mut listed = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let n = i as u32 + 1;
                listed.push((n, upload_part(&c, key, &id, n, p).await));
            }
            let listed: Vec<(u32, &str)> = listed.iter().map(|(n, e)| (*n, e.as_str())).collect();
            let r = c.send(complete(key, &id, complete_body(&listed))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            want = parts.concat();
        }
        let got = c.get(B, key).await;
        assert!(got.body[..] == want[..], "disk={disk}: whole object");
        let boundary = MIN_PART_SIZE as usize;
        for (from, to) in [
            (boundary - 5, boundary + 5),
            (0, 0),
            (boundary, 2 * boundary + 1),
            (want.len() - 3, want.len() - 1),
        ] {
            let r = c
                .send(Req::get(B, key).header("range", &format!("bytes={from}-{to}")))
                .await;
            assert_eq!(
                r.status,
                StatusCode::PARTIAL_CONTENT,
                "disk={disk} {from}-{to}"
            );
            assert!(
                r.body[..] == want[from..=to],
                "disk={disk}: bytes {from}-{to}"
            );
        }
        emu.shutdown().await;
    }
}
