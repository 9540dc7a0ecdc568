//! What the workspace's integration tests share, so each helper exists once: a recording
//! callback server that verifies signatures with `oss-callback`, an in-process emulator with the
//! committed test key, the start-up of the emulator and callback-server binaries as child
//! processes, and a fault-injecting proxy ([`FaultProxy`]) with protocol events and holds for
//! fault and kill suites. Used only as a dev-dependency; never published.
//!
//! Everything binds to `127.0.0.1` port 0 and stops by itself: the in-process servers end with
//! the test's runtime, child processes are killed when their [`Running`] is dropped.
//!
//! An emulator in the test's runtime and a callback server that records what it delivers:
//!
//! ```
//! use oss_test_support::{Answer, CallbackServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let emu = oss_test_support::emulator("ak", "sk").start().await.unwrap();
//! let server = CallbackServer::start(&emu, Answer::StatusOk).await;
//! // An upload with a callback to `format!("{}/notify", server.url)` goes here; then
//! // `server.last()` is what the emulator delivered and whether its signature verified.
//! assert!(server.received().is_empty());
//! emu.shutdown().await;
//! # }
//! ```
//!
//! A binary as a child process (the path comes from the test crate's
//! `env!("CARGO_BIN_EXE_oss-rs")`, which this crate cannot see):
//!
//! ```no_run
//! use oss_test_support::{isolated_command, spawn_callback_server, spawn_emulator};
//!
//! let bin = "target/debug/oss-rs"; // in oss-cli's tests: env!("CARGO_BIN_EXE_oss-rs")
//! let (_emulator, endpoint) =
//!     spawn_emulator(isolated_command(bin).args(["emulator", "--listen", "127.0.0.1:0"]));
//! let (callbacks, url) = spawn_callback_server(&mut isolated_command(bin), &format!("{endpoint}/"));
//! let answered = callbacks.line_starting("answered:");
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod callback_server;
mod http;
mod process;
mod proxy;

pub use callback_server::{Answer, CallbackServer, Received};
pub use http::{admin_json, http_request};
pub use process::{
    empty_env_command, isolated_command, spawn_callback_server, spawn_emulator, Running,
    LINE_DEADLINE,
};
pub use proxy::{
    ErrorStatus, Event, EventKind, Events, Fault, FaultConfig, FaultProxy, Hold, HoldStage,
    Injection, RequestHead,
};

/// The committed test-only RSA key (PEM), so no test pays for generating one.
pub const TEST_KEY_PEM: &str = include_str!("../../oss-callback/testdata/emulator_test_key.pem");

/// Where [`TEST_KEY_PEM`] is, for the binaries' `--rsa-key`.
pub const TEST_KEY_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../oss-callback/testdata/emulator_test_key.pem"
);

/// The region every test emulator serves.
pub const REGION: &str = "cn-hangzhou";

/// An in-memory emulator in [`REGION`] accepting `access_key_id` / `secret` and signing
/// callbacks with [`TEST_KEY_PEM`]; the caller adds its own settings and starts it.
pub fn emulator(access_key_id: &str, secret: &str) -> oss_emulator::EmulatorBuilder {
    oss_emulator::Emulator::builder()
        .with_region(REGION)
        .with_credentials(access_key_id, secret)
        .with_rsa_key_pem(TEST_KEY_PEM)
}
