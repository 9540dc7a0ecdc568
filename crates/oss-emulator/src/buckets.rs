//! The bucket registry: which buckets exist and when they were created, and whether a bucket
//! nobody created springs into existence on first use (auto-create) or answers `NoSuchBucket`
//! like OSS.
//!
//! With a data dir the registry is one small file per bucket under `buckets/` (the file holds
//! the creation time in Unix seconds), so buckets survive restarts. A data dir written before
//! the registry existed has objects but no `buckets/` entries: every `objects/<hex name>/`
//! directory found at start is registered, so those objects stay reachable in strict mode.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::ApiError;
use crate::storage::now_unix;

/// The buckets that exist, with their creation times (Unix seconds).
#[derive(Debug)]
pub(crate) struct Buckets {
    auto_create: bool,
    dir: Option<PathBuf>,
    map: Mutex<BTreeMap<String, u64>>,
}

impl Buckets {
    /// An in-memory registry.
    pub(crate) fn memory(auto_create: bool) -> Self {
        Self {
            auto_create,
            dir: None,
            map: Mutex::new(BTreeMap::new()),
        }
    }

    /// A registry kept under `data_dir/buckets/` (created if missing).
    pub(crate) fn disk(data_dir: &Path, auto_create: bool) -> io::Result<Self> {
        let dir = data_dir.join("buckets");
        std::fs::create_dir_all(&dir)?;
        let mut map = BTreeMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if oss_types::BucketName::check(&name).is_err() {
                continue;
            }
            let created = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0);
            map.insert(name, created);
        }
        let registry = Self {
            auto_create,
            dir: Some(dir),
            map: Mutex::new(BTreeMap::new()),
        };
        let objects = data_dir.join("objects");
        if let Ok(rd) = std::fs::read_dir(&objects) {
            for entry in rd.flatten() {
                let hex_name = entry.file_name().to_string_lossy().into_owned();
                let Some(name) = unhex(&hex_name).and_then(|b| String::from_utf8(b).ok()) else {
                    continue;
                };
                if oss_types::BucketName::check(&name).is_ok() && !map.contains_key(&name) {
                    let created = now_unix();
                    registry.persist(&name, created)?;
                    map.insert(name, created);
                }
            }
        }
        *registry.lock() = map;
        Ok(registry)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, name: &str, created: u64) -> io::Result<()> {
        if let Some(dir) = &self.dir {
            std::fs::write(dir.join(name), created.to_string())?;
        }
        Ok(())
    }

    /// Creates `name` unless it exists; `true` when it was created now.
    ///
    /// # Errors
    /// The registry file could not be written.
    pub(crate) fn create(&self, name: &str) -> io::Result<bool> {
        let mut map = self.lock();
        if map.contains_key(name) {
            return Ok(false);
        }
        let created = now_unix();
        self.persist(name, created)?;
        map.insert(name.to_owned(), created);
        Ok(true)
    }

    /// Forgets `name`; `false` when it did not exist.
    ///
    /// # Errors
    /// The registry file could not be removed.
    pub(crate) fn remove(&self, name: &str) -> io::Result<bool> {
        let mut map = self.lock();
        if map.remove(name).is_none() {
            return Ok(false);
        }
        if let Some(dir) = &self.dir {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(true)
    }

    /// The creation time of `name`, if it exists.
    pub(crate) fn created(&self, name: &str) -> Option<u64> {
        self.lock().get(name).copied()
    }

    /// Every bucket, ascending by name, with its creation time.
    pub(crate) fn list(&self) -> Vec<(String, u64)> {
        self.lock().iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Ok when `name` exists, or was just created because auto-create is on; otherwise 404
    /// `NoSuchBucket`.
    ///
    /// # Errors
    /// `NoSuchBucket`, or a 500 when the registry file could not be written.
    pub(crate) fn require(&self, name: &str) -> Result<(), ApiError> {
        if self.created(name).is_some() {
            return Ok(());
        }
        if self.auto_create {
            self.create(name)?;
            return Ok(());
        }
        Err(ApiError::no_such_bucket(name))
    }
}

/// Lower-case hex back to bytes (the storage names bucket directories with it).
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_registry_refuses_unknown_buckets_and_persists_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let b = Buckets::disk(dir.path(), false).unwrap();
        assert_eq!(b.require("nope").unwrap_err().code, "NoSuchBucket");
        assert!(b.create("made").unwrap());
        assert!(!b.create("made").unwrap());
        assert!(b.require("made").is_ok());
        // Objects of a bucket written before the registry existed keep their bucket.
        std::fs::create_dir_all(dir.path().join("objects").join("6c6567616379")).unwrap();
        let again = Buckets::disk(dir.path(), false).unwrap();
        let names: Vec<String> = again.list().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["legacy", "made"]);
        assert!(again.remove("made").unwrap());
        assert!(!again.remove("made").unwrap());
        assert!(Buckets::disk(dir.path(), false)
            .unwrap()
            .created("made")
            .is_none());
    }

    #[test]
    fn auto_create_makes_the_bucket_on_first_use() {
        let b = Buckets::memory(true);
        assert!(b.require("fresh").is_ok());
        assert!(b.created("fresh").is_some());
    }
}
