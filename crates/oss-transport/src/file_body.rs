//! A range of an open file as a request body, read in cache-sized chunks with positional reads.
//!
//! Why not one buffer per part: a part buffer (6 MiB by default) is larger than the CPU caches,
//! so every byte was written to memory by the read and read back by the socket copy. A chunk of
//! a few hundred KiB is read, hashed and copied into the socket while it is still in cache, and
//! at most [`READ_AHEAD`] + 1 chunks per body are in memory at once.

use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use tokio::sync::mpsc;

use crate::body::{LocalBodyError, OutBody};
use oss_types::Crc64;

/// The chunk size of a [`FileRange`] unless [`FileRange::with_chunk_size`] says otherwise.
pub const DEFAULT_FILE_CHUNK: usize = 256 * 1024;

/// Chunks read ahead of the one the connection is sending.
const READ_AHEAD: usize = 2;

/// Bytes of free chunk buffers kept for reuse across bodies, so a long upload neither
/// reallocates (and faults in fresh pages) per chunk nor lets freed chunks pile up in
/// per-thread arenas. Enough for the chunks of 8 parts in flight at the default chunk size;
/// past it a returned buffer is freed.
const POOL_BYTES: usize = 16 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// `len` bytes of an open file from `offset`, sent as a request body (see
/// [`Body::FileRange`](crate::Body::FileRange)).
///
/// Replayable: every attempt reads the range again with positional reads from the same open
/// file (never the path again, so a file renamed over it is not picked up). A file that ends
/// before the range does is [`Error::RequestBody`](crate::Error::RequestBody), never a short
/// body. With [`with_crc64`](Self::with_crc64) the CRC-64 of the bytes is computed as they are
/// read, chunk by chunk, and restarts with each attempt.
#[derive(Clone)]
pub struct FileRange {
    file: Arc<File>,
    path: Arc<Path>,
    offset: u64,
    len: u64,
    chunk: usize,
    crc: Option<RunningCrc>,
    inline: bool,
}

/// The digest slot and which attempt may write it: a reader of an abandoned attempt that is
/// still finishing its last chunk must not overwrite the digest of the attempt after it.
#[derive(Clone)]
struct RunningCrc {
    slot: Arc<Mutex<Crc64>>,
    attempt: Arc<AtomicU64>,
}

impl FileRange {
    /// `len` bytes of `file` from `offset`; `path` names the file in errors and logs only.
    pub fn new(file: Arc<File>, path: impl Into<PathBuf>, offset: u64, len: u64) -> Self {
        Self {
            file,
            path: Arc::from(path.into()),
            offset,
            len,
            chunk: DEFAULT_FILE_CHUNK,
            crc: None,
            inline: true,
        }
    }

    /// Whether chunks already in the page cache are read on the connection's thread
    /// (`preadv2` with `RWF_NOWAIT`) before a blocking thread takes over at the first one that
    /// is not. `false`: a blocking thread reads the whole range. Default: `true`.
    pub fn with_cached_reads_inline(mut self, on: bool) -> Self {
        self.inline = on;
        self
    }

    /// Reads (and hands the connection) chunks of `bytes`, clamped to 4 KiB..=16 MiB.
    /// Default: [`DEFAULT_FILE_CHUNK`].
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.clamp(4 * 1024, 16 << 20);
        self
    }

    /// Computes the CRC-64 of the bytes as they are read into `slot`, which is reset when an
    /// attempt starts and holds the whole range's digest once its last chunk was read (before
    /// that chunk reaches the connection, so before any answer can arrive). Pass the same slot
    /// as [`ExpectedCrc64::Running`](crate::ExpectedCrc64::Running).
    pub fn with_crc64(mut self, slot: Arc<Mutex<Crc64>>) -> Self {
        self.crc = Some(RunningCrc {
            slot,
            attempt: Arc::new(AtomicU64::new(0)),
        });
        self
    }

    /// The number of bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chunk size.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }
}

impl fmt::Debug for FileRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRange")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("chunk", &self.chunk)
            .field("crc64", &self.crc.is_some())
            .field("inline", &self.inline)
            .finish()
    }
}

/// Starts one attempt. Chunks already in the page cache are read when the connection asks for
/// them, on its thread (`preadv2` with `RWF_NOWAIT`, which fails instead of waiting for the
/// disk); at the first chunk that would wait, a blocking thread takes over the rest of the
/// range and reads ahead of the connection. Reading a cached chunk costs about what hashing it
/// does, and keeping it on one thread saves the hand-over between cores.
pub(crate) fn open(range: &FileRange) -> OutBody {
    let crc = range.crc.clone().map(|c| {
        let attempt = c.attempt.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut slot) = c.slot.lock() {
            *slot = Crc64::new();
        }
        (c, attempt)
    });
    let digest = crc.as_ref().map(|_| Crc64::new());
    FileRangeBody {
        reader: Reader {
            file: Arc::clone(&range.file),
            pos: range.offset,
            end: range.offset.saturating_add(range.len),
            chunk: range.chunk,
            crc,
            digest,
        },
        rx: None,
        inline: range.inline,
        remaining: range.len,
        len: range.len,
    }
    .boxed_unsync()
}

/// Where the range's reading stands: the next position, and the digest so far.
struct Reader {
    file: Arc<File>,
    pos: u64,
    end: u64,
    chunk: usize,
    crc: Option<(RunningCrc, u64)>,
    digest: Option<Crc64>,
}

type Chunk = Result<Bytes, LocalBodyError>;

/// What a read without waiting gave.
enum Cached {
    Chunk(Bytes),
    /// The data is not in the page cache (or the file system cannot say): use a thread.
    WouldBlock,
}

impl Reader {
    fn want(&self) -> usize {
        usize::try_from(self.end - self.pos).map_or(self.chunk, |r| r.min(self.chunk))
    }

    /// Hashes and counts `len` bytes of `buf` just read at `pos`.
    fn take(&mut self, buf: Vec<u8>, len: usize) -> Bytes {
        self.pos += len as u64;
        if let Some(d) = self.digest.as_mut() {
            d.update(&buf[..len]);
        }
        if self.pos == self.end {
            self.publish();
        }
        Bytes::from_owner(Pooled { buf, len })
    }

    /// The next chunk if the page cache has it, without waiting for the disk.
    fn read_cached(&mut self) -> Result<Cached, std::io::Error> {
        let want = self.want();
        let mut buf = take_buffer(self.chunk);
        let read = rustix::io::preadv2(
            &*self.file,
            &mut [std::io::IoSliceMut::new(&mut buf[..want])],
            self.pos,
            rustix::io::ReadWriteFlags::NOWAIT,
        );
        match read {
            Ok(0) => {
                give_back(buf);
                Err(short_file())
            }
            // A short read is what was cached; the rest comes with the next call.
            Ok(n) => Ok(Cached::Chunk(self.take(buf, n))),
            Err(e) => {
                give_back(buf);
                match e {
                    rustix::io::Errno::AGAIN
                    | rustix::io::Errno::OPNOTSUPP
                    | rustix::io::Errno::NOSYS
                    | rustix::io::Errno::INVAL
                    | rustix::io::Errno::INTR => Ok(Cached::WouldBlock),
                    e => Err(e.into()),
                }
            }
        }
    }

    /// Reads the rest of the range on a blocking thread, at most [`READ_AHEAD`] chunks ahead.
    fn run(mut self, tx: &mpsc::Sender<Chunk>) {
        while self.pos < self.end {
            let want = self.want();
            let mut buf = take_buffer(self.chunk);
            if let Err(e) = read_full(&self.file, &mut buf[..want], self.pos) {
                give_back(buf);
                let _ = tx.blocking_send(Err(LocalBodyError(e)));
                return;
            }
            let bytes = self.take(buf, want);
            if tx.blocking_send(Ok(bytes)).is_err() {
                // The attempt was abandoned (the body dropped): stop reading.
                return;
            }
        }
    }

    fn publish(&self) {
        let (Some((crc, attempt)), Some(digest)) = (&self.crc, &self.digest) else {
            return;
        };
        if let Ok(mut slot) = crc.slot.lock() {
            if crc.attempt.load(Ordering::SeqCst) == *attempt {
                *slot = digest.clone();
            }
        }
    }

    /// A copy for the blocking thread (the body keeps nothing of it but the byte count).
    fn hand_over(&mut self) -> Reader {
        Reader {
            file: Arc::clone(&self.file),
            pos: self.pos,
            end: self.end,
            chunk: self.chunk,
            crc: self.crc.take(),
            digest: self.digest.take(),
        }
    }
}

fn short_file() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "file is shorter than the requested range (truncated while it was sent?)",
    )
}

/// Fills `buf` from `pos`; a file that ends first is `UnexpectedEof`.
fn read_full(file: &File, mut buf: &mut [u8], mut pos: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match file.read_at(buf, pos) {
            Ok(0) => return Err(short_file()),
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn take_buffer(chunk: usize) -> Vec<u8> {
    let reused = POOL.lock().ok().and_then(|mut free| {
        let i = free.iter().position(|b| b.len() == chunk)?;
        Some(free.swap_remove(i))
    });
    // Zeroed once when allocated; a reused buffer is overwritten by the read.
    reused.unwrap_or_else(|| vec![0; chunk])
}

fn give_back(buf: Vec<u8>) {
    if let Ok(mut free) = POOL.lock() {
        let kept: usize = free.iter().map(Vec::len).sum();
        if kept + buf.len() <= POOL_BYTES {
            free.push(buf);
        }
    }
}

/// A chunk buffer that returns to the pool when the last `Bytes` of it is dropped.
struct Pooled {
    buf: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.buf));
    }
}

struct FileRangeBody {
    reader: Reader,
    /// The blocking thread's chunks, once it took over.
    rx: Option<mpsc::Receiver<Chunk>>,
    /// Try the page cache on this thread first (see [`FileRange::with_cached_reads_inline`]).
    inline: bool,
    remaining: u64,
    len: u64,
}

impl http_body::Body for FileRangeBody {
    type Data = Bytes;
    type Error = LocalBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, LocalBodyError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if self.rx.is_none() {
            let cached = if self.inline {
                self.reader.read_cached()
            } else {
                Ok(Cached::WouldBlock)
            };
            match cached {
                Ok(Cached::Chunk(bytes)) => {
                    self.remaining = self.remaining.saturating_sub(bytes.len() as u64);
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Ok(Cached::WouldBlock) => {
                    let (tx, rx) = mpsc::channel(READ_AHEAD);
                    let job = self.reader.hand_over();
                    tokio::task::spawn_blocking(move || job.run(&tx));
                    self.rx = Some(rx);
                }
                Err(e) => {
                    // Nothing more is read for this attempt.
                    self.remaining = 0;
                    return Poll::Ready(Some(Err(LocalBodyError(e))));
                }
            }
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                self.remaining = self.remaining.saturating_sub(bytes.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            // The reader stopped without an error only if its thread was lost (a panic or a
            // runtime shutting down): never end the body short.
            Poll::Ready(None) => Poll::Ready(Some(Err(LocalBodyError(std::io::Error::other(
                "the file reader stopped before the end of the range",
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(data: &[u8]) -> (tempfile_dir::Dir, Arc<File>, PathBuf) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("range.bin");
        std::fs::write(&path, data).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        (dir, file, path)
    }

    /// A directory removed on drop (the crate has no tempfile dependency).
    mod tempfile_dir {
        pub(super) struct Dir(pub(super) std::path::PathBuf);
        impl Dir {
            pub(super) fn new() -> Self {
                static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p = std::env::temp_dir().join(format!(
                    "oss-transport-file-body-{}-{n}",
                    std::process::id()
                ));
                std::fs::create_dir_all(&p).unwrap();
                Self(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[tokio::test]
    async fn sends_the_range_in_chunks_and_hashes_each_attempt_afresh() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (_dir, file, path) = file_of(&data);
        let slot = Arc::new(Mutex::new(Crc64::new()));
        let range = FileRange::new(file, &path, 1234, 200_000)
            .with_chunk_size(64 * 1024)
            .with_crc64(Arc::clone(&slot));
        let want = &data[1234..201_234];
        // The first attempt reads the cached file on this thread, the second on a reader thread.
        for inline in [true, false] {
            let range = range.clone().with_cached_reads_inline(inline);
            let mut body = open(&range);
            assert_eq!(http_body::Body::size_hint(&body).exact(), Some(200_000));
            let mut got = Vec::new();
            let mut frames = 0;
            while let Some(frame) = body.frame().await {
                let chunk = frame.unwrap().into_data().unwrap();
                assert!(chunk.len() <= 64 * 1024);
                got.extend_from_slice(&chunk);
                frames += 1;
            }
            assert_eq!(got, want);
            assert_eq!(frames, 4, "200 000 bytes in 64 KiB chunks");
            let crc = slot.lock().unwrap().clone();
            assert_eq!(crc.finish(), Crc64::checksum(want));
            assert_eq!(crc.len(), 200_000, "the retry restarted the digest");
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_the_range_is_an_error_not_a_short_body() {
        let data = vec![7u8; 100_000];
        let (_dir, file, path) = file_of(&data);
        let body = open(&FileRange::new(Arc::clone(&file), &path, 50_000, 60_000));
        let err = body.collect().await.unwrap_err();
        assert_eq!(err.0.kind(), std::io::ErrorKind::UnexpectedEof);

        // Truncated after the body was opened, between two chunks, on either read path.
        for inline in [true, false] {
            std::fs::write(&path, &data).unwrap();
            let range = FileRange::new(Arc::clone(&file), &path, 0, 100_000)
                .with_chunk_size(4096)
                .with_cached_reads_inline(inline);
            let mut body = open(&range);
            let first = body.frame().await.unwrap().unwrap();
            assert_eq!(first.into_data().unwrap().len(), 4096);
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(30_000)
                .unwrap();
            let mut sent = 4096;
            let mut failed = false;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => sent += f.into_data().unwrap().len(),
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            assert!(failed, "a truncated file must end the body with an error");
            assert!(sent <= 30_000, "no byte past the new end ({inline})");
        }
    }

    #[tokio::test]
    async fn an_empty_range_ends_at_once() {
        let (_dir, file, path) = file_of(b"abc");
        let body = open(&FileRange::new(file, &path, 3, 0));
        assert!(body.collect().await.unwrap().to_bytes().is_empty());
    }
}
