//! On-disk storage under the data dir, committed atomically per key.
//!
//! Layout: `objects/<hex bucket>/<md5 hex of key>.json` is the object's sidecar
//! ([`ObjectMeta`] plus the name of its data file) and `<md5 hex>.<version>.data` its bytes, one
//! file per version; `uploads/<upload id>/upload.json`, `part-<n>.json` and
//! `part-<n>.<version>.data` likewise; `tmp/` holds bodies and sidecars being written. File names
//! never contain the key, so any UTF-8 key (spaces, `+`, `%`, `//`, `..`) is safe.
//!
//! A commit is: the body, fully written and fsynced in `tmp/`, is renamed to a data file name
//! no other write uses; the sidecar naming it is written to `tmp/` and fsynced; then, under the
//! key's lock, the sidecar is renamed over the old one (the one atomic step that switches
//! versions) and the data file the old sidecar named is removed. A reader reads the sidecar and
//! opens the data file it names, so it gets one version's metadata and bytes together; a reader
//! that already opened the old data file keeps reading it after it is unlinked. A crash at any
//! step leaves the old sidecar (old object whole) or the new one (new object whole); data files
//! no sidecar names are removed at the next start.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{ObjectMeta, PartMeta, StoredBody, TempPath, UploadMeta};

/// How often a reader re-reads a sidecar whose data file was replaced between the two reads.
const OPEN_ATTEMPTS: usize = 16;
/// Independent commit locks; keys hash onto them.
const LOCK_STRIPES: usize = 64;

/// Test hook: `OSS_EMULATOR_CRASH_AT=<step>` aborts the process at that step of an object
/// commit, to prove a crash there leaves a whole object (old or new).
pub(crate) const CRASH_ENV: &str = "OSS_EMULATOR_CRASH_AT";

/// The steps [`CRASH_ENV`] can name, in commit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashAt {
    /// The new data file is in place, no sidecar names it yet.
    DataPlaced,
    /// The new sidecar is written to `tmp/`, not yet renamed over the old one.
    SidecarWritten,
    /// The new sidecar is committed, the old data file not yet removed.
    SidecarRenamed,
}

impl CrashAt {
    fn from_env() -> Option<Self> {
        match std::env::var(CRASH_ENV).ok()?.as_str() {
            "after-data" => Some(CrashAt::DataPlaced),
            "after-sidecar-temp" => Some(CrashAt::SidecarWritten),
            "after-commit" => Some(CrashAt::SidecarRenamed),
            _ => None,
        }
    }
}

/// A sidecar on disk: the metadata and the data file holding this version's bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Sidecar<M> {
    #[serde(flatten)]
    meta: M,
    /// File name (in the sidecar's directory). `None` in data dirs written before versioned
    /// data files: the bytes are then in `<base>.data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_file: Option<String>,
}

/// Storage rooted at a data dir.
#[derive(Debug)]
pub(crate) struct DiskStore {
    root: PathBuf,
    counter: AtomicU64,
    locks: Vec<Mutex<()>>,
    crash_at: Option<CrashAt>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

/// Removes a file that may already be gone.
async fn remove_quietly(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if !not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Makes renames in `dir` durable (best effort: not every platform can open a directory).
async fn sync_dir(dir: &Path) {
    let dir = dir.to_owned();
    let _ = tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all()).await;
}

/// Removes data files that no sidecar in `dir` names (leftovers of a crash mid-commit).
/// `prefix` limits the sweep (`part-` in an upload dir).
fn collect_garbage(dir: &Path, prefix: &str) -> io::Result<usize> {
    let mut referenced = HashSet::new();
    let mut data = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        if let Some(base) = name.strip_suffix(".json") {
            let bytes = std::fs::read(entry.path())?;
            // A sidecar that does not parse names nothing we could serve anyway.
            if let Ok(s) = serde_json::from_slice::<Sidecar<serde_json::Value>>(&bytes) {
                referenced.insert(s.data_file.unwrap_or_else(|| format!("{base}.data")));
            }
        } else if name.ends_with(".data") {
            data.push((name, entry.path()));
        }
    }
    let mut removed = 0;
    for (name, path) in data {
        if !referenced.contains(&name) {
            std::fs::remove_file(path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

impl DiskStore {
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        for sub in ["objects", "uploads", "tmp"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        // Leftovers of a crash are never part of an object.
        for entry in std::fs::read_dir(root.join("tmp"))? {
            let _ = std::fs::remove_file(entry?.path());
        }
        let mut removed = 0;
        for entry in std::fs::read_dir(root.join("objects"))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                removed += collect_garbage(&entry.path(), "")?;
            }
        }
        for entry in std::fs::read_dir(root.join("uploads"))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                removed += collect_garbage(&entry.path(), "part-")?;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed data files no object refers to");
        }
        Ok(Self {
            root: root.to_owned(),
            counter: AtomicU64::new(0),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            crash_at: CrashAt::from_env(),
        })
    }

    fn crash_if(&self, step: CrashAt) {
        if self.crash_at == Some(step) {
            tracing::error!(?step, "{CRASH_ENV}: aborting mid-commit");
            std::process::abort();
        }
    }

    /// The commit lock of one sidecar path.
    fn lock_for(&self, sidecar: &Path) -> &Mutex<()> {
        let digest = Md5::digest(sidecar.as_os_str().as_encoded_bytes());
        &self.locks[digest[0] as usize % LOCK_STRIPES]
    }

    /// A name unique to this store's lifetime and, through the random part, across restarts.
    fn unique(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}-{:016x}", std::process::id(), rand::random::<u64>())
    }

    /// `(directory, base name)` of an object's files.
    fn object_base(&self, bucket: &str, key: &str) -> (PathBuf, String) {
        let digest = Md5::digest(key.as_bytes());
        (
            self.root.join("objects").join(hex(bucket.as_bytes())),
            hex(&digest),
        )
    }

    fn upload_dir(&self, id: &str) -> io::Result<PathBuf> {
        if !valid_id(id) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "bad upload id"));
        }
        Ok(self.root.join("uploads").join(id))
    }

    pub(crate) async fn temp_file(&self) -> io::Result<(tokio::fs::File, TempPath)> {
        let path = self.root.join("tmp").join(self.unique());
        let file = tokio::fs::File::create(&path).await?;
        Ok((file, TempPath(Some(path))))
    }

    /// Writes `bytes` to a fsynced temp file, ready to be renamed into place.
    async fn temp_with(&self, bytes: &[u8]) -> io::Result<TempPath> {
        let (mut f, tmp) = self.temp_file().await?;
        f.write_all(bytes).await?;
        f.flush().await?;
        f.sync_all().await?;
        Ok(tmp)
    }

    /// Commits a new version: `data` becomes `<base>.<version>.data`, then the sidecar
    /// `<base>.json` naming it replaces the old one, then the old version's data is removed.
    async fn commit<M: Serialize>(
        &self,
        dir: &Path,
        base: &str,
        meta: &M,
        data: TempPath,
        crash_points: bool,
    ) -> io::Result<()> {
        tokio::fs::create_dir_all(dir).await?;
        let data_name = format!("{base}.{}.data", self.unique());
        let src = data.path().map(Path::to_owned).unwrap_or_default();
        tokio::fs::rename(&src, dir.join(&data_name)).await?;
        data.keep();
        // The new name must be durable before a sidecar can point at it.
        sync_dir(dir).await;
        if crash_points {
            self.crash_if(CrashAt::DataPlaced);
        }
        let json = serde_json::to_vec(&Sidecar {
            meta,
            data_file: Some(data_name.clone()),
        })?;
        let sidecar_tmp = match self.temp_with(&json).await {
            Ok(t) => t,
            Err(e) => {
                let _ = remove_quietly(&dir.join(&data_name)).await;
                return Err(e);
            }
        };
        if crash_points {
            self.crash_if(CrashAt::SidecarWritten);
        }
        let sidecar = dir.join(format!("{base}.json"));
        {
            // Writers of one key take turns from reading the old sidecar to removing its data,
            // so every replaced version's data is removed exactly once.
            let _turn = self.lock_for(&sidecar).lock().await;
            let old = self.data_file_of(dir, base).await;
            let src = sidecar_tmp.path().map(Path::to_owned).unwrap_or_default();
            if let Err(e) = tokio::fs::rename(&src, &sidecar).await {
                let _ = remove_quietly(&dir.join(&data_name)).await;
                return Err(e);
            }
            sidecar_tmp.keep();
            if crash_points {
                self.crash_if(CrashAt::SidecarRenamed);
            }
            if let Some(old) = old.filter(|o| *o != data_name) {
                // Readers that opened it keep their handle; later readers see the new sidecar.
                // The commit has happened: a file that cannot be removed now (Windows, while a
                // reader has it open) is only garbage, collected at the next start.
                if let Err(e) = remove_quietly(&dir.join(old)).await {
                    tracing::warn!(error = %e, "could not remove a replaced version's data");
                }
            }
        }
        sync_dir(dir).await;
        Ok(())
    }

    /// The data file the current sidecar `<base>.json` names, if there is one.
    async fn data_file_of(&self, dir: &Path, base: &str) -> Option<String> {
        let bytes = tokio::fs::read(dir.join(format!("{base}.json")))
            .await
            .ok()?;
        let s: Sidecar<serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
        Some(s.data_file.unwrap_or_else(|| format!("{base}.data")))
    }

    async fn read_sidecar<M: for<'de> Deserialize<'de>>(
        dir: &Path,
        base: &str,
    ) -> io::Result<Option<(M, String)>> {
        match tokio::fs::read(dir.join(format!("{base}.json"))).await {
            Ok(bytes) => {
                let s: Sidecar<M> = serde_json::from_slice(&bytes)?;
                let data = s.data_file.unwrap_or_else(|| format!("{base}.data"));
                Ok(Some((s.meta, data)))
            }
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads a sidecar and opens the data file it names, as one version. If a commit replaced
    /// and removed that file between the two steps, the newer sidecar is read again.
    async fn open_version<M: for<'de> Deserialize<'de>>(
        dir: &Path,
        base: &str,
    ) -> io::Result<Option<(M, tokio::fs::File)>> {
        for _ in 0..OPEN_ATTEMPTS {
            let Some((meta, data)) = Self::read_sidecar::<M>(dir, base).await? else {
                return Ok(None);
            };
            match tokio::fs::File::open(dir.join(&data)).await {
                Ok(f) => return Ok(Some((meta, f))),
                Err(e) if not_found(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "object replaced faster than it could be opened",
        ))
    }

    pub(crate) async fn put_object(
        &self,
        bucket: &str,
        meta: &ObjectMeta,
        data: TempPath,
    ) -> io::Result<()> {
        let (dir, base) = self.object_base(bucket, &meta.key);
        self.commit(&dir, &base, meta, data, true).await
    }

    pub(crate) async fn head(&self, bucket: &str, key: &str) -> io::Result<Option<ObjectMeta>> {
        let (dir, base) = self.object_base(bucket, key);
        Ok(Self::read_sidecar::<ObjectMeta>(&dir, &base)
            .await?
            .map(|(m, _)| m)
            .filter(|m| m.key == key))
    }

    pub(crate) async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> io::Result<Option<(ObjectMeta, StoredBody)>> {
        let (dir, base) = self.object_base(bucket, key);
        Ok(Self::open_version::<ObjectMeta>(&dir, &base)
            .await?
            .filter(|(m, _)| m.key == key)
            .map(|(m, f)| (m, StoredBody::File(f))))
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> io::Result<bool> {
        let (dir, base) = self.object_base(bucket, key);
        let sidecar = dir.join(format!("{base}.json"));
        let _turn = self.lock_for(&sidecar).lock().await;
        if self.head(bucket, key).await?.is_none() {
            return Ok(false);
        }
        let data = self.data_file_of(&dir, &base).await;
        remove_quietly(&sidecar).await?;
        if let Some(data) = data {
            remove_quietly(&dir.join(data)).await?;
        }
        Ok(true)
    }

    pub(crate) async fn create_upload(&self, meta: &UploadMeta) -> io::Result<()> {
        let dir = self.upload_dir(&meta.upload_id)?;
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = self.temp_with(&serde_json::to_vec(meta)?).await?;
        let src = tmp.path().map(Path::to_owned).unwrap_or_default();
        tokio::fs::rename(&src, dir.join("upload.json")).await?;
        tmp.keep();
        Ok(())
    }

    pub(crate) async fn upload(&self, id: &str) -> io::Result<Option<UploadMeta>> {
        let Ok(dir) = self.upload_dir(id) else {
            return Ok(None);
        };
        match tokio::fs::read(dir.join("upload.json")).await {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn put_part(
        &self,
        id: &str,
        part: &PartMeta,
        data: TempPath,
    ) -> io::Result<()> {
        let dir = self.upload_dir(id)?;
        if tokio::fs::metadata(dir.join("upload.json")).await.is_err() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "upload vanished"));
        }
        let base = format!("part-{}", part.part_number);
        self.commit(&dir, &base, part, data, false).await
    }

    pub(crate) async fn parts(&self, id: &str) -> io::Result<Vec<PartMeta>> {
        let dir = self.upload_dir(id)?;
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = rd.next_entry().await? {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(base) = name
                .strip_suffix(".json")
                .filter(|b| b.starts_with("part-"))
            {
                if let Some((meta, _)) = Self::read_sidecar::<PartMeta>(&dir, base).await? {
                    out.push(meta);
                }
            }
        }
        out.sort_by_key(|p| p.part_number);
        Ok(out)
    }

    /// The body of `part`, as long as that part (same ETag) is still the stored one.
    pub(crate) async fn part_body(&self, id: &str, part: &PartMeta) -> io::Result<StoredBody> {
        let dir = self.upload_dir(id)?;
        let base = format!("part-{}", part.part_number);
        match Self::open_version::<PartMeta>(&dir, &base).await? {
            Some((meta, f)) if meta.etag == part.etag && meta.size == part.size => {
                Ok(StoredBody::File(f))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "part replaced or removed",
            )),
        }
    }

    /// Reads every object sidecar of `bucket` (an emulator lists by scanning).
    pub(crate) async fn list_objects(&self, bucket: &str) -> io::Result<Vec<ObjectMeta>> {
        let dir = self.root.join("objects").join(hex(bucket.as_bytes()));
        let mut out = Vec::new();
        let mut rd = match tokio::fs::read_dir(&dir).await {
            Ok(rd) => rd,
            Err(e) if not_found(&e) => return Ok(out),
            Err(e) => return Err(e),
        };
        while let Some(entry) = rd.next_entry().await? {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(base) = name.strip_suffix(".json") {
                if let Some((meta, _)) = Self::read_sidecar::<ObjectMeta>(&dir, base).await? {
                    out.push(meta);
                }
            }
        }
        Ok(out)
    }

    /// Reads every upload record and keeps those of `bucket`.
    pub(crate) async fn list_uploads(&self, bucket: &str) -> io::Result<Vec<UploadMeta>> {
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(self.root.join("uploads")).await?;
        while let Some(entry) = rd.next_entry().await? {
            let id = entry.file_name().to_string_lossy().into_owned();
            if let Some(meta) = self.upload(&id).await? {
                if meta.bucket == bucket {
                    out.push(meta);
                }
            }
        }
        Ok(out)
    }

    /// Reads every upload record (of `bucket`, when given) and counts its part sidecars; an
    /// upload completed or aborted meanwhile is left out.
    pub(crate) async fn open_uploads(
        &self,
        bucket: Option<&str>,
    ) -> io::Result<Vec<(UploadMeta, usize)>> {
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(self.root.join("uploads")).await?;
        while let Some(entry) = rd.next_entry().await? {
            let id = entry.file_name().to_string_lossy().into_owned();
            let Some(meta) = self.upload(&id).await? else {
                continue;
            };
            if bucket.is_some_and(|b| meta.bucket != b) {
                continue;
            }
            match self.parts(&id).await {
                Ok(parts) => out.push((meta, parts.len())),
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub(crate) async fn remove_upload(&self, id: &str) -> io::Result<()> {
        let dir = self.upload_dir(id)?;
        match tokio::fs::remove_dir_all(&dir).await {
            Err(e) if !not_found(&e) => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_only_unreferenced_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("aa.json"), br#"{"x":1,"data_file":"aa.v2.data"}"#).unwrap();
        std::fs::write(p.join("aa.v1.data"), b"old").unwrap();
        std::fs::write(p.join("aa.v2.data"), b"new").unwrap();
        // A sidecar from before versioned data files names `<base>.data`.
        std::fs::write(p.join("bb.json"), br#"{"x":1}"#).unwrap();
        std::fs::write(p.join("bb.data"), b"legacy").unwrap();
        std::fs::write(p.join("cc.v9.data"), b"orphan").unwrap();
        assert_eq!(collect_garbage(p, "").unwrap(), 2);
        let mut left: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["aa.json", "aa.v2.data", "bb.data", "bb.json"]);
    }
}
