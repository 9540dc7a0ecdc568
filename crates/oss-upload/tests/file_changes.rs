//! A file that changes while one of its parts is on the wire (issue 24): parts stream from the
//! file in chunks, so a change can land in the middle of a part. The change is made from the
//! transport's progress hook when the first UploadPart has handed its first bytes to the
//! connection (a protocol event, no timer); at that moment the reader is at most a few chunks
//! ahead, and the part is several times longer, so later chunks are read after the change.

mod support;

use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use oss_transport::{HttpSend, Request, Response};
use support::{data, Harness};

/// Eight chunks of `oss_transport::DEFAULT_FILE_CHUNK` per part.
const PART: u64 = 2 << 20;
const SIZE: usize = 3 * PART as usize + 777;

#[derive(Debug, Clone, Copy)]
enum Change {
    /// The file is cut to a few bytes.
    Truncate,
    /// Every byte is rewritten in place (same size, a new mtime).
    Rewrite,
}

fn apply(change: Change, path: &PathBuf) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    match change {
        Change::Truncate => f.set_len(100).unwrap(),
        Change::Rewrite => {
            let v2: Vec<u8> = data(SIZE).iter().map(|b| !b).collect();
            f.write_all_at(&v2, 0).unwrap();
        }
    }
}

/// Changes the file from inside the first UploadPart's body, once.
#[derive(Debug)]
struct MidPart {
    inner: oss_transport::Client,
    path: PathBuf,
    change: Change,
    done: Arc<AtomicBool>,
}

impl HttpSend for MidPart {
    fn send(&self, req: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
        let is_part = req.query().iter().any(|(n, _)| n == "partNumber");
        let req = if is_part {
            let (done, path, change) = (Arc::clone(&self.done), self.path.clone(), self.change);
            // Replaces the uploader's progress hook: this test reads no progress.
            req.with_progress(move |_attempt, sent| {
                if sent > 0 && !done.swap(true, Ordering::SeqCst) {
                    apply(change, &path);
                }
            })
        } else {
            req
        };
        Box::pin(self.inner.send(req))
    }

    fn compares_crc64(&self) -> bool {
        true
    }
}

async fn upload_changing(
    key: &str,
    change: Change,
) -> (
    Result<oss_upload::UploadOutput, oss_upload::Error>,
    Vec<u8>,
    Harness,
    bool,
) {
    let h = Harness::start().await;
    let v1 = data(SIZE);
    let path = h.write_file(key, &v1);
    // Dated an hour back, so the rewrite moves the mtime whatever the timestamp granularity.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
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
    let done = Arc::new(AtomicBool::new(false));
    let client = oss_upload::Client::builder(support::BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(h.emu.region())
        .with_path_style(true)
        .with_http_send(Arc::new(MidPart {
            inner,
            path: path.clone(),
            change,
            done: Arc::clone(&done),
        }))
        .build()
        .unwrap();
    let result = client
        .multipart_upload(key, oss_upload::UploadSource::file(path))
        .with_part_size(PART)
        .with_parallelism(1)
        .send()
        .await;
    let changed = done.load(Ordering::SeqCst);
    (result, v1, h, changed)
}

fn assert_file_error(err: &oss_upload::Error) {
    let inner = match err {
        oss_upload::Error::Multipart { source, .. } => source.as_ref(),
        other => other,
    };
    assert!(matches!(inner, oss_upload::Error::Io { .. }), "{err:?}");
}

#[tokio::test]
async fn truncated_mid_part_is_a_typed_error_and_stores_nothing() {
    let (result, _, h, changed) = upload_changing("cut-mid-part", Change::Truncate).await;
    assert!(changed, "the hook ran");
    let err = result.unwrap_err();
    assert_file_error(&err);
    println!("truncated mid-part: {err}");
    let head = h.client.head_object("cut-mid-part").await.unwrap_err();
    assert_eq!(head.status(), Some(http::StatusCode::NOT_FOUND), "{head:?}");
}

#[tokio::test]
async fn rewritten_mid_part_never_stores_a_mix() {
    let (result, v1, h, changed) = upload_changing("rewritten-mid-part", Change::Rewrite).await;
    assert!(changed, "the hook ran");
    let v2: Vec<u8> = v1.iter().map(|b| !b).collect();
    match result {
        Ok(_) => {
            let stored = h.stored("rewritten-mid-part").await;
            assert!(
                stored == v1 || stored == v2,
                "stored object is neither version"
            );
        }
        Err(e) => {
            assert_file_error(&e);
            println!("rewritten mid-part: {e}");
            let head = h
                .client
                .head_object("rewritten-mid-part")
                .await
                .unwrap_err();
            assert_eq!(head.status(), Some(http::StatusCode::NOT_FOUND), "{head:?}");
        }
    }
}
