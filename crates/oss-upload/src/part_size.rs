//! The part-size rule of the uploaders (GO2 `oss/uploader.go`, PY2 `uploader.py`); OSS's own
//! limits are in [`oss_types::limits`].

use oss_types::limits::MAX_PARTS;

/// Default part size: 6 MiB.
pub const DEFAULT_PART_SIZE: u64 = 6 * 1024 * 1024;
/// Default number of parts uploaded at the same time.
pub const DEFAULT_PARALLELISM: usize = 3;

/// The part size the uploader uses for `total` bytes (unknown when `None`), starting from
/// `part_size` (`None` → [`DEFAULT_PART_SIZE`]). A part size of 0 stays 0, which no upload
/// accepts.
///
/// When the size is known and `total / part_size >= 10 000`, the *original* part size is added
/// again and again until the quotient drops below 10 000, as the official SDKs do (so exactly
/// `10 000 × p` bytes already grows the part size).
///
/// ```
/// use oss_upload::{effective_part_size, DEFAULT_PART_SIZE};
/// assert_eq!(effective_part_size(Some(1 << 20), None), DEFAULT_PART_SIZE);
/// // 10 000 parts of 100 KiB would be exactly 10 000 parts: the size grows to 200 KiB.
/// assert_eq!(effective_part_size(Some(10_000 * 102_400), Some(102_400)), 204_800);
/// ```
pub fn effective_part_size(total: Option<u64>, part_size: Option<u64>) -> u64 {
    let base = part_size.unwrap_or(DEFAULT_PART_SIZE);
    let Some(total) = total.filter(|_| base > 0) else {
        return base;
    };
    let mut size = base;
    while total / size >= MAX_PARTS {
        size = size.saturating_add(base);
    }
    size
}

/// Number of parts `total` bytes make with parts of `part_size` (the last one may be short;
/// an empty input still makes one part).
pub fn part_count(total: u64, part_size: u64) -> u64 {
    if total == 0 || part_size == 0 {
        return 1;
    }
    total.div_ceil(part_size)
}

/// Byte range `(offset, len)` of part `number` (1-based).
pub(crate) fn part_range(total: u64, part_size: u64, number: u64) -> (u64, u64) {
    let offset = (number - 1) * part_size;
    let len = part_size.min(total.saturating_sub(offset));
    (offset, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_rule() {
        let p = DEFAULT_PART_SIZE;
        assert_eq!(effective_part_size(Some(p * 9_999), Some(p)), p);
        assert_eq!(effective_part_size(Some(p * 10_000 - 1), Some(p)), p);
        assert_eq!(effective_part_size(Some(p * 10_000), Some(p)), 2 * p);
        assert_eq!(effective_part_size(Some(p * 30_000), Some(p)), 4 * p);
        assert_eq!(effective_part_size(None, None), p);
        assert_eq!(effective_part_size(Some(p), Some(0)), 0);
        // 48.8 TiB of default parts: 10 000 parts at most.
        let total = 48 * 1024 * 1024 * 1024 * 1024u64;
        let size = effective_part_size(Some(total), None);
        assert!(part_count(total, size) <= MAX_PARTS);
        assert_eq!(size % p, 0);
    }

    #[test]
    fn ranges() {
        assert_eq!(part_count(0, 10), 1);
        assert_eq!(part_count(25, 10), 3);
        assert_eq!(part_range(25, 10, 3), (20, 5));
        assert_eq!(part_range(20, 10, 2), (10, 10));
    }
}
