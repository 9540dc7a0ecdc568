//! A resumable download into a checkpoint directory that does not exist yet: it is created
//! before the first range (not a failure at the first checkpoint save), holds the checkpoint
//! of an interrupted run, and the rerun resumes from it.

mod support;

use oss_upload::{Progress, ProgressEvent};
use support::{data, Harness};

#[tokio::test]
async fn a_missing_checkpoint_dir_is_created_and_the_download_resumes() {
    let h = Harness::start().await;
    let body = data(600_000);
    h.client
        .put_object("d.bin", body.clone())
        .send()
        .await
        .unwrap();
    let dest = h.dir.path().join("d.bin");
    let ckpt = h.dir.path().join("no/such/dir");
    // Stop the first run after its second finished range: a protocol event, not a timer.
    let (progress, mut rx) = Progress::channel();
    let first = h
        .client
        .download("d.bin", &dest)
        .with_part_size(100_000)
        .with_parallelism(1)
        .with_checkpoint_dir(&ckpt)
        .with_progress(progress)
        .send();
    tokio::select! {
        r = first => panic!("ended before the interruption: {r:?}"),
        () = async {
            let mut done = 0;
            while let Some(e) = rx.recv().await {
                if matches!(e, ProgressEvent::PartDone { .. }) {
                    done += 1;
                    if done == 2 { break; }
                }
            }
        } => {}
    }
    assert!(ckpt.is_dir(), "the checkpoint directory was created");
    assert_eq!(
        std::fs::read_dir(&ckpt).unwrap().count(),
        1,
        "one checkpoint"
    );

    let out = h
        .client
        .download("d.bin", &dest)
        .with_part_size(100_000)
        .with_parallelism(1)
        .with_checkpoint_dir(&ckpt)
        .send()
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert!(out.resumed_bytes >= 100_000, "{out:?}");
    assert_eq!(std::fs::read_dir(&ckpt).unwrap().count(), 0, "nothing left");
}
