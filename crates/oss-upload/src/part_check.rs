//! Re-reading the parts a checkpoint records, to catch a source edited in place: size and mtime
//! can be kept (`touch -r`, a same-second rewrite), the bytes cannot. The cost is one read of
//! the recorded parts; CRC-64 itself runs far faster than the disk.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use oss_types::Crc64;

use crate::checkpoint::CheckpointPart;
use crate::part_size::part_range;

/// How much of a part is read at once: bounded memory whatever the part size.
const CHUNK: usize = 1 << 20;

/// The numbers of the recorded `parts` whose bytes in `path` (a file of `size` bytes cut in
/// `part_size` parts) no longer have the recorded CRC-64. Blocking I/O.
///
/// # Errors
/// I/O errors reading the file (a short read counts as a mismatch, not an error).
pub(crate) fn changed_parts(
    path: &Path,
    size: u64,
    part_size: u64,
    parts: &[CheckpointPart],
) -> std::io::Result<Vec<u32>> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut changed = Vec::new();
    for part in parts {
        let (offset, len) = part_range(size, part_size, u64::from(part.number));
        file.seek(SeekFrom::Start(offset))?;
        let mut crc = Crc64::new();
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            left -= n as u64;
        }
        if left > 0 || crc.finish() != part.crc64 {
            changed.push(part.number);
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_part_is_found_and_the_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..25u8).collect();
        std::fs::write(&path, &data).unwrap();
        let part = |number: u32, bytes: &[u8]| CheckpointPart {
            number,
            etag: String::new(),
            size: bytes.len() as u64,
            crc64: Crc64::checksum(bytes),
        };
        let parts = [part(1, &data[..10]), part(3, &data[20..])];
        assert!(changed_parts(&path, 25, 10, &parts).unwrap().is_empty());
        let mut edited = data.clone();
        edited[22] ^= 1;
        std::fs::write(&path, &edited).unwrap();
        assert_eq!(changed_parts(&path, 25, 10, &parts).unwrap(), vec![3]);
        std::fs::write(&path, &data[..21]).unwrap();
        assert_eq!(changed_parts(&path, 25, 10, &parts).unwrap(), vec![3]);
    }
}
