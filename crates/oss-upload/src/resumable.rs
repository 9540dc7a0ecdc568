//! Resumable upload of a local file: a checkpoint file records the upload id and every completed
//! part; a later run confirms the recorded parts with ListParts and uploads only the missing ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt as _;
use oss_types::Crc64;
use tracing::Instrument as _;

use crate::checkpoint::{
    self, checkpoint_path, AttemptMark, CheckpointIdentity, CheckpointPart, CheckpointRecord,
    CheckpointRejection,
};
use crate::checkpoint_lock::CheckpointLock;
use crate::client::Client;
use crate::error::{Confirmation, UnknownCallbackOutcome};
use crate::options::ContentMd5;
use crate::output::UploadOutput;
use crate::part_check;
use crate::part_size::part_count;
use crate::parts::{
    save_record, upload_parts, wrap, CheckpointWriter, Feed, PartSession, PartSettings, RangeData,
};
use crate::progress::{ProgressEvent, Tracker};
use crate::raw::CompleteParts;
use crate::raw::UploadedPart;
use crate::source::{file_meta, io_err};
use crate::spec::UploadSpec;
use crate::unconfirmed::{judge, server_second, Expected, Verdict};
use crate::Error;

/// Builder for a resumable upload of a local file (see [`Client::resumable_upload`]).
///
/// The checkpoint lives beside the file as `<name>.ucp` when that directory is writable, else in
/// the system temp directory, or in [`ResumableUpload::with_checkpoint_dir`] (created when
/// missing). It is rewritten atomically (one fixed `<name>.ucp.tmp`) before Initiate, right
/// after it (the upload id), after every part and before Complete, so a run killed anywhere
/// loses at most the parts in flight; it is deleted after Complete. Parts are never aborted on
/// error (they are what a later run resumes).
///
/// A later run:
/// - re-reads every recorded part that ListParts confirms and sends it again if its CRC-64
///   differs (a file edited in place with the same size and mtime);
/// - after a run killed during Initiate, aborts the upload OSS initiated for it;
/// - after a run killed during Complete, asks OSS whether that Complete stored the object (the
///   ambiguity rule, dated from the killed run's attempt): then it sends nothing, emits
///   [`ProgressEvent::CompletedEarlier`] and returns success, or
///   [`Error::CallbackOutcomeUnknown`] with a callback (never a second callback).
///
/// One run at a time drives a checkpoint: `<name>.ucp.lock` is held for the run, and a second
/// run fails at once with [`Error::CheckpointLocked`] (naming the lock file and the holder's
/// pid), sending nothing.
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
    /// [`Error::CallbackFailed`] (object stored; the checkpoint is removed),
    /// [`Error::CallbackOutcomeUnknown`] (stored: the checkpoint is removed), [`Error::Multipart`]
    /// (the checkpoint and the parts are kept for the next run), [`Error::CheckpointLocked`],
    /// [`Error::Checkpoint`], [`Error::Io`], [`Error::Request`] when Initiate fails.
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
        if let Some(dir) = &self.checkpoint_dir {
            // Before anything is sent: a missing directory must not fail the run after Initiate.
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| Error::Checkpoint {
                    path: dir.clone(),
                    source,
                })?;
        }
        let ckpt_path = checkpoint_path(
            &abs,
            client.bucket(),
            &self.spec.key,
            self.checkpoint_dir.as_deref(),
        );
        // Held until this function returns: one run drives an upload at a time.
        let _lock = blocking({
            let p = ckpt_path.clone();
            move || {
                let lock = CheckpointLock::acquire(&p)?;
                checkpoint::remove_leftovers(&p);
                Ok(lock)
            }
        })
        .await?;
        let identity = CheckpointIdentity {
            source_path: abs.clone(),
            source_size: size,
            source_mtime: mtime,
            part_size,
            bucket: client.bucket().to_owned(),
            key: self.spec.key.clone(),
        };
        let record = match self.resume(&ckpt_path, &identity, &tracker).await? {
            Resumed::Continue(record) => record,
            Resumed::Done(outcome) => {
                remove_quietly(&ckpt_path).await;
                return outcome;
            }
            Resumed::Fresh => {
                // Saved before Initiate: a run killed before it learns the upload id still
                // leaves a trace, and the next run aborts what OSS initiated meanwhile.
                let mark = AttemptMark::now(client.clock_skew_ms());
                save_record(&ckpt_path, &CheckpointRecord::initiating(&identity, mark)).await?;
                let upload_id = match client
                    .initiate_multipart_upload(&self.spec.key, &self.spec.options)
                    .await
                {
                    Ok(id) => id,
                    Err(e) => {
                        // A refusal (403, 400, ...) created nothing: no trace to leave beside
                        // the file. Without an answer OSS may have initiated it: keep the mark.
                        if e.status().is_some_and(|s| s.is_client_error()) {
                            remove_quietly(&ckpt_path).await;
                        }
                        return Err(e);
                    }
                };
                CheckpointRecord::new(&identity, upload_id)
            }
        };
        let upload_id = record.upload_id.clone();
        let earlier_complete = record.completing;
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
        // The upload id is on disk before any part is sent.
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
            // Marked before Complete is sent: a run that finds the mark asks OSS whether this
            // Complete committed the object rather than completing (and calling back) again.
            let mark = AttemptMark::now(client.clock_skew_ms());
            writer.mark_completing(mark).await?;
            let since = earlier_complete
                .map(|m| dated_for_now(&client, &m))
                .unwrap_or_else(|| mark.started());
            let spec = self.spec.view();
            client
                .complete_since(
                    spec,
                    &upload_id,
                    CompleteParts::Uploaded(&parts),
                    Some(since),
                )
                .await
        }
        .await;
        match result {
            // The object is stored either way: a checkpoint that cannot be removed must not
            // replace the outcome (callers match on success and on `CallbackFailed`). A leftover
            // file is harmless: its upload is complete, so the next run discards it.
            Ok(out) => {
                remove_quietly(&ckpt_path).await;
                Ok(out)
            }
            Err(e @ (Error::CallbackFailed(_) | Error::CallbackOutcomeUnknown(_)))
                if stored(&e) =>
            {
                remove_quietly(&ckpt_path).await;
                Err(e)
            }
            Err(e) => Err(wrap(&client, &key, &upload_id, e)),
        }
    }

    /// What the checkpoint lets this run do: continue its upload (with only the parts ListParts
    /// confirms and the file still holds), report that an earlier run completed it, or start
    /// afresh (no checkpoint, or a corrupt, stale or dead one, which is reported, its upload
    /// aborted when there is one).
    async fn resume(
        &self,
        path: &Path,
        identity: &CheckpointIdentity,
        tracker: &Tracker,
    ) -> Result<Resumed, Error> {
        let loaded = match tokio::fs::read(path).await {
            Ok(bytes) => checkpoint::parse(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Resumed::Fresh),
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
                return Ok(Resumed::Fresh);
            }
        };
        if let Some(mark) = record.initiating {
            // A run was killed while Initiate was in flight: whatever OSS initiated for this
            // key since then is that run's orphan.
            if record.bucket == self.client.bucket() {
                self.abort_orphans(&record.key, &mark).await;
            }
            discard("a run was interrupted while initiating its upload".into());
            remove_checkpoint(path).await?;
            return Ok(Resumed::Fresh);
        }
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
            return Ok(Resumed::Fresh);
        }
        let listed = match self.client.list_parts(&record.key, &record.upload_id).await {
            Ok(l) => l,
            Err(e) if e.service_code() == Some("NoSuchUpload") => {
                if let Some(mark) = record.completing {
                    if let Some(outcome) =
                        self.completed_earlier(&record, &mark, e, tracker).await?
                    {
                        return Ok(Resumed::Done(outcome));
                    }
                }
                discard(format!("upload {} no longer exists", record.upload_id));
                remove_checkpoint(path).await?;
                return Ok(Resumed::Fresh);
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
        if self.client.inner.crc_check {
            // Size and mtime can survive an in-place edit; the recorded CRC-64 cannot. (With
            // CRC checks off nothing was hashed, so nothing can be compared.)
            let changed = blocking({
                let (src, parts) = (record.source_path.clone(), confirmed.parts.clone());
                let (size, part_size) = (record.source_size, record.part_size);
                move || {
                    part_check::changed_parts(&src, size, part_size, &parts)
                        .map_err(|e| io_err(&src, e))
                }
            })
            .await?;
            if !changed.is_empty() {
                tracing::warn!(parts = ?changed, "recorded parts differ from the file now; sending them again");
                confirmed.parts.retain(|p| !changed.contains(&p.number));
            }
        }
        for p in &confirmed.parts {
            tracker.preload(p.size);
            tracker.event(ProgressEvent::PartSkipped {
                part_number: p.number,
                size: p.size,
            });
        }
        Ok(Resumed::Continue(confirmed))
    }

    /// The upload is gone and an earlier run had sent Complete: the ambiguity rule, dated from
    /// that run's mark (its start and skew, not this run's), says whether that Complete stored
    /// the object. `Some(outcome)` when it did (success without a callback,
    /// [`Error::CallbackOutcomeUnknown`] with one: its answer was lost with the killed run);
    /// `None` when not (then a fresh upload starts).
    async fn completed_earlier(
        &self,
        record: &CheckpointRecord,
        mark: &AttemptMark,
        cause: Error,
        tracker: &Tracker,
    ) -> Result<Option<Result<UploadOutput, Error>>, Error> {
        let count = part_count(record.source_size, record.part_size);
        let mut parts: Vec<&CheckpointPart> = record.parts.iter().collect();
        parts.sort_by_key(|p| p.number);
        let complete = parts.len() as u64 == count
            && parts
                .iter()
                .zip(1u64..)
                .all(|(p, n)| u64::from(p.number) == n);
        if !complete {
            return Ok(None);
        }
        let crc64 = self
            .client
            .inner
            .crc_check
            .then(|| Crc64::combine_parts(parts.iter().map(|p| (p.crc64, p.size))));
        let expect = Expected {
            size: record.source_size,
            crc64,
        };
        let head = match self.client.head_for_rule(&record.key).await {
            Ok(head) => head,
            // Unknown: keep the checkpoint (and its mark) for a run that can ask.
            Err(e) => return Err(wrap(&self.client, &record.key, &record.upload_id, e)),
        };
        let verdict = judge(head.as_ref(), &expect, Some(mark.started()), mark.skew_ms);
        let (Verdict::Stored, Some(head)) = (verdict, head) else {
            tracing::info!(upload_id = %record.upload_id, ?verdict, "the earlier run's Complete did not store the object");
            return Ok(None);
        };
        tracing::info!(upload_id = %record.upload_id, "an earlier run completed this upload; nothing is sent again");
        tracker.event(ProgressEvent::CompletedEarlier {
            upload_id: record.upload_id.clone(),
        });
        if self.spec.callback.is_none() {
            return Ok(Some(Ok(UploadOutput {
                etag: head.etag,
                request_id: head.request_id,
                crc64: head.crc64,
                version_id: head.version_id,
                callback: None,
            })));
        }
        let mut u = UnknownCallbackOutcome::new(
            &record.bucket,
            &record.key,
            "CompleteMultipartUpload",
            Confirmation::Stored,
            cause,
        );
        u.upload_id = Some(record.upload_id.clone());
        u.etag = head.etag;
        u.crc64 = head.crc64;
        u.version_id = head.version_id;
        Ok(Some(Err(Error::CallbackOutcomeUnknown(Box::new(u)))))
    }

    /// Aborts the uploads of `key` that OSS initiated from `mark` on (in server time, to the
    /// second) and at most [`ORPHAN_WINDOW`] later: the one a run killed during Initiate left.
    /// Best effort: a failure is logged, and the upload then expires by the bucket's rules.
    async fn abort_orphans(&self, key: &str, mark: &AttemptMark) {
        let from = server_second(mark.started(), mark.skew_ms);
        let until = from + ORPHAN_WINDOW;
        let mut pages = self.client.list_uploads().with_prefix(key).into_pages();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "listing the uploads a killed run may have left failed");
                    return;
                }
            };
            for u in page.uploads {
                let in_window = u.initiated.is_some_and(|t| t >= from && t <= until);
                if u.key != key || !in_window {
                    continue;
                }
                tracing::info!(upload_id = %u.upload_id, "aborting the upload a killed run initiated");
                if let Err(e) = self.client.abort_multipart_upload(key, &u.upload_id).await {
                    tracing::warn!(upload_id = %u.upload_id, error = %e, "aborting it failed");
                }
            }
        }
    }

    fn single_put(self, abs: PathBuf) -> crate::simple::PutObject {
        self.client
            .put_object_with(self.spec, crate::UploadSource::File(abs))
    }
}

/// How long after a killed run's `initiating` mark an upload of the same key counts as that
/// run's orphan: the Initiate (with the transport's retries) was sent within this. Later
/// uploads of the key are another writer's and are left alone.
const ORPHAN_WINDOW: Duration = Duration::from_secs(120);

/// What [`ResumableUpload::resume`] found.
enum Resumed {
    /// Continue this upload, with these parts confirmed.
    Continue(CheckpointRecord),
    /// An earlier run completed it: this is the outcome, nothing is sent.
    Done(Result<UploadOutput, Error>),
    /// Start a new upload.
    Fresh,
}

/// Whether this outcome means the object is stored (so the checkpoint has done its job).
fn stored(e: &Error) -> bool {
    match e {
        Error::CallbackFailed(_) => true,
        Error::CallbackOutcomeUnknown(u) => u.is_stored(),
        _ => false,
    }
}

/// An earlier run's mark as a local start time for this run's clock: shifted by the change in
/// the learnt skew, so that with this run's skew it names the same server instant as the mark.
fn dated_for_now(client: &Client, mark: &AttemptMark) -> SystemTime {
    let shift = mark.skew_ms.saturating_sub(client.clock_skew_ms());
    let delta = Duration::from_millis(shift.unsigned_abs());
    let start = mark.started();
    if shift >= 0 {
        start.checked_add(delta).unwrap_or(start)
    } else {
        start.checked_sub(delta).unwrap_or(start)
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e),
        })?
}

/// Removes a checkpoint whose job is done (its upload completed, or never began), logging (not
/// returning) a failure: the outcome it would hide matters more.
async fn remove_quietly(path: &Path) {
    if let Err(e) = remove_checkpoint(path).await {
        tracing::warn!(error = %e, "a checkpoint that is no longer needed could not be removed");
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
