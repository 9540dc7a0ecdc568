//! A file that changes while its multipart upload is in flight: truncated, or rewritten in
//! place. The change is made by the transport right after the first UploadPart is answered (a
//! protocol event, not a timer), with one part in flight at a time, so every later part is
//! read after it.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use oss_transport::{HttpSend, Request, Response};
use support::{data, Harness};

const PART: u64 = 100 * 1024;
const SIZE: usize = 5 * PART as usize + 777;

/// What the hook does to the file once the first UploadPart is answered.
#[derive(Debug, Clone, Copy)]
enum Change {
    Truncate,
    Rewrite,
}

#[derive(Debug)]
struct AfterFirstPart {
    inner: oss_transport::Client,
    path: PathBuf,
    change: Change,
    done: AtomicBool,
}

impl HttpSend for AfterFirstPart {
    fn send(&self, req: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
        let is_part = req.query().iter().any(|(n, _)| n == "partNumber");
        Box::pin(async move {
            let resp = self.inner.send(req).await?;
            if is_part && !self.done.swap(true, Ordering::SeqCst) {
                match self.change {
                    Change::Truncate => {
                        let f = std::fs::OpenOptions::new()
                            .write(true)
                            .open(&self.path)
                            .unwrap();
                        f.set_len(PART / 2).unwrap();
                    }
                    Change::Rewrite => {
                        let v2: Vec<u8> = data(SIZE).iter().map(|b| !b).collect();
                        std::fs::write(&self.path, v2).unwrap();
                    }
                }
            }
            Ok(resp)
        })
    }

    fn compares_crc64(&self) -> bool {
        true
    }
}

/// Uploads `key` from a file of `SIZE` bytes, changed by `change` after the first part.
/// Returns the upload's result, the file's two possible versions and the harness.
async fn upload_changing(
    key: &str,
    change: Change,
) -> (
    Result<oss_upload::UploadOutput, oss_upload::Error>,
    Vec<u8>,
    Harness,
) {
    let h = Harness::start().await;
    let v1 = data(SIZE);
    let path = h.write_file(key, &v1);
    // The file was last written an hour ago, so a rewrite during the upload moves its mtime
    // whatever the file system's timestamp granularity.
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
    let client = oss_upload::Client::builder(support::BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(h.emu.region())
        .with_path_style(true)
        .with_http_send(Arc::new(AfterFirstPart {
            inner,
            path: path.clone(),
            change,
            done: AtomicBool::new(false),
        }))
        .build()
        .unwrap();
    let result = client
        .multipart_upload(key, oss_upload::UploadSource::file(path))
        .with_part_size(PART)
        .with_parallelism(1)
        .send()
        .await;
    (result, v1, h)
}

fn assert_file_error(err: &oss_upload::Error) {
    let inner = match err {
        oss_upload::Error::Multipart { source, .. } => source.as_ref(),
        other => other,
    };
    assert!(matches!(inner, oss_upload::Error::Io { .. }), "{err:?}");
}

#[tokio::test]
async fn truncated_in_flight_is_a_typed_error_and_stores_nothing() {
    let (result, _, h) = upload_changing("truncated", Change::Truncate).await;
    assert_file_error(&result.unwrap_err());
    let head = h.client.head_object("truncated").await.unwrap_err();
    assert_eq!(head.status(), Some(http::StatusCode::NOT_FOUND), "{head:?}");
}

#[tokio::test]
async fn rewritten_in_flight_never_stores_a_mix() {
    let (result, v1, h) = upload_changing("rewritten", Change::Rewrite).await;
    let v2: Vec<u8> = v1.iter().map(|b| !b).collect();
    match result {
        Ok(_) => {
            let stored = h.stored("rewritten").await;
            assert!(
                stored == v1 || stored == v2,
                "stored object is neither version"
            );
        }
        Err(e) => {
            assert_file_error(&e);
            let head = h.client.head_object("rewritten").await.unwrap_err();
            assert_eq!(head.status(), Some(http::StatusCode::NOT_FOUND), "{head:?}");
        }
    }
}
