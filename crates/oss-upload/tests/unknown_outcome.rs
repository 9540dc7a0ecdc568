//! The ambiguity rule against the emulator (issue 14): a callback-bearing request whose answer
//! is lost after its body was sent is checked with HeadObject, never sent twice when the object
//! is there, sent again when it is not; without credentials nothing is checked or resent; a
//! repeated Complete with a callback is an unknown outcome, never a second callback. The fault
//! suite (`tests/faults.rs`) does the same at scale; these pin each branch to one request.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use oss_callback::CallbackBodyType;
use oss_test_support::{
    ErrorStatus, EventKind, Events, Fault, FaultConfig, FaultProxy, RequestHead,
};
use oss_upload::{Client, CompleteParts, Confirmation, Error, ObjectOptions};
use support::{Harness, BUCKET};

/// A proxy in front of the harness's emulator that gives `fault` to the first `n` PUT or POST
/// requests (HeadObject, GET and the emulator's admin calls pass untouched).
async fn proxy(h: &Harness, fault: Fault, n: u32) -> FaultProxy {
    let seen = Arc::new(AtomicU32::new(0));
    let config = FaultConfig::new(14)
        .with(fault, 1)
        .with_exempt(move |r: &RequestHead| {
            let write = r.method == "PUT" || r.method == "POST";
            !write || r.path.starts_with("/__emulator/") || seen.fetch_add(1, Ordering::SeqCst) >= n
        });
    FaultProxy::start(h.emu.local_addr(), config)
        .await
        .expect("proxy")
}

/// A client of the harness's bucket through `proxy`, with or without credentials.
fn client(h: &Harness, proxy: &FaultProxy, credentials: bool) -> Client {
    let mut b = Client::builder(BUCKET)
        .with_endpoint(proxy.url())
        .with_region(h.emu.region())
        .with_path_style(true)
        .with_transport_config(
            oss_transport::Client::builder().with_retry(
                oss_transport::RetryConfig::default()
                    .with_max_attempts(3)
                    .with_base_delay(Duration::ZERO),
            ),
        );
    if credentials {
        b = b.with_static_credentials("ak", "sk");
    }
    b.build().unwrap()
}

/// The methods of every request the proxy saw since `events` was made, in arrival order.
fn methods(events: &mut Events) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(e) = events.try_next() {
        if e.kind == EventKind::RequestHead && !e.head.path.starts_with("/__emulator/") {
            out.push(e.head.method.clone());
        }
    }
    out
}

#[tokio::test]
async fn a_stored_object_is_an_unknown_outcome_and_is_not_sent_again() {
    let h = Harness::start().await;
    // OSS stored the object and ran the callback; its answer became a 503.
    let p = proxy(
        &h,
        Fault::ReplaceResponse(ErrorStatus::ServiceUnavailable),
        1,
    )
    .await;
    let mut events = p.events();
    let c = client(&h, &p, true);
    let err = c
        .put_object("u/stored.txt", Bytes::from_static(b"stored once"))
        .with_callback(h.callback(CallbackBodyType::Json))
        .send()
        .await
        .unwrap_err();
    let u = err
        .callback_outcome_unknown()
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(u.confirmation, Confirmation::Stored);
    assert_eq!(
        (u.bucket.as_str(), u.key.as_str()),
        (BUCKET, "u/stored.txt")
    );
    let head = h.client.head_object("u/stored.txt").await.unwrap();
    assert_eq!(u.etag, head.etag);
    assert_eq!(u.crc64, head.crc64);
    assert_eq!(u.sends, 1);
    assert!(u.request_id.is_some(), "the 503 carried a request id");
    assert_eq!(methods(&mut events), ["PUT", "HEAD"], "no second PutObject");
    assert_eq!(h.cb.received().len(), 1, "one callback");
    assert_eq!(h.stored("u/stored.txt").await, "stored once");
}

#[tokio::test]
async fn an_object_never_stored_is_sent_again() {
    let h = Harness::start().await;
    // Refused without reaching OSS, after the whole body was read: nothing stored.
    let p = proxy(&h, Fault::Reject(ErrorStatus::InternalError), 1).await;
    let mut events = p.events();
    let c = client(&h, &p, true);
    let out = c
        .put_object("u/again.txt", Bytes::from_static(b"second send"))
        .with_callback(h.callback(CallbackBodyType::Json))
        .send()
        .await
        .unwrap();
    assert!(
        out.callback.is_some(),
        "the resend's answer is the callback's"
    );
    assert_eq!(methods(&mut events), ["PUT", "HEAD", "PUT"]);
    assert_eq!(h.cb.received().len(), 1, "one callback");
    assert_eq!(h.stored("u/again.txt").await, "second send");
}

#[tokio::test]
async fn without_credentials_nothing_is_checked_or_resent() {
    let h = Harness::start().await;
    let p = proxy(&h, Fault::ResetBeforeResponse, 1).await;
    let mut events = p.events();
    let anonymous = client(&h, &p, false);
    let cb = h.callback(CallbackBodyType::Json);
    let key = "u/presigned.txt";
    let query = oss_callback::encode_query(&cb, None);
    let uri = anonymous
        .endpoint()
        .uri(Some(BUCKET), Some(key), &query)
        .unwrap();
    let (parts, ()) = http::Request::builder()
        .method("PUT")
        .uri(uri)
        .body(())
        .unwrap()
        .into_parts();
    let params = oss_sign::SigningParams::builder(h.emu.region())
        .with_bucket(BUCKET)
        .with_key(key)
        .with_time(SystemTime::now())
        .build()
        .unwrap();
    let presigned = oss_sign::Signer::new()
        .presign(
            &parts,
            &oss_sign::Credentials::new("ak", "sk"),
            &params,
            None,
        )
        .unwrap();
    let err = anonymous
        .put_presigned(presigned.uri, presigned.signed_headers, b"by url".to_vec())
        .await
        .unwrap_err();
    let u = err
        .callback_outcome_unknown()
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(u.confirmation, Confirmation::NoCredentials);
    assert!(!u.is_stored());
    assert_eq!(u.etag, None);
    assert_eq!(methods(&mut events), ["PUT"], "no HEAD, no resend");
    // It was stored, and called back, once: the rule could not know, and said so.
    assert_eq!(h.cb.received().len(), 1);
    assert_eq!(h.stored(key).await, "by url");
}

#[tokio::test]
async fn a_repeated_complete_with_a_callback_is_an_unknown_outcome_not_a_second_callback() {
    let h = Harness::start().await;
    let key = "u/complete.dat";
    let opts = ObjectOptions::new();
    let id = h
        .client
        .initiate_multipart_upload(key, &opts)
        .await
        .unwrap();
    let part = h
        .client
        .upload_part(key, &id, 1, Bytes::from_static(b"one part"))
        .await
        .unwrap();
    let parts = [part];
    let cb = h.callback(CallbackBodyType::Json);
    let first = h
        .client
        .complete_multipart_upload(
            key,
            &id,
            CompleteParts::Uploaded(&parts),
            Some(&cb),
            None,
            &opts,
        )
        .await
        .unwrap();
    assert!(first.callback.is_some());
    // The caller lost that answer and completes again: NoSuchUpload, the object is there.
    let err = h
        .client
        .complete_multipart_upload(
            key,
            &id,
            CompleteParts::Uploaded(&parts),
            Some(&cb),
            None,
            &opts,
        )
        .await
        .unwrap_err();
    let Error::CallbackOutcomeUnknown(u) = &err else {
        panic!("{err:?}")
    };
    assert!(u.is_stored());
    assert_eq!(u.upload_id.as_deref(), Some(id.as_str()));
    assert_eq!(u.etag, first.etag);
    assert_eq!(u.cause().service_code(), Some("NoSuchUpload"));
    assert_eq!(err.upload_id(), Some(id.as_str()));
    assert_eq!(h.cb.received().len(), 1, "one callback");
    // Without a callback the same answer is a plain success, as before.
    let again = h
        .client
        .complete_multipart_upload(key, &id, CompleteParts::Uploaded(&parts), None, None, &opts)
        .await
        .unwrap();
    assert_eq!(again.etag, first.etag);
}
