//! The advisory lock that keeps two runs from driving one checkpoint's upload at once: a
//! `<checkpoint>.lock` file held with [`std::fs::File::try_lock`] for the whole run, holding the
//! holder's process id so that the second run can say who it is waiting for.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::checkpoint::sibling;
use crate::Error;

/// How often acquiring retries when the lock file it locked was removed by its previous holder
/// in the meantime (then the lock guards nothing; see [`CheckpointLock::acquire`]).
const ACQUIRE_ATTEMPTS: usize = 8;

/// A held checkpoint lock; released (and its file removed) on drop.
#[derive(Debug)]
pub(crate) struct CheckpointLock {
    file: Option<fs::File>,
    path: PathBuf,
}

/// The lock file of the checkpoint at `checkpoint`.
pub(crate) fn lock_path(checkpoint: &Path) -> PathBuf {
    sibling(checkpoint, ".lock")
}

impl CheckpointLock {
    /// Takes the lock of the checkpoint at `checkpoint` without waiting (blocking I/O: run it
    /// off the async threads).
    ///
    /// The holder removes the lock file when it is done, so a run that opened the file just
    /// before may lock an unlinked file. It therefore checks, once locked, that the path still
    /// names the file it locked, and starts over if not: the lock is only ever held on the file
    /// the path names, so two holders cannot exist.
    ///
    /// # Errors
    /// [`Error::CheckpointLocked`] when another run holds it; [`Error::Checkpoint`] (naming the
    /// lock file) for I/O errors.
    pub(crate) fn acquire(checkpoint: &Path) -> Result<Self, Error> {
        let path = lock_path(checkpoint);
        let io = |source: std::io::Error| Error::Checkpoint {
            path: path.clone(),
            source,
        };
        for _ in 0..ACQUIRE_ATTEMPTS {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::CheckpointLocked {
                        pid: read_pid(&path),
                        lock: path,
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            if !names_same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            writeln!(file, "{}", std::process::id()).map_err(io)?;
            return Ok(Self {
                file: Some(file),
                path,
            });
        }
        Err(io(std::io::Error::other(
            "the lock file kept being replaced while locking it",
        )))
    }
}

impl Drop for CheckpointLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody can lock this file after it is unlinked
        // without noticing (see `acquire`). Where that cannot be checked, the file stays.
        if cfg!(unix) {
            let _ = fs::remove_file(&self.path);
        }
        drop(self.file.take());
    }
}

/// The process id written by the holder, when readable (it is written right after locking, so
/// a run that comes between may find the file empty).
fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(unix)]
fn names_same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names_same_file(_file: &fs::File, _path: &Path) -> bool {
    // The file is never removed on these platforms, so it is always the one the path names.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_pid_and_the_lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("a.bin.ucp");
        let first = CheckpointLock::acquire(&ckpt).unwrap();
        let lock = lock_path(&ckpt);
        assert_eq!(
            fs::read_to_string(&lock).unwrap().trim(),
            std::process::id().to_string()
        );
        match CheckpointLock::acquire(&ckpt) {
            Err(Error::CheckpointLocked { lock: l, pid }) => {
                assert_eq!(l, lock);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("expected CheckpointLocked, got {other:?}"),
        }
        drop(first);
        if cfg!(unix) {
            assert!(!lock.exists(), "the lock file is removed on release");
        }
        let again = CheckpointLock::acquire(&ckpt).unwrap();
        drop(again);
    }
}
