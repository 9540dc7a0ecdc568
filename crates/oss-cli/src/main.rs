//! `oss-rs`: upload to Alibaba Cloud OSS with callbacks, presign, sign forms, run the emulator.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    oss_cli::main_with_args(std::env::args_os())
}
