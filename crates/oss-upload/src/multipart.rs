//! The multipart uploader: parts of a file (read by offset), of bytes or of a stream (buffered
//! part by part), uploaded `parallelism` at a time, then Complete with the callback.

use bytes::Bytes;
use tracing::Instrument as _;

use crate::client::Client;
use crate::options::ContentMd5;
use crate::output::UploadOutput;
use crate::parts::{upload_parts, wrap, Feed, PartSession, PartSettings, RangeData};
use crate::progress::Tracker;
use crate::raw::CompleteParts;
use crate::source::{file_meta, io_err, StreamParts, UploadSource};
use crate::spec::UploadSpec;
use crate::upload_handle::{self, HandleSender, UploadFate, UploadGuard, UploadHandle};
use crate::Error;

/// Builder for a multipart upload (see [`Client::multipart_upload`]).
///
/// Defaults: part size 6 MiB (grown by the SDK rule past 10 000 parts), parallelism 3, abort
/// on error. A source smaller than one part is sent with a single PutObject.
///
/// **Cancellation.** Dropping the future of [`send`](Self::send) after Initiate answered aborts
/// the upload on the current tokio runtime (a spawned task), so no part is left behind — unless
/// a Complete carrying a callback was in flight (it may have committed the object and called the
/// application server; the upload is then left alone). Take a [`handle`](Self::handle) before
/// awaiting to learn the upload id and to wait for that abort ([`UploadHandle::settled`]).
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct MultipartUpload {
    client: Client,
    spec: UploadSpec,
    source: UploadSource,
    pub(crate) settings: PartSettings,
    leave_parts_on_error: bool,
    handle_tx: HandleSender,
    handle: UploadHandle,
}

impl Client {
    /// Starts a multipart upload of `source` to `key`.
    pub fn multipart_upload(
        &self,
        key: impl Into<String>,
        source: impl Into<UploadSource>,
    ) -> MultipartUpload {
        let (handle_tx, handle) = upload_handle::channel();
        MultipartUpload {
            client: self.clone(),
            spec: UploadSpec::new(key),
            source: source.into(),
            settings: PartSettings::default(),
            leave_parts_on_error: false,
            handle_tx,
            handle,
        }
    }
}

impl MultipartUpload {
    crate::spec::spec_setters!(progress);
    /// Part size in bytes, 100 KiB ..= 5 GiB. Default (`None`):
    /// [`DEFAULT_PART_SIZE`](crate::DEFAULT_PART_SIZE), 6 MiB. Grown automatically when the size
    /// would need 10 000 parts or more.
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

    /// Keep the uploaded parts when the upload fails or its future is dropped (default false:
    /// abort the upload). The [`handle`](Self::handle) names the upload id to resume or abort.
    pub fn with_leave_parts_on_error(mut self, leave: bool) -> Self {
        self.leave_parts_on_error = leave;
        self
    }

    /// A handle on this upload, to take before awaiting [`send`](Self::send): it reports the
    /// upload id once Initiate answered, and what became of the parts once the upload ended
    /// (completed, aborted, or left in OSS and why) — also when the future was dropped.
    pub fn handle(&self) -> UploadHandle {
        self.handle.clone()
    }

    /// Uploads.
    ///
    /// # Errors
    /// [`Error::CallbackFailed`] (object stored, carries the upload id), [`Error::Multipart`]
    /// naming the upload id and object for any failure after Initiate, [`Error::Request`] when
    /// Initiate or the single PutObject fails, [`Error::InvalidArgument`], [`Error::Io`],
    /// [`Error::Stream`].
    pub async fn send(self) -> Result<UploadOutput, Error> {
        self.spec.view().check()?;
        let span = tracing::info_span!("multipart_upload", bucket = %self.client.bucket(), key = %self.spec.key);
        self.run().instrument(span).await
    }

    fn single_put(self, source: UploadSource) -> crate::simple::PutObject {
        self.client.put_object_with(self.spec, source)
    }

    async fn run(mut self) -> Result<UploadOutput, Error> {
        let source = std::mem::replace(&mut self.source, UploadSource::Bytes(Bytes::new()));
        // A file's size and mtime when the upload started, checked again before Complete.
        let mut file_identity = None;
        let (mut feed, total) = match source {
            UploadSource::Bytes(b) => {
                let total = b.len() as u64;
                let ps = self.settings.resolve(Some(total))?;
                if total < ps {
                    return self.single_put(UploadSource::Bytes(b)).send().await;
                }
                (Feed::ranges(RangeData::Bytes(b), total, ps), Some(total))
            }
            UploadSource::File(path) => {
                let (total, mtime) = file_meta(&path).await?;
                let ps = self.settings.resolve(Some(total))?;
                if total < ps {
                    return self.single_put(UploadSource::File(path)).send().await;
                }
                file_identity = Some((path.clone(), total, mtime));
                (Feed::ranges(RangeData::File(path), total, ps), Some(total))
            }
            UploadSource::Stream { stream, len } => {
                let ps = self.settings.resolve(len)?;
                if let Some(total) = len.filter(|t| *t < ps) {
                    return self
                        .single_put(UploadSource::Stream {
                            stream,
                            len: Some(total),
                        })
                        .send()
                        .await;
                }
                let mut parts = StreamParts::new(stream);
                let first = parts.next_part(ps).await?.unwrap_or_default();
                if (first.len() as u64) < ps {
                    return self.single_put(UploadSource::Bytes(first)).send().await;
                }
                (
                    Feed::Stream {
                        parts,
                        part_size: ps,
                        next: 1,
                        first: Some(first),
                    },
                    len,
                )
            }
        };
        let client = self.client.clone();
        let key = self.spec.key.clone();
        let upload_id = client
            .initiate_multipart_upload(&key, &self.spec.options)
            .await?;
        tracing::debug!(%upload_id, "initiated");
        // From here a dropped future aborts the upload (see the type's docs).
        let mut guard = UploadGuard::initiated(
            self.handle_tx.clone(),
            &client,
            &key,
            &upload_id,
            self.leave_parts_on_error,
        );
        let tracker = Tracker::new(self.spec.progress.clone(), total);
        let md5 = matches!(self.spec.options.content_md5, ContentMd5::Compute);
        let result = async {
            let parts = upload_parts(
                &PartSession {
                    client: &client,
                    key: &key,
                    upload_id: &upload_id,
                    md5,
                    tracker: &tracker,
                    ckpt: None,
                },
                &mut feed,
                self.settings.parallelism(),
            )
            .await?;
            // Parts read before and after an in-place rewrite would make an object equal to
            // no version of the file, and each part's CRC matches what was sent, so only the
            // file's identity can tell (as the resumable uploader checks it).
            if let Some((path, size, mtime)) = &file_identity {
                if file_meta(path).await? != (*size, *mtime) {
                    return Err(io_err(
                        path,
                        std::io::Error::other("the file changed during the upload"),
                    ));
                }
            }
            if self.spec.callback.is_some() {
                guard.completing_with_callback();
            }
            let spec = self.spec.view();
            client
                .complete(spec, &upload_id, CompleteParts::Uploaded(&parts))
                .await
        }
        .await;
        match result {
            Ok(out) => {
                guard.settle(UploadFate::Completed);
                Ok(out)
            }
            Err(e @ Error::CallbackFailed(_)) => {
                guard.settle(UploadFate::Completed);
                Err(e)
            }
            Err(Error::CallbackOutcomeUnknown(u)) => {
                // The rule already ran: stored, or it could not tell. An abort could race a
                // committed Complete, so an unconfirmed upload is left alone.
                guard.settle(match u.is_stored() {
                    true => UploadFate::Completed,
                    false => UploadFate::Left {
                        reason: "a Complete carrying a callback may have committed the object"
                            .into(),
                    },
                });
                Err(Error::CallbackOutcomeUnknown(u))
            }
            Err(e) => {
                let fate = if self.leave_parts_on_error {
                    UploadFate::Left {
                        reason: "leave_parts_on_error is set".into(),
                    }
                } else {
                    match client.abort_multipart_upload(&key, &upload_id).await {
                        Ok(()) => UploadFate::Aborted,
                        Err(abort) => {
                            tracing::warn!(%upload_id, error = %abort, "abort after failure failed");
                            UploadFate::Left {
                                reason: format!("the abort failed: {abort}"),
                            }
                        }
                    }
                };
                guard.settle(fate);
                Err(wrap(&client, &key, &upload_id, e))
            }
        }
    }
}
