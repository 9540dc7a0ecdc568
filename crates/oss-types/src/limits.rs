//! OSS's multipart limits (protocol §5.1; GO2 `oss/defaults.go`, PY2 `defaults.py`).

/// Smallest size of every part but the last: 100 KiB. OSS checks it at Complete.
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// Largest part: 5 GiB.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Most parts in one multipart upload (part numbers are 1..=10 000).
pub const MAX_PARTS: u64 = 10_000;
