//! On-disk storage under the data dir.
//!
//! Layout: `objects/<bucket>/<md5 hex of key>.data` + `.json` (sidecar [`ObjectMeta`]);
//! `uploads/<upload id>/upload.json`, `part-<n>.data`, `part-<n>.json`; `tmp/` for bodies being
//! written. File names never contain the key, so any UTF-8 key (spaces, `+`, `%`, `//`, `..`)
//! is safe. Data is renamed into place before its sidecar, and readers trust only the sidecar's
//! size, so a crash between the two renames leaves at worst the previous object readable.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use md5::{Digest, Md5};
use tokio::io::AsyncSeekExt;

use super::{ObjectBody, ObjectMeta, PartMeta, TempPath, UploadMeta};

/// Storage rooted at a data dir.
#[derive(Debug)]
pub(crate) struct DiskStore {
    root: PathBuf,
    counter: AtomicU64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
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
        Ok(Self {
            root: root.to_owned(),
            counter: AtomicU64::new(0),
        })
    }

    fn object_base(&self, bucket: &str, key: &str) -> PathBuf {
        let digest = Md5::digest(key.as_bytes());
        self.root
            .join("objects")
            .join(hex(bucket.as_bytes()))
            .join(hex(&digest))
    }

    fn upload_dir(&self, id: &str) -> io::Result<PathBuf> {
        if !valid_id(id) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "bad upload id"));
        }
        Ok(self.root.join("uploads").join(id))
    }

    pub(crate) async fn temp_file(&self) -> io::Result<(tokio::fs::File, TempPath)> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{n}-{:016x}", std::process::id(), rand::random::<u64>());
        let path = self.root.join("tmp").join(name);
        let file = tokio::fs::File::create(&path).await?;
        Ok((file, TempPath(Some(path))))
    }

    async fn write_json_atomic(&self, dest: &Path, json: &[u8]) -> io::Result<()> {
        let (_, tmp) = self.temp_file().await?;
        let tmp_path = tmp.path().map(Path::to_owned).unwrap_or_default();
        tokio::fs::write(&tmp_path, json).await?;
        tokio::fs::rename(&tmp_path, dest).await?;
        tmp.keep();
        Ok(())
    }

    async fn commit(
        &self,
        data: TempPath,
        data_dest: &Path,
        json_dest: &Path,
        json: Vec<u8>,
    ) -> io::Result<()> {
        if let Some(parent) = data_dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let src = data.path().map(Path::to_owned).unwrap_or_default();
        tokio::fs::rename(&src, data_dest).await?;
        data.keep();
        self.write_json_atomic(json_dest, &json).await
    }

    pub(crate) async fn put_object(
        &self,
        bucket: &str,
        meta: &ObjectMeta,
        data: TempPath,
    ) -> io::Result<()> {
        let base = self.object_base(bucket, &meta.key);
        let json = serde_json::to_vec(meta)?;
        self.commit(
            data,
            &base.with_extension("data"),
            &base.with_extension("json"),
            json,
        )
        .await
    }

    pub(crate) async fn head(&self, bucket: &str, key: &str) -> io::Result<Option<ObjectMeta>> {
        let base = self.object_base(bucket, key);
        match tokio::fs::read(base.with_extension("json")).await {
            Ok(bytes) => {
                let meta: ObjectMeta = serde_json::from_slice(&bytes)?;
                Ok((meta.key == key).then_some(meta))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn open_at(path: &Path, start: u64, len: u64) -> io::Result<ObjectBody> {
        let mut f = tokio::fs::File::open(path).await?;
        f.seek(io::SeekFrom::Start(start)).await?;
        Ok(ObjectBody::File(f, len))
    }

    pub(crate) async fn read(
        &self,
        bucket: &str,
        key: &str,
        start: u64,
        len: u64,
    ) -> io::Result<Option<ObjectBody>> {
        if self.head(bucket, key).await?.is_none() {
            return Ok(None);
        }
        let base = self.object_base(bucket, key);
        match Self::open_at(&base.with_extension("data"), start, len).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> io::Result<bool> {
        if self.head(bucket, key).await?.is_none() {
            return Ok(false);
        }
        let base = self.object_base(bucket, key);
        tokio::fs::remove_file(base.with_extension("json")).await?;
        let _ = tokio::fs::remove_file(base.with_extension("data")).await;
        Ok(true)
    }

    pub(crate) async fn create_upload(&self, meta: &UploadMeta) -> io::Result<()> {
        let dir = self.upload_dir(&meta.upload_id)?;
        tokio::fs::create_dir_all(&dir).await?;
        self.write_json_atomic(&dir.join("upload.json"), &serde_json::to_vec(meta)?)
            .await
    }

    pub(crate) async fn upload(&self, id: &str) -> io::Result<Option<UploadMeta>> {
        let Ok(dir) = self.upload_dir(id) else {
            return Ok(None);
        };
        match tokio::fs::read(dir.join("upload.json")).await {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
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
        let n = part.part_number;
        let json = serde_json::to_vec(part)?;
        self.commit(
            data,
            &dir.join(format!("part-{n}.data")),
            &dir.join(format!("part-{n}.json")),
            json,
        )
        .await
    }

    pub(crate) async fn parts(&self, id: &str) -> io::Result<Vec<PartMeta>> {
        let dir = self.upload_dir(id)?;
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = rd.next_entry().await? {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("part-") && name.ends_with(".json") {
                let bytes = tokio::fs::read(entry.path()).await?;
                out.push(serde_json::from_slice::<PartMeta>(&bytes)?);
            }
        }
        out.sort_by_key(|p| p.part_number);
        Ok(out)
    }

    pub(crate) async fn part_body(&self, id: &str, part: &PartMeta) -> io::Result<ObjectBody> {
        let dir = self.upload_dir(id)?;
        Self::open_at(
            &dir.join(format!("part-{}.data", part.part_number)),
            0,
            part.size,
        )
        .await
    }

    pub(crate) async fn remove_upload(&self, id: &str) -> io::Result<()> {
        let dir = self.upload_dir(id)?;
        match tokio::fs::remove_dir_all(&dir).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
