//! A resumable upload interrupted at protocol events (hooks in the transport, no timers): the
//! upload id is on disk right after Initiate, a run killed during Initiate leaves no orphan, an
//! in-place edit that keeps size and mtime is caught, a second run on the same checkpoint is
//! refused while the first holds it, a Complete whose answer was lost is not sent again, and a
//! missing checkpoint directory is created.

mod hook_transport;
mod support;

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hook_transport::{call_of, Action, Call};
use oss_callback::CallbackBodyType;
use oss_emulator::Operation;
use oss_upload::{Crc64, Error};
use support::{data, vars, Harness};

const PART: u64 = 100 * 1024;
/// 11 parts: 10 full, 1 short.
const SIZE: usize = 10 * PART as usize + 4321;
const PARTS: usize = 11;

fn record(path: &Path) -> oss_upload::CheckpointRecord {
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    serde_json::from_value(file["record"].clone()).unwrap()
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn parts_sent(h: &Harness, key: &str) -> usize {
    h.emu.requests().count(Operation::UploadPart, key)
}

/// A resumable upload through `client` of `src`, 1 part at a time.
fn upload(client: &oss_upload::Client, key: &str, src: &Path) -> oss_upload::ResumableUpload {
    client
        .resumable_upload(key, src)
        .with_part_size(PART)
        .with_parallelism(1)
}

#[tokio::test]
async fn the_upload_id_is_on_disk_before_the_first_part_and_nothing_is_left_behind() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("id.bin", &body);
    let key = "kill/id.bin";
    let ckpt = upload(&h.client, key, &src)
        .checkpoint_path()
        .await
        .unwrap();
    // What the checkpoint says when Initiate and the first UploadPart are about to be sent.
    let seen: Arc<Mutex<Vec<(Call, oss_upload::CheckpointRecord)>>> = Arc::default();
    let (s, c) = (Arc::clone(&seen), ckpt.clone());
    let client = hook_transport::client(&h.emu, support::BUCKET, move |call, n, _| {
        if matches!(call, Call::Initiate) || (matches!(call, Call::UploadPart(_)) && n == 0) {
            s.lock().unwrap().push((call, record(&c)));
        }
        Action::Pass
    });
    let out = upload(&client, key, &src).send().await.unwrap();
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, Call::Initiate);
    assert!(seen[0].1.upload_id.is_empty() && seen[0].1.initiating.is_some());
    assert!(matches!(seen[1].0, Call::UploadPart(_)));
    assert!(
        !seen[1].1.upload_id.is_empty(),
        "the id is recorded before any part"
    );
    assert!(seen[1].1.initiating.is_none());
    // No checkpoint, temp or lock file stays.
    assert_eq!(names(h.dir.path()), ["id.bin"]);
    assert!(hook_transport::open_uploads(&h.emu, key).await.is_empty());
}

#[tokio::test]
async fn a_run_killed_during_initiate_leaves_no_orphan() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("orphan.bin", &body);
    let key = "kill/orphan.bin";
    // OSS initiates the upload, the run never learns its id.
    let client = hook_transport::client(&h.emu, support::BUCKET, |call, _, _| match call {
        Call::Initiate => Action::LoseAnswer,
        _ => Action::Pass,
    });
    let err = upload(&client, key, &src).send().await.unwrap_err();
    assert!(matches!(err, Error::Request { .. }), "{err:?}");
    let orphans = hook_transport::open_uploads(&h.emu, key).await;
    assert_eq!(orphans.len(), 1, "the lost Initiate created an upload");
    let ckpt = upload(&h.client, key, &src)
        .checkpoint_path()
        .await
        .unwrap();
    assert!(record(&ckpt).initiating.is_some());

    let out = upload(&h.client, key, &src).send().await.unwrap();
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(h.stored(key).await, body);
    let left = hook_transport::open_uploads(&h.emu, key).await;
    println!("open uploads after the rerun: {}", left.len());
    assert!(left.is_empty(), "the orphan was aborted: {left:?}");
    assert_eq!(names(h.dir.path()), ["orphan.bin"]);
}

/// Rewrites `ranges` of `path` in place (no truncation) and puts its mtime back: size and mtime
/// are what they were, the bytes are not.
fn edit_in_place(path: &Path, at: &[u64]) -> Vec<u8> {
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    let mut content = std::fs::read(path).unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    for &offset in at {
        let i = offset as usize;
        content[i] ^= 0xA5;
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(&content[i..=i]).unwrap();
    }
    f.set_modified(mtime).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
    content
}

#[tokio::test]
async fn an_in_place_edit_keeping_size_and_mtime_is_caught_on_resume() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("edit.bin", &body);
    let key = "kill/edit.bin";
    // Interrupted after 4 parts.
    let client = hook_transport::client(&h.emu, support::BUCKET, |call, n, _| match call {
        Call::UploadPart(_) if n >= 4 => Action::Fail,
        _ => Action::Pass,
    });
    let err = upload(&client, key, &src).send().await.unwrap_err();
    assert!(matches!(err, Error::Multipart { .. }), "{err:?}");
    let ckpt = upload(&h.client, key, &src)
        .checkpoint_path()
        .await
        .unwrap();
    let recorded: Vec<u32> = record(&ckpt).parts.iter().map(|p| p.number).collect();
    assert_eq!(recorded, [1, 2, 3, 4]);
    let before = parts_sent(&h, key);

    // One byte in recorded part 2, one in part 9 (not sent yet).
    let edited = edit_in_place(&src, &[PART + 17, 8 * PART + 5]);
    assert_ne!(edited, body);
    let out = upload(&h.client, key, &src).send().await.unwrap();
    let sent = parts_sent(&h, key) - before;
    println!("parts sent on resume: {sent} (recorded 4, one of them edited)");
    assert_eq!(
        sent,
        PARTS - 4 + 1,
        "part 2 was sent again, 1, 3, 4 were not"
    );
    assert_eq!(h.stored(key).await, edited);
    assert_eq!(out.crc64, Some(Crc64::checksum(&edited)));
    assert!(!ckpt.exists());
}

#[tokio::test]
async fn a_second_run_on_a_held_checkpoint_fails_with_the_lock_error() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("lock.bin", &body);
    let key = "kill/lock.bin";
    // The first run stops at its third UploadPart until the test releases it.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let held_tx = Mutex::new(Some(held_tx));
    let release = Arc::new(tokio::sync::Notify::new());
    let r = Arc::clone(&release);
    let client = hook_transport::client(&h.emu, support::BUCKET, move |call, n, _| match call {
        Call::UploadPart(_) if n == 2 => {
            if let Some(tx) = held_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            let r = Arc::clone(&r);
            Action::Hold(Box::pin(async move { r.notified().await }))
        }
        _ => Action::Pass,
    });
    let first = tokio::spawn({
        let (client, src) = (client.clone(), src.clone());
        async move { upload(&client, key, &src).send().await }
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), held_rx)
        .await
        .expect("the first run reached its third part")
        .unwrap();
    let ckpt = upload(&h.client, key, &src)
        .checkpoint_path()
        .await
        .unwrap();
    let on_disk = std::fs::read(&ckpt).unwrap();
    let initiates = h
        .emu
        .requests()
        .count(Operation::InitiateMultipartUpload, key);

    let err = upload(&h.client, key, &src).send().await.unwrap_err();
    match &err {
        Error::CheckpointLocked { lock, pid } => {
            assert_eq!(lock, &PathBuf::from(format!("{}.lock", ckpt.display())));
            assert_eq!(*pid, Some(std::process::id()));
        }
        other => panic!("expected the lock error, got {other:?}"),
    }
    println!("second run: {err}");
    assert!(err.to_string().contains(".ucp.lock"), "{err}");
    // It held nothing: no Initiate, no part, the checkpoint untouched.
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::InitiateMultipartUpload, key),
        initiates
    );
    assert_eq!(std::fs::read(&ckpt).unwrap(), on_disk);

    release.notify_one();
    let out = first.await.unwrap().unwrap();
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert_eq!(h.stored(key).await, body);
    assert_eq!(parts_sent(&h, key), PARTS);
    assert_eq!(names(h.dir.path()), ["lock.bin"]);
}

/// Runs an upload whose Complete reaches OSS but whose answer is lost (as when the run is killed
/// while Complete is in flight), then reruns it. Returns the rerun's result.
async fn complete_lost_then_rerun(
    h: &Harness,
    key: &str,
    src: &Path,
    with_callback: bool,
) -> Result<oss_upload::UploadOutput, Error> {
    let client = hook_transport::client(&h.emu, support::BUCKET, |call, _, _| match call {
        Call::Complete => Action::LoseAnswer,
        _ => Action::Pass,
    });
    let mut first = upload(&client, key, src);
    if with_callback {
        first = first
            .with_callback(h.callback(CallbackBodyType::Json))
            .with_callback_vars(vars());
    }
    let err = first.send().await.unwrap_err();
    assert!(matches!(err, Error::Multipart { .. }), "{err:?}");
    let ckpt = upload(&h.client, key, src).checkpoint_path().await.unwrap();
    let mark = record(&ckpt).completing.expect("the completing mark");
    assert!(mark.started_at > 0);

    let parts_before = parts_sent(h, key);
    let completes_before = h
        .emu
        .requests()
        .count(Operation::CompleteMultipartUpload, key);
    let (progress, mut events) = oss_upload::Progress::channel();
    let mut rerun = upload(&h.client, key, src).with_progress(progress);
    if with_callback {
        rerun = rerun
            .with_callback(h.callback(CallbackBodyType::Json))
            .with_callback_vars(vars());
    }
    let result = rerun.send().await;
    assert_eq!(parts_sent(h, key), parts_before, "no part sent again");
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::CompleteMultipartUpload, key),
        completes_before,
        "no second Complete"
    );
    let mut said = false;
    while let Ok(e) = events.try_recv() {
        said |= matches!(e, oss_upload::ProgressEvent::CompletedEarlier { .. });
    }
    assert!(said, "the rerun says an earlier run completed the upload");
    assert!(!ckpt.exists(), "the checkpoint is cleared");
    result
}

#[tokio::test]
async fn a_complete_whose_answer_was_lost_is_not_sent_again() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("done.bin", &body);
    let key = "kill/done.bin";
    let out = complete_lost_then_rerun(&h, key, &src, false)
        .await
        .expect("no callback: plain success");
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    assert!(out.callback.is_none());
    assert_eq!(h.stored(key).await, body);
}

#[tokio::test]
async fn with_a_callback_the_lost_answer_is_an_unknown_outcome_and_one_callback() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("done-cb.bin", &body);
    let key = "kill/done-cb.bin";
    let err = complete_lost_then_rerun(&h, key, &src, true)
        .await
        .unwrap_err();
    let unknown = err
        .callback_outcome_unknown()
        .unwrap_or_else(|| panic!("expected CallbackOutcomeUnknown, got {err:?}"));
    assert!(unknown.is_stored());
    assert_eq!(unknown.crc64, Some(Crc64::checksum(&body)));
    assert!(unknown.upload_id.is_some());
    println!("callbacks delivered: {}", h.cb.received().len());
    assert_eq!(h.cb.received().len(), 1, "exactly one callback");
    assert_eq!(h.stored(key).await, body);
    assert!(hook_transport::open_uploads(&h.emu, key).await.is_empty());
}

#[tokio::test]
async fn a_missing_checkpoint_dir_is_created_before_initiate() {
    let h = Harness::start().await;
    let body = data(SIZE);
    let src = h.write_file("dir.bin", &body);
    let key = "kill/dir.bin";
    let dir = h.dir.path().join("not/yet/there");
    assert!(!dir.exists());
    // Where the checkpoint is when the first part is sent.
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    let d = dir.clone();
    let client = hook_transport::client(&h.emu, support::BUCKET, move |call, n, _| {
        if matches!(call, Call::UploadPart(_)) && n == 0 {
            *s.lock().unwrap() = Some(names(&d));
        }
        Action::Pass
    });
    let out = upload(&client, key, &src)
        .with_checkpoint_dir(&dir)
        .send()
        .await
        .unwrap();
    assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
    let during = seen.lock().unwrap().clone().expect("a part was sent");
    assert!(
        during.iter().any(|n| n.ends_with(".ucp")),
        "the checkpoint was in the created directory: {during:?}"
    );
    assert!(dir.is_dir());
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));
    assert_eq!(
        h.emu
            .requests()
            .count(Operation::InitiateMultipartUpload, key),
        1
    );
}

#[tokio::test]
async fn an_initiate_refused_by_oss_leaves_no_checkpoint() {
    let h = Harness::start().await;
    let src = h.write_file("refused.bin", &data(SIZE));
    let wrong = oss_upload::Client::builder(support::BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(h.emu.region())
        .with_static_credentials("ak", "wrong secret")
        .with_path_style(true)
        .build()
        .unwrap();
    let err = upload(&wrong, "kill/refused.bin", &src)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{err:?}");
    assert_eq!(names(h.dir.path()), ["refused.bin"]);
}

#[test]
fn call_names() {
    let req = oss_transport::Request::new(http::Method::POST).with_query("uploads", "");
    assert_eq!(call_of(&req), Call::Initiate);
}
