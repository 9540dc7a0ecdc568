//! Downloads against the in-process emulator: parallel ranges pinned to the ETag, the combined
//! CRC-64, resuming from a checkpoint, and the in-order stream to a writer.

mod support;

use oss_emulator::Operation;
use oss_upload::{Progress, ProgressEvent};
use support::{data, Harness};

#[tokio::test]
async fn ranged_parallel_download_is_byte_identical() {
    let h = Harness::start().await;
    let body = data(1_000_000);
    h.client
        .put_object("big.bin", body.clone())
        .send()
        .await
        .unwrap();
    let dest = h.dir.path().join("out.bin");
    let (progress, mut rx) = Progress::channel();
    let out = h
        .client
        .download("big.bin", &dest)
        .with_part_size(300_000)
        .with_parallelism(2)
        .with_progress(progress)
        .send()
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(out.size, body.len() as u64);
    assert_eq!(out.crc64, oss_upload::Crc64::checksum(&body));
    assert!(!dest.with_extension("bin.temp").exists());
    let gets: Vec<_> = h
        .emu
        .requests()
        .entries()
        .iter()
        .filter(|r| r.operation == Some(Operation::GetObject))
        .cloned()
        .collect();
    assert_eq!(gets.len(), 4, "{gets:?}");
    let mut served: Vec<_> = gets.iter().map(|r| r.bytes_served.unwrap()).collect();
    served.sort();
    assert_eq!(served, vec![100_000, 300_000, 300_000, 300_000]);
    assert!(gets
        .iter()
        .all(|r| r.range.as_deref().unwrap().starts_with("bytes=")));
    let events: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    let parts = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::PartDone { .. }))
        .count();
    assert_eq!(parts, 4);
    assert!(events.iter().any(|e| matches!(
        e,
        ProgressEvent::BytesReceived {
            total_received: 1_000_000,
            ..
        }
    )));
}

#[tokio::test]
async fn resumes_only_the_missing_ranges() {
    let h = Harness::start().await;
    let body = data(1_000_000);
    h.client
        .put_object("r.bin", body.clone())
        .send()
        .await
        .unwrap();
    let dest = h.dir.path().join("r.bin");
    let ckpt = h.dir.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    // Stop the first run after its second finished range: a protocol event, not a timer.
    let (progress, mut rx) = Progress::channel();
    let first = h
        .client
        .download("r.bin", &dest)
        .with_part_size(100_000)
        .with_parallelism(1)
        .with_checkpoint_dir(&ckpt)
        .with_progress(progress)
        .send();
    tokio::select! {
        r = first => panic!("finished before the interruption: {r:?}"),
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
    assert!(
        !dest.exists(),
        "a partial download sits under the final name"
    );
    let before = h.emu.requests().entries().len();
    let out = h
        .client
        .download("r.bin", &dest)
        .with_part_size(100_000)
        .with_parallelism(1)
        .with_checkpoint_dir(&ckpt)
        .send()
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert!(out.resumed_bytes >= 200_000, "{out:?}");
    let rerun: u64 = h.emu.requests().entries()[before..]
        .iter()
        .filter_map(|r| r.bytes_served)
        .sum();
    assert!(rerun < 1_000_000 && rerun > 0, "{rerun}");
    assert_eq!(std::fs::read_dir(&ckpt).unwrap().count(), 0);
}

#[tokio::test]
async fn streams_to_a_writer_and_refuses_a_replaced_object() {
    let h = Harness::start().await;
    let body = data(70_000);
    h.client
        .put_object("s.bin", body.clone())
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    let got = h
        .client
        .download_to_writer("s.bin", &mut out, None)
        .await
        .unwrap();
    assert_eq!(out, body);
    assert_eq!(got.crc64, oss_upload::Crc64::checksum(&body));
    // If-Match pins the bytes to one version: another ETag is 412.
    let err = h
        .client
        .get_object("s.bin")
        .with_if_match("\"0000\"")
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("412"), "{err}");
}
