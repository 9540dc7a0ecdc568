//! Object and multipart-upload storage: in memory, or on disk under the data dir.
//!
//! Bodies are written through a [`BlobWriter`] that hashes while it writes (MD5, CRC-64); on disk
//! it streams to a temporary file, so no body is ever held whole in memory; in memory it keeps
//! the received `Bytes` frames as they are ([`rope::Rope`]), without a copy. Committing
//! replaces an object atomically: readers get the old or the new object whole, never a mix
//! (see `disk.rs` for how). Readers open metadata and bytes together
//! ([`Storage::open_object`]), so a GET never pairs one version's ETag with another's bytes.
//! [`Storage::complete_upload`] joins parts into an object: in memory by sharing the parts'
//! chunks, on disk by one copy checked against the parts' combined CRC-64; neither hashes MD5
//! again (a multipart ETag is the MD5 of the parts' MD5s).

mod disk;
mod memory;
mod rope;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use oss_types::Crc64;

use rope::Rope;

/// In-memory bodies up to this size are copied into one buffer of their own when finished,
/// so a small object does not keep alive the (larger) connection read buffers its frames are
/// slices of.
const COALESCE_UP_TO: u64 = 64 * 1024;

/// What is known about a stored object (the sidecar JSON on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    /// Object key.
    pub(crate) key: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// ETag with its quotes, upper-case hex.
    pub(crate) etag: String,
    /// CRC-64/ECMA of the content.
    pub(crate) crc64: u64,
    /// `Content-Type`.
    pub(crate) content_type: String,
    /// Base64 MD5 (`Content-MD5`), for single-request uploads only.
    pub(crate) content_md5: Option<String>,
    /// Unix seconds.
    pub(crate) last_modified: u64,
    /// Stored response headers (`x-oss-meta-*`, `Cache-Control`, ...), lower-case names.
    pub(crate) headers: Vec<(String, String)>,
}

/// A part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartMeta {
    /// 1..=10000.
    pub(crate) part_number: u32,
    /// ETag with quotes.
    pub(crate) etag: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// CRC-64/ECMA of the part.
    pub(crate) crc64: u64,
    /// Raw MD5 of the part, hex.
    pub(crate) md5_hex: String,
    /// Unix seconds.
    pub(crate) last_modified: u64,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadMeta {
    /// The upload id.
    pub(crate) upload_id: String,
    /// Bucket.
    pub(crate) bucket: String,
    /// Object key.
    pub(crate) key: String,
    /// `Content-Type` given at initiate time.
    pub(crate) content_type: String,
    /// Stored headers given at initiate time.
    pub(crate) headers: Vec<(String, String)>,
    /// Unix seconds when it was initiated (0 in data dirs written before it was recorded).
    #[serde(default)]
    pub(crate) initiated: u64,
}

/// The current time in Unix seconds.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// ISO 8601 with milliseconds, as OSS writes `LastModified`.
pub(crate) fn iso8601(unix: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A temporary file removed on drop unless it was renamed into place.
#[derive(Debug)]
pub(crate) struct TempPath(Option<PathBuf>);

impl TempPath {
    fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
    fn keep(mut self) -> Option<PathBuf> {
        self.0.take()
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[derive(Debug)]
enum Sink {
    Mem(Vec<Bytes>),
    File(tokio::fs::File, TempPath),
}

/// Writes a body while hashing it; [`BlobWriter::finish`] gives a [`Blob`] to commit.
#[derive(Debug)]
pub(crate) struct BlobWriter {
    sink: Sink,
    /// `None` when the caller needs no MD5 (joining parts).
    md5: Option<Md5>,
    crc: Crc64,
    size: u64,
}

impl BlobWriter {
    fn new(sink: Sink) -> Self {
        Self {
            sink,
            md5: Some(Md5::new()),
            crc: Crc64::new(),
            size: 0,
        }
    }

    /// Appends a chunk: kept as it is in memory (no copy), written out on disk.
    pub(crate) async fn write(&mut self, data: Bytes) -> io::Result<()> {
        if let Some(md5) = &mut self.md5 {
            md5.update(&data);
        }
        self.crc.update(&data);
        self.size += data.len() as u64;
        match &mut self.sink {
            Sink::Mem(v) => v.push(data),
            Sink::File(f, _) => f.write_all(&data).await?,
        }
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Flushes and returns the finished blob with its hashes (an all-zero MD5 when none was
    /// computed).
    pub(crate) async fn finish(self) -> io::Result<Blob> {
        let md5: [u8; 16] = self.md5.map(|m| m.finalize().into()).unwrap_or_default();
        let data = match self.sink {
            Sink::Mem(v) if self.size <= COALESCE_UP_TO && !v.is_empty() => {
                BlobData::Mem(Rope::from_chunks(vec![Bytes::from(v.concat())]))
            }
            Sink::Mem(v) => BlobData::Mem(Rope::from_chunks(v)),
            Sink::File(mut f, p) => {
                f.flush().await?;
                f.sync_all().await?;
                BlobData::File(p)
            }
        };
        Ok(Blob {
            data,
            size: self.size,
            md5,
            crc64: self.crc.finish(),
        })
    }
}

#[derive(Debug)]
enum BlobData {
    Mem(Rope),
    File(TempPath),
}

/// A fully written, not yet committed body.
#[derive(Debug)]
pub(crate) struct Blob {
    data: BlobData,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Raw MD5.
    pub(crate) md5: [u8; 16],
    /// CRC-64/ECMA.
    pub(crate) crc64: u64,
}

/// One version of an object or part, opened: it stays readable whatever commits follow.
#[derive(Debug)]
pub(crate) enum StoredBody {
    /// In memory.
    Mem(Rope),
    /// An open data file (on Unix it survives being unlinked by a later commit).
    File(tokio::fs::File),
}

impl StoredBody {
    /// `len` bytes from `start` (clamped to the body for in-memory data).
    pub(crate) async fn range(self, start: u64, len: u64) -> io::Result<ObjectBody> {
        match self {
            StoredBody::Mem(rope) => Ok(ObjectBody::Chunks(rope.range(start, len))),
            StoredBody::File(mut f) => {
                f.seek(io::SeekFrom::Start(start)).await?;
                Ok(ObjectBody::File(f, len))
            }
        }
    }
}

/// A readable object or part body, possibly a byte range of it.
#[derive(Debug)]
pub(crate) enum ObjectBody {
    /// In memory: the chunks left to send.
    Chunks(std::collections::VecDeque<Bytes>),
    /// A file positioned at the range start, with the bytes left to send.
    File(tokio::fs::File, u64),
}

impl ObjectBody {
    /// The next chunk, or `None` at the end.
    pub(crate) async fn chunk(&mut self) -> io::Result<Option<Bytes>> {
        match self {
            ObjectBody::Chunks(chunks) => Ok(chunks.pop_front()),
            ObjectBody::File(f, left) => {
                if *left == 0 {
                    return Ok(None);
                }
                let want = (*left).min(256 * 1024) as usize;
                let mut buf = vec![0u8; want];
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "object file shorter than its metadata",
                    ));
                }
                buf.truncate(n);
                *left -= n as u64;
                Ok(Some(Bytes::from(buf)))
            }
        }
    }
}

/// Where objects and uploads live.
#[derive(Debug)]
pub(crate) enum Storage {
    /// Lost when the emulator stops.
    Memory(memory::MemoryStore),
    /// Under a data dir; survives restarts.
    Disk(disk::DiskStore),
}

impl Storage {
    /// In-memory storage.
    pub(crate) fn memory() -> Self {
        Storage::Memory(memory::MemoryStore::default())
    }

    /// On-disk storage under `root` (created if missing).
    pub(crate) fn disk(root: &Path) -> io::Result<Self> {
        Ok(Storage::Disk(disk::DiskStore::open(root)?))
    }

    /// Starts writing a new body.
    pub(crate) async fn blob_writer(&self) -> io::Result<BlobWriter> {
        match self {
            Storage::Memory(_) => Ok(BlobWriter::new(Sink::Mem(Vec::new()))),
            Storage::Disk(d) => {
                let (f, p) = d.temp_file().await?;
                Ok(BlobWriter::new(Sink::File(f, p)))
            }
        }
    }

    /// Commits `blob` as object `meta.key` in `bucket`, replacing any previous one.
    pub(crate) async fn put_object(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        blob: Blob,
    ) -> io::Result<()> {
        match (self, blob.data) {
            (Storage::Memory(m), BlobData::Mem(b)) => {
                m.put_object(bucket, meta, b);
                Ok(())
            }
            (Storage::Disk(d), BlobData::File(p)) => d.put_object(bucket, &meta, p).await,
            _ => Err(io::Error::other("blob from another storage")),
        }
    }

    /// Metadata of an object, if it exists.
    pub(crate) async fn head(&self, bucket: &str, key: &str) -> io::Result<Option<ObjectMeta>> {
        match self {
            Storage::Memory(m) => Ok(m.head(bucket, key)),
            Storage::Disk(d) => d.head(bucket, key).await,
        }
    }

    /// The current version of an object: its metadata and its bytes, opened together.
    pub(crate) async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> io::Result<Option<(ObjectMeta, StoredBody)>> {
        match self {
            Storage::Memory(m) => Ok(m.open_object(bucket, key)),
            Storage::Disk(d) => d.open_object(bucket, key).await,
        }
    }

    /// Deletes an object; `false` when there was none.
    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> io::Result<bool> {
        match self {
            Storage::Memory(m) => Ok(m.delete(bucket, key)),
            Storage::Disk(d) => d.delete(bucket, key).await,
        }
    }

    /// Records a new multipart upload.
    pub(crate) async fn create_upload(&self, meta: &UploadMeta) -> io::Result<()> {
        match self {
            Storage::Memory(m) => {
                m.create_upload(meta.clone());
                Ok(())
            }
            Storage::Disk(d) => d.create_upload(meta).await,
        }
    }

    /// The upload, if it is still in progress.
    pub(crate) async fn upload(&self, upload_id: &str) -> io::Result<Option<UploadMeta>> {
        match self {
            Storage::Memory(m) => Ok(m.upload(upload_id)),
            Storage::Disk(d) => d.upload(upload_id).await,
        }
    }

    /// Stores (or replaces) a part.
    pub(crate) async fn put_part(
        &self,
        upload_id: &str,
        part: PartMeta,
        blob: Blob,
    ) -> io::Result<()> {
        match (self, blob.data) {
            (Storage::Memory(m), BlobData::Mem(b)) => m.put_part(upload_id, part, b),
            (Storage::Disk(d), BlobData::File(p)) => d.put_part(upload_id, &part, p).await,
            _ => Err(io::Error::other("blob from another storage")),
        }
    }

    /// All parts of an upload, ascending by part number.
    pub(crate) async fn parts(&self, upload_id: &str) -> io::Result<Vec<PartMeta>> {
        match self {
            Storage::Memory(m) => Ok(m.parts(upload_id)),
            Storage::Disk(d) => d.parts(upload_id).await,
        }
    }

    /// The body of one part.
    pub(crate) async fn part_body(
        &self,
        upload_id: &str,
        part: &PartMeta,
    ) -> io::Result<ObjectBody> {
        let body = match self {
            Storage::Memory(m) => m.part_body(upload_id, part.part_number)?,
            Storage::Disk(d) => d.part_body(upload_id, part).await?,
        };
        body.range(0, part.size).await
    }

    /// Joins `parts` (in order) of upload `upload_id` into object `meta.key` of `bucket`,
    /// replacing any previous one, and forgets the upload. `meta` carries the parts' total size
    /// and combined CRC-64; on disk the joined copy is checked against both.
    pub(crate) async fn complete_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        parts: &[PartMeta],
        meta: ObjectMeta,
    ) -> io::Result<()> {
        match self {
            Storage::Memory(m) => m.complete_upload(bucket, upload_id, parts, meta),
            Storage::Disk(d) => {
                let (f, p) = d.temp_file().await?;
                let mut writer = BlobWriter::new(Sink::File(f, p));
                writer.md5 = None;
                for part in parts {
                    let mut data = self.part_body(upload_id, part).await?;
                    while let Some(chunk) = data.chunk().await? {
                        writer.write(chunk).await?;
                    }
                }
                let blob = writer.finish().await?;
                if blob.size != meta.size || blob.crc64 != meta.crc64 {
                    return Err(io::Error::other("stored parts do not match their CRC-64"));
                }
                self.put_object(bucket, meta, blob).await?;
                d.remove_upload(upload_id).await
            }
        }
    }

    /// Every object of `bucket`, ascending by key bytes (the listing order).
    pub(crate) async fn list_objects(&self, bucket: &str) -> io::Result<Vec<ObjectMeta>> {
        let mut out = match self {
            Storage::Memory(m) => m.list_objects(bucket),
            Storage::Disk(d) => d.list_objects(bucket).await?,
        };
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Every upload in progress in `bucket`, ascending by key, then initiation, then id.
    pub(crate) async fn list_uploads(&self, bucket: &str) -> io::Result<Vec<UploadMeta>> {
        let mut out = match self {
            Storage::Memory(m) => m.list_uploads(bucket),
            Storage::Disk(d) => d.list_uploads(bucket).await?,
        };
        out.sort_by(|a, b| {
            (&a.key, a.initiated, &a.upload_id).cmp(&(&b.key, b.initiated, &b.upload_id))
        });
        Ok(out)
    }

    /// Every upload in progress (of `bucket` only, when given) with its number of parts, in
    /// the order of [`list_uploads`](Self::list_uploads) within a bucket: the admin view.
    pub(crate) async fn open_uploads(
        &self,
        bucket: Option<&str>,
    ) -> io::Result<Vec<(UploadMeta, usize)>> {
        let mut out = match self {
            Storage::Memory(m) => m.open_uploads(bucket),
            Storage::Disk(d) => d.open_uploads(bucket).await?,
        };
        out.sort_by(|(a, _), (b, _)| {
            (&a.bucket, &a.key, a.initiated, &a.upload_id).cmp(&(
                &b.bucket,
                &b.key,
                b.initiated,
                &b.upload_id,
            ))
        });
        Ok(out)
    }

    /// Forgets an upload and its parts.
    pub(crate) async fn remove_upload(&self, upload_id: &str) -> io::Result<()> {
        match self {
            Storage::Memory(m) => {
                m.remove_upload(upload_id);
                Ok(())
            }
            Storage::Disk(d) => d.remove_upload(upload_id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn roundtrip(s: Storage) {
        let mut w = s.blob_writer().await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        let blob = w.finish().await.unwrap();
        assert_eq!(blob.size, 11);
        let meta = ObjectMeta {
            key: "a/b c+%//d".into(),
            size: blob.size,
            etag: "\"X\"".into(),
            crc64: blob.crc64,
            content_type: "text/plain".into(),
            content_md5: None,
            last_modified: 1,
            headers: vec![],
        };
        s.put_object("bkt", meta.clone(), blob).await.unwrap();
        assert_eq!(s.head("bkt", &meta.key).await.unwrap(), Some(meta.clone()));
        let (got_meta, body) = s.open_object("bkt", &meta.key).await.unwrap().unwrap();
        assert_eq!(got_meta, meta);
        let mut body = body.range(6, 5).await.unwrap();
        let mut got = Vec::new();
        while let Some(c) = body.chunk().await.unwrap() {
            got.extend_from_slice(&c);
        }
        assert_eq!(got, b"world");
        assert!(s.delete("bkt", &meta.key).await.unwrap());
        assert_eq!(s.head("bkt", &meta.key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn memory_roundtrip() {
        roundtrip(Storage::memory()).await;
    }

    #[tokio::test]
    async fn disk_roundtrip_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        roundtrip(Storage::disk(dir.path()).unwrap()).await;
        let s = Storage::disk(dir.path()).unwrap();
        let w = s.blob_writer().await.unwrap();
        drop(w.finish().await.unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
