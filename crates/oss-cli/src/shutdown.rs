//! Waiting for Ctrl-C or SIGTERM (long-running commands stop cleanly on either).

/// Installs the handlers now (so a signal right after the address line is handled) and returns
/// a future that resolves on the first signal.
///
/// # Errors
/// The I/O error of installing a handler.
#[cfg(unix)]
pub(crate) fn signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Installs the handler now and returns a future that resolves on Ctrl-C.
///
/// # Errors
/// Never on this platform.
#[cfg(not(unix))]
pub(crate) fn signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
