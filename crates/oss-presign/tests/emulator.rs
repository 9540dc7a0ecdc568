//! Presigned URLs used against the in-process emulator, with a real callback server that verifies
//! each callback's RSA signature.

#[path = "../../oss-upload/tests/support.rs"]
mod support;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use oss_callback::{Callback, CallbackBodyType};
use oss_presign::{
    Addressing, CallbackCarrier, Error, PresignRequest, PresignedRequest, Presigner,
};
use oss_sign::Credentials;
use support::{vars, Harness, BUCKET};

fn presigner(h: &Harness) -> Presigner {
    Presigner::builder(h.emu.region())
        .with_endpoint(h.emu.endpoint())
        .with_credentials(Credentials::new("ak", "sk"))
        .with_addressing(Addressing::PathStyle)
        .build()
        .unwrap()
}

/// Sends a presigned request as any HTTP client would: the URL, the signed headers, a body.
async fn send(
    pre: &PresignedRequest,
    extra: &[(&str, &str)],
    drop_header: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let client = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = hyper::Request::builder()
        .method(pre.method.clone())
        .uri(pre.uri.clone());
    for (name, value) in &pre.signed_headers {
        if Some(name.as_str()) != drop_header {
            req = req.header(name, value);
        }
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::copy_from_slice(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json_callback(h: &Harness) -> Callback {
    h.callback(CallbackBodyType::Json)
}

#[tokio::test]
async fn header_carrier_delivers_callback_and_returns_its_answer() {
    let h = Harness::start().await;
    let key = "presign/header carrier+1.txt";
    let data = support::data(1000);
    let pre = presigner(&h)
        .presign(
            &PresignRequest::put_object(BUCKET, key)
                .with_content_type("text/plain")
                .with_callback(json_callback(&h), Some(vars()), CallbackCarrier::Header),
        )
        .await
        .unwrap();
    assert!(pre.signed_headers.contains_key("x-oss-callback"));
    assert!(pre.signed_headers.contains_key("x-oss-callback-var"));
    // Our own uploader sends it like any upload and hands back the callback's answer.
    let out = h
        .client
        .put_presigned(pre.uri.clone(), pre.signed_headers.clone(), data.clone())
        .await
        .unwrap();
    support::assert_callback(&h, &out, key, &data, "text/plain", CallbackBodyType::Json);
    assert_eq!(&h.stored(key).await[..], &data[..]);
}

#[tokio::test]
async fn header_carrier_without_or_with_changed_callback_header_is_403() {
    let h = Harness::start().await;
    let p = presigner(&h);
    let pre = p
        .presign(
            &PresignRequest::put_object(BUCKET, "presign/guarded.txt").with_callback(
                json_callback(&h),
                Some(vars()),
                CallbackCarrier::Header,
            ),
        )
        .await
        .unwrap();

    let (status, body) = send(&pre, &[], Some("x-oss-callback"), b"x").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    // Another (validly encoded) callback in place of the signed one.
    let other = Callback::builder()
        .with_url("http://127.0.0.1:1/elsewhere")
        .with_body("object=${object}")
        .build()
        .unwrap();
    let mut changed = pre.clone();
    changed
        .signed_headers
        .insert("x-oss-callback", other.encode().parse().unwrap());
    let (status, body) = send(&changed, &[], None, b"x").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    assert!(h.cb.received().is_empty(), "no callback may fire");
}

#[tokio::test]
async fn query_carrier_needs_no_extra_headers() {
    let h = Harness::start().await;
    let key = "presign/query-carrier.bin";
    let data = support::data(4096);
    let pre = presigner(&h)
        .presign(
            &PresignRequest::put_object(BUCKET, key)
                .with_callback(json_callback(&h), Some(vars()), CallbackCarrier::Query)
                .with_expires(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    assert!(pre.signed_headers.is_empty(), "{:?}", pre.signed_headers);
    let (status, answer) = send(&pre, &[], None, &data).await;
    assert_eq!(status, 200, "{answer}");
    let received = h.cb.received();
    let r = received.last().expect("callback delivered");
    assert!(r.verified);
    let values = support::parse_body(r);
    assert_eq!(values["object"], key);
    assert_eq!(values["size"], "4096");
    assert_eq!(values["var1"], "value one");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["received"], r.body.as_str());
}

#[tokio::test]
async fn presigned_get_head_and_expiry() {
    let h = Harness::start().await;
    let key = "presign/get.txt";
    let p = presigner(&h);
    let put = p
        .presign(&PresignRequest::put_object(BUCKET, key))
        .await
        .unwrap();
    assert_eq!(send(&put, &[], None, b"fetch me").await.0, 200);

    let get = p
        .presign(&PresignRequest::get_object(BUCKET, key))
        .await
        .unwrap();
    assert_eq!(
        send(&get, &[], None, b"").await,
        (200, "fetch me".to_owned())
    );
    let head = p
        .presign(&PresignRequest::head_object(BUCKET, key))
        .await
        .unwrap();
    assert_eq!(send(&head, &[], None, b"").await.0, 200);

    // Signed twenty minutes ago for ten minutes: expired.
    let stale = p
        .presign(
            &PresignRequest::get_object(BUCKET, key)
                .with_time(SystemTime::now() - Duration::from_secs(1200))
                .with_expires(Duration::from_secs(600)),
        )
        .await
        .unwrap();
    let (status, body) = send(&stale, &[], None, b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}

#[tokio::test]
async fn presigned_multipart_with_callback_on_complete() {
    let h = Harness::start().await;
    let key = "presign/multipart.bin";
    let p = presigner(&h);
    let (status, xml) = send(
        &p.presign(&PresignRequest::initiate_multipart_upload(BUCKET, key))
            .await
            .unwrap(),
        &[],
        None,
        b"",
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    let upload_id = xml
        .split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .expect("upload id")
        .to_owned();

    let parts = [support::data(100 * 1024), support::data(10)];
    let mut body = String::from("<CompleteMultipartUpload>");
    for (i, part) in parts.iter().enumerate() {
        let n = i as u32 + 1;
        let pre = p
            .presign(&PresignRequest::upload_part(BUCKET, key, &upload_id, n))
            .await
            .unwrap();
        let client = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let resp = client
            .request(
                hyper::Request::put(pre.uri.clone())
                    .body(Full::new(Bytes::copy_from_slice(part)))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        body.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    body.push_str("</CompleteMultipartUpload>");

    let complete = p
        .presign(
            &PresignRequest::complete_multipart_upload(BUCKET, key, &upload_id).with_callback(
                json_callback(&h),
                Some(vars()),
                CallbackCarrier::Header,
            ),
        )
        .await
        .unwrap();
    let (status, answer) = send(&complete, &[], None, body.as_bytes()).await;
    assert_eq!(status, 200, "{answer}");
    let received = h.cb.received();
    let values = support::parse_body(received.last().expect("callback"));
    assert_eq!(values["size"], (100 * 1024 + 10).to_string());
    assert_eq!(values["object"], key);
    assert!(answer.contains("\"ok\":true"), "{answer}");
}

#[tokio::test]
async fn invalid_requests_are_typed_errors() {
    let p = Presigner::builder("cn-hangzhou")
        .with_credentials(Credentials::new("ak", "sk"))
        .build()
        .unwrap();
    let cb = Callback::builder()
        .with_url("http://example.com/cb")
        .with_body("object=${object}")
        .build()
        .unwrap();
    let get_with_callback =
        PresignRequest::get_object("bucket", "k").with_callback(cb, None, CallbackCarrier::Query);
    assert!(matches!(
        p.presign(&get_with_callback).await,
        Err(Error::CallbackNotSupported {
            operation: "GetObject"
        })
    ));
    for secs in [0, 604_801] {
        let req = PresignRequest::put_object("bucket", "k").with_expires(Duration::from_secs(secs));
        assert!(
            matches!(p.presign(&req).await, Err(Error::Sign(_))),
            "{secs} s must be refused"
        );
    }
    let week = PresignRequest::put_object("bucket", "k").with_expires(Duration::from_secs(604_800));
    assert!(p.presign(&week).await.is_ok());
    assert!(matches!(
        p.presign(&PresignRequest::put_object("Bad_Bucket", "k"))
            .await,
        Err(Error::InvalidBucket { .. })
    ));
    assert!(matches!(
        p.presign(&PresignRequest::put_object("bucket", "")).await,
        Err(Error::EmptyKey)
    ));
    assert!(matches!(
        p.presign(&PresignRequest::put_object("bucket", "k").with_header("bad header", "v"))
            .await,
        Err(Error::InvalidHeader { .. })
    ));
    assert!(matches!(
        Presigner::builder("cn-hangzhou").build(),
        Err(Error::MissingCredentials)
    ));
    // The default endpoint is the region's, virtual-hosted, https.
    let url = p
        .presign(&PresignRequest::get_object("bucket", "a b.txt"))
        .await
        .unwrap()
        .uri
        .to_string();
    assert!(
        url.starts_with("https://bucket.oss-cn-hangzhou.aliyuncs.com/a%20b.txt?"),
        "{url}"
    );
    assert!(url.contains("x-oss-expires=900"), "{url}");
}
