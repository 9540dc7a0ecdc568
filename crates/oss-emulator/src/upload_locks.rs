//! One async lock per multipart upload id, so CompleteMultipartUpload and
//! AbortMultipartUpload of one upload take turns.
//!
//! Without it two Completes of one upload (a client's retry racing its first attempt) could
//! both read the part list, both commit the object and both deliver the callback, or one could
//! find the parts half removed by the other. With it the second waits until the first has
//! answered, then finds the upload gone (`NoSuchUpload`). OSS does not document its answer to a
//! repeated Complete, so this is the emulator's choice (`docs/decisions.md`).
//!
//! Entries exist only while someone holds or waits for a lock: the map never grows with the
//! number of uploads ever completed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedMutexGuard;

type Entry = Arc<tokio::sync::Mutex<()>>;

/// The locks of the upload ids in use right now.
#[derive(Debug, Default)]
pub(crate) struct UploadLocks {
    map: Mutex<HashMap<String, Entry>>,
}

/// Holds one upload id's lock until dropped.
#[derive(Debug)]
pub(crate) struct UploadTurn<'a> {
    waiter: Waiter<'a>,
    guard: Option<OwnedMutexGuard<()>>,
}

/// A claim on an entry, taken before waiting, so that a waiter cancelled mid-wait (its client
/// hung up) still lets the entry be removed.
#[derive(Debug)]
struct Waiter<'a> {
    locks: &'a UploadLocks,
    id: String,
    entry: Option<Entry>,
}

impl UploadLocks {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for upload `id`'s turn.
    pub(crate) async fn lock(&self, id: &str) -> UploadTurn<'_> {
        let entry = Arc::clone(self.map().entry(id.to_owned()).or_default());
        let waiter = Waiter {
            locks: self,
            id: id.to_owned(),
            entry: Some(Arc::clone(&entry)),
        };
        let guard = entry.lock_owned().await;
        UploadTurn {
            waiter,
            guard: Some(guard),
        }
    }

    /// Ids with a lock held or awaited (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }
}

impl Drop for UploadTurn<'_> {
    fn drop(&mut self) {
        // Released under the map's lock, like every clone and drop of an entry, so the count
        // the waiter's drop reads is exact.
        let _map = self.waiter.locks.map();
        self.guard.take();
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let mut map = self.locks.map();
        if let Some(entry) = self.entry.take() {
            // The map's copy and ours: nobody else holds or waits for this id.
            if Arc::strong_count(&entry) == 2 {
                map.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;
    use std::time::Duration;

    #[tokio::test]
    async fn one_turn_at_a_time_and_no_leftover_entries() {
        let locks = Arc::new(UploadLocks::default());
        let first = locks.lock("A").await;
        assert_eq!(locks.len(), 1);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let second = {
            let locks = Arc::clone(&locks);
            tokio::spawn(async move {
                let _turn = locks.lock("A").await;
                let _ = tx.send(());
            })
        };
        // Another id is not held up.
        drop(locks.lock("B").await);
        tokio::task::yield_now().await;
        assert!(rx.try_recv().is_err(), "the second waits for the first");
        drop(first);
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the second gets its turn")
            .expect("sent");
        second.await.unwrap();
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_nothing_behind() {
        let locks = UploadLocks::default();
        let first = locks.lock("A").await;
        {
            let wait = locks.lock("A");
            tokio::pin!(wait);
            assert!(wait.as_mut().now_or_never().is_none(), "held by the first");
        }
        drop(first);
        assert_eq!(locks.len(), 0);
    }
}
