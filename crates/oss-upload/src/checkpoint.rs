//! The resumable upload's checkpoint file: a JSON record of the upload id, the source file, the
//! object and every completed part, guarded by a magic string and an MD5 of the record, and written
//! atomically (one fixed temp file `<name>.tmp`, fsync, rename) before Initiate, right after it,
//! after every part and before Complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// Identifies an oss-rs checkpoint file (format version 2: the `initiating` and `completing`
/// marks).
pub(crate) const CHECKPOINT_MAGIC: &str =
    "oss-rs-upload-checkpoint-v2:5E0C6F0A-3D4B-4C2B-9E1A-7B7D1C9E2F11";

/// Format version 1 (no marks), still loaded: its record is a version 2 record without marks,
/// and it serialises to the same bytes, so its MD5 still checks.
const CHECKPOINT_MAGIC_V1: &str =
    "oss-rs-upload-checkpoint-v1:5E0C6F0A-3D4B-4C2B-9E1A-7B7D1C9E2F11";

/// File name extension of checkpoint files.
pub(crate) const CHECKPOINT_EXTENSION: &str = "ucp";

/// One completed part as recorded in the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPart {
    /// Part number (1-based).
    pub number: u32,
    /// ETag returned by UploadPart, with its quotes.
    pub etag: String,
    /// Part size in bytes.
    pub size: u64,
    /// CRC-64 of the part.
    pub crc64: u64,
}

/// When a request whose outcome a killed run may not have seen was sent: the local clock (Unix
/// milliseconds) and the transport's learned clock skew (server − local, milliseconds) at that
/// moment, so a later run can turn it into the server's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptMark {
    /// Local time just before the request was sent, milliseconds since the Unix epoch.
    pub started_at: u64,
    /// The clock skew learned by then (server time − local time), milliseconds.
    pub skew_ms: i64,
}

impl AttemptMark {
    /// A mark for a request about to be sent now.
    pub(crate) fn now(skew_ms: i64) -> Self {
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            started_at,
            skew_ms,
        }
    }

    /// The local start time.
    pub(crate) fn started(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_millis(self.started_at)
    }
}

/// What a checkpoint records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// Multipart upload id; empty while the `initiating` mark is set.
    pub upload_id: String,
    /// Absolute path of the source file.
    pub source_path: PathBuf,
    /// Source size in bytes.
    pub source_size: u64,
    /// Source modification time, whole seconds since the Unix epoch.
    pub source_mtime_secs: u64,
    /// Source modification time, nanoseconds within the second.
    pub source_mtime_nanos: u32,
    /// Part size in bytes.
    pub part_size: u64,
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Completed parts, in the order they completed.
    pub parts: Vec<CheckpointPart>,
    /// Set while InitiateMultipartUpload is in flight (the upload id is not known yet): a run
    /// that finds it aborts the uploads of this key that OSS initiated since then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiating: Option<AttemptMark>,
    /// Set just before CompleteMultipartUpload is sent: a run that finds it first asks OSS
    /// whether that Complete committed the object (the ambiguity rule, with this mark's start
    /// and skew), and never sends the callback twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completing: Option<AttemptMark>,
}

/// The identity of one resumable run: a checkpoint is reused only when all of this matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckpointIdentity {
    /// Absolute path of the source file.
    pub(crate) source_path: PathBuf,
    /// Source size in bytes.
    pub(crate) source_size: u64,
    /// Source modification time.
    pub(crate) source_mtime: SystemTime,
    /// Part size in bytes.
    pub(crate) part_size: u64,
    /// Bucket.
    pub(crate) bucket: String,
    /// Object key.
    pub(crate) key: String,
}

/// Why a checkpoint file was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointRejection {
    /// The file is not a valid checkpoint (not JSON, wrong magic, checksum mismatch, ...).
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
    /// The checkpoint is valid but describes another source, object or part size.
    #[error("stale checkpoint: {0}")]
    Stale(String),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    magic: String,
    md5: String,
    record: CheckpointRecord,
}

fn record_md5(record: &CheckpointRecord) -> Result<String, serde_json::Error> {
    Ok(hex::encode(Md5::digest(serde_json::to_vec(record)?)))
}

fn split_mtime(t: SystemTime) -> (u64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs(), d.subsec_nanos()),
        Err(_) => (0, 0),
    }
}

impl CheckpointRecord {
    /// A record written before Initiate: no upload id yet, the `initiating` mark set.
    pub(crate) fn initiating(identity: &CheckpointIdentity, mark: AttemptMark) -> Self {
        Self {
            initiating: Some(mark),
            ..Self::new(identity, "")
        }
    }

    /// A record for a new upload with no part done yet.
    pub(crate) fn new(identity: &CheckpointIdentity, upload_id: impl Into<String>) -> Self {
        let (secs, nanos) = split_mtime(identity.source_mtime);
        Self {
            initiating: None,
            completing: None,
            upload_id: upload_id.into(),
            source_path: identity.source_path.clone(),
            source_size: identity.source_size,
            source_mtime_secs: secs,
            source_mtime_nanos: nanos,
            part_size: identity.part_size,
            bucket: identity.bucket.clone(),
            key: identity.key.clone(),
            parts: Vec::new(),
        }
    }

    /// Checks that this record belongs to the run described by `identity`.
    ///
    /// # Errors
    /// [`CheckpointRejection::Stale`] naming the first field that differs, or
    /// [`CheckpointRejection::Corrupt`] when the record is self-inconsistent.
    pub(crate) fn check(&self, identity: &CheckpointIdentity) -> Result<(), CheckpointRejection> {
        let stale = |what: &str| Err(CheckpointRejection::Stale(format!("{what} differs")));
        if self.upload_id.is_empty() != self.initiating.is_some() {
            return Err(CheckpointRejection::Corrupt(
                "an upload id or an initiating mark, not both nor neither".into(),
            ));
        }
        if self.source_path != identity.source_path {
            return stale("source path");
        }
        if self.source_size != identity.source_size {
            return stale("source size");
        }
        if (self.source_mtime_secs, self.source_mtime_nanos) != split_mtime(identity.source_mtime) {
            return stale("source modification time");
        }
        if self.part_size != identity.part_size {
            return stale("part size");
        }
        if self.bucket != identity.bucket || self.key != identity.key {
            return stale("object");
        }
        let count = crate::part_size::part_count(self.source_size, self.part_size);
        for part in &self.parts {
            let expected = if u64::from(part.number) == 0 || u64::from(part.number) > count {
                None
            } else {
                Some(
                    crate::part_size::part_range(
                        self.source_size,
                        self.part_size,
                        u64::from(part.number),
                    )
                    .1,
                )
            };
            if expected != Some(part.size) {
                return Err(CheckpointRejection::Corrupt(format!(
                    "part {} has an impossible size {}",
                    part.number, part.size
                )));
            }
        }
        Ok(())
    }

    /// Records a completed part (replacing an earlier record of the same number).
    pub(crate) fn add_part(&mut self, part: CheckpointPart) {
        self.parts.retain(|p| p.number != part.number);
        self.parts.push(part);
    }
}

/// Where the checkpoint of uploading `source` to `oss://bucket/key` lives.
///
/// - With `dir`: `dir/<md5(source)>-<md5(oss://bucket/key)>.ucp`.
/// - Without: `<source>.ucp` beside the source file when that directory is writable, else the same
///   hashed name in the system temp directory.
pub(crate) fn checkpoint_path(
    source: &Path,
    bucket: &str,
    key: &str,
    dir: Option<&Path>,
) -> PathBuf {
    let hashed = || {
        format!(
            "{}-{}.{CHECKPOINT_EXTENSION}",
            hex::encode(Md5::digest(source.to_string_lossy().as_bytes())),
            hex::encode(Md5::digest(format!("oss://{bucket}/{key}").as_bytes()))
        )
    };
    if let Some(dir) = dir {
        return dir.join(hashed());
    }
    if let (Some(parent), Some(name)) = (source.parent(), source.file_name()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if dir_is_writable(parent) {
            let mut file = name.to_os_string();
            file.push(".");
            file.push(CHECKPOINT_EXTENSION);
            return parent.join(file);
        }
    }
    std::env::temp_dir().join(hashed())
}

/// `path` with `suffix` appended to its file name (`x.ucp` → `x.ucp.tmp`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// The one temp file of the checkpoint at `path`. Fixed, not per process: only the holder of
/// the checkpoint's lock writes it, and a run removes a killed run's leftover at start
/// ([`remove_leftovers`]).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    sibling(path, ".tmp")
}

/// Removes what a killed run may have left beside the checkpoint at `path`: its temp file, and
/// the temp files of the pre-version-2 naming (`<name>.tmp-<pid>-<n>`). Call with the lock held.
pub(crate) fn remove_leftovers(path: &Path) {
    let _ = fs::remove_file(temp_path(path));
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut prefix = name.to_os_string();
    prefix.push(".tmp-");
    let prefix = prefix.to_string_lossy().into_owned();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let old_style = file.strip_prefix(&prefix).is_some_and(|rest| {
            let mut it = rest.splitn(2, '-');
            let (Some(pid), Some(n)) = (it.next(), it.next()) else {
                return false;
            };
            pid.parse::<u32>().is_ok() && n.parse::<u64>().is_ok()
        });
        if old_style {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Tells concurrent probes of one process apart.
static PROBE_COUNTER: AtomicU64 = AtomicU64::new(0);

fn dir_is_writable(dir: &Path) -> bool {
    let n = PROBE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let probe = dir.join(format!(".oss-upload-probe-{}-{n}", std::process::id()));
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

/// Reads and validates the checkpoint at `path`.
///
/// Returns `Ok(None)` when there is no file, `Ok(Some(Err(rejection)))` when it exists but is
/// not a valid checkpoint, and `Ok(Some(Ok(record)))` otherwise (check it against the run with
/// [`CheckpointRecord::check`]).
///
/// # Errors
/// I/O errors other than "not found".
#[cfg(test)]
pub(crate) fn load(
    path: &Path,
) -> std::io::Result<Option<Result<CheckpointRecord, CheckpointRejection>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(parse(&bytes)))
}

/// Parses and validates checkpoint file content.
///
/// # Errors
/// [`CheckpointRejection::Corrupt`] when the text is not a checkpoint or its checksum differs.
pub(crate) fn parse(bytes: &[u8]) -> Result<CheckpointRecord, CheckpointRejection> {
    let corrupt = |m: String| CheckpointRejection::Corrupt(m);
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not a checkpoint: {e}")))?;
    if envelope.magic != CHECKPOINT_MAGIC && envelope.magic != CHECKPOINT_MAGIC_V1 {
        return Err(corrupt("wrong magic".into()));
    }
    let md5 = record_md5(&envelope.record).map_err(|e| corrupt(e.to_string()))?;
    if md5 != envelope.md5 {
        return Err(corrupt("checksum mismatch".into()));
    }
    Ok(envelope.record)
}

/// Serialises `record` as checkpoint file content.
///
/// # Errors
/// Serialisation errors (none occur for valid records).
pub(crate) fn render(record: &CheckpointRecord) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Envelope {
        magic: CHECKPOINT_MAGIC.to_owned(),
        md5: record_md5(record)?,
        record: record.clone(),
    })
}

/// Writes `record` to `path` atomically: the temp file [`temp_path`], fsync, rename over `path`,
/// then (best effort) fsync of the directory. A crash leaves either the old or the new file (and
/// perhaps the temp file, which the next run removes). Only the lock holder calls this.
///
/// # Errors
/// I/O errors; the temp file is removed on failure.
pub(crate) fn save(path: &Path, record: &CheckpointRecord) -> std::io::Result<()> {
    let bytes = render(record).map_err(std::io::Error::other)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    if let Some(parent) = path.parent() {
        if let Ok(dir) = fs::File::open(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        }) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Removes the checkpoint at `path`; a missing file is fine.
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

    fn identity() -> CheckpointIdentity {
        CheckpointIdentity {
            source_path: "/data/file.bin".into(),
            source_size: 250,
            source_mtime: UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 5),
            part_size: 100,
            bucket: "b".into(),
            key: "k/x".into(),
        }
    }

    #[test]
    fn roundtrip_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ucp");
        let mut record = CheckpointRecord::new(&identity(), "UP1");
        record.add_part(CheckpointPart {
            number: 3,
            etag: "\"E3\"".into(),
            size: 50,
            crc64: 9,
        });
        save(&path, &record).unwrap();
        let loaded = load(&path).unwrap().unwrap().unwrap();
        assert_eq!(loaded, record);
        loaded.check(&identity()).unwrap();
        let mut other = identity();
        other.source_size = 251;
        assert!(matches!(
            loaded.check(&other),
            Err(CheckpointRejection::Stale(_))
        ));
        let mut other = identity();
        other.source_mtime += std::time::Duration::from_nanos(1);
        assert!(matches!(
            loaded.check(&other),
            Err(CheckpointRejection::Stale(_))
        ));
        // only the final file remains
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert!(load(&path).unwrap().is_none());
    }

    #[test]
    fn corrupt_files() {
        let record = CheckpointRecord::new(&identity(), "UP1");
        let text = String::from_utf8(render(&record).unwrap()).unwrap();
        assert!(matches!(parse(b"{"), Err(CheckpointRejection::Corrupt(_))));
        let tampered = text.replace("UP1", "UP2");
        assert_eq!(
            parse(tampered.as_bytes()),
            Err(CheckpointRejection::Corrupt("checksum mismatch".into()))
        );
        let wrong_magic = text.replace("oss-rs-upload-checkpoint-v2", "other");
        assert_eq!(
            parse(wrong_magic.as_bytes()),
            Err(CheckpointRejection::Corrupt("wrong magic".into()))
        );
        let mut bad = record.clone();
        bad.parts.push(CheckpointPart {
            number: 1,
            etag: "e".into(),
            size: 7,
            crc64: 0,
        });
        assert!(matches!(
            bad.check(&identity()),
            Err(CheckpointRejection::Corrupt(_))
        ));
    }

    #[test]
    fn version_1_files_still_load_and_marks_roundtrip() {
        // A version 1 file: the same record without marks (which a record without marks does
        // not serialise either, so the MD5 over its bytes is the one version 1 wrote).
        let mut record = CheckpointRecord::new(&identity(), "UP1");
        record.add_part(CheckpointPart {
            number: 1,
            etag: "\"E1\"".into(),
            size: 100,
            crc64: 7,
        });
        let record_text = String::from_utf8(serde_json::to_vec(&record).unwrap()).unwrap();
        assert!(!record_text.contains("initiating") && !record_text.contains("completing"));
        let v1 = format!(
            r#"{{"magic":"{CHECKPOINT_MAGIC_V1}","md5":"{}","record":{record_text}}}"#,
            hex::encode(Md5::digest(record_text.as_bytes()))
        );
        let loaded = parse(v1.as_bytes()).unwrap();
        assert_eq!(loaded, record);
        loaded.check(&identity()).unwrap();

        let mark = AttemptMark {
            started_at: 1_700_000_123_456,
            skew_ms: -1500,
        };
        let mut completing = record.clone();
        completing.completing = Some(mark);
        let parsed = parse(&render(&completing).unwrap()).unwrap();
        assert_eq!(parsed.completing, Some(mark));
        let initiating = CheckpointRecord::initiating(&identity(), mark);
        let parsed = parse(&render(&initiating).unwrap()).unwrap();
        assert_eq!(parsed.initiating, Some(mark));
        parsed.check(&identity()).unwrap();
        let mut both = parsed;
        both.upload_id = "UP2".into();
        assert!(matches!(
            both.check(&identity()),
            Err(CheckpointRejection::Corrupt(_))
        ));
    }

    #[test]
    fn leftover_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin.ucp");
        let record = CheckpointRecord::new(&identity(), "UP1");
        save(&path, &record).unwrap();
        std::fs::write(temp_path(&path), b"half").unwrap();
        std::fs::write(sibling(&path, ".tmp-123-4"), b"old").unwrap();
        std::fs::write(dir.path().join("x.bin.ucp.tmp-notes"), b"keep").unwrap();
        std::fs::write(dir.path().join("other.ucp.tmp-1-2"), b"keep").unwrap();
        remove_leftovers(&path);
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["other.ucp.tmp-1-2", "x.bin.ucp", "x.bin.ucp.tmp-notes"]
        );
        // A save over a leftover temp file works (the name is fixed).
        std::fs::write(temp_path(&path), b"half").unwrap();
        save(&path, &record).unwrap();
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn default_location() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("movie.mp4");
        assert_eq!(
            checkpoint_path(&src, "b", "k", None),
            dir.path().join("movie.mp4.ucp")
        );
        let other = checkpoint_path(&src, "b", "k", Some(Path::new("/ckpt")));
        assert!(other.starts_with("/ckpt"));
        assert_eq!(other.extension().unwrap(), "ucp");
        let missing = checkpoint_path(Path::new("/nonexistent-dir-xyz/a.bin"), "b", "k", None);
        assert!(missing.starts_with(std::env::temp_dir()));
    }
}
