//! `oss-emulator`: run the local OSS emulator from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use std::io::Write as _;

/// A local Alibaba Cloud OSS that verifies V4 signatures and delivers signed upload callbacks.
///
/// Admin endpoints (no signature needed): GET /__emulator/callbacks, GET /__emulator/pubkey.pem,
/// GET /__emulator/requests.
#[derive(Debug, Parser)]
#[command(name = "oss-emulator", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Region requests must be signed for.
    #[arg(long, default_value = "cn-hangzhou")]
    region: String,
    /// Directory for objects and uploads (kept across restarts). Default: none, objects are
    /// kept in memory only.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The access key id the emulator accepts.
    #[arg(long, default_value = "ak")]
    access_key_id: String,
    /// The access key secret (never printed).
    #[arg(long, default_value = "sk")]
    access_key_secret: String,
    /// Require this STS security token on every request. Default: none.
    #[arg(long)]
    sts_token: Option<String>,
    /// Seconds a callback server has to answer.
    #[arg(long, default_value_t = 5.0)]
    callback_timeout: f64,
    /// Refuse loopback/private callback hosts like real OSS (EC 0007-00000008).
    #[arg(long)]
    strict_callback_urls: bool,
    /// PEM file (PKCS#8 or PKCS#1) of the RSA key callbacks are signed with. Default: a
    /// 1024-bit key generated at start.
    #[arg(long)]
    rsa_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
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
    if !(args.callback_timeout.is_finite() && args.callback_timeout > 0.0) {
        return Err("--callback-timeout must be a positive number of seconds".into());
    }
    let mut builder = oss_emulator::Emulator::builder()
        .listen(args.listen)
        .region(args.region)
        .credentials(args.access_key_id, args.access_key_secret)
        .callback_timeout(Duration::from_secs_f64(args.callback_timeout))
        .strict_callback_urls(args.strict_callback_urls);
    if let Some(token) = args.sts_token {
        builder = builder.sts_token(token);
    }
    if let Some(dir) = args.data_dir {
        builder = builder.data_dir(dir);
    }
    if let Some(path) = args.rsa_key {
        builder = builder.rsa_key_pem(std::fs::read_to_string(&path)?);
    }
    let stop = shutdown_signal()?;
    let emu = builder.start().await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "oss-emulator listening on {}", emu.endpoint())?;
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
