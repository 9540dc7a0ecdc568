//! Part buffers that are reused instead of reallocated.
//!
//! Each part read from a file needs a buffer of the part size. Allocating a fresh one per part
//! lets the allocator keep freed buffers in per-thread arenas (reads happen on blocking threads,
//! frees on runtime threads), so a long upload's peak RSS drifted well above
//! `parallelism × part size`. The pool hands out at most the buffers that are in use at once and
//! takes each back when the last `Bytes` referring to it is dropped.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// A pool of byte buffers; clones share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct BufferPool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl BufferPool {
    /// A buffer of exactly `len` bytes, reused when one is free. Its contents are unspecified
    /// (callers overwrite all of it).
    pub(crate) fn take(&self, len: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut free| free.pop());
        let mut buf = reused.unwrap_or_default();
        // Same-size reuse (every part but the last) neither allocates nor zeroes.
        buf.resize(len, 0);
        buf
    }

    /// Freezes `buf` into `Bytes` that give the buffer back to the pool when dropped.
    pub(crate) fn freeze(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled {
            buf,
            pool: self.clone(),
        })
    }

    fn give_back(&self, buf: Vec<u8>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(buf);
        }
    }
}

struct Pooled {
    buf: Vec<u8>,
    pool: BufferPool,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_return_when_the_last_bytes_is_dropped() {
        let pool = BufferPool::default();
        let mut buf = pool.take(8);
        buf.copy_from_slice(b"abcdefgh");
        let ptr = buf.as_ptr();
        let bytes = pool.freeze(buf);
        let clone = bytes.slice(2..4);
        drop(bytes);
        assert_eq!(&clone[..], b"cd");
        assert!(pool.free.lock().unwrap().is_empty(), "still referenced");
        drop(clone);
        let again = pool.take(8);
        assert_eq!(again.as_ptr(), ptr, "the same allocation is reused");
        assert_eq!(pool.take(3).len(), 3, "an empty pool allocates");
    }
}
