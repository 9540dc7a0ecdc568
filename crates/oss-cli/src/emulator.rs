//! `oss-rs emulator`: the oss-emulator crate behind the CLI's global options.

use std::io::Write as _;

use crate::args::{EmulatorArgs, GlobalArgs};
use crate::Error;

/// Region and credentials the emulator accepts when none are given.
const DEFAULT_REGION: &str = "cn-hangzhou";
const DEFAULT_ACCESS_KEY_ID: &str = "ak";
const DEFAULT_ACCESS_KEY_SECRET: &str = "sk";

/// Runs until Ctrl-C or SIGTERM.
pub(crate) async fn run(global: &GlobalArgs, args: EmulatorArgs) -> Result<(), Error> {
    let region = global
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let id = global
        .access_key_id
        .clone()
        .unwrap_or_else(|| DEFAULT_ACCESS_KEY_ID.to_owned());
    let secret = global
        .access_key_secret
        .clone()
        .unwrap_or_else(|| DEFAULT_ACCESS_KEY_SECRET.to_owned());
    let mut builder = oss_emulator::Emulator::builder()
        .with_region(region.clone())
        .with_credentials(id.clone(), secret);
    if args.serve.sts_token.is_none() {
        if let Some(token) = global.session_token.clone() {
            builder = builder.with_sts_token(token);
        }
    }
    let builder = args.serve.apply(builder).map_err(Error::Emulator)?;
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let emulator = builder.start().await.map_err(Error::Emulator)?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "oss-emulator listening on {}", emulator.endpoint())
            .and_then(|()| {
                writeln!(
                    stdout,
                    "region {region}, access key id {id}, callback public key at {}",
                    emulator.public_key_url()
                )
            })
            .and_then(|()| {
                oss_emulator::cli::identity_lines(&emulator)
                    .iter()
                    .try_for_each(|line| writeln!(stdout, "{line}"))
            })
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write to stdout", e))?;
    }
    stop.await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}
