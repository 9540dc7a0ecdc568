//! Downloads: parallel ranged GETs into a temp file beside the target, all pinned to the ETag
//! HeadObject reported, checked by combining the ranges' CRC-64s, resumable with a checkpoint;
//! and an in-order stream to a writer (stdout).
//!
//! A ranged answer's `x-oss-hash-crc64ecma` is the whole object's (spec §5.1), so no single
//! range can be checked against it: each range's CRC-64 is computed while it is written, and
//! their [`Crc64::combine`] must equal the CRC HeadObject reported before the temp file is
//! renamed to the target. A partial or unverified download never sits under the final name.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::{StreamExt as _, TryFutureExt as _};
use tokio::io::AsyncWriteExt as _;

use crate::client::Client;
use crate::download_checkpoint::{self as checkpoint, DoneRange, DownloadRecord};
use crate::progress::Progress;
use crate::{Error, ProgressEvent, DEFAULT_PARALLELISM, DEFAULT_PART_SIZE};
use oss_types::Crc64;

/// Bytes collected from the response before one positioned write; bounds memory per range.
const WRITE_CHUNK: usize = 1 << 20;

/// What a finished download reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOutput {
    /// Object size in bytes.
    pub size: u64,
    /// The ETag every range was pinned to.
    pub etag: Option<String>,
    /// CRC-64 of the bytes written (equal to OSS's when it reported one).
    pub crc64: u64,
    /// Bytes found in the checkpoint and not fetched again.
    pub resumed_bytes: u64,
}

/// Builder for a download of one object to a file (see [`Client::download`]).
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct Download {
    client: Client,
    key: String,
    dest: PathBuf,
    part_size: Option<u64>,
    parallelism: Option<usize>,
    checkpoint_dir: Option<PathBuf>,
    progress: Option<Progress>,
}

impl Client {
    /// Starts a download of `key` to the file `dest`.
    pub fn download(&self, key: impl Into<String>, dest: impl Into<PathBuf>) -> Download {
        Download {
            client: self.clone(),
            key: key.into(),
            dest: dest.into(),
            part_size: None,
            parallelism: None,
            checkpoint_dir: None,
            progress: None,
        }
    }

    /// Streams `key` into `writer` in order (one GetObject, memory bounded by the transport's
    /// chunks), pinned to the ETag HeadObject reports, and checks the CRC-64 at the end. The
    /// writer has seen every byte by then: a caller that must not keep unverified bytes writes
    /// to a file with [`Client::download`] instead.
    ///
    /// # Errors
    /// [`Error::Request`] (`NoSuchKey`, 412 when the object changed), [`Error::Stream`] when
    /// the writer fails, [`Error::CrcMismatch`] when the bytes differ from OSS's CRC-64.
    pub async fn download_to_writer<W>(
        &self,
        key: &str,
        writer: &mut W,
        progress: Option<Progress>,
    ) -> Result<DownloadOutput, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        let head = self.head_object(key).await?;
        let mut get = self.get_object(key);
        if let Some(etag) = &head.etag {
            get = get.with_if_match(etag.clone());
        }
        let mut out = get.send().await?;
        let mut crc = Crc64::new();
        while let Some(chunk) = out.body.chunk().await {
            let chunk = chunk?;
            crc.update(&chunk);
            writer.write_all(&chunk).await.map_err(Error::Stream)?;
            if let Some(p) = &progress {
                p.emit(ProgressEvent::BytesReceived {
                    bytes: chunk.len() as u64,
                    total_received: crc.len(),
                    total: head.size,
                });
            }
        }
        writer.flush().await.map_err(Error::Stream)?;
        let target = self.target(key, None);
        check_length(&target, crc.len(), head.size)?;
        check_crc(self, &target, crc.finish(), head.crc64)?;
        Ok(DownloadOutput {
            size: head.size,
            etag: head.etag,
            crc64: crc.finish(),
            resumed_bytes: 0,
        })
    }
}

fn check_length(target: &str, got: u64, want: u64) -> Result<(), Error> {
    if got == want {
        return Ok(());
    }
    Err(Error::BadResponse {
        operation: "GetObject",
        reason: format!("{target}: {got} bytes received, {want} expected"),
    })
}

fn check_crc(client: &Client, target: &str, local: u64, server: Option<u64>) -> Result<(), Error> {
    match server {
        Some(server) if client.inner.crc_check && server != local => Err(Error::CrcMismatch {
            target: target.to_owned(),
            client: local,
            server,
        }),
        _ => Ok(()),
    }
}

/// `<dest>.temp`, as the official downloaders name it.
pub(crate) fn temp_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_os_string();
    name.push(".temp");
    PathBuf::from(name)
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Removes the temp file when a download without a checkpoint fails or is dropped.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Download {
    /// Bytes per ranged GET. Default (`None`): [`DEFAULT_PART_SIZE`], 6 MiB, like the
    /// uploader and the official downloaders. 0 fails with [`Error::InvalidArgument`].
    pub fn with_part_size(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.part_size = bytes.into();
        self
    }

    /// Ranged GETs in flight at once. Default (`None`): [`DEFAULT_PARALLELISM`], 3. 0 fails
    /// with [`Error::InvalidArgument`].
    pub fn with_parallelism(mut self, ranges: impl Into<Option<usize>>) -> Self {
        self.parallelism = ranges.into();
        self
    }

    /// Makes the download resumable: a checkpoint in `dir` records each finished range, the
    /// temp file is kept when the download fails or is dropped, and the next download of the
    /// same object to the same file fetches only the missing ranges. A missing `dir` is created
    /// (with its parents) before the first request. Default: none (the temp file is removed on
    /// failure).
    pub fn with_checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// Where progress events go. Default: nowhere.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Runs the download.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a part size or parallelism of 0; [`Error::Request`]
    /// (`NoSuchKey`, 412 `PreconditionFailed` when the object was replaced meanwhile);
    /// [`Error::Io`] for the temp file or the rename; [`Error::Checkpoint`];
    /// [`Error::CrcMismatch`] when the combined CRC-64 differs from OSS's (the temp file and
    /// the checkpoint are then removed, nothing is left under the target name).
    #[tracing::instrument(name = "download", skip_all, fields(key = %self.key))]
    pub async fn send(self) -> Result<DownloadOutput, Error> {
        let part_size = self.part_size.unwrap_or(DEFAULT_PART_SIZE);
        let parallelism = self.parallelism.unwrap_or(DEFAULT_PARALLELISM);
        if part_size == 0 || parallelism == 0 {
            return Err(Error::InvalidArgument {
                name: if part_size == 0 {
                    "part size"
                } else {
                    "parallelism"
                },
                message: "must be at least 1".into(),
            });
        }
        if let Some(dir) = &self.checkpoint_dir {
            // Before any range: a missing directory must not fail the run at its first save.
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| Error::Checkpoint {
                    path: dir.clone(),
                    source,
                })?;
        }
        let client = &self.client;
        let target = client.target(&self.key, None);
        let head = client.head_object(&self.key).await?;
        let size = head.size;
        let etag = head.etag.clone().unwrap_or_default();
        let temp = temp_path(&self.dest);
        let abs_temp = std::path::absolute(&temp).unwrap_or_else(|_| temp.clone());
        let fresh = DownloadRecord {
            bucket: client.bucket().to_owned(),
            key: self.key.clone(),
            size,
            etag: etag.clone(),
            temp_path: abs_temp.clone(),
            part_size,
            done: Vec::new(),
        };
        let ckpt_path = self
            .checkpoint_dir
            .as_deref()
            .map(|dir| checkpoint::path(dir, client.bucket(), &self.key, &abs_temp));
        let record = match &ckpt_path {
            Some(p) => self.resume_point(p, &fresh, &temp).await?,
            None => fresh,
        };
        let resumed = !record.done.is_empty();
        let file = tokio::task::spawn_blocking({
            let temp = temp.clone();
            move || -> std::io::Result<std::fs::File> {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(!resumed)
                    .open(&temp)?;
                file.set_len(size)?;
                Ok(file)
            }
        })
        .await
        .map_err(|e| io_err(&temp, std::io::Error::other(e)))?
        .map_err(|e| io_err(&temp, e))?;
        let mut guard = TempGuard {
            path: temp.clone(),
            armed: ckpt_path.is_none(),
        };
        let file = Arc::new(file);

        let parts = size.div_ceil(part_size);
        let mut crcs: Vec<Option<u64>> = vec![None; usize::try_from(parts).unwrap_or(0)];
        let range_len = |i: u64| part_size.min(size - i * part_size);
        let mut received = 0u64;
        for d in &record.done {
            if let Some(slot) = crcs.get_mut(d.index as usize) {
                *slot = Some(d.crc64);
                received += range_len(d.index);
                self.event(ProgressEvent::PartSkipped {
                    part_number: u32::try_from(d.index + 1).unwrap_or(u32::MAX),
                    size: range_len(d.index),
                });
            }
        }
        let resumed_bytes = received;
        let received = Arc::new(AtomicU64::new(received));
        let record = Arc::new(tokio::sync::Mutex::new(record));
        let todo: Vec<u64> = (0..parts).filter(|i| crcs[*i as usize].is_none()).collect();
        let sink = RangeSink {
            file: &file,
            etag: &etag,
            pin: head.etag.is_some(),
            total: size,
            received: &received,
        };
        let mut results = futures_util::stream::iter(todo)
            .map(|index| {
                let start = index * part_size;
                let len = range_len(index);
                self.fetch_range(&sink, start, len)
                    .map_ok(move |crc| (index, len, crc))
            })
            .buffer_unordered(parallelism);
        while let Some(done) = results.next().await {
            let (index, len, crc) = done?;
            crcs[index as usize] = Some(crc);
            if let Some(p) = &ckpt_path {
                let mut rec = record.lock().await;
                rec.done.push(DoneRange { index, crc64: crc });
                let snapshot = rec.clone();
                drop(rec);
                let p2 = p.clone();
                tokio::task::spawn_blocking(move || checkpoint::save(&p2, &snapshot))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r)
                    .map_err(|source| Error::Checkpoint {
                        path: p.clone(),
                        source,
                    })?;
            }
            self.event(ProgressEvent::PartDone {
                part_number: u32::try_from(index + 1).unwrap_or(u32::MAX),
                size: len,
            });
        }
        drop(results);

        let local = Crc64::combine_parts(
            crcs.iter()
                .enumerate()
                .map(|(i, c)| (c.unwrap_or(0), range_len(i as u64))),
        );
        if let Err(e) = check_crc(client, &target, local, head.crc64) {
            // The bytes are wrong somewhere: nothing of them is worth resuming.
            guard.armed = true;
            if let Some(p) = &ckpt_path {
                let _ = checkpoint::remove(p);
            }
            return Err(e);
        }
        let file = Arc::try_unwrap(file).ok();
        let (temp2, dest) = (temp.clone(), self.dest.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(f) = file {
                f.sync_all()?;
            }
            std::fs::rename(&temp2, &dest)
        })
        .await
        .map_err(|e| io_err(&self.dest, std::io::Error::other(e)))?
        .map_err(|e| io_err(&self.dest, e))?;
        guard.armed = false;
        if let Some(p) = &ckpt_path {
            if let Err(e) = checkpoint::remove(p) {
                tracing::warn!(path = %p.display(), error = %e, "could not remove the download checkpoint");
            }
        }
        Ok(DownloadOutput {
            size,
            etag: head.etag,
            crc64: local,
            resumed_bytes,
        })
    }

    fn event(&self, event: ProgressEvent) {
        if let Some(p) = &self.progress {
            p.emit(event);
        }
    }

    /// The record to continue from: the checkpoint's when it still fits this object and file,
    /// else `fresh` (with a `CheckpointDiscarded` event saying why).
    async fn resume_point(
        &self,
        path: &Path,
        fresh: &DownloadRecord,
        temp: &Path,
    ) -> Result<DownloadRecord, Error> {
        let loaded = {
            let p = path.to_owned();
            tokio::task::spawn_blocking(move || checkpoint::load(&p))
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r)
                .map_err(|source| Error::Checkpoint {
                    path: path.to_owned(),
                    source,
                })?
        };
        let why = match loaded {
            None => return Ok(fresh.clone()),
            Some(Err(why)) => why,
            Some(Ok(rec)) => match rec.mismatch(fresh) {
                None => match tokio::fs::metadata(temp).await {
                    Ok(m) if m.len() == fresh.size => return Ok(rec),
                    _ => "the temp file is missing or has another size".to_owned(),
                },
                Some(why) => why,
            },
        };
        self.event(ProgressEvent::CheckpointDiscarded { reason: why });
        Ok(fresh.clone())
    }

    /// Fetches `start..start+len` into the temp file at `start`; returns the range's CRC-64.
    async fn fetch_range(&self, sink: &RangeSink<'_>, start: u64, len: u64) -> Result<u64, Error> {
        let RangeSink {
            file,
            etag,
            pin,
            total,
            received,
        } = *sink;
        let mut get = self
            .client
            .get_object(self.key.clone())
            .with_range(start, Some(start + len - 1));
        if pin {
            get = get.with_if_match(etag.to_owned());
        }
        let target = self.client.target(&self.key, None);
        let mut out = get.send().await?;
        let mut crc = Crc64::new();
        let mut buf = Vec::with_capacity(WRITE_CHUNK.min(len as usize));
        let mut offset = start;
        loop {
            let chunk = out.body.chunk().await.transpose()?;
            if let Some(c) = &chunk {
                crc.update(c);
                buf.extend_from_slice(c);
            }
            if buf.len() >= WRITE_CHUNK || (chunk.is_none() && !buf.is_empty()) {
                let n = buf.len() as u64;
                buf = write_at(file, buf, offset, &self.dest).await?;
                offset += n;
                let so_far = received.fetch_add(n, Ordering::Relaxed) + n;
                self.event(ProgressEvent::BytesReceived {
                    bytes: n,
                    total_received: so_far,
                    total,
                });
            }
            if chunk.is_none() {
                break;
            }
        }
        check_length(&target, crc.len(), len)?;
        Ok(crc.finish())
    }
}

/// What every ranged GET of one download shares: the temp file, the ETag it is pinned to (when
/// `pin`), the object's size and the bytes received so far by all ranges.
struct RangeSink<'a> {
    file: &'a Arc<std::fs::File>,
    etag: &'a str,
    pin: bool,
    total: u64,
    received: &'a Arc<AtomicU64>,
}

/// Writes `buf` at `offset` on a blocking thread; returns the emptied buffer for reuse.
async fn write_at(
    file: &Arc<std::fs::File>,
    mut buf: Vec<u8>,
    offset: u64,
    dest: &Path,
) -> Result<Vec<u8>, Error> {
    let file = Arc::clone(file);
    let temp = temp_path(dest);
    tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        positioned_write(&file, &buf, offset)?;
        buf.clear();
        Ok(buf)
    })
    .await
    .map_err(|e| io_err(&temp, std::io::Error::other(e)))?
    .map_err(|e| io_err(&temp, e))
}

#[cfg(unix)]
fn positioned_write(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
fn positioned_write(file: &std::fs::File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_name_is_beside_the_target() {
        assert_eq!(
            temp_path(Path::new("dir/a b.bin")),
            PathBuf::from("dir/a b.bin.temp")
        );
    }
}
