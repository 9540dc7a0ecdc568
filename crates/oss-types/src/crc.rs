//! CRC-64/ECMA (the `x-oss-hash-crc64ecma` checksum; CRC-64/XZ parameters), incremental and combined.
//!
//! `crc-fast` does the SIMD work; this type adapts it to a streaming hasher and a combine
//! function, which CompleteMultipartUpload needs to derive the object's CRC from its parts.

use crc_fast::{checksum_combine, CrcAlgorithm, Digest};

/// The CRC-64 OSS reports in `x-oss-hash-crc64ecma` (CRC-64/XZ: reflected polynomial
/// `0xC96C5795D7870F42`, init and xor-out all ones). Empty input gives `0`.
///
/// ```
/// use oss_types::Crc64;
/// let mut crc = Crc64::new();
/// crc.update(b"1234");
/// crc.update(b"56789");
/// assert_eq!(crc.finish(), 0x995d_c9bb_df19_39fa);
/// assert_eq!(Crc64::checksum(b"hi oss"), 8707180448768400016);
/// ```
#[derive(Clone)]
pub struct Crc64 {
    digest: Digest,
    len: u64,
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &self.finish())
            .field("len", &self.len)
            .finish()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    /// A fresh checksum (of the empty input).
    pub fn new() -> Self {
        Self {
            digest: Digest::new(CrcAlgorithm::Crc64Xz),
            len: 0,
        }
    }

    /// The checksum of `data` in one call.
    pub fn checksum(data: &[u8]) -> u64 {
        crc_fast::checksum(CrcAlgorithm::Crc64Xz, data)
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
        self.len += data.len() as u64;
    }

    /// The checksum of everything fed so far.
    pub fn finish(&self) -> u64 {
        self.digest.finalize()
    }

    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `crc(A ‖ B)` from `crc(A)`, `crc(B)` and `len(B)` (zlib's GF(2) method); `len(B) = 0`
    /// returns `crc(A)`.
    pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
        if len_b == 0 {
            return crc_a;
        }
        checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
    }

    /// Combines per-part checksums `(crc, len)` in the order given, starting from the empty input.
    pub fn combine_parts(parts: impl IntoIterator<Item = (u64, u64)>) -> u64 {
        parts
            .into_iter()
            .fold(0, |acc, (crc, len)| Self::combine(acc, crc, len))
    }

    /// Parses an `x-oss-hash-crc64ecma` header value (unsigned decimal, surrounding spaces
    /// allowed); `None` when it is not one.
    pub fn parse_header(value: &str) -> Option<u64> {
        value.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Moved from oss-upload's `crc.rs`.
    #[test]
    fn check_value_and_empty() {
        assert_eq!(Crc64::checksum(b"123456789"), 11051210869376104954);
        assert_eq!(Crc64::checksum(b""), 0);
        assert_eq!(Crc64::new().finish(), 0);
    }

    // Moved from oss-upload's `crc.rs`.
    #[test]
    fn combine_equals_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (a, b, c) = (&data[..3000], &data[3000..3001], &data[3001..]);
        let combined = Crc64::combine_parts([
            (Crc64::checksum(a), a.len() as u64),
            (Crc64::checksum(b), 1),
            (Crc64::checksum(&[]), 0),
            (Crc64::checksum(c), c.len() as u64),
        ]);
        assert_eq!(combined, Crc64::checksum(&data));
    }

    // Moved from oss-upload's `crc.rs`.
    #[test]
    fn parses_header() {
        assert_eq!(
            Crc64::parse_header(" 8707180448768400016"),
            Some(8707180448768400016)
        );
        assert_eq!(Crc64::parse_header("x"), None);
    }

    // Moved from oss-emulator's `crc64.rs`.
    #[test]
    fn streaming_equals_one_shot() {
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), Crc64::checksum(b"123456789"));
        assert_eq!(c.finish(), 11_051_210_869_376_104_954);
        assert_eq!(c.len(), 9);
    }
}
