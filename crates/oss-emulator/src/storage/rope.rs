//! [`Rope`]: an in-memory body kept as the chunks it arrived in.
//!
//! A request body comes off the socket as `Bytes` frames that already own their memory, so
//! keeping the frames costs no copy, and a CompleteMultipartUpload only joins its parts' chunk
//! lists: a 1 GiB object is committed without copying or re-hashing a byte.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

/// An immutable body: chunks in order, shared by every reader and by the objects built from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rope {
    chunks: Arc<[Bytes]>,
    len: u64,
}

impl Rope {
    /// The body made of `chunks`, empty ones dropped.
    pub(crate) fn from_chunks(chunks: Vec<Bytes>) -> Self {
        let chunks: Arc<[Bytes]> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        Self { chunks, len }
    }

    /// The bodies one after another (shares their chunks).
    pub(crate) fn concat<'a>(parts: impl IntoIterator<Item = &'a Rope>) -> Self {
        let chunks: Vec<Bytes> = parts
            .into_iter()
            .flat_map(|p| p.chunks.iter().cloned())
            .collect();
        Self::from_chunks(chunks)
    }

    /// Size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The chunks covering `len` bytes from `start`, clamped to the body, the first and last
    /// sliced to the range.
    pub(crate) fn range(&self, start: u64, len: u64) -> VecDeque<Bytes> {
        let end = start.saturating_add(len).min(self.len);
        let mut out = VecDeque::new();
        let mut at = 0u64;
        for chunk in self.chunks.iter() {
            if at >= end {
                break;
            }
            let size = chunk.len() as u64;
            if at + size > start {
                let from = start.saturating_sub(at) as usize;
                let to = (end - at).min(size) as usize;
                if from < to {
                    out.push_back(chunk.slice(from..to));
                }
            }
            at += size;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(chunks: VecDeque<Bytes>) -> Vec<u8> {
        chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    #[test]
    fn ranges_cross_chunk_boundaries() {
        let a = Rope::from_chunks(vec![
            Bytes::from_static(b"abc"),
            Bytes::new(),
            Bytes::from_static(b"defg"),
        ]);
        let b = Rope::from_chunks(vec![Bytes::from_static(b"hi")]);
        let r = Rope::concat([&a, &b]);
        assert_eq!(r.len(), 9);
        assert_eq!(flat(r.range(0, 9)), b"abcdefghi");
        assert_eq!(flat(r.range(2, 3)), b"cde");
        assert_eq!(flat(r.range(3, 4)), b"defg");
        assert_eq!(flat(r.range(8, 100)), b"i");
        assert!(r.range(9, 1).is_empty());
        assert!(r.range(4, 0).is_empty());
        assert!(r.range(u64::MAX, u64::MAX).is_empty());
        assert!(Rope::default().range(0, 10).is_empty());
    }
}
