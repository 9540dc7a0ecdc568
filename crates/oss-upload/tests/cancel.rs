//! Dropping a multipart upload's future: after Initiate it aborts its upload (no part left, no
//! callback), except while a Complete carrying a callback is in flight; the handle taken before
//! awaiting reports the upload id and what became of the upload. Stops are protocol events
//! (a held request in the transport), not timers.

mod hook_transport;
mod support;

use std::sync::Mutex;
use std::time::Duration;

use hook_transport::{Action, Call};
use oss_callback::CallbackBodyType;
use oss_upload::UploadFate;
use support::{data, vars, Harness};

const PART: u64 = 100 * 1024;
const SIZE: usize = 6 * PART as usize + 99;
/// A safety deadline only: the abort is awaited through the handle, not timed.
const DEADLINE: Duration = Duration::from_secs(30);

/// A client that holds the request `at` forever (until its future is dropped) and reports when
/// it got there.
fn held_at(h: &Harness, at: Call) -> (oss_upload::Client, tokio::sync::oneshot::Receiver<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let client = hook_transport::client(&h.emu, support::BUCKET, move |call, _, _| {
        if call == at {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            return Action::Hold(Box::pin(std::future::pending()));
        }
        Action::Pass
    });
    (client, rx)
}

#[tokio::test]
async fn a_dropped_multipart_future_aborts_its_upload() {
    let h = Harness::start().await;
    let key = "cancel/dropped.bin";
    let (client, held) = held_at(&h, Call::UploadPart(3));
    let upload = client
        .multipart_upload(key, data(SIZE))
        .with_part_size(PART)
        .with_parallelism(1)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars());
    let handle = upload.handle();
    assert_eq!(handle.upload_id(), None, "nothing initiated yet");
    tokio::select! {
        r = upload.send() => panic!("the upload finished before it was held: {r:?}"),
        _ = held => {}
    }
    // The future is dropped here, mid-upload (two parts stored, the third in flight).
    let id = handle.upload_id().expect("Initiate answered");
    let (settled_id, fate) = tokio::time::timeout(DEADLINE, handle.settled())
        .await
        .expect("the spawned abort finished")
        .expect("an upload was initiated");
    assert_eq!(settled_id, id);
    assert_eq!(fate, UploadFate::Aborted);
    let open = hook_transport::open_uploads(&h.emu, key).await;
    println!(
        "open uploads after the drop: {}, callbacks: {}",
        open.len(),
        h.cb.received().len()
    );
    assert!(open.is_empty(), "{open:?}");
    assert!(h.cb.received().is_empty(), "no callback was sent");
    assert!(h.client.head_object(key).await.is_err(), "no object");
}

#[tokio::test]
async fn a_dropped_future_keeps_its_parts_when_told_to() {
    let h = Harness::start().await;
    let key = "cancel/kept.bin";
    let (client, held) = held_at(&h, Call::UploadPart(2));
    let upload = client
        .multipart_upload(key, data(SIZE))
        .with_part_size(PART)
        .with_parallelism(1)
        .with_leave_parts_on_error(true);
    let handle = upload.handle();
    tokio::select! {
        r = upload.send() => panic!("the upload finished before it was held: {r:?}"),
        _ = held => {}
    }
    let (id, fate) = tokio::time::timeout(DEADLINE, handle.settled())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&fate, UploadFate::Left { reason } if reason.contains("leave_parts_on_error")),
        "{fate:?}"
    );
    let open = hook_transport::open_uploads(&h.emu, key).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["parts"], 1, "{open:?}");
    h.client.abort_multipart_upload(key, &id).await.unwrap();
}

#[tokio::test]
async fn a_future_dropped_during_a_callback_complete_is_left_and_says_so() {
    let h = Harness::start().await;
    let key = "cancel/completing.bin";
    let (client, held) = held_at(&h, Call::Complete);
    let upload = client
        .multipart_upload(key, data(SIZE))
        .with_part_size(PART)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars());
    let handle = upload.handle();
    tokio::select! {
        r = upload.send() => panic!("the upload finished before it was held: {r:?}"),
        _ = held => {}
    }
    let (id, fate) = tokio::time::timeout(DEADLINE, handle.settled())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&fate, UploadFate::Left { reason } if reason.contains("callback")),
        "{fate:?}"
    );
    let open = hook_transport::open_uploads(&h.emu, key).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["upload_id"], id.as_str());
    h.client.abort_multipart_upload(key, &id).await.unwrap();
}

#[tokio::test]
async fn the_handle_reports_completion_and_a_single_put_has_no_upload() {
    let h = Harness::start().await;
    let upload = h
        .client
        .multipart_upload("cancel/ok.bin", data(SIZE))
        .with_part_size(PART);
    let handle = upload.handle();
    upload.send().await.unwrap();
    let (id, fate) = handle.settled().await.unwrap();
    assert_eq!(fate, UploadFate::Completed);
    assert_eq!(handle.upload_id(), Some(id));

    let small = h
        .client
        .multipart_upload("cancel/small.bin", data(10))
        .with_part_size(PART);
    let handle = small.handle();
    small.send().await.unwrap();
    assert_eq!(handle.settled().await, None);
    assert_eq!(handle.upload_id(), None);
}

#[tokio::test]
async fn a_failed_upload_reports_its_abort() {
    let h = Harness::start().await;
    let key = "cancel/failed.bin";
    let client = hook_transport::client(&h.emu, support::BUCKET, |call, n, _| match call {
        Call::UploadPart(_) if n == 2 => Action::Fail,
        _ => Action::Pass,
    });
    let upload = client
        .multipart_upload(key, data(SIZE))
        .with_part_size(PART)
        .with_parallelism(1);
    let handle = upload.handle();
    let err = upload.send().await.unwrap_err();
    let (id, fate) = handle.settled().await.unwrap();
    assert_eq!(err.upload_id(), Some(id.as_str()));
    assert_eq!(fate, UploadFate::Aborted);
    assert!(hook_transport::open_uploads(&h.emu, key).await.is_empty());
}
