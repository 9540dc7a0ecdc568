//! Progress events reported by every upload.

use std::fmt;
use std::sync::Arc;

/// One step of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// Bytes of the object were handed to the transport and accepted by OSS.
    BytesSent {
        /// Bytes in this step.
        bytes: u64,
        /// Bytes sent so far in this upload (for a resumed upload, including the parts found).
        total_sent: u64,
        /// Size of the whole object, when known.
        total: Option<u64>,
    },
    /// Bytes of a download were received and written (see [`Client::download`](crate::Client::download)).
    BytesReceived {
        /// Bytes in this step.
        bytes: u64,
        /// Bytes of the object on disk so far (for a resumed download, including the parts found).
        total_received: u64,
        /// Size of the whole object.
        total: u64,
    },
    /// A multipart part was uploaded (and recorded in the checkpoint, for resumable uploads).
    PartDone {
        /// Part number (1-based).
        part_number: u32,
        /// Part size in bytes.
        size: u64,
    },
    /// A part recorded in a checkpoint was confirmed by ListParts and will not be sent again
    /// (for a download: a range recorded in the checkpoint is not fetched again).
    PartSkipped {
        /// Part number (1-based).
        part_number: u32,
        /// Part size in bytes.
        size: u64,
    },
    /// A checkpoint file could not be used (corrupt, stale, or its upload is gone); a fresh
    /// upload starts.
    CheckpointDiscarded {
        /// Why.
        reason: String,
    },
    /// A resumable upload's checkpoint showed that an earlier, interrupted run had sent
    /// Complete, and OSS holds the object it completed: nothing is sent again (no second
    /// callback). The upload's outcome follows.
    CompletedEarlier {
        /// The upload that run completed.
        upload_id: String,
    },
    /// A request is being sent again after a retryable failure: a retry of the transport (its
    /// progress hook names the attempt, see `AttemptObserver`) or of the
    /// uploader itself after a CRC-64 mismatch.
    Retried {
        /// What was retried, e.g. `UploadPart 3`.
        operation: String,
        /// The attempt that is about to run (2 for the first retry).
        attempt: u32,
    },
}

/// Where progress events go: a callback (`Progress::new`) or a channel (`Progress::channel`).
/// Cheap to clone. Callbacks run on the uploading task; keep them short.
#[derive(Clone)]
pub struct Progress {
    sink: Arc<dyn Fn(&ProgressEvent) + Send + Sync>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Progress {
    /// Calls `f` for every event.
    pub fn new(f: impl Fn(&ProgressEvent) + Send + Sync + 'static) -> Self {
        Self { sink: Arc::new(f) }
    }

    /// Sends every event into an unbounded channel; the receiver end is returned.
    pub fn channel() -> (Self, tokio::sync::mpsc::UnboundedReceiver<ProgressEvent>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (
            Self::new(move |event| {
                let _ = tx.send(event.clone());
            }),
            rx,
        )
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        (self.sink)(&event);
    }
}

/// Optional progress sink plus the running byte count of one upload.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    progress: Option<Progress>,
    sent: Arc<std::sync::atomic::AtomicU64>,
    total: Option<u64>,
}

impl Tracker {
    pub(crate) fn new(progress: Option<Progress>, total: Option<u64>) -> Self {
        Self {
            progress,
            sent: Arc::default(),
            total,
        }
    }

    pub(crate) fn bytes(&self, bytes: u64) {
        let total_sent = self
            .sent
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed)
            + bytes;
        if let Some(p) = &self.progress {
            p.emit(ProgressEvent::BytesSent {
                bytes,
                total_sent,
                total: self.total,
            });
        }
    }

    /// Counts bytes already in OSS (resumed parts) without an event.
    pub(crate) fn preload(&self, bytes: u64) {
        self.sent
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn event(&self, event: ProgressEvent) {
        if let Some(p) = &self.progress {
            p.emit(event);
        }
    }
}

/// Turns the transport's `(attempt, bytes)` reports into `BytesSent` deltas (never counting a
/// retried byte twice) and a `Retried` event when the transport reports a new attempt.
#[derive(Debug)]
pub(crate) struct AttemptObserver {
    tracker: Tracker,
    operation: String,
    state: std::sync::Mutex<(u64, u32)>, // (most bytes seen, attempt)
}

impl AttemptObserver {
    pub(crate) fn new(tracker: &Tracker, operation: &str) -> Self {
        Self {
            tracker: tracker.clone(),
            operation: operation.to_owned(),
            state: std::sync::Mutex::new((0, 1)),
        }
    }

    pub(crate) fn observe(&self, attempt: u32, sent: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        if attempt > s.1 {
            s.1 = attempt;
            self.tracker.event(ProgressEvent::Retried {
                operation: self.operation.clone(),
                attempt,
            });
        }
        if sent > s.0 {
            let delta = sent - s.0;
            s.0 = sent;
            drop(s);
            self.tracker.bytes(delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_and_retries() {
        let (p, mut rx) = Progress::channel();
        let t = Tracker::new(Some(p), Some(100));
        let o = AttemptObserver::new(&t, "UploadPart 1");
        o.observe(1, 40);
        o.observe(1, 40);
        o.observe(2, 0); // the transport says a retry started
        o.observe(2, 30);
        o.observe(2, 100);
        let events: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            events,
            vec![
                ProgressEvent::BytesSent {
                    bytes: 40,
                    total_sent: 40,
                    total: Some(100)
                },
                ProgressEvent::Retried {
                    operation: "UploadPart 1".into(),
                    attempt: 2
                },
                ProgressEvent::BytesSent {
                    bytes: 60,
                    total_sent: 100,
                    total: Some(100)
                },
            ]
        );
    }

    #[test]
    fn channel_and_tracker() {
        let (p, mut rx) = Progress::channel();
        let t = Tracker::new(Some(p), Some(10));
        t.bytes(4);
        t.bytes(6);
        t.event(ProgressEvent::PartDone {
            part_number: 1,
            size: 10,
        });
        assert_eq!(
            rx.try_recv().ok(),
            Some(ProgressEvent::BytesSent {
                bytes: 4,
                total_sent: 4,
                total: Some(10)
            })
        );
        assert!(matches!(
            rx.try_recv(),
            Ok(ProgressEvent::BytesSent { total_sent: 10, .. })
        ));
        assert!(matches!(rx.try_recv(), Ok(ProgressEvent::PartDone { .. })));
    }
}
