//! `oss-rs emulator`: the oss-emulator crate behind the CLI's global options.

use std::io::Write as _;
use std::time::Duration;

use crate::args::{EmulatorArgs, GlobalArgs};
use crate::Error;

/// Region and credentials the emulator accepts when none are given.
const DEFAULT_REGION: &str = "cn-hangzhou";
const DEFAULT_ACCESS_KEY_ID: &str = "ak";
const DEFAULT_ACCESS_KEY_SECRET: &str = "sk";

/// Runs until Ctrl-C or SIGTERM.
pub(crate) async fn run(global: &GlobalArgs, args: EmulatorArgs) -> Result<(), Error> {
    if !(args.callback_timeout.is_finite() && args.callback_timeout > 0.0) {
        return Err(Error::InvalidArgument {
            name: "--callback-timeout",
            message: "must be a positive number of seconds".into(),
        });
    }
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
        .listen(args.listen)
        .region(region.clone())
        .credentials(id.clone(), secret)
        .callback_timeout(Duration::from_secs_f64(args.callback_timeout))
        .strict_callback_urls(args.strict_callback_urls);
    if let Some(token) = args
        .sts_token
        .clone()
        .or_else(|| global.session_token.clone())
    {
        builder = builder.sts_token(token);
    }
    if let Some(dir) = &args.data_dir {
        builder = builder.data_dir(dir.clone());
    }
    if let Some(path) = &args.rsa_key {
        let pem = std::fs::read_to_string(path).map_err(|e| Error::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        builder = builder.rsa_key_pem(pem);
    }
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
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write to stdout", e))?;
    }
    stop.await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}
