//! The part engine shared by the multipart and resumable uploaders: which parts remain, a
//! semaphore-bounded upload loop, checkpoint recording, and Complete with the combined CRC-64.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::buffer_pool::BufferPool;
use crate::checkpoint::{self, CheckpointPart, CheckpointRecord};
use crate::client::Client;
use crate::part_size::{effective_part_size, part_count, part_range, DEFAULT_PARALLELISM};
use crate::progress::{ProgressEvent, Tracker};
use crate::raw::UploadedPart;
use crate::source::{open_file, read_part, FilePart, StreamParts};
use crate::Error;
use oss_types::limits::{MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE};

/// Part size and parallelism shared by the multipart and resumable uploaders.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PartSettings {
    /// `None`: [`DEFAULT_PART_SIZE`](crate::DEFAULT_PART_SIZE).
    pub(crate) part_size: Option<u64>,
    /// `None`: [`DEFAULT_PARALLELISM`].
    pub(crate) parallelism: Option<usize>,
}

impl PartSettings {
    /// Parts in flight at once (valid once [`resolve`](Self::resolve) succeeded).
    pub(crate) fn parallelism(&self) -> usize {
        self.parallelism.unwrap_or(DEFAULT_PARALLELISM).max(1)
    }

    /// The part size for `total` bytes, validated with the parallelism.
    pub(crate) fn resolve(&self, total: Option<u64>) -> Result<u64, Error> {
        if self.parallelism == Some(0) {
            return Err(Error::InvalidArgument {
                name: "parallelism",
                message: "at least one part must be in flight".into(),
            });
        }
        let size = effective_part_size(total, self.part_size);
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&size) {
            return Err(Error::InvalidArgument {
                name: "part size",
                message: format!("{size} is outside {MIN_PART_SIZE}..={MAX_PART_SIZE} bytes"),
            });
        }
        if let Some(t) = total {
            if part_count(t, size) > MAX_PARTS {
                return Err(Error::InvalidArgument {
                    name: "part size",
                    message: format!("{t} bytes need more than {MAX_PARTS} parts"),
                });
            }
        }
        Ok(size)
    }
}

/// Wraps a failure after Initiate with the upload id and object.
pub(crate) fn wrap(client: &Client, key: &str, upload_id: &str, e: Error) -> Error {
    match e {
        e @ (Error::CallbackFailed(_) | Error::Multipart { .. }) => e,
        e => Error::Multipart {
            upload_id: upload_id.to_owned(),
            bucket: client.bucket().to_owned(),
            key: key.to_owned(),
            oss: e.service_fields().cloned().map(Box::new),
            source: Box::new(e),
        },
    }
}

/// Where ranged parts come from.
#[derive(Debug)]
pub(crate) enum RangeData {
    Bytes(Bytes),
    File(PathBuf),
}

/// The parts still to upload.
#[derive(Debug)]
pub(crate) enum Feed {
    Ranges {
        data: RangeData,
        numbers: std::vec::IntoIter<u32>,
        total: u64,
        part_size: u64,
        /// The file of [`RangeData::File`], opened at the first part and shared by all.
        opened: Option<(Arc<std::fs::File>, Arc<std::path::Path>)>,
    },
    Stream {
        parts: StreamParts,
        part_size: u64,
        next: u32,
        first: Option<Bytes>,
    },
}

pub(crate) struct Job {
    number: u32,
    data: JobData,
}

enum JobData {
    Ready(Bytes),
    File(FilePart),
}

impl Feed {
    pub(crate) fn ranges(data: RangeData, total: u64, part_size: u64) -> Self {
        let count = part_count(total, part_size) as u32;
        Self::ranges_of(data, total, part_size, (1..=count).collect())
    }

    pub(crate) fn ranges_of(
        data: RangeData,
        total: u64,
        part_size: u64,
        numbers: Vec<u32>,
    ) -> Self {
        Feed::Ranges {
            data,
            numbers: numbers.into_iter(),
            total,
            part_size,
            opened: None,
        }
    }

    async fn next(&mut self) -> Result<Option<Job>, Error> {
        match self {
            Feed::Ranges {
                data,
                numbers,
                total,
                part_size,
                opened,
            } => {
                let Some(number) = numbers.next() else {
                    return Ok(None);
                };
                let (offset, len) = part_range(*total, *part_size, u64::from(number));
                let data = match data {
                    RangeData::Bytes(b) => {
                        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
                        let end = usize::try_from(offset + len)
                            .unwrap_or(usize::MAX)
                            .min(b.len());
                        JobData::Ready(b.slice(start..end))
                    }
                    RangeData::File(path) => {
                        let (file, path) = match opened {
                            Some(f) => f.clone(),
                            None => {
                                let f = (open_file(path).await?, Arc::from(path.as_path()));
                                opened.insert(f).clone()
                            }
                        };
                        JobData::File(FilePart {
                            file,
                            path,
                            offset,
                            len,
                        })
                    }
                };
                Ok(Some(Job { number, data }))
            }
            Feed::Stream {
                parts,
                part_size,
                next,
                first,
            } => {
                let data = match first.take() {
                    Some(b) => b,
                    None => match parts.next_part(*part_size).await? {
                        Some(b) => b,
                        None => return Ok(None),
                    },
                };
                if u64::from(*next) > MAX_PARTS {
                    return Err(Error::InvalidArgument {
                        name: "source",
                        message: format!(
                            "the stream needs more than {MAX_PARTS} parts; raise the part size"
                        ),
                    });
                }
                let number = *next;
                *next += 1;
                Ok(Some(Job {
                    number,
                    data: JobData::Ready(data),
                }))
            }
        }
    }
}

/// Records completed parts in the checkpoint file (resumable uploads).
#[derive(Debug)]
pub(crate) struct CheckpointWriter {
    pub(crate) path: PathBuf,
    pub(crate) record: tokio::sync::Mutex<CheckpointRecord>,
}

impl CheckpointWriter {
    pub(crate) async fn save(&self) -> Result<(), Error> {
        let record = self.record.lock().await;
        save_record(&self.path, &record).await
    }

    /// Records that Complete is about to be sent (see [`CheckpointRecord::completing`]).
    pub(crate) async fn mark_completing(&self, mark: checkpoint::AttemptMark) -> Result<(), Error> {
        let mut record = self.record.lock().await;
        record.completing = Some(mark);
        save_record(&self.path, &record).await
    }

    async fn add(&self, part: &UploadedPart) -> Result<(), Error> {
        let mut record = self.record.lock().await;
        record.add_part(CheckpointPart {
            number: part.part_number,
            etag: part.etag.clone(),
            size: part.size,
            crc64: part.crc64,
        });
        save_record(&self.path, &record).await
    }
}

/// Saves `record` atomically at `path` (off the async threads).
pub(crate) async fn save_record(
    path: &std::path::Path,
    record: &CheckpointRecord,
) -> Result<(), Error> {
    let p = path.to_owned();
    let r = record.clone();
    let result = tokio::task::spawn_blocking(move || checkpoint::save(&p, &r))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
    result.map_err(|source| Error::Checkpoint {
        path: path.to_owned(),
        source,
    })
}

/// One initiated multipart upload, as its part uploads see it: where the parts go, how each
/// is sent, and who hears of it.
pub(crate) struct PartSession<'a> {
    pub(crate) client: &'a Client,
    pub(crate) key: &'a str,
    pub(crate) upload_id: &'a str,
    /// Send `Content-MD5` with each part.
    pub(crate) md5: bool,
    pub(crate) tracker: &'a Tracker,
    /// Where finished parts are recorded (resumable uploads).
    pub(crate) ckpt: Option<&'a CheckpointWriter>,
}

/// Uploads every part `feed` yields, at most `parallelism` at a time (a semaphore bounds the
/// parts in memory), recording each in the session's checkpoint when it has one. Stops at the
/// first error (parts in flight are dropped).
pub(crate) async fn upload_parts(
    session: &PartSession<'_>,
    feed: &mut Feed,
    parallelism: usize,
) -> Result<Vec<UploadedPart>, Error> {
    let sem = Arc::new(Semaphore::new(parallelism.max(1)));
    let buffers = BufferPool::default();
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    loop {
        let permit = {
            let acquire = Arc::clone(&sem).acquire_owned();
            tokio::pin!(acquire);
            loop {
                tokio::select! {
                    biased;
                    Some(r) = running.next(), if !running.is_empty() => done.push(r?),
                    p = &mut acquire => break p.map_err(|_| Error::InvalidArgument {
                        name: "parallelism",
                        message: "semaphore closed".into(),
                    })?,
                }
            }
        };
        let job = {
            let next = feed.next();
            tokio::pin!(next);
            loop {
                tokio::select! {
                    biased;
                    Some(r) = running.next(), if !running.is_empty() => done.push(r?),
                    j = &mut next => break j?,
                }
            }
        };
        let Some(job) = job else { break };
        running.push(run_job(session, job, permit, &buffers));
    }
    while let Some(r) = running.next().await {
        done.push(r?);
    }
    Ok(done)
}

async fn run_job(
    session: &PartSession<'_>,
    job: Job,
    permit: OwnedSemaphorePermit,
    buffers: &BufferPool,
) -> Result<UploadedPart, Error> {
    let PartSession {
        client,
        key,
        upload_id,
        md5,
        tracker,
        ckpt,
    } = *session;
    let part = match job.data {
        JobData::Ready(b) => {
            client
                .upload_part_tracked(key, upload_id, job.number, b, md5, tracker)
                .await?
        }
        // Content-MD5 goes in the head, so that part is read whole first; any other file part
        // streams from the file in chunks, hashed as they are sent.
        JobData::File(part) if md5 => {
            let b = read_part(&part, buffers).await?;
            client
                .upload_part_tracked(key, upload_id, job.number, b, md5, tracker)
                .await?
        }
        JobData::File(part) => {
            client
                .upload_file_part(key, upload_id, job.number, &part, tracker)
                .await?
        }
    };
    if let Some(c) = ckpt {
        c.add(&part).await?;
    }
    tracker.event(ProgressEvent::PartDone {
        part_number: part.part_number,
        size: part.size,
    });
    // Released only now: a part counts against the parallelism until it is recorded.
    drop(permit);
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_PART_SIZE;

    #[test]
    fn none_means_the_default_and_zero_is_refused() {
        let default = PartSettings::default();
        assert_eq!(default.resolve(Some(1 << 20)).unwrap(), DEFAULT_PART_SIZE);
        assert_eq!(default.parallelism(), DEFAULT_PARALLELISM);

        let zero_parts = PartSettings {
            parallelism: Some(0),
            ..PartSettings::default()
        };
        assert!(matches!(
            zero_parts.resolve(Some(1)),
            Err(Error::InvalidArgument {
                name: "parallelism",
                ..
            })
        ));
        let zero_size = PartSettings {
            part_size: Some(0),
            ..PartSettings::default()
        };
        assert!(matches!(
            zero_size.resolve(Some(1)),
            Err(Error::InvalidArgument {
                name: "part size",
                ..
            })
        ));
    }
}
