//! What an upload reads from: bytes in memory, a local file, or a stream.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::buffer_pool::BufferPool;
use crate::Error;
use oss_types::Crc64;

mod file_part;
pub(crate) use file_part::FilePart;

/// A stream of body chunks.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The data of an upload.
#[non_exhaustive]
pub enum UploadSource {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A local file, read by offset (never loaded whole by the multipart uploader).
    File(PathBuf),
    /// A stream, of known length or not (`None`: the multipart uploader buffers it part by part).
    Stream {
        /// The chunks.
        stream: BodyStream,
        /// Total length, if known.
        len: Option<u64>,
    },
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Stream { len, .. } => f.debug_struct("Stream").field("len", len).finish(),
        }
    }
}

impl UploadSource {
    /// Bytes in memory.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        Self::Bytes(data.into())
    }

    /// A local file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }

    /// A stream; `len` is its exact total length when known.
    pub fn stream(
        stream: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
        len: Option<u64>,
    ) -> Self {
        Self::Stream {
            stream: Box::pin(stream),
            len,
        }
    }
}

impl From<Bytes> for UploadSource {
    fn from(b: Bytes) -> Self {
        Self::Bytes(b)
    }
}

impl From<Vec<u8>> for UploadSource {
    fn from(b: Vec<u8>) -> Self {
        Self::Bytes(b.into())
    }
}

impl From<&'static [u8]> for UploadSource {
    fn from(b: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(b))
    }
}

impl From<&'static str> for UploadSource {
    fn from(b: &'static str) -> Self {
        Self::Bytes(Bytes::from_static(b.as_bytes()))
    }
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Size and modification time of a file.
pub(crate) async fn file_meta(path: &Path) -> Result<(u64, std::time::SystemTime), Error> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| io_err(path, e))?;
    if !meta.is_file() {
        return Err(io_err(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
        ));
    }
    let mtime = meta.modified().map_err(|e| io_err(path, e))?;
    Ok((meta.len(), mtime))
}

/// Opens `path` once for all of an upload's parts, so every part (and every retry) reads the
/// same file even if another is renamed over the path meanwhile.
pub(crate) async fn open_file(path: &Path) -> Result<Arc<std::fs::File>, Error> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_err(path, e))?;
    Ok(Arc::new(file.into_std().await))
}

/// Reads `part` whole (the file must still hold it) into a buffer from `pool`: for a part
/// whose `Content-MD5` must be known before it is sent. Other file parts stream
/// ([`Client::upload_file_part`](crate::Client)).
pub(crate) async fn read_part(part: &FilePart, pool: &BufferPool) -> Result<Bytes, Error> {
    let len =
        usize::try_from(part.len).map_err(|e| io_err(&part.path, std::io::Error::other(e)))?;
    let mut buf = pool.take(len);
    let (file, offset) = (Arc::clone(&part.file), part.offset);
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        file.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    })
    .await
    .map_err(|e| io_err(&part.path, std::io::Error::other(e)))?;
    result
        .map(|buf| pool.freeze(buf))
        .map_err(|e| io_err(&part.path, e))
}

/// CRC-64 and MD5 (when asked) of a whole file, read in 1 MiB chunks.
pub(crate) async fn digest_file(
    path: &Path,
    md5: bool,
) -> Result<(u64, u64, Option<[u8; 16]>), Error> {
    use md5::Digest;
    let p = path.to_owned();
    let result =
        tokio::task::spawn_blocking(move || -> std::io::Result<(u64, u64, Option<[u8; 16]>)> {
            let mut f = std::fs::File::open(&p)?;
            let mut crc = Crc64::new();
            let mut hasher = md5.then(md5::Md5::new);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                crc.update(&buf[..n]);
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[..n]);
                }
            }
            Ok((crc.finish(), crc.len(), hasher.map(|h| h.finalize().into())))
        })
        .await
        .map_err(|e| io_err(path, std::io::Error::other(e)))?;
    result.map_err(|e| io_err(path, e))
}

/// Reads a stream part by part.
pub(crate) struct StreamParts {
    stream: BodyStream,
    pending: Bytes,
    done: bool,
}

impl StreamParts {
    pub(crate) fn new(stream: BodyStream) -> Self {
        Self {
            stream,
            pending: Bytes::new(),
            done: false,
        }
    }

    /// The next `part_size` bytes (fewer at the end); `None` once the stream is exhausted.
    pub(crate) async fn next_part(&mut self, part_size: u64) -> Result<Option<Bytes>, Error> {
        let want = usize::try_from(part_size).map_err(|_| Error::InvalidArgument {
            name: "part size",
            message: "too large for this platform".into(),
        })?;
        let mut buf = bytes::BytesMut::new();
        loop {
            if !self.pending.is_empty() {
                let take = (want - buf.len()).min(self.pending.len());
                buf.extend_from_slice(&self.pending.split_to(take));
            }
            if buf.len() == want || self.done {
                break;
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(e)) => return Err(Error::Stream(e)),
                None => self.done = true,
            }
        }
        if buf.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(buf.freeze()))
    }
}

impl fmt::Debug for StreamParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamParts")
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stream_parts_split_exactly() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::from_static(b"defgh")),
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"ij")),
        ];
        let mut parts = StreamParts::new(Box::pin(futures_util::stream::iter(chunks)));
        assert_eq!(parts.next_part(4).await.unwrap().unwrap(), "abcd");
        assert_eq!(parts.next_part(4).await.unwrap().unwrap(), "efgh");
        assert_eq!(parts.next_part(4).await.unwrap().unwrap(), "ij");
        assert!(parts.next_part(4).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn file_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").unwrap();
        let pool = BufferPool::default();
        let part = |offset, len| FilePart {
            file: Arc::new(std::fs::File::open(&p).unwrap()),
            path: Arc::from(p.as_path()),
            offset,
            len,
        };
        assert_eq!(read_part(&part(3, 4), &pool).await.unwrap(), "3456");
        assert!(read_part(&part(8, 4), &pool).await.is_err());
        assert!(open_file(&dir.path().join("missing")).await.is_err());
        let (crc, len, md5) = digest_file(&p, true).await.unwrap();
        assert_eq!(crc, Crc64::checksum(b"0123456789"));
        assert_eq!(len, 10);
        assert!(md5.is_some());
        assert_eq!(file_meta(&p).await.unwrap().0, 10);
        assert!(file_meta(dir.path()).await.is_err());
    }
}
