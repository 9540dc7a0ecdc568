//! A multipart upload's handle: the upload id once Initiate answered, and what became of the
//! upload's parts when it ended, even when its future was dropped (cancellation).

use std::sync::Arc;

use tokio::sync::watch;

use crate::client::Client;

/// What became of a multipart upload's parts (see [`UploadHandle::settled`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadFate {
    /// Complete ran: the object is stored (also after a failed callback, or one whose outcome
    /// is unknown).
    Completed,
    /// The upload was aborted (after an error, or because its future was dropped), or it was
    /// already gone: no part is left in OSS.
    Aborted,
    /// The upload is left in OSS and its parts are billed until it is aborted (for example with
    /// [`Client::abort_multipart_upload`] and [`UploadHandle::upload_id`]).
    Left {
        /// Why it was not aborted: `leave_parts_on_error`, the abort failed, no tokio runtime
        /// to run it on, or a Complete carrying a callback may have committed the object (an
        /// abort then races the callback).
        reason: String,
    },
}

/// What the handle shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Initiate has not answered (or the upload needed no multipart upload).
    Pending,
    /// Initiated; parts are being uploaded or Complete is in flight.
    Initiated(String),
    /// The upload ended this way.
    Settled(String, UploadFate),
}

/// A multipart upload's handle, taken from [`MultipartUpload::handle`](crate::MultipartUpload::handle)
/// before the upload is awaited: it reports the upload id as soon as Initiate answered, and
/// what became of the parts once the upload ended. Cheap to clone.
///
/// When the upload's future is dropped mid-upload, the upload aborts itself on the current
/// tokio runtime (a spawned task): [`settled`](Self::settled) waits for that abort, so a
/// program about to exit can let it finish, and otherwise print the upload id to abort later.
#[derive(Debug, Clone)]
pub struct UploadHandle {
    rx: watch::Receiver<State>,
}

impl UploadHandle {
    /// The upload id, once Initiate answered; `None` before, or when the source fitted in one
    /// PutObject.
    pub fn upload_id(&self) -> Option<String> {
        match &*self.rx.borrow() {
            State::Pending => None,
            State::Initiated(id) | State::Settled(id, _) => Some(id.clone()),
        }
    }

    /// Waits until the upload's parts are settled: completed, aborted or left. `None` when no
    /// multipart upload was initiated (the source fitted in one PutObject, or the upload ended
    /// before Initiate answered). Bound it with a timeout when the abort of a dropped upload
    /// may be slow.
    pub async fn settled(&self) -> Option<(String, UploadFate)> {
        let mut rx = self.rx.clone();
        loop {
            if let State::Settled(id, fate) = &*rx.borrow_and_update() {
                return Some((id.clone(), fate.clone()));
            }
            if rx.changed().await.is_err() {
                // Every sender is gone without settling: nothing was initiated.
                return match &*rx.borrow() {
                    State::Settled(id, fate) => Some((id.clone(), fate.clone())),
                    _ => None,
                };
            }
        }
    }
}

/// The upload's side of the handle: it records the id and the fate, and aborts the upload when
/// dropped before it settled (the upload future was dropped).
#[derive(Debug)]
pub(crate) struct UploadGuard {
    tx: Arc<watch::Sender<State>>,
    /// Set while a Complete carrying a callback is in flight.
    completing_with_callback: bool,
    /// The caller keeps the parts of a failed upload, a dropped one included.
    leave_parts: bool,
    client: Option<(Client, String)>,
}

/// A new handle pair: the builder keeps the sender until the upload runs.
pub(crate) fn channel() -> (Arc<watch::Sender<State>>, UploadHandle) {
    let (tx, rx) = watch::channel(State::Pending);
    (Arc::new(tx), UploadHandle { rx })
}

/// The sender half, as the builder holds it.
pub(crate) type HandleSender = Arc<watch::Sender<State>>;

impl UploadGuard {
    /// Armed once Initiate answered with `upload_id`; `leave_parts`: a drop leaves the upload
    /// (`with_leave_parts_on_error`).
    pub(crate) fn initiated(
        tx: HandleSender,
        client: &Client,
        key: &str,
        upload_id: &str,
        leave_parts: bool,
    ) -> Self {
        tx.send_replace(State::Initiated(upload_id.to_owned()));
        Self {
            tx,
            completing_with_callback: false,
            leave_parts,
            client: Some((client.clone(), key.to_owned())),
        }
    }

    fn upload_id(&self) -> String {
        match &*self.tx.borrow() {
            State::Initiated(id) | State::Settled(id, _) => id.clone(),
            State::Pending => String::new(),
        }
    }

    /// A Complete with a callback is being sent: from now on a drop leaves the upload alone.
    pub(crate) fn completing_with_callback(&mut self) {
        self.completing_with_callback = true;
    }

    /// The upload ended this way (the guard is disarmed).
    pub(crate) fn settle(mut self, fate: UploadFate) {
        self.client = None;
        let id = self.upload_id();
        self.tx.send_replace(State::Settled(id, fate));
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        let Some((client, key)) = self.client.take() else {
            return;
        };
        let id = self.upload_id();
        let tx = Arc::clone(&self.tx);
        if self.completing_with_callback {
            tracing::warn!(upload_id = %id, "upload dropped while its Complete with a callback was in flight; left in OSS");
            tx.send_replace(State::Settled(
                id,
                UploadFate::Left {
                    reason: "dropped while a Complete carrying a callback was in flight (it \
                             may have committed the object)"
                        .into(),
                },
            ));
            return;
        }
        if self.leave_parts {
            tx.send_replace(State::Settled(
                id,
                UploadFate::Left {
                    reason: "leave_parts_on_error is set".into(),
                },
            ));
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(upload_id = %id, "upload dropped outside a tokio runtime; left in OSS");
            tx.send_replace(State::Settled(
                id,
                UploadFate::Left {
                    reason: "dropped outside a tokio runtime, so it could not be aborted".into(),
                },
            ));
            return;
        };
        runtime.spawn(async move {
            let fate = match client.abort_multipart_upload(&key, &id).await {
                Ok(()) => UploadFate::Aborted,
                Err(e) if e.service_code() == Some("NoSuchUpload") => UploadFate::Aborted,
                Err(e) => {
                    tracing::warn!(upload_id = %id, error = %e, "aborting a dropped upload failed");
                    UploadFate::Left {
                        reason: format!("the abort failed: {e}"),
                    }
                }
            };
            tracing::debug!(upload_id = %id, ?fate, "dropped upload settled");
            tx.send_replace(State::Settled(id, fate));
        });
    }
}
