//! `oss-rs`: the command line around the oss-rs crates.
//!
//! - `oss-rs cp FILE oss://bucket/key` uploads a file (PutObject, multipart, or resumable with
//!   `--checkpoint-dir`) with an optional upload callback, shows a progress bar on a terminal
//!   (plain progress lines otherwise) and prints the callback server's answer.
//! - `oss-rs presign put|get oss://bucket/key` prints a presigned URL, the signed headers to
//!   send and a ready `curl` command.
//! - `oss-rs form oss://bucket/prefix` prints the fields of a signed browser upload form and can
//!   write a minimal HTML upload page.
//! - `oss-rs ls`, `stat`, `rm` (`-r` for a prefix), `uploads ls|abort`, `mb` and `rb` see and
//!   undo what was uploaded, with ossutil 2's names: objects and buckets, interrupted multipart
//!   uploads and their parts.
//! - `oss-rs emulator` runs the local OSS emulator; `oss-rs callback-server` runs a callback
//!   server that verifies OSS's signature and prints what it receives.
//!
//! The binary is a thin `main` over [`main_with_args`]; the pieces it is made of (the
//! `oss://` URL, size parsing, the callback flags) are public so they are documented and tested:
//!
//! ```
//! use oss_cli::{parse_size, ObjectUrl};
//!
//! let url: ObjectUrl = "oss://examplebucket/photos/cat.jpg".parse()?;
//! assert_eq!(url.bucket(), "examplebucket");
//! assert_eq!(url.key(), "photos/cat.jpg");
//! assert_eq!(parse_size("16MiB")?, 16 * 1024 * 1024);
//! assert_eq!(parse_size("100KB")?, 100 * 1000);
//! # Ok::<(), oss_cli::Error>(())
//! ```
//!
//! Exit codes: 0 success, 1 failure, 2 invalid command line, 3 the upload callback failed
//! (the object **is** stored), 130 interrupted by Ctrl-C or SIGTERM.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod args;
mod bucket;
mod callback_args;
mod callback_server;
mod config;
mod confirm;
mod cp;
mod cp_dir;
mod cp_download;
mod cp_path;
mod credentials;
mod emulator;
mod error;
mod form;
mod location;
mod ls;
mod object_args;
mod output;
mod presign;
mod progress;
mod rm;
mod run;
mod shutdown;
mod size;
mod stat;
mod table;
mod uploads;
mod validate;

pub use args::{Cli, Command};
pub use callback_args::{CallbackArgs, CallbackBodyTypeArg};
pub use error::{
    Error, EXIT_CALLBACK_FAILED, EXIT_CALLBACK_UNKNOWN, EXIT_FAILURE, EXIT_INTERRUPTED,
};
pub use location::ObjectUrl;
pub use object_args::{AclArg, ObjectArgs, StorageClassArg};
pub use run::{main_with_args, run};
pub use size::parse_size;
