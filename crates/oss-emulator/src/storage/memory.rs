//! In-memory storage (the default for tests): everything is lost when the emulator stops.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Mutex, MutexGuard};

use super::rope::Rope;
use super::{ObjectMeta, PartMeta, StoredBody, UploadMeta};

/// Bodies at least this large are freed on a blocking thread.
const FREE_IN_BACKGROUND: u64 = 64 * 1024 * 1024;

/// Frees a replaced body. A large one (a 1 GiB object is some 10 000 chunks, each returned to
/// the allocator and often to the kernel) is freed off the request's path, so the answer to
/// the commit that replaced it is not held up; either way never under the store's lock.
fn free_later(body: Option<Rope>) {
    match (body, tokio::runtime::Handle::try_current()) {
        (Some(b), Ok(rt)) if b.len() >= FREE_IN_BACKGROUND => {
            rt.spawn_blocking(move || drop(b));
        }
        (body, _) => drop(body),
    }
}

#[derive(Debug)]
struct Upload {
    meta: UploadMeta,
    parts: BTreeMap<u32, (PartMeta, Rope)>,
}

#[derive(Debug, Default)]
struct Inner {
    objects: HashMap<(String, String), (ObjectMeta, Rope)>,
    uploads: HashMap<String, Upload>,
}

/// Objects and uploads in a map behind a mutex (no await while it is held, and bodies are
/// freed after it is released).
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn put_object(&self, bucket: &str, meta: ObjectMeta, body: Rope) {
        let replaced = self
            .lock()
            .objects
            .insert((bucket.to_owned(), meta.key.clone()), (meta, body));
        free_later(replaced.map(|(_, body)| body));
    }

    pub(crate) fn head(&self, bucket: &str, key: &str) -> Option<ObjectMeta> {
        self.lock()
            .objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|(m, _)| m.clone())
    }

    /// Metadata and bytes of one version, taken under one lock.
    pub(crate) fn open_object(&self, bucket: &str, key: &str) -> Option<(ObjectMeta, StoredBody)> {
        self.lock()
            .objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|(m, b)| (m.clone(), StoredBody::Mem(b.clone())))
    }

    pub(crate) fn delete(&self, bucket: &str, key: &str) -> bool {
        let removed = self
            .lock()
            .objects
            .remove(&(bucket.to_owned(), key.to_owned()));
        let found = removed.is_some();
        free_later(removed.map(|(_, body)| body));
        found
    }

    pub(crate) fn create_upload(&self, meta: UploadMeta) {
        self.lock().uploads.insert(
            meta.upload_id.clone(),
            Upload {
                meta,
                parts: BTreeMap::new(),
            },
        );
    }

    pub(crate) fn upload(&self, id: &str) -> Option<UploadMeta> {
        self.lock().uploads.get(id).map(|u| u.meta.clone())
    }

    pub(crate) fn put_part(&self, id: &str, part: PartMeta, body: Rope) -> io::Result<()> {
        let mut guard = self.lock();
        let upload = guard
            .uploads
            .get_mut(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "upload vanished"))?;
        upload.parts.insert(part.part_number, (part, body));
        Ok(())
    }

    pub(crate) fn parts(&self, id: &str) -> Vec<PartMeta> {
        self.lock()
            .uploads
            .get(id)
            .map(|u| u.parts.values().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn part_body(&self, id: &str, n: u32) -> io::Result<StoredBody> {
        self.lock()
            .uploads
            .get(id)
            .and_then(|u| u.parts.get(&n))
            .map(|(_, b)| StoredBody::Mem(b.clone()))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "part vanished"))
    }

    /// Shares the chunks of `parts` (each still the stored version) into object `meta.key`
    /// and removes the upload, under one lock: the object appears as the upload goes.
    pub(crate) fn complete_upload(
        &self,
        bucket: &str,
        id: &str,
        parts: &[PartMeta],
        meta: ObjectMeta,
    ) -> io::Result<()> {
        let mut guard = self.lock();
        let upload = guard
            .uploads
            .get(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "upload vanished"))?;
        let mut bodies = Vec::with_capacity(parts.len());
        for part in parts {
            match upload.parts.get(&part.part_number) {
                Some((stored, body)) if stored.etag == part.etag && stored.size == part.size => {
                    bodies.push(body)
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        "part replaced or removed",
                    ))
                }
            }
        }
        let body = Rope::concat(bodies);
        if body.len() != meta.size {
            return Err(io::Error::other("stored parts do not add up to the object"));
        }
        let upload = guard.uploads.remove(id);
        let replaced = guard
            .objects
            .insert((bucket.to_owned(), meta.key.clone()), (meta, body));
        drop(guard);
        drop(upload);
        free_later(replaced.map(|(_, body)| body));
        Ok(())
    }

    pub(crate) fn list_objects(&self, bucket: &str) -> Vec<ObjectMeta> {
        self.lock()
            .objects
            .iter()
            .filter(|((b, _), _)| b == bucket)
            .map(|(_, (m, _))| m.clone())
            .collect()
    }

    pub(crate) fn list_uploads(&self, bucket: &str) -> Vec<UploadMeta> {
        self.lock()
            .uploads
            .values()
            .filter(|u| u.meta.bucket == bucket)
            .map(|u| u.meta.clone())
            .collect()
    }

    pub(crate) fn open_uploads(&self, bucket: Option<&str>) -> Vec<(UploadMeta, usize)> {
        self.lock()
            .uploads
            .values()
            .filter(|u| bucket.is_none_or(|b| u.meta.bucket == b))
            .map(|u| (u.meta.clone(), u.parts.len()))
            .collect()
    }

    pub(crate) fn remove_upload(&self, id: &str) {
        let removed = self.lock().uploads.remove(id);
        drop(removed);
    }
}
