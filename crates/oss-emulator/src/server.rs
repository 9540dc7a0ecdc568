//! The listening server: accept loop, one hyper HTTP/1.1 connection task per client, graceful
//! shutdown, and the [`Emulator`] handle.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::builder::EmulatorBuilder;
use crate::callback::DeliveredCallback;
use crate::request::RequestLog;
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

    pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), rx));
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

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region requests must be signed for.
    pub fn region(&self) -> &str {
        &self.state.config.region
    }

    /// Every callback delivered (or attempted) so far, oldest first; one entry per URL tried.
    pub fn callbacks(&self) -> Vec<DeliveredCallback> {
        self.state.callbacks()
    }

    /// The request log (operation, key, status of every request so far).
    pub fn requests(&self) -> RequestLog {
        RequestLog::new(self.state.requests())
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

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(serve_connection(stream, peer, Arc::clone(&state), stop.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = stop.changed() => break,
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
) {
    let svc = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(router::handle(state, req, peer).await) }
    });
    // Half-closed clients (request sent, write side shut) still get their answer, as from OSS.
    let conn = http1::Builder::new()
        .keep_alive(true)
        .half_close(true)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            return;
        }
        _ = stop.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
