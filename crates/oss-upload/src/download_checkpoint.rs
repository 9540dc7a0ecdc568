//! The checkpoint of a resumable download: which ranges of the temp file hold verified bytes.
//!
//! Named like the official downloaders' (`<md5hex(src)>-<md5hex(abs temp path)>.dcp`, spec
//! §5.2) and guarded the same way: a magic, an MD5 of the record, and the object's identity
//! (size, ETag), the temp file and the part size must all be unchanged to resume. Unlike theirs
//! it records each finished range with its CRC-64 rather than one in-order offset, because the
//! ranges finish out of order when they run in parallel.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

const MAGIC: &str = "92611BED-89E2-46B6-89E5-72F273D4B0A3";

/// One range already on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DoneRange {
    /// 0-based range index (`index × part_size` is its offset).
    pub(crate) index: u64,
    /// CRC-64 of its bytes.
    pub(crate) crc64: u64,
}

/// What a download checkpoint records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DownloadRecord {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) size: u64,
    pub(crate) etag: String,
    pub(crate) temp_path: PathBuf,
    pub(crate) part_size: u64,
    pub(crate) done: Vec<DoneRange>,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(rename = "Magic")]
    magic: String,
    #[serde(rename = "MD5")]
    md5: String,
    #[serde(rename = "Data")]
    data: DownloadRecord,
}

fn record_md5(record: &DownloadRecord) -> Result<String, serde_json::Error> {
    Ok(hex::encode(Md5::digest(serde_json::to_vec(record)?)))
}

/// Where the checkpoint of `bucket/key` into `temp_path` lives inside `dir`.
pub(crate) fn path(dir: &Path, bucket: &str, key: &str, temp_path: &Path) -> PathBuf {
    let src = format!("oss://{bucket}/{key}\n\n");
    dir.join(format!(
        "{}-{}.dcp",
        hex::encode(Md5::digest(src.as_bytes())),
        hex::encode(Md5::digest(temp_path.to_string_lossy().as_bytes()))
    ))
}

impl DownloadRecord {
    /// Why this record cannot resume a download of `fresh` (same fields, nothing done), if it can't.
    pub(crate) fn mismatch(&self, fresh: &DownloadRecord) -> Option<String> {
        let same = self.bucket == fresh.bucket
            && self.key == fresh.key
            && self.temp_path == fresh.temp_path;
        if !same {
            return Some("it names another object or file".into());
        }
        if self.size != fresh.size || self.etag != fresh.etag {
            return Some("the object changed since the checkpoint was written".into());
        }
        if self.part_size != fresh.part_size {
            return Some("the part size differs".into());
        }
        let parts = fresh.size.div_ceil(fresh.part_size.max(1));
        if self.done.iter().any(|d| d.index >= parts) {
            return Some("it records a range past the end of the object".into());
        }
        None
    }
}

/// Reads the checkpoint at `path`: `Ok(None)` when absent, `Ok(Some(Err(why)))` when unusable.
///
/// # Errors
/// I/O errors other than "not found".
pub(crate) fn load(path: &Path) -> std::io::Result<Option<Result<DownloadRecord, String>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let parsed = serde_json::from_slice::<Envelope>(&bytes)
        .map_err(|e| format!("not a download checkpoint: {e}"))
        .and_then(|env| {
            if env.magic != MAGIC {
                return Err("wrong magic".into());
            }
            match record_md5(&env.data) {
                Ok(md5) if md5 == env.md5 => Ok(env.data),
                _ => Err("checksum mismatch".into()),
            }
        });
    Ok(Some(parsed))
}

/// Writes `record` atomically (temp file, fsync, rename): a crash leaves the old or the new one.
///
/// # Errors
/// I/O errors; the temp file is removed on failure.
pub(crate) fn save(path: &Path, record: &DownloadRecord) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(&Envelope {
        magic: MAGIC.to_owned(),
        md5: record_md5(record).map_err(std::io::Error::other)?,
        data: record.clone(),
    })
    .map_err(std::io::Error::other)?;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes the checkpoint; a missing file is fine.
///
/// # Errors
/// I/O errors other than "not found".
pub(crate) fn remove(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DownloadRecord {
        DownloadRecord {
            bucket: "b".into(),
            key: "k".into(),
            size: 10,
            etag: "\"e\"".into(),
            temp_path: "/tmp/x.temp".into(),
            part_size: 4,
            done: vec![DoneRange { index: 1, crc64: 7 }],
        }
    }

    #[test]
    fn roundtrip_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "b", "k", Path::new("/tmp/x.temp"));
        assert!(p.to_string_lossy().ends_with(".dcp"));
        assert!(load(&p).unwrap().is_none());
        save(&p, &record()).unwrap();
        let back = load(&p).unwrap().unwrap().unwrap();
        assert_eq!(back, record());
        let mut fresh = record();
        fresh.done.clear();
        assert_eq!(back.mismatch(&fresh), None);
        fresh.etag = "\"other\"".into();
        assert!(back.mismatch(&fresh).unwrap().contains("changed"));
        let mut fresh = record();
        fresh.part_size = 5;
        assert!(back.mismatch(&fresh).is_some());
        let text = fs::read_to_string(&p).unwrap().replace("\"k\"", "\"z\"");
        fs::write(&p, text).unwrap();
        assert_eq!(load(&p).unwrap().unwrap().unwrap_err(), "checksum mismatch");
        remove(&p).unwrap();
        remove(&p).unwrap();
    }
}
