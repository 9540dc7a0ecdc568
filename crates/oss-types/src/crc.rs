//! CRC-64/ECMA (the `x-oss-hash-crc64ecma` checksum; CRC-64/XZ parameters), incremental and combined.
//!
//! `crc-fast` does the SIMD work; this type adapts it to a streaming hasher and a combine
//! function, which CompleteMultipartUpload needs to derive the object's CRC from its parts.
//! [`Crc64Combiner`] precomputes the shift for one part length, so combining the parts of a
//! multipart upload (all of one size but the last) costs 64 word operations per part instead of
//! crc-fast's per-call operator derivation (see `docs/decisions.md`).

use crc_fast::{checksum_combine, CrcAlgorithm, Digest};

/// The CRC-64/XZ polynomial in reflected bit order: bit 63 is `x^0`.
const POLY_REFLECTED: u64 = 0xC96C_5795_D787_0F42;

/// `x^0` in the reflected representation.
const X0: u64 = 1 << 63;

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
    ///
    /// The shift operator is derived once per run of equal lengths, so a multipart upload's
    /// parts (one size, then a shorter last part) cost two derivations in all.
    pub fn combine_parts(parts: impl IntoIterator<Item = (u64, u64)>) -> u64 {
        let mut combiner: Option<Crc64Combiner> = None;
        parts.into_iter().fold(0, |acc, (crc, len)| {
            let c = match combiner {
                Some(c) if c.part_size == len => c,
                _ => *combiner.insert(Crc64Combiner::for_part_size(len)),
            };
            c.combine(acc, crc)
        })
    }

    /// Parses an `x-oss-hash-crc64ecma` header value (unsigned decimal, surrounding spaces
    /// allowed); `None` when it is not one.
    pub fn parse_header(value: &str) -> Option<u64> {
        value.trim().parse().ok()
    }
}

/// Combines CRC-64s of parts that all have one length: `crc(A ‖ B)` from `crc(A)` and
/// `crc(B)` with `len(B)` fixed at construction.
///
/// CRC-64 is linear over GF(2): `crc(A ‖ B) = crc(A) · x^(8·len(B)) mod P  ⊕  crc(B)` (the
/// all-ones init and xor-out cancel). The power `x^(8·len) mod P` is computed once here;
/// each [`combine`](Self::combine) is then one carry-less multiply mod `P`, 64 word steps.
///
/// ```
/// use oss_types::{Crc64, Crc64Combiner};
/// let data: Vec<u8> = (0..30u8).collect();
/// let by_ten = Crc64Combiner::for_part_size(10);
/// let crc = data
///     .chunks(10)
///     .fold(0, |acc, part| by_ten.combine(acc, Crc64::checksum(part)));
/// assert_eq!(crc, Crc64::checksum(&data));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc64Combiner {
    part_size: u64,
    shift: u64,
}

impl Crc64Combiner {
    /// The combiner for parts of `len` bytes; `len = 0` makes [`combine`](Self::combine)
    /// return `crc(A)`, as [`Crc64::combine`] does.
    pub fn for_part_size(len: u64) -> Self {
        Self {
            part_size: len,
            shift: x_pow_8n(len),
        }
    }

    /// The part length this combiner was built for, in bytes.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// `crc(A ‖ B)` from `crc(A)` and `crc(B)`, where `B` is [`part_size`](Self::part_size)
    /// bytes long (not checked: a part of another length gives a wrong CRC).
    pub fn combine(&self, crc_a: u64, crc_b: u64) -> u64 {
        if self.part_size == 0 {
            return crc_a;
        }
        mul_mod_p(self.shift, crc_a) ^ crc_b
    }
}

/// `a · b mod P` over GF(2), both in reflected order. Branch-free so the cost does not depend
/// on the CRC values.
fn mul_mod_p(a: u64, mut b: u64) -> u64 {
    let mut product = 0u64;
    for i in 0..64 {
        let bit = (a >> (63 - i)) & 1;
        product ^= b & bit.wrapping_neg();
        b = (b >> 1) ^ (POLY_REFLECTED & (b & 1).wrapping_neg());
    }
    product
}

/// `x^(8·n) mod P` by square-and-multiply: about 2·log2(n) multiplies.
fn x_pow_8n(mut n: u64) -> u64 {
    let mut power = X0;
    let mut square = X0 >> 8; // x^8: one byte
    while n != 0 {
        if n & 1 != 0 {
            power = mul_mod_p(square, power);
        }
        square = mul_mod_p(square, square);
        n >>= 1;
    }
    power
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn combiner_equals_crc_fast(crc_a: u64, crc_b: u64, len in 1u64..(1 << 40)) {
            let c = Crc64Combiner::for_part_size(len);
            prop_assert_eq!(c.combine(crc_a, crc_b), Crc64::combine(crc_a, crc_b, len));
        }

        #[test]
        fn combined_parts_equal_whole_buffer(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            part in 1usize..600,
        ) {
            let combiner = Crc64Combiner::for_part_size(part as u64);
            let mut chunks = data.chunks(part).peekable();
            let mut acc = 0;
            let mut pairs = Vec::new();
            while let Some(chunk) = chunks.next() {
                let crc = Crc64::checksum(chunk);
                pairs.push((crc, chunk.len() as u64));
                acc = if chunks.peek().is_some() || chunk.len() == part {
                    combiner.combine(acc, crc)
                } else {
                    Crc64::combine(acc, crc, chunk.len() as u64)
                };
            }
            prop_assert_eq!(acc, Crc64::checksum(&data));
            prop_assert_eq!(Crc64::combine_parts(pairs), Crc64::checksum(&data));
        }
    }

    #[test]
    fn zero_length_part_is_identity() {
        assert_eq!(Crc64Combiner::for_part_size(0).combine(42, 0), 42);
    }

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
