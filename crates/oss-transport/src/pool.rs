//! The connection pool: idle HTTP/1.1 connections per origin.
//!
//! A connection is put back only once its response body has been read to the end *and* hyper says
//! the connection is ready for the next request, and this happens before the response is handed
//! to the caller. So a caller that drops a [`crate::Response`] unread costs nothing, and the next
//! request on the same origin finds the connection idle (no race with a background task).
//! Anything else (an error, a body over the limit, a dropped future, a dropped streaming body)
//! drops the connection, which closes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;

use crate::body::OutBody;
use crate::connect::ReadCounter;

/// `scheme://host:port`.
pub(crate) type PoolKey = String;

/// Pool settings and idle connections.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<PoolKey, Vec<Idle>>>,
    idle_timeout: Option<Duration>,
    max_idle_per_host: usize,
    ready_timeout: Duration,
    opened: AtomicU64,
}

#[derive(Debug)]
struct Idle {
    conn: ConnInner,
    since: Instant,
}

#[derive(Debug)]
struct ConnInner {
    key: PoolKey,
    sender: SendRequest<OutBody>,
    counter: ReadCounter,
    id: u64,
}

/// A connection checked out of the pool (or freshly opened) for one request.
#[derive(Debug)]
pub(crate) struct Conn {
    inner: ConnInner,
    pool: Arc<Pool>,
    reused: bool,
}

impl Pool {
    pub(crate) fn new(
        idle_timeout: Option<Duration>,
        max_idle_per_host: usize,
        ready_timeout: Duration,
    ) -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
            idle_timeout,
            max_idle_per_host,
            ready_timeout,
            opened: AtomicU64::new(0),
        }
    }

    /// Takes the most recently used live idle connection for `key`, dropping stale ones.
    pub(crate) fn checkout(self: &Arc<Self>, key: &str) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            let expired = self
                .idle_timeout
                .is_some_and(|t| entry.since.elapsed() >= t);
            if expired || entry.conn.sender.is_closed() || !entry.conn.sender.is_ready() {
                tracing::trace!(conn = entry.conn.id, expired, "dropping idle connection");
                continue;
            }
            return Some(Conn {
                inner: entry.conn,
                pool: Arc::clone(self),
                reused: true,
            });
        }
        None
    }

    /// Wraps a freshly opened connection.
    pub(crate) fn opened(
        self: &Arc<Self>,
        key: PoolKey,
        sender: SendRequest<OutBody>,
        counter: ReadCounter,
    ) -> Conn {
        let id = self.opened.fetch_add(1, Ordering::Relaxed) + 1;
        Conn {
            inner: ConnInner {
                key,
                sender,
                counter,
                id,
            },
            pool: Arc::clone(self),
            reused: false,
        }
    }

    fn checkin(&self, conn: ConnInner) {
        if self.max_idle_per_host == 0 || self.idle_timeout.is_some_and(|t| t.is_zero()) {
            return;
        }
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let list = idle.entry(conn.key.clone()).or_default();
        list.retain(|e| !e.conn.sender.is_closed());
        if list.len() >= self.max_idle_per_host {
            list.remove(0);
        }
        list.push(Idle {
            conn,
            since: Instant::now(),
        });
    }
}

impl Conn {
    pub(crate) fn sender(&mut self) -> &mut SendRequest<OutBody> {
        &mut self.inner.sender
    }

    pub(crate) fn counter(&self) -> &ReadCounter {
        &self.inner.counter
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    pub(crate) fn reused(&self) -> bool {
        self.reused
    }

    /// Returns the connection to the pool once hyper reports it ready for another request (the
    /// response body must have been read to the end). Waits at most the pool's ready timeout; a
    /// connection that does not become ready (closed, `Connection: close`) is dropped.
    pub(crate) async fn release(mut self) {
        let wait = tokio::time::timeout(self.pool.ready_timeout, self.inner.sender.ready()).await;
        if let Ok(Ok(())) = wait {
            self.pool.checkin(self.inner);
        } else {
            tracing::trace!(conn = self.inner.id, "connection not reusable; closing");
        }
    }

    /// Polls whether hyper is ready to send the next request on this connection.
    pub(crate) fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), hyper::Error>> {
        self.inner.sender.poll_ready(cx)
    }

    /// How long to wait for readiness after a response before giving up on the connection.
    pub(crate) fn release_wait(&self) -> Duration {
        self.pool.ready_timeout
    }

    /// Puts a ready connection back into the pool.
    pub(crate) fn checkin(self) {
        self.pool.checkin(self.inner);
    }

    /// [`Conn::release`] in a background task (streaming bodies, which finish inside `poll`).
    pub(crate) fn release_when_ready(self) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(self.release());
        }
    }
}
