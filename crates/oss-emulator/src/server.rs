//! The listening server: accept loop (bounded by the connection cap), one hyper HTTP/1.1
//! connection task per client with its timeouts ([`crate::conn`]), graceful shutdown, and the
//! [`Emulator`] handle.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use crate::builder::{EmulatorBuilder, Limits};
use crate::callback::DeliveredCallback;
use crate::conn::{watchdog, Activity, TrackedBody, TrackedIo};
use crate::request::RequestLog;
use crate::ring::LogStats;
use crate::router;
use crate::state::State;

/// How long shutdown waits for requests in flight before dropping their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running emulator. Dropping it without [`Emulator::shutdown`] stops accepting connections too.
#[derive(Debug)]
pub struct Emulator {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults: region `cn-hangzhou`, in-memory storage, listen on
    /// `127.0.0.1:0`, callback timeout 5 s, loopback callback URLs allowed.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    pub(crate) async fn serve(listener: TcpListener, state: Arc<State>, limits: Limits) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), rx, limits));
        Self {
            state,
            addr,
            shutdown: tx,
            task: Some(task),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT` (path-style: `{endpoint}/{bucket}/{key}`).
    pub fn endpoint(&self) -> &str {
        &self.state.endpoint
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// A receiver that turns `true` when the emulator shuts down.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region requests must be signed for.
    pub fn region(&self) -> &str {
        &self.state.config.region
    }

    /// The callbacks delivered (or attempted), oldest first, one entry per URL tried: the newest
    /// [`EmulatorBuilder::with_log_capacity`](crate::EmulatorBuilder::with_log_capacity) of them.
    pub fn callbacks(&self) -> Vec<DeliveredCallback> {
        self.state.callbacks()
    }

    /// The request log (operation, key, status): the newest
    /// [`EmulatorBuilder::with_log_capacity`](crate::EmulatorBuilder::with_log_capacity) requests.
    pub fn requests(&self) -> RequestLog {
        let (entries, stats) = self.state.requests();
        RequestLog::new(entries, stats)
    }

    /// Capacity, retained and evicted entries of the request log.
    pub fn request_log_stats(&self) -> LogStats {
        self.state.requests().1
    }

    /// Capacity, retained and evicted entries of the callback log.
    pub fn callback_log_stats(&self) -> LogStats {
        self.state.callback_stats()
    }

    /// The PEM (SPKI) of the public key callbacks are signed with.
    pub fn public_key_pem(&self) -> &str {
        &self.state.public_key_pem
    }

    /// The URL the public key is served at (base64'd into `x-oss-pub-key-url`).
    pub fn public_key_url(&self) -> String {
        self.state.public_key_url()
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Accepts while fewer than `max_connections` are open. At the cap it stops calling `accept`,
/// so new clients wait in the kernel's listen backlog (and are served once a connection
/// closes) instead of each costing a descriptor and a task.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut conns = JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(serve_connection(
                        stream,
                        peer,
                        Arc::clone(&state),
                        stop.clone(),
                        permit,
                        limits,
                    ));
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = stop.changed() => break,
            // Reap finished connections; the permit is given back and taken again.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        conns.abort_all();
    }
    tracing::info!("oss-emulator stopped");
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
    limits: Limits,
) {
    let activity = Activity::new();
    let svc_activity = Arc::clone(&activity);
    let svc = service_fn(move |req| {
        let state = Arc::clone(&state);
        let busy = svc_activity.begin_request();
        async move {
            let resp = router::handle(state, req, peer).await;
            Ok::<_, Infallible>(resp.map(|b| TrackedBody::new(b, busy)))
        }
    });
    // Half-closed clients (request sent, write side shut) still get their answer, as from OSS.
    // hyper's header_read_timeout stays off (no timer is given): conn.rs's watchdog keeps the
    // header and idle limits apart.
    let io = TrackedIo::new(stream, Arc::clone(&activity));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .half_close(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    let expired = watchdog(activity, limits);
    tokio::pin!(expired);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            return;
        }
        () = expired.as_mut() => {
            tracing::debug!(%peer, "connection closed: header-read or idle timeout");
            return;
        }
        _ = stop.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        () = expired => {}
    }
}
