//! Resumable upload of a local file: a checkpoint file records the upload id and every completed
//! part; a later run confirms the recorded parts with ListParts and uploads only the missing ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tracing::Instrument as _;

use crate::checkpoint::{
    self, checkpoint_path, CheckpointIdentity, CheckpointRecord, CheckpointRejection,
};
use crate::client::Client;
use crate::options::ContentMd5;
use crate::output::UploadOutput;
use crate::part_size::part_count;
use crate::parts::{
    upload_parts, wrap, CheckpointWriter, Feed, PartSession, PartSettings, RangeData,
};
use crate::progress::{ProgressEvent, Tracker};
use crate::raw::CompleteParts;
use crate::raw::UploadedPart;
use crate::source::{file_meta, io_err};
use crate::spec::UploadSpec;
use crate::Error;

/// Builder for a resumable upload of a local file (see [`Client::resumable_upload`]).
///
/// The checkpoint lives beside the file as `<name>.ucp` when that directory is writable, else in
/// the system temp directory, or in [`ResumableUpload::with_checkpoint_dir`]. It is rewritten
/// atomically after every part, so a crash loses at most the parts in flight; it is deleted after
/// Complete. Parts are never aborted on error (they are what a later run resumes).
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct ResumableUpload {
    client: Client,
    spec: UploadSpec,
    path: PathBuf,
    settings: PartSettings,
    checkpoint_dir: Option<PathBuf>,
}

impl Client {
    /// Starts a resumable upload of the file at `path` to `key`.
    pub fn resumable_upload(
        &self,
        key: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> ResumableUpload {
        ResumableUpload {
            client: self.clone(),
            spec: UploadSpec::new(key),
            path: path.into(),
            settings: PartSettings::default(),
            checkpoint_dir: None,
        }
    }
}

impl ResumableUpload {
    crate::spec::spec_setters!(progress);
    /// Part size in bytes, 100 KiB ..= 5 GiB; it is part of the checkpoint's identity.
    /// Default (`None`): [`DEFAULT_PART_SIZE`](crate::DEFAULT_PART_SIZE), 6 MiB.
    pub fn with_part_size(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.settings.part_size = bytes.into();
        self
    }

    /// Parts in flight at once, at least 1. Default (`None`):
    /// [`DEFAULT_PARALLELISM`](crate::DEFAULT_PARALLELISM), 3. 0 fails the upload with
    /// [`Error::InvalidArgument`].
    pub fn with_parallelism(mut self, parts: impl Into<Option<usize>>) -> Self {
        self.settings.parallelism = parts.into();
        self
    }

    /// Directory for the checkpoint file. Default: beside the source (else the temp dir).
    pub fn with_checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// Where the checkpoint of this upload lives.
    ///
    /// # Errors
    /// [`Error::Io`] when the source path cannot be resolved.
    pub async fn checkpoint_path(&self) -> Result<PathBuf, Error> {
        let abs = tokio::fs::canonicalize(&self.path)
            .await
            .map_err(|e| io_err(&self.path, e))?;
        Ok(checkpoint_path(
            &abs,
            self.client.bucket(),
            &self.spec.key,
            self.checkpoint_dir.as_deref(),
        ))
    }

    /// Uploads (or resumes) the file.
    ///
    /// # Errors
    /// [`Error::CallbackFailed`] (object stored; the checkpoint is removed), [`Error::Multipart`]
    /// (the checkpoint and the parts are kept for the next run), [`Error::Checkpoint`],
    /// [`Error::Io`], [`Error::Request`] when Initiate fails.
    pub async fn send(self) -> Result<UploadOutput, Error> {
        self.spec.view().check()?;
        let span = tracing::info_span!("resumable_upload", bucket = %self.client.bucket(), key = %self.spec.key);
        self.run().instrument(span).await
    }

    async fn run(self) -> Result<UploadOutput, Error> {
        let abs = tokio::fs::canonicalize(&self.path)
            .await
            .map_err(|e| io_err(&self.path, e))?;
        let (size, mtime) = file_meta(&abs).await?;
        let part_size = self.settings.resolve(Some(size))?;
        let tracker = Tracker::new(self.spec.progress.clone(), Some(size));
        if size < part_size {
            return self.single_put(abs).send().await;
        }
        let client = self.client.clone();
        let ckpt_path = checkpoint_path(
            &abs,
            client.bucket(),
            &self.spec.key,
            self.checkpoint_dir.as_deref(),
        );
        let identity = CheckpointIdentity {
            source_path: abs.clone(),
            source_size: size,
            source_mtime: mtime,
            part_size,
            bucket: client.bucket().to_owned(),
            key: self.spec.key.clone(),
        };
        let resumed = self.resume(&ckpt_path, &identity, &tracker).await?;
        let record = match resumed {
            Some(record) => record,
            None => {
                let upload_id = client
                    .initiate_multipart_upload(&self.spec.key, &self.spec.options)
                    .await?;
                CheckpointRecord::new(&identity, upload_id)
            }
        };
        let upload_id = record.upload_id.clone();
        let done: BTreeMap<u32, UploadedPart> = record
            .parts
            .iter()
            .map(|p| {
                (
                    p.number,
                    UploadedPart {
                        part_number: p.number,
                        etag: p.etag.clone(),
                        size: p.size,
                        crc64: p.crc64,
                    },
                )
            })
            .collect();
        let writer = CheckpointWriter {
            path: ckpt_path.clone(),
            record: tokio::sync::Mutex::new(record),
        };
        writer.save().await?;
        let count = part_count(size, part_size) as u32;
        let missing: Vec<u32> = (1..=count).filter(|n| !done.contains_key(n)).collect();
        tracing::debug!(%upload_id, confirmed = done.len(), missing = missing.len(), "uploading parts");
        let mut feed = Feed::ranges_of(RangeData::File(abs.clone()), size, part_size, missing);
        let md5 = matches!(self.spec.options.content_md5, ContentMd5::Compute);
        let key = self.spec.key.clone();
        let result = async {
            let mut parts = upload_parts(
                &PartSession {
                    client: &client,
                    key: &key,
                    upload_id: &upload_id,
                    md5,
                    tracker: &tracker,
                    ckpt: Some(&writer),
                },
                &mut feed,
                self.settings.parallelism(),
            )
            .await?;
            let (now_size, now_mtime) = file_meta(&abs).await?;
            if (now_size, now_mtime) != (size, mtime) {
                return Err(io_err(
                    &abs,
                    std::io::Error::other("the file changed during the upload"),
                ));
            }
            parts.extend(done.into_values());
            let spec = self.spec.view();
            client
                .complete(spec, &upload_id, CompleteParts::Uploaded(&parts))
                .await
        }
        .await;
        match result {
            // The object is stored either way: a checkpoint that cannot be removed must not
            // replace the outcome (callers match on success and on `CallbackFailed`). A leftover
            // file is harmless: its upload is complete, so the next run discards it.
            Ok(out) => {
                remove_after_complete(&ckpt_path).await;
                Ok(out)
            }
            Err(e @ Error::CallbackFailed(_)) => {
                remove_after_complete(&ckpt_path).await;
                Err(e)
            }
            Err(e) => Err(wrap(&client, &key, &upload_id, e)),
        }
    }

    /// The checkpoint to resume from, with only the parts ListParts confirms; `None` for a
    /// fresh upload (no checkpoint, or a corrupt, stale or dead one, which is reported).
    async fn resume(
        &self,
        path: &Path,
        identity: &CheckpointIdentity,
        tracker: &Tracker,
    ) -> Result<Option<CheckpointRecord>, Error> {
        let loaded = match tokio::fs::read(path).await {
            Ok(bytes) => checkpoint::parse(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => Err(CheckpointRejection::Corrupt(format!("unreadable: {e}"))),
        };
        let discard = |reason: String| {
            tracing::warn!(path = %path.display(), %reason, "checkpoint discarded; starting a fresh upload");
            tracker.event(ProgressEvent::CheckpointDiscarded { reason });
        };
        let record = match loaded {
            Ok(r) => r,
            Err(rejection) => {
                discard(rejection.to_string());
                remove_checkpoint(path).await?;
                return Ok(None);
            }
        };
        if let Err(rejection) = record.check(identity) {
            discard(rejection.to_string());
            // The stale upload can never be completed by this client: free its parts.
            if record.bucket == self.client.bucket() && !record.upload_id.is_empty() {
                if let Err(e) = self
                    .client
                    .abort_multipart_upload(&record.key, &record.upload_id)
                    .await
                {
                    tracing::debug!(error = %e, "aborting the stale upload failed");
                }
            }
            remove_checkpoint(path).await?;
            return Ok(None);
        }
        let listed = match self.client.list_parts(&record.key, &record.upload_id).await {
            Ok(l) => l,
            Err(e) if e.service_code() == Some("NoSuchUpload") => {
                discard(format!("upload {} no longer exists", record.upload_id));
                remove_checkpoint(path).await?;
                return Ok(None);
            }
            Err(e) => return Err(wrap(&self.client, &record.key, &record.upload_id, e)),
        };
        let mut confirmed = record.clone();
        confirmed.parts.retain(|p| {
            listed
                .iter()
                .any(|l| l.part_number == p.number && l.size == p.size && l.etag == p.etag)
        });
        confirmed.parts.sort_by_key(|p| p.number);
        for p in &confirmed.parts {
            tracker.preload(p.size);
            tracker.event(ProgressEvent::PartSkipped {
                part_number: p.number,
                size: p.size,
            });
        }
        Ok(Some(confirmed))
    }

    fn single_put(self, abs: PathBuf) -> crate::simple::PutObject {
        self.client
            .put_object_with(self.spec, crate::UploadSource::File(abs))
    }
}

/// Removes the checkpoint of a completed upload, logging (not returning) a failure.
async fn remove_after_complete(path: &Path) {
    if let Err(e) = remove_checkpoint(path).await {
        tracing::warn!(error = %e, "the checkpoint of a completed upload could not be removed");
    }
}

async fn remove_checkpoint(path: &Path) -> Result<(), Error> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || checkpoint::remove(&p))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|source| Error::Checkpoint {
            path: path.to_owned(),
            source,
        })
}
