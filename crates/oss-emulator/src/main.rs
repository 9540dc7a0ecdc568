//! `oss-emulator`: run the local OSS emulator from the command line.

use clap::Parser;
use std::io::Write as _;

/// A local Alibaba Cloud OSS that verifies V4 signatures and delivers signed upload callbacks.
///
/// Admin endpoints (no signature needed): GET /__emulator/callbacks, GET /__emulator/pubkey.pem,
/// GET /__emulator/requests, GET /__emulator/stats, GET /__emulator/uploads[?bucket=NAME].
#[derive(Debug, Parser)]
#[command(name = "oss-emulator", version)]
struct Args {
    /// Region requests must be signed for
    #[arg(long, default_value = "cn-hangzhou")]
    region: String,
    /// The access key id the emulator accepts
    #[arg(long, default_value = "ak")]
    access_key_id: String,
    /// The access key secret (never printed)
    #[arg(long, default_value = "sk")]
    access_key_secret: String,
    #[command(flatten)]
    serve: oss_emulator::cli::ServeArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // ANSI only on a terminal without NO_COLOR: a log redirected to a file stays text.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("oss-emulator: {e}");
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("{msg}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let builder = oss_emulator::Emulator::builder()
        .with_region(args.region)
        .with_credentials(args.access_key_id, args.access_key_secret);
    let builder = args.serve.apply(builder)?;
    let stop = shutdown_signal()?;
    let emu = builder.start().await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "oss-emulator listening on {}", emu.endpoint())?;
        for line in oss_emulator::cli::identity_lines(&emu) {
            writeln!(stdout, "{line}")?;
        }
        stdout.flush()?;
    }
    stop.await;
    tracing::info!("shutting down");
    emu.shutdown().await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. Created (handlers installed) before the address is printed,
/// so a supervisor that signals right after reading the line is always handled gracefully.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
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

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
