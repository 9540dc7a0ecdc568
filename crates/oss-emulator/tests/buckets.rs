//! Buckets and listing on a strict emulator (auto-create off): NoSuchBucket until PutBucket,
//! BucketNotEmpty while objects or uploads remain; ListObjects v1/v2 pagination, delimiter and
//! `encoding-type=url`; ListMultipartUploads; DeleteMultipleObjects (Content-MD5, quiet).

#[path = "support/client.rs"]
mod client;

use base64::Engine as _;
use bytes::Bytes;
use client::{builder, xml_field, Req, TestClient};
use http::{Method, StatusCode};
use md5::{Digest, Md5};

fn all_fields(text: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(v) = xml_field(rest, name) {
        out.push(v.clone());
        let close = format!("</{name}>");
        let at = rest.find(&close).unwrap() + close.len();
        rest = &rest[at..];
    }
    out
}

fn unescape_url(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

async fn strict() -> (oss_emulator::Emulator, TestClient) {
    let emu = builder()
        .with_auto_create_buckets(false)
        .with_bucket("made-at-start")
        .start()
        .await
        .unwrap();
    let c = TestClient::new(&emu);
    (emu, c)
}

fn bucket_req(method: Method, bucket: &str) -> Req {
    Req::new(method, bucket, None)
}

#[tokio::test]
async fn buckets_exist_only_once_created_and_delete_only_when_empty() {
    let (_emu, c) = strict().await;
    let r = c.put("missing", "k", b"x").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code().as_deref(), Some("NoSuchBucket"));
    assert_eq!(r.ec().as_deref(), Some("0015-00000101"));
    assert_eq!(r.xml("BucketName").as_deref(), Some("missing"));
    let r = c
        .send(bucket_req(Method::GET, "missing").query("bucketInfo", ""))
        .await;
    assert_eq!(r.code().as_deref(), Some("NoSuchBucket"));
    let r = c.send(bucket_req(Method::DELETE, "missing")).await;
    assert_eq!(r.code().as_deref(), Some("NoSuchBucket"));

    assert_eq!(
        c.put("made-at-start", "k", b"x").await.status,
        StatusCode::OK
    );
    let r = c.send(bucket_req(Method::PUT, "fresh")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        c.send(bucket_req(Method::PUT, "fresh")).await.status,
        StatusCode::OK
    );
    let info = c
        .send(bucket_req(Method::GET, "fresh").query("bucketInfo", ""))
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.xml("Name").as_deref(), Some("fresh"));
    assert_eq!(info.xml("Location").as_deref(), Some("oss-cn-hangzhou"));

    assert_eq!(c.put("fresh", "a/b", b"data").await.status, StatusCode::OK);
    let r = c.send(bucket_req(Method::DELETE, "fresh")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code().as_deref(), Some("BucketNotEmpty"));
    assert_eq!(r.ec().as_deref(), Some("0015-00000301"));
    c.send(Req::new(Method::DELETE, "fresh", Some("a/b"))).await;
    // A multipart upload in progress also keeps the bucket.
    let init = c
        .send(Req::new(Method::POST, "fresh", Some("big")).query("uploads", ""))
        .await;
    let id = init.xml("UploadId").unwrap();
    assert_eq!(
        c.send(bucket_req(Method::DELETE, "fresh"))
            .await
            .code()
            .as_deref(),
        Some("BucketNotEmpty")
    );
    let r = c
        .send(Req::new(Method::DELETE, "fresh", Some("big")).query("uploadId", &id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        c.send(bucket_req(Method::DELETE, "fresh")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get("fresh", "a/b").await.code().as_deref(),
        Some("NoSuchBucket")
    );
}

const KEYS: &[&str] = &[
    "docs/a b.txt",
    "docs/a+b.txt",
    "docs/100%.txt",
    "docs/中文/文件.txt",
    "docs/sub/x",
    "logs/1",
    "logs/2",
    "top",
];

#[tokio::test]
async fn list_v2_pages_with_delimiter_and_url_encoding() {
    let (_emu, c) = strict().await;
    let b = "made-at-start";
    for (i, k) in KEYS.iter().enumerate() {
        assert_eq!(c.put(b, k, &vec![b'x'; i]).await.status, StatusCode::OK);
    }
    // Recursive listing, two keys a page, url-encoded.
    let mut keys = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = bucket_req(Method::GET, b)
            .query("list-type", "2")
            .query("max-keys", "2")
            .query("encoding-type", "url");
        if let Some(t) = &token {
            req = req.query("continuation-token", t);
        }
        let r = c.send(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let text = r.text();
        assert!(!text.contains("a b") && !text.contains("a+b"), "{text}");
        keys.extend(all_fields(&text, "Key").iter().map(|k| unescape_url(k)));
        sizes.extend(all_fields(&text, "Size"));
        pages += 1;
        if r.xml("IsTruncated").as_deref() == Some("true") {
            token = r.xml("NextContinuationToken");
        } else {
            break;
        }
    }
    assert_eq!(pages, 4);
    let mut want: Vec<&str> = KEYS.to_vec();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(sizes.len(), KEYS.len());

    // One level under docs/: keys and common prefixes share the page budget.
    let r = c
        .send(
            bucket_req(Method::GET, b)
                .query("list-type", "2")
                .query("prefix", "docs/")
                .query("delimiter", "/")
                .query("encoding-type", "url"),
        )
        .await;
    let text = r.text();
    let prefixes: Vec<String> = all_fields(&text, "CommonPrefixes")
        .iter()
        .map(|p| unescape_url(&xml_field(p, "Prefix").unwrap()))
        .collect();
    assert_eq!(prefixes, ["docs/sub/", "docs/中文/"]);
    let direct: Vec<String> = all_fields(&text, "Key")
        .iter()
        .map(|k| unescape_url(k))
        .collect();
    assert_eq!(direct, ["docs/100%.txt", "docs/a b.txt", "docs/a+b.txt"]);
    assert_eq!(r.xml("KeyCount").as_deref(), Some("5"));
    assert_eq!(r.xml("Prefix").as_deref(), Some("docs%2F"));

    // start-after, and v1 with marker.
    let r = c
        .send(
            bucket_req(Method::GET, b)
                .query("list-type", "2")
                .query("start-after", "logs/1"),
        )
        .await;
    assert_eq!(all_fields(&r.text(), "Key"), ["logs/2", "top"]);
    let r = c
        .send(
            bucket_req(Method::GET, b)
                .query("marker", "logs/")
                .query("max-keys", "1"),
        )
        .await;
    assert_eq!(all_fields(&r.text(), "Key"), ["logs/1"]);
    assert_eq!(r.xml("NextMarker").as_deref(), Some("logs/1"));
    let bad = c
        .send(
            bucket_req(Method::GET, b)
                .query("list-type", "2")
                .query("max-keys", "0"),
        )
        .await;
    assert_eq!(bad.code().as_deref(), Some("InvalidArgument"));
    let bad = c
        .send(
            bucket_req(Method::GET, b)
                .query("list-type", "2")
                .query("continuation-token", "not-hex"),
        )
        .await;
    assert_eq!(bad.code().as_deref(), Some("InvalidArgument"));
}

fn delete_body(keys: &[&str], quiet: bool) -> Vec<u8> {
    let mut s = format!("<Delete><Quiet>{quiet}</Quiet>");
    for k in keys {
        s.push_str(&format!(
            "<Object><Key>{}</Key></Object>",
            quick_xml::escape::escape(*k)
        ));
    }
    s.push_str("</Delete>");
    s.into_bytes()
}

fn md5_b64(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(body))
}

#[tokio::test]
async fn delete_multiple_needs_content_md5_and_honours_quiet() {
    let (_emu, c) = strict().await;
    let b = "made-at-start";
    for k in ["x/1", "x/2 +", "y"] {
        c.put(b, k, b"d").await;
    }
    let body = delete_body(&["x/1", "x/2 +", "never-written"], false);
    let r = c
        .send(
            bucket_req(Method::POST, b)
                .query("delete", "")
                .body(Bytes::from(body.clone())),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code().as_deref(), Some("MissingArgument"));
    let r = c
        .send(
            bucket_req(Method::POST, b)
                .query("delete", "")
                .header("content-md5", &md5_b64(b"other"))
                .body(Bytes::from(body.clone())),
        )
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidDigest"));
    let r = c
        .send(
            bucket_req(Method::POST, b)
                .query("delete", "")
                .query("encoding-type", "url")
                .header("content-md5", &md5_b64(&body))
                .body(Bytes::from(body)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        all_fields(&r.text(), "Key"),
        ["x%2F1", "x%2F2%20%2B", "never-written"]
    );
    assert_eq!(c.get(b, "x/1").await.status, StatusCode::NOT_FOUND);

    let body = delete_body(&["y"], true);
    let r = c
        .send(
            bucket_req(Method::POST, b)
                .query("delete", "")
                .header("content-md5", &md5_b64(&body))
                .body(Bytes::from(body)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("<Deleted>"), "{}", r.text());
    assert_eq!(c.get(b, "y").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_multipart_uploads_pages_by_key_then_upload() {
    let (_emu, c) = strict().await;
    let b = "made-at-start";
    let mut ids = Vec::new();
    for k in ["u/a b", "u/a b", "u/c", "v/d"] {
        let r = c
            .send(Req::new(Method::POST, b, Some(k)).query("uploads", ""))
            .await;
        ids.push((k, r.xml("UploadId").unwrap()));
    }
    let mut seen = Vec::new();
    let (mut km, mut im) = (String::new(), String::new());
    loop {
        let mut req = bucket_req(Method::GET, b)
            .query("uploads", "")
            .query("max-uploads", "1")
            .query("prefix", "u/")
            .query("encoding-type", "url");
        if !km.is_empty() {
            req = req.query("key-marker", &km).query("upload-id-marker", &im);
        }
        let r = c.send(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let text = r.text();
        for up in all_fields(&text, "Upload") {
            seen.push((
                unescape_url(&xml_field(&up, "Key").unwrap()),
                xml_field(&up, "UploadId").unwrap(),
            ));
        }
        if r.xml("IsTruncated").as_deref() != Some("true") {
            break;
        }
        km = unescape_url(&r.xml("NextKeyMarker").unwrap());
        im = r.xml("NextUploadIdMarker").unwrap();
    }
    let keys: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["u/a b", "u/a b", "u/c"]);
    let mut got_ids: Vec<&String> = seen.iter().map(|(_, i)| i).collect();
    got_ids.sort();
    let mut want_ids: Vec<&String> = ids
        .iter()
        .filter(|(k, _)| k.starts_with("u/"))
        .map(|(_, i)| i)
        .collect();
    want_ids.sort();
    assert_eq!(got_ids, want_ids);
}
