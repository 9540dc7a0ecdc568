//! Dispatch: parse the command line, set up logging and the runtime, run, report.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command};
use crate::Error;

/// Parses `args` (the program name first), runs the command and returns the exit code; an
/// error is printed to stderr as one line with the request id.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args).and_then(resolve_client_args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    crate::output::set_quiet(cli.global.quiet);
    crate::output::set_json(cli.global.json);
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::io("cannot start the async runtime", e)),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Puts the options given before or after the command (or read from the environment by the
/// command's copy) into the global options, and refuses those given before a command they mean
/// nothing to: `--endpoint`/`--path-style` before `emulator`, anything of the kind before
/// `callback-server`, a credentials profile before `emulator`.
fn resolve_client_args(mut cli: Cli) -> Result<Cli, clap::Error> {
    let top = std::mem::take(&mut cli.client);
    let refuse = |flag: &str, command: &str| {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{flag} applies to the commands that talk to OSS, not to `{command}`"),
        )
    };
    let name = cli.command.name();
    match cli.command.client_args() {
        Some(client) => {
            cli.global.endpoint = top.endpoint.clone().or_else(|| client.endpoint.clone());
            cli.global.path_style = top.path_style || client.path_style;
            cli.global.profile = top
                .profile
                .clone()
                .or_else(|| client.profile.profile.clone());
            cli.global.credentials_file = top
                .credentials_file
                .clone()
                .or_else(|| client.profile.credentials_file.clone());
        }
        None => {
            let given = [
                ("--endpoint", top.endpoint.is_some()),
                ("--path-style", top.path_style),
                ("--profile", top.profile.is_some()),
                ("--credentials-file", top.credentials_file.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
                return Err(refuse(flag, name));
            }
        }
    }
    match cli.command.key_args() {
        Some(keys) => {
            cli.global.region = top.region.or_else(|| keys.region.clone());
            cli.global.access_key_id = top.access_key_id.or_else(|| keys.access_key_id.clone());
            cli.global.access_key_secret = top
                .access_key_secret
                .or_else(|| keys.access_key_secret.clone());
            cli.global.session_token = top.session_token.or_else(|| keys.session_token.clone());
        }
        None => {
            let given = [
                ("--region", top.region.is_some()),
                ("--access-key-id", top.access_key_id.is_some()),
                ("--access-key-secret", top.access_key_secret.is_some()),
                ("--session-token", top.session_token.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
                return Err(refuse(flag, name));
            }
        }
    }
    Ok(cli)
}

fn fail(error: &Error) -> ExitCode {
    // A failed callback or an unknown callback outcome still stored the object (or may have):
    // with --json that is a result as well.
    if let (true, Some(doc)) = (crate::output::json(), crate::output::error_document(error)) {
        let _ = crate::output::print_json(&doc);
    }
    let _ = writeln!(std::io::stderr(), "oss-rs: {}", error.report());
    ExitCode::from(error.exit_code())
}

/// Runs a parsed command line.
///
/// # Errors
/// The command's [`Error`].
pub async fn run(cli: Cli) -> Result<(), Error> {
    let global = &cli.global;
    match cli.command {
        Command::Cp(args) => crate::cp::run(global, args).await,
        Command::Presign(args) => crate::presign::run(global, args.operation).await,
        Command::Form(args) => crate::form::run(global, args).await,
        Command::Credentials(_) => crate::credentials::run(global).await,
        Command::Emulator(args) => crate::emulator::run(global, args).await,
        Command::CallbackServer(args) => crate::callback_server::run(args).await,
        Command::Ls(args) => crate::ls::run(global, args).await,
        Command::Stat(args) => crate::stat::run(global, args).await,
        Command::Rm(args) => crate::rm::run(global, args).await,
        Command::Uploads(args) => crate::uploads::run(global, args).await,
        Command::Mb(args) => crate::bucket::make(global, args).await,
        Command::Rb(args) => crate::bucket::remove(global, args).await,
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(crate::output::color_on_stderr())
        .with_writer(std::io::stderr)
        .try_init();
}
