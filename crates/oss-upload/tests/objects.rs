//! GetObject / HeadObject / DeleteObject, object options on the wire, Content-MD5, CRC-64
//! mismatches, PostObject policies and the browser-form helper.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, StatusCode};
use oss_callback::CallbackBodyType;
use oss_transport::{HttpSend, Request, Response};
use oss_upload::{
    Client, CompleteParts, ContentMd5, Crc64, Error, ObjectAcl, ObjectOptions, PolicyCondition,
    PostPolicy, ServerSideEncryption, StorageClass, UploadSource,
};
use support::{data, vars, Harness, BUCKET};

#[tokio::test]
async fn get_head_delete() {
    let h = Harness::start().await;
    let body = data(1000);
    h.client
        .put_object("o/data.json", body.clone())
        .with_options(ObjectOptions::new().with_metadata("Owner", "me"))
        .send()
        .await
        .unwrap();
    let head = h.client.head_object("o/data.json").await.unwrap();
    assert_eq!(head.size, 1000);
    assert_eq!(head.content_type.as_deref(), Some("application/json"));
    assert_eq!(head.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(head.metadata, vec![("owner".to_owned(), "me".to_owned())]);

    let part = h
        .client
        .get_object("o/data.json")
        .with_range(10, Some(19))
        .send()
        .await
        .unwrap();
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.bytes().await.unwrap(), body[10..20]);
    let tail = h
        .client
        .get_object("o/data.json")
        .with_range(990, None)
        .send()
        .await
        .unwrap();
    assert_eq!(tail.body.bytes().await.unwrap(), body[990..]);
    let mut whole = h.client.get_object("o/data.json").send().await.unwrap();
    assert_eq!(whole.status, StatusCode::OK);
    let mut got = Vec::new();
    while let Some(chunk) = whole.body.chunk().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, body);
    assert!(matches!(
        h.client
            .get_object("o/data.json")
            .with_range(5, Some(1))
            .send()
            .await,
        Err(Error::InvalidArgument { .. })
    ));

    h.client.delete_object("o/data.json").await.unwrap();
    let err = h.client.head_object("o/data.json").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(
        err.to_string().contains("oss://test-bucket/o/data.json"),
        "{err}"
    );
}

/// Method, query and headers of one request.
type Seen = (String, Vec<(String, String)>, HeaderMap);

/// Records requests and answers with canned headers.
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    answer: Mutex<HeaderMap>,
}

impl HttpSend for Recorder {
    fn send(&self, req: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
        self.seen.lock().unwrap().push((
            req.method().to_string(),
            req.query().to_vec(),
            req.headers().clone(),
        ));
        let headers = self.answer.lock().unwrap().clone();
        Box::pin(async move { Ok(Response::new(StatusCode::OK, headers, Bytes::new())) })
    }
}

fn fake_client(rec: &Arc<Recorder>) -> Client {
    Client::builder(BUCKET)
        .with_region("cn-hangzhou")
        .with_static_credentials("ak", "sk")
        .with_http_send(Arc::clone(rec) as Arc<dyn HttpSend>)
        .build()
        .unwrap()
}

#[tokio::test]
async fn callback_vars_without_a_callback_are_a_typed_error() {
    let rec = Arc::new(Recorder::default());
    let client = fake_client(&rec);
    let vars = || oss_callback::CallbackVars::default();
    let is_typed =
        |e: Error| matches!(e, Error::CallbackVarsWithoutCallback { ref key } if key == "v.txt");
    let put = client
        .put_object("v.txt", "hello")
        .with_callback_vars(vars());
    assert!(is_typed(put.send().await.unwrap_err()));
    let multi = client
        .multipart_upload(
            "v.txt",
            UploadSource::from(bytes::Bytes::from_static(b"hello")),
        )
        .with_callback_vars(vars());
    assert!(is_typed(multi.send().await.unwrap_err()));
    let form = client
        .browser_form(
            "v.txt",
            PostPolicy::new(std::time::SystemTime::now() + std::time::Duration::from_secs(60)),
        )
        .with_callback_vars(vars());
    assert!(is_typed(form.sign().await.unwrap_err()));
    let err = client
        .complete_multipart_upload(
            "v.txt",
            "U1",
            CompleteParts::Listed(&[]),
            None,
            Some(&vars()),
            &ObjectOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(is_typed(err));
    assert!(rec.seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn get_object_goes_through_the_custom_http_send() {
    let rec = Arc::new(Recorder::default());
    rec.answer
        .lock()
        .unwrap()
        .insert("x-oss-hash-crc64ecma", "42".parse().unwrap());
    let out = fake_client(&rec)
        .get_object("dir/a.bin")
        .with_range(2, Some(9))
        .send()
        .await
        .unwrap();
    assert_eq!(out.head.crc64, Some(42));
    assert!(out.body.bytes().await.unwrap().is_empty());
    let seen = rec.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "the double saw the GetObject");
    let (method, query, h) = &seen[0];
    assert_eq!(method, "GET");
    assert!(query.is_empty());
    assert_eq!(h["range"], "bytes=2-9");
}

#[tokio::test]
async fn object_options_are_sent_as_headers() {
    let rec = Arc::new(Recorder::default());
    let client = fake_client(&rec);
    let opts = ObjectOptions::new()
        .with_metadata("x-oss-meta-Project", "oss-rs")
        .with_acl(ObjectAcl::Private)
        .with_storage_class(StorageClass::Archive)
        .with_forbid_overwrite(true)
        .with_server_side_encryption(ServerSideEncryption::Aes256)
        .with_cache_control("max-age=60")
        .with_content_disposition("attachment; filename=\"a.txt\"")
        .with_content_md5(ContentMd5::Compute);
    client
        .put_object("a.txt", "hello")
        .with_options(opts.clone())
        .send()
        .await
        .unwrap();
    let seen = rec.seen.lock().unwrap().clone();
    let (method, _, h) = &seen[0];
    assert_eq!(method, "PUT");
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5_of(b"hello"));
    for (name, value) in [
        ("content-type", "text/plain"),
        ("x-oss-meta-project", "oss-rs"),
        ("x-oss-object-acl", "private"),
        ("x-oss-storage-class", "Archive"),
        ("x-oss-forbid-overwrite", "true"),
        ("x-oss-server-side-encryption", "AES256"),
        ("cache-control", "max-age=60"),
        ("content-disposition", "attachment; filename=\"a.txt\""),
        ("content-md5", md5.as_str()),
    ] {
        assert_eq!(
            h.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name}"
        );
    }
    // Initiate carries the object options; Complete only ACL and overwrite protection.
    rec.answer
        .lock()
        .unwrap()
        .insert("etag", "\"E\"".parse().unwrap());
    let err = client
        .initiate_multipart_upload("b.bin", &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::BadResponse { .. }),
        "empty Initiate body: {err:?}"
    );
    let seen = rec.seen.lock().unwrap().clone();
    let (method, query, h) = &seen[1];
    assert_eq!(method, "POST");
    assert_eq!(query, &vec![("uploads".to_owned(), String::new())]);
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-oss-storage-class"], "Archive");
    client
        .complete_multipart_upload("b.bin", "U1", CompleteParts::Listed(&[]), None, None, &opts)
        .await
        .unwrap();
    let seen = rec.seen.lock().unwrap().clone();
    let (_, query, h) = &seen[2];
    assert_eq!(query, &vec![("uploadId".to_owned(), "U1".to_owned())]);
    assert_eq!(h["x-oss-forbid-overwrite"], "true");
    assert_eq!(h["x-oss-object-acl"], "private");
    assert!(h.get("x-oss-storage-class").is_none());
}

fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(data).into()
}

#[tokio::test]
async fn crc_mismatch_is_a_typed_retryable_error() {
    let rec = Arc::new(Recorder::default());
    rec.answer
        .lock()
        .unwrap()
        .insert("x-oss-hash-crc64ecma", "12345".parse().unwrap());
    let client = fake_client(&rec);
    let err = client
        .put_object("a.bin", "payload")
        .send()
        .await
        .unwrap_err();
    let Error::CrcMismatch {
        client: c,
        server,
        target,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*c, Crc64::checksum(b"payload"));
    assert_eq!(*server, 12345);
    assert_eq!(target, "oss://test-bucket/a.bin");
    assert!(err.is_retryable());
    // With checks off the same answer is accepted.
    let lax = Client::builder(BUCKET)
        .with_region("cn-hangzhou")
        .with_http_send(Arc::clone(&rec) as Arc<dyn HttpSend>)
        .with_crc_check(false)
        .build()
        .unwrap();
    assert_eq!(
        lax.put_object("a.bin", "payload")
            .send()
            .await
            .unwrap()
            .crc64,
        Some(12345)
    );
}

#[tokio::test]
async fn client_debug_hides_credentials_and_config_is_validated() {
    let rec = Arc::new(Recorder::default());
    let text = format!("{:?}", fake_client(&rec));
    assert!(!text.contains("sk"), "{text}");
    assert!(matches!(
        Client::builder("").with_region("cn-hangzhou").build(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        Client::builder("b").build(),
        Err(Error::Config { .. })
    ));
    let stream = UploadSource::stream(futures_util::stream::empty(), None);
    let err = fake_client(&rec)
        .put_object("k", stream)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
}

#[tokio::test]
async fn post_object_policy_conditions_are_enforced() {
    let h = Harness::start().await;
    let out = h
        .client
        .post_object("forms/ok.txt", "form data")
        .with_condition(PolicyCondition::ContentLengthRange { min: 1, max: 100 })
        .with_condition(PolicyCondition::StartsWith {
            field: "key".into(),
            prefix: "forms/".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(out.crc64, Some(Crc64::checksum(b"form data")));
    assert_eq!(h.stored("forms/ok.txt").await, "form data");
    let err = h
        .client
        .post_object("forms/big.txt", data(500))
        .with_condition(PolicyCondition::ContentLengthRange { min: 1, max: 100 })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err.status(), Some(s) if s.is_client_error()),
        "{err:?}"
    );
}

#[tokio::test]
async fn browser_form_fields_post_straight_to_oss() {
    let h = Harness::start().await;
    let policy = PostPolicy::new(SystemTime::now() + Duration::from_secs(600))
        .with_starts_with("key", "uploads/")
        .with_content_length_range(1, 1 << 20);
    let form = h
        .client
        .browser_form("uploads/${filename}", policy)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars())
        .sign()
        .await
        .unwrap();
    assert!(form.url.ends_with("/test-bucket/"), "{}", form.url);
    let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
    for required in [
        "key",
        "policy",
        "x-oss-signature-version",
        "x-oss-credential",
        "x-oss-date",
        "x-oss-signature",
        "callback",
        "x:var1",
        "x:var2",
    ] {
        assert!(names.contains(&required), "{required} in {names:?}");
    }
    let policy_b64 = &form.fields.iter().find(|(n, _)| n == "policy").unwrap().1;
    let policy: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(policy_b64)
            .unwrap(),
    )
    .unwrap();
    let conditions = policy["conditions"].as_array().unwrap();
    assert!(conditions.contains(&serde_json::json!({"bucket": BUCKET})));
    assert!(conditions.contains(&serde_json::json!(["starts-with", "$key", "uploads/"])));

    // What a browser would send: the fields, then the file.
    let boundary = "browser-boundary";
    let mut body = String::new();
    for (n, v) in &form.fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.txt\"\r\nContent-Type: text/plain\r\n\r\nfrom the browser\r\n--{boundary}--\r\n"
    ));
    let transport = oss_transport::Client::builder().build().unwrap();
    let uri: http::Uri = form.url.parse().unwrap();
    let resp = transport
        .send(
            Request::presigned(http::Method::POST, uri)
                .with_header(
                    http::header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}")
                        .parse()
                        .unwrap(),
                )
                .with_body(body),
        )
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(answer["ok"], true);
    let received = h.cb.received();
    assert!(received[0].verified);
    let v = support::parse_body(&received[0]);
    assert_eq!(v["object"], "uploads/photo.txt");
    assert_eq!(v["var1"], "value one");
    assert_eq!(h.stored("uploads/photo.txt").await, "from the browser");
}

#[tokio::test]
async fn put_object_reports_bytes_sent() {
    let h = Harness::start().await;
    let body = data(300_000);
    let (progress, mut rx) = oss_upload::Progress::channel();
    let f = h.write_file("p.bin", &body);
    h.client
        .put_object("progress/p.bin", UploadSource::file(f))
        .with_progress(progress)
        .send()
        .await
        .unwrap();
    let mut sum = 0;
    let mut last = 0;
    while let Ok(e) = rx.try_recv() {
        if let oss_upload::ProgressEvent::BytesSent {
            bytes,
            total_sent,
            total,
        } = e
        {
            sum += bytes;
            assert!(total_sent > last);
            last = total_sent;
            assert_eq!(total, Some(300_000));
        }
    }
    assert_eq!(sum, 300_000);
    assert_eq!(last, 300_000);
}
