//! Resumable uploads: interrupt after k parts by dropping the future, resume, and check that only
//! the missing parts were sent; corrupt, stale, tampered and dead checkpoints.

mod hook_transport;
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use oss_callback::CallbackBodyType;
use oss_emulator::Operation;
use oss_transport::{HttpSend, Request, Response};
use oss_upload::{Crc64, Progress, ProgressEvent};
use support::{assert_callback, data, vars, Harness};

const PART: u64 = 100 * 1024;
/// 11 parts: 10 full, 1 short.
const SIZE: usize = 10 * PART as usize + 4321;
const PARTS: usize = 11;

/// A transport that refuses every UploadPart after the first `limit` (without sending it): a
/// deterministic interruption after exactly `limit` parts.
#[derive(Debug)]
struct FailAfter {
    inner: oss_transport::Client,
    seen: AtomicU32,
    limit: u32,
}

impl HttpSend for FailAfter {
    fn send(&self, req: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
        if req.query().iter().any(|(n, _)| n == "partNumber")
            && self.seen.fetch_add(1, Ordering::SeqCst) >= self.limit
        {
            return Box::pin(async {
                // A local failure the transport never retries.
                Err(oss_transport::Error::RequestBody {
                    source: std::io::Error::other("injected failure"),
                })
            });
        }
        Box::pin(self.inner.send(req))
    }
}

/// Runs a resumable upload that fails after exactly `k` parts (parallelism 1). Returns the
/// checkpoint path.
async fn fail_after(h: &Harness, key: &str, src: &Path, k: u32) -> PathBuf {
    let endpoint = oss_transport::Endpoint::custom(h.emu.endpoint())
        .unwrap()
        .with_addressing(oss_transport::Addressing::PathStyle);
    let inner = oss_transport::Client::builder()
        .with_endpoint(endpoint)
        .with_region(h.emu.region())
        .with_credentials_provider(oss_sign::StaticCredentialsProvider::new(
            oss_sign::Credentials::new("ak", "sk"),
        ))
        .build()
        .unwrap();
    let client = oss_upload::Client::builder(support::BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(h.emu.region())
        .with_path_style(true)
        .with_http_send(Arc::new(FailAfter {
            inner,
            seen: AtomicU32::new(0),
            limit: k,
        }))
        .build()
        .unwrap();
    let upload = client
        .resumable_upload(key, src)
        .with_part_size(PART)
        .with_parallelism(1);
    let path = upload.checkpoint_path().await.unwrap();
    let err = upload.send().await.unwrap_err();
    assert!(
        matches!(err, oss_upload::Error::Multipart { .. }),
        "{err:?}"
    );
    assert_eq!(read_checkpoint(&path).parts.len(), k as usize);
    path
}

/// Starts a resumable upload and drops its future once `k` parts are done. Returns the
/// checkpoint path.
async fn interrupt_after(h: &Harness, key: &str, src: &Path, k: u32) -> PathBuf {
    let done = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let (d, s) = (Arc::clone(&done), Arc::clone(&stop));
    let progress = Progress::new(move |e| {
        if let ProgressEvent::PartDone { .. } = e {
            if d.fetch_add(1, Ordering::SeqCst) + 1 == k {
                s.notify_one();
            }
        }
    });
    let upload = h
        .client
        .resumable_upload(key, src)
        .with_part_size(PART)
        .with_parallelism(1)
        .with_progress(progress);
    let path = upload.checkpoint_path().await.unwrap();
    tokio::select! {
        r = upload.send() => panic!("upload finished before the interruption: {r:?}"),
        () = stop.notified() => {}
    }
    path
}

/// The record in the checkpoint file, read as a user inspecting it would: the file is JSON
/// with the format's magic and the record (docs/decisions.md, "checkpoint format").
fn read_checkpoint(path: &Path) -> oss_upload::CheckpointRecord {
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("checkpoint exists"))
            .expect("valid checkpoint");
    assert!(
        file["magic"]
            .as_str()
            .is_some_and(|m| m.starts_with("oss-rs-upload-checkpoint-v2:")),
        "{file}"
    );
    serde_json::from_value(file["record"].clone()).expect("valid checkpoint")
}

async fn resume(
    h: &Harness,
    key: &str,
    src: &Path,
) -> (oss_upload::UploadOutput, Vec<ProgressEvent>) {
    let (progress, mut rx) = Progress::channel();
    let out = h
        .client
        .resumable_upload(key, src)
        .with_part_size(PART)
        .with_parallelism(3)
        .with_progress(progress)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars())
        .send()
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (out, events)
}

fn skipped(events: &[ProgressEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::PartSkipped { .. }))
        .count()
}

fn discarded(events: &[ProgressEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        ProgressEvent::CheckpointDiscarded { reason } => Some(reason.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn failed_upload_resumes_with_exactly_the_missing_parts() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("movie.bin", &body);
    let key = "resume/movie.bin";
    let ckpt = fail_after(&h, key, &src, 4).await;
    assert_eq!(
        ckpt,
        h.dir.path().canonicalize().unwrap().join("movie.bin.ucp")
    );
    let sent_before = h.emu.requests().count(Operation::UploadPart, key);
    assert_eq!(sent_before, 4);

    let (out, events) = resume(&h, key, &src).await;
    let sent_after = h.emu.requests().count(Operation::UploadPart, key);
    assert_eq!(
        sent_after - sent_before,
        PARTS - 4,
        "only the missing parts were sent"
    );
    assert_eq!(skipped(&events), 4);
    assert!(discarded(&events).is_none());
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::InitiateMultipartUpload, key),
        1
    );
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(h.stored(key).await, body);
    assert_callback(
        &h,
        &out,
        key,
        &body,
        "application/octet-stream",
        CallbackBodyType::Json,
    );
    assert!(!ckpt.exists(), "checkpoint removed after success");
}

#[tokio::test]
async fn dropped_upload_future_resumes() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("drop.bin", &body);
    let key = "resume/drop.bin";
    let ckpt = interrupt_after(&h, key, &src, 4).await;
    assert!(read_checkpoint(&ckpt).parts.len() >= 4);
    let (out, events) = resume(&h, key, &src).await;
    let done = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::PartDone { .. }))
        .count();
    let skipped = skipped(&events);
    assert!(skipped >= 4, "{skipped}");
    assert_eq!(done + skipped, PARTS);
    // At most the one part in flight when the future was dropped was sent twice.
    let total = h.emu.requests().count(Operation::UploadPart, key);
    assert!((PARTS..=PARTS + 1).contains(&total), "{total}");
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::InitiateMultipartUpload, key),
        1
    );
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(h.stored(key).await, body);
    assert!(!ckpt.exists());
}

#[tokio::test]
async fn parts_listparts_does_not_confirm_are_uploaded_again() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("a.bin", &body);
    let key = "resume/tampered.bin";
    let ckpt = fail_after(&h, key, &src, 3).await;
    let record = read_checkpoint(&ckpt);
    let recorded = record.parts.len();
    // Replace a recorded part behind the checkpoint's back: ListParts now reports another
    // ETag for it than the checkpoint holds.
    h.client
        .upload_part(
            key,
            &record.upload_id,
            record.parts[0].number,
            bytes::Bytes::from(vec![0u8; PART as usize]),
        )
        .await
        .unwrap();
    let before = h.emu.requests().count(Operation::UploadPart, key);
    let (out, events) = resume(&h, key, &src).await;
    let sent = h.emu.requests().count(Operation::UploadPart, key) - before;
    assert_eq!(sent, PARTS - recorded + 1);
    assert_eq!(skipped(&events), recorded - 1);
    assert_eq!(h.stored(key).await, body);
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
}

#[tokio::test]
async fn corrupt_checkpoint_is_reported_and_a_fresh_upload_starts() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("c.bin", &body);
    let key = "resume/corrupt.bin";
    let ckpt = fail_after(&h, key, &src, 2).await;
    let mut text = std::fs::read(&ckpt).unwrap();
    let n = text.len();
    text[n / 2] ^= 0x55; // flip bits inside the record
    std::fs::write(&ckpt, &text).unwrap();
    let before = h.emu.requests().count(Operation::UploadPart, key);
    let (out, events) = resume(&h, key, &src).await;
    assert!(
        discarded(&events).unwrap().contains("corrupt"),
        "{events:?}"
    );
    assert_eq!(
        h.emu.requests().count(Operation::UploadPart, key) - before,
        PARTS
    );
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::InitiateMultipartUpload, key),
        2
    );
    assert_eq!(skipped(&events), 0);
    assert_eq!(h.stored(key).await, body);
    assert!(out.callback.is_some());
    assert!(!ckpt.exists());
}

#[tokio::test]
async fn stale_checkpoint_after_the_source_changed() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("s.bin", &body);
    let key = "resume/stale.bin";
    let ckpt = fail_after(&h, key, &src, 2).await;
    let old = read_checkpoint(&ckpt);
    let mut changed = body.clone();
    changed.extend_from_slice(b"more");
    std::fs::write(&src, &changed).unwrap();
    let (out, events) = resume(&h, key, &src).await;
    assert!(discarded(&events).unwrap().contains("stale"), "{events:?}");
    assert_eq!(skipped(&events), 0);
    assert_eq!(h.stored(key).await, changed);
    assert_eq!(out.crc64, Some(Crc64::checksum(&changed)));
    // The stale upload was aborted.
    let err = h.client.list_parts(key, &old.upload_id).await.unwrap_err();
    assert_eq!(err.service_code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn checkpoint_whose_upload_is_gone_starts_fresh() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("g.bin", &body);
    let key = "resume/gone.bin";
    let ckpt = fail_after(&h, key, &src, 2).await;
    let old = read_checkpoint(&ckpt);
    h.client
        .abort_multipart_upload(key, &old.upload_id)
        .await
        .unwrap();
    let before = h.emu.requests().count(Operation::UploadPart, key);
    let (out, events) = resume(&h, key, &src).await;
    assert!(
        discarded(&events).unwrap().contains("no longer exists"),
        "{events:?}"
    );
    assert_eq!(
        h.emu.requests().count(Operation::UploadPart, key) - before,
        PARTS
    );
    assert_eq!(h.stored(key).await, body);
    assert!(out.callback.is_some());
}

#[tokio::test]
async fn configured_checkpoint_dir_and_failed_callback_remove_the_checkpoint() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("d.bin", &body);
    let dir = tempfile::tempdir().unwrap();
    h.cb.fail(true);
    let upload = h
        .client
        .resumable_upload("resume/dir.bin", &src)
        .with_part_size(PART)
        .with_checkpoint_dir(dir.path())
        .with_callback(h.callback(CallbackBodyType::Json));
    let ckpt = upload.checkpoint_path().await.unwrap();
    assert!(ckpt.starts_with(dir.path()));
    let err = upload.send().await.unwrap_err();
    let failure = err.callback_failure().expect("CallbackFailed");
    assert!(failure.upload_id.is_some());
    assert!(!ckpt.exists());
    assert_eq!(
        h.client.head_object("resume/dir.bin").await.unwrap().size,
        SIZE as u64
    );
}

/// A client that replaces the checkpoint at `path` with a non-empty directory when Complete is
/// sent (after the completing mark was written), so removing it after Complete fails.
fn break_checkpoint_at_complete(h: &Harness, path: PathBuf) -> oss_upload::Client {
    hook_transport::client(&h.emu, support::BUCKET, move |call, _, _| {
        if call == hook_transport::Call::Complete {
            std::fs::remove_file(&path).unwrap();
            std::fs::create_dir(&path).unwrap();
            std::fs::write(path.join("keep"), b"x").unwrap();
        }
        hook_transport::Action::Pass
    })
}

#[tokio::test]
async fn a_checkpoint_that_cannot_be_removed_does_not_hide_the_outcome() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("unremovable.bin", &body);

    // Success stays success.
    let key = "ckpt/unremovable-ok.bin";
    let ckpt = h
        .client
        .resumable_upload(key, &src)
        .with_part_size(PART)
        .checkpoint_path()
        .await
        .unwrap();
    let out = break_checkpoint_at_complete(&h, ckpt.clone())
        .resumable_upload(key, &src)
        .with_part_size(PART)
        .send()
        .await
        .expect("the upload succeeded; a leftover checkpoint must not turn it into an error");
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(h.stored(key).await, body);
    std::fs::remove_dir_all(&ckpt).unwrap();

    // A failed callback stays CallbackFailed, so callers can still match on it.
    h.cb.fail(true);
    let key = "ckpt/unremovable-cb.bin";
    let ckpt = h
        .client
        .resumable_upload(key, &src)
        .with_part_size(PART)
        .checkpoint_path()
        .await
        .unwrap();
    let err = break_checkpoint_at_complete(&h, ckpt.clone())
        .resumable_upload(key, &src)
        .with_part_size(PART)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, oss_upload::Error::CallbackFailed(_)),
        "{err:?}"
    );
    std::fs::remove_dir_all(&ckpt).unwrap();
}
