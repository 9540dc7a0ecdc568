//! CRC-64/ECMA as OSS computes it for `x-oss-hash-crc64ecma` (CRC-64/XZ parameters).
//!
//! The SIMD work is done by `crc-fast`; this file only adapts it to a streaming hasher and a
//! combine function (`crc(A‖B)` from `crc(A)`, `crc(B)` and `len(B)`), which CompleteMultipartUpload
//! needs to derive the whole object's CRC from its parts.

use crc_fast::{CrcAlgorithm, Digest};

/// A streaming CRC-64/ECMA hasher (reflected polynomial `0xC96C5795D7870F42`, init and xorout all
/// ones), the value OSS sends as `x-oss-hash-crc64ecma`.
#[derive(Clone)]
pub struct Crc64 {
    digest: Digest,
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &self.finish())
            .finish()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    /// A hasher over no bytes yet (its value is `0`).
    pub fn new() -> Self {
        Self {
            digest: Digest::new(CrcAlgorithm::Crc64Xz),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }

    /// The CRC of everything fed so far.
    pub fn finish(&self) -> u64 {
        self.digest.finalize()
    }
}

/// CRC-64/ECMA of `data` in one call.
pub fn checksum(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Xz, data)
}

/// `crc(A‖B)` from `crc(A)`, `crc(B)` and the length of `B` in bytes; `len_b == 0` returns `crc_a`.
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_one_shot() {
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), checksum(b"123456789"));
        assert_eq!(c.finish(), 11_051_210_869_376_104_954);
    }
}
