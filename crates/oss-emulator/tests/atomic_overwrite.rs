//! Atomic commits per key: 12 writers × 6 distinct bodies × 30 rounds on one key, with 2
//! readers GETting throughout. Every GET must return exactly one writer's full bytes with that
//! writer's ETag and CRC-64, and each round's final object must be whole. Run on disk storage
//! (where `.data` and `.json` used to be renamed with nothing ordering two writers) and on
//! memory storage (where the metadata and the bytes used to be read in two steps).

#[path = "support/client.rs"]
mod client;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{builder, TestClient};
use http::StatusCode;
use md5::{Digest, Md5};

const WRITERS: usize = 12;
const BODIES: usize = 6;
const ROUNDS: usize = 30;
const READERS: usize = 2;
const BUCKET: &str = "atomic-bucket";
const KEY: &str = "contended/object.bin";
/// Bound on each reader's GETs per round (they stop earlier when the round's writers finish).
const MAX_GETS_PER_ROUND: usize = 200;

struct Body {
    bytes: Vec<u8>,
    etag: String,
    crc64: String,
}

/// Six bodies of distinct sizes (50 000 – 235 000 bytes) and contents, from a fixed seed.
fn bodies() -> Vec<Body> {
    (0..BODIES)
        .map(|i| {
            let len = 50_000 + i * 37_000;
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64 + 1);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let etag = format!(
                "\"{}\"",
                Md5::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
            );
            let crc64 = oss_types::Crc64::checksum(&bytes).to_string();
            Body { bytes, etag, crc64 }
        })
        .collect()
}

/// Which body a GET returned, or a description of what was wrong with it.
fn classify(bodies: &[Body], r: &client::Resp) -> Result<usize, String> {
    let Some(i) = bodies.iter().position(|b| b.bytes[..] == r.body[..]) else {
        return Err(format!(
            "{} bytes that match no writer (etag {:?})",
            r.body.len(),
            r.header("etag")
        ));
    };
    let b = &bodies[i];
    if r.header("etag") != Some(b.etag.as_str()) {
        return Err(format!("body {i} under etag {:?}", r.header("etag")));
    }
    if r.header("x-oss-hash-crc64ecma") != Some(b.crc64.as_str()) {
        return Err(format!(
            "body {i} under crc64 {:?}",
            r.header("x-oss-hash-crc64ecma")
        ));
    }
    Ok(i)
}

async fn contend(builder: oss_emulator::EmulatorBuilder, label: &str) {
    let emu = builder.start().await.expect("emulator starts");
    let bodies = Arc::new(bodies());
    let client = TestClient::new(&emu);
    let started = Instant::now();
    let gets = Arc::new(AtomicUsize::new(0));
    let mut bad = Vec::new();
    let mut puts = 0;
    for round in 0..ROUNDS {
        let done = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..READERS {
            let (c, bodies, done, gets) = (
                client.clone(),
                Arc::clone(&bodies),
                Arc::clone(&done),
                Arc::clone(&gets),
            );
            readers.push(tokio::spawn(async move {
                let mut bad = Vec::new();
                for _ in 0..MAX_GETS_PER_ROUND {
                    if done.load(Ordering::Acquire) {
                        break;
                    }
                    let r = c.get(BUCKET, KEY).await;
                    gets.fetch_add(1, Ordering::Relaxed);
                    match r.status {
                        // Before the very first commit there is nothing to read yet.
                        StatusCode::NOT_FOUND if round == 0 => {}
                        StatusCode::OK => {
                            if let Err(e) = classify(&bodies, &r) {
                                bad.push(e);
                            }
                        }
                        s => bad.push(format!("GET answered {s}")),
                    }
                }
                bad
            }));
        }
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (c, bodies) = (client.clone(), Arc::clone(&bodies));
            writers.push(tokio::spawn(async move {
                let b = &bodies[w % BODIES];
                let r = c.put(BUCKET, KEY, &b.bytes).await;
                (
                    r.status,
                    r.header("etag").map(str::to_owned),
                    b.etag.clone(),
                )
            }));
        }
        for w in writers {
            let (status, etag, want) = w.await.expect("writer task");
            assert_eq!(status, StatusCode::OK, "{label}: PUT failed");
            assert_eq!(etag.as_deref(), Some(want.as_str()));
            puts += 1;
        }
        done.store(true, Ordering::Release);
        for r in readers {
            bad.extend(r.await.expect("reader task"));
        }
        let last = client.get(BUCKET, KEY).await;
        assert_eq!(last.status, StatusCode::OK);
        if let Err(e) = classify(&bodies, &last) {
            bad.push(format!("round {round} final object: {e}"));
        }
    }
    let gets = gets.load(Ordering::Relaxed);
    println!(
        "{label}: {puts} PUTs, {gets} concurrent GETs + {ROUNDS} final GETs, {} bad, {:?}",
        bad.len(),
        started.elapsed()
    );
    assert!(
        bad.is_empty(),
        "{label}: {} bad reads: {:#?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    assert!(gets > 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_overwrites_never_tear_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    contend(builder().with_data_dir(dir.path()), "disk").await;
    // Exactly one data file is left for the one key: every replaced version was removed.
    let mut data_files = 0;
    for bucket in std::fs::read_dir(dir.path().join("objects")).unwrap() {
        for f in std::fs::read_dir(bucket.unwrap().path()).unwrap() {
            if f.unwrap().file_name().to_string_lossy().ends_with(".data") {
                data_files += 1;
            }
        }
    }
    assert_eq!(data_files, 1, "replaced versions must be removed");
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_overwrites_never_tear_in_memory() {
    contend(builder(), "memory").await;
}

/// A GET that started streaming the old version keeps streaming it, whole, while the object is
/// overwritten and the old data file is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_get_survives_an_overwrite() {
    use http_body_util::BodyExt;
    let dir = tempfile::tempdir().unwrap();
    let emu = builder().with_data_dir(dir.path()).start().await.unwrap();
    let c = TestClient::new(&emu);
    let bodies = bodies();
    // Large enough that the response cannot sit whole in socket buffers before it is read.
    let old: Vec<u8> = bodies
        .iter()
        .flat_map(|b| b.bytes.iter().copied())
        .cycle()
        .take(16 << 20)
        .collect();
    assert_eq!(c.put(BUCKET, "stream", &old).await.status, StatusCode::OK);
    let parts = c.sign(&client::Req::get(BUCKET, "stream"));
    let req = http::Request::from_parts(parts, http_body_util::Full::new(bytes::Bytes::new()));
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let resp = http.request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let mut got = Vec::new();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    got.extend_from_slice(&first);
    // Overwrite while the GET is mid-stream; the old version's data file is unlinked.
    let put = tokio::time::timeout(
        Duration::from_secs(60),
        c.put(BUCKET, "stream", &bodies[0].bytes),
    )
    .await
    .expect("overwrite finishes");
    assert_eq!(put.status, StatusCode::OK);
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame.unwrap().into_data() {
            got.extend_from_slice(&d);
        }
    }
    assert_eq!(got.len(), old.len());
    assert!(got == old, "the streamed GET mixed versions");
    assert_eq!(
        &c.get(BUCKET, "stream").await.body[..],
        &bodies[0].bytes[..]
    );
    emu.shutdown().await;
}
