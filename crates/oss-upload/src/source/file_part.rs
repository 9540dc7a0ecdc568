//! UploadPart of a file range streamed from the open file: no part-size buffer, the CRC-64
//! computed on the chunks as they are read for the socket (see `oss_transport::FileRange`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use http::Method;
use oss_transport::{ExpectedCrc64, FileRange};

use crate::client::{Client, Ctx};
use crate::progress::Tracker;
use crate::raw::UploadedPart;
use crate::source::io_err;
use crate::Error;

/// One part of a file to send: which bytes of which open file.
#[derive(Debug, Clone)]
pub(crate) struct FilePart {
    pub(crate) file: Arc<File>,
    pub(crate) path: Arc<Path>,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl Client {
    /// UploadPart `part_number` from `part`, read in chunks while it is sent (and again on a
    /// retry). A file that ends before the part does is [`Error::Io`] naming the file.
    pub(crate) async fn upload_file_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        part: &FilePart,
        tracker: &Tracker,
    ) -> Result<UploadedPart, Error> {
        let running = crate::checksum::running_crc(self.inner.crc_check);
        let mut body = FileRange::new(
            Arc::clone(&part.file),
            part.path.to_path_buf(),
            part.offset,
            part.len,
        );
        if let Some(slot) = &running {
            body = body.with_crc64(Arc::clone(slot));
        }
        let op = format!("UploadPart {part_number}");
        let req = self
            .request(Method::PUT, key)
            .with_query("partNumber", part_number.to_string())
            .with_query("uploadId", upload_id)
            .with_body(body);
        let req = Client::with_tracking(req, tracker, &op);
        let ctx = Ctx::new(op, key).with_upload(upload_id);
        let span = tracing::debug_span!("upload_part", part_number);
        let crc = running.clone().map(ExpectedCrc64::Running);
        let resp = tracing::Instrument::instrument(self.execute(req, &ctx, crc), span)
            .await
            .map_err(|e| local_read_failure(e, &part.path))?;
        let etag = resp
            .header("etag")
            .map(str::to_owned)
            .ok_or_else(|| Error::BadResponse {
                operation: "UploadPart",
                reason: "no ETag header".into(),
            })?;
        // The slot holds the digest of the attempt that was answered: its reader published it
        // before the last chunk reached the connection.
        let crc64 = running
            .and_then(|slot| slot.lock().ok().map(|c| c.finish()))
            .unwrap_or(0);
        Ok(UploadedPart {
            part_number,
            etag,
            size: part.len,
            crc64,
        })
    }
}

/// A failure to read the file (it shrank, or a read failed) is the file's error, not the
/// network's: [`Error::Io`] with the path.
fn local_read_failure(e: Error, path: &Path) -> Error {
    let Error::Request { source, .. } = &e else {
        return e;
    };
    match source.last() {
        oss_transport::Error::RequestBody { source } => {
            io_err(path, std::io::Error::new(source.kind(), source.to_string()))
        }
        _ => e,
    }
}
