//! A local Alibaba Cloud OSS that verifies V4 signatures and really delivers signed upload
//! callbacks — for tests, demos and benchmarks.
//!
//! - **Authentication**: V4 header signatures, V4 presigned URLs (expiry, `x-oss-expires` ≤
//!   604 800, signed headers must be present) and V4 POST policies, verified with `oss-sign`'s
//!   own stages; STS token checked; time from `x-oss-date`, else `Date`; 15-minute skew.
//!   Failures answer OSS's status, `Code`, `EC` and message (`SignatureDoesNotMatch` carries the
//!   expected `StringToSign` and `CanonicalRequest`).
//! - **Operations**: PutObject, GetObject (with `Range`), HeadObject, DeleteObject,
//!   InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
//!   ListParts (paginated) and PostObject, path-style (`/bucket/key`) or virtual-hosted
//!   (`Host: bucket.127.0.0.1:PORT`).
//! - **Buckets and listing**: PutBucket, DeleteBucket (`BucketNotEmpty` while objects or uploads
//!   remain), GetBucketInfo, ListBuckets; ListObjects v1 and v2, ListMultipartUploads and
//!   DeleteMultipleObjects, in byte-wise key order with OSS's pagination and
//!   `encoding-type=url`. The library builder creates a bucket on its first use
//!   ([`EmulatorBuilder::with_auto_create_buckets`], default on, so tests need no set-up); the
//!   binaries are strict like OSS (`NoSuchBucket`) unless given `--auto-create-buckets`, and
//!   `--create-bucket NAME` makes buckets at start.
//! - **Callbacks** on PutObject, PostObject and CompleteMultipartUpload from any one carrier
//!   (headers, query or form), signed with the emulator's RSA key whose PEM is served at
//!   `GET /__emulator/pubkey.pem`; 200 with the callback's JSON, or 203 `CallbackFailed`.
//! - **Authentication first**: every OSS operation is verified before it runs, so an unsigned or
//!   badly signed request gets 403 whatever it asks for, and only a signed one can learn that
//!   an operation is not implemented (501). Exempt, as on OSS: CORS preflight `OPTIONS`,
//!   PostObject (signature in the form, checked before anything is stored) and `/__emulator/`.
//! - **Storage** in memory (default) or on disk under a data dir; either way an overwrite is
//!   atomic per key: a reader (even one mid-stream) gets the old or the new object whole, also
//!   after a crash (versioned data files, the sidecar renamed last).
//! - **Connections**: a header-read timeout, a keep-alive idle timeout and a connection cap
//!   ([`EmulatorBuilder::with_header_read_timeout`],
//!   [`with_idle_timeout`](EmulatorBuilder::with_idle_timeout),
//!   [`with_max_connections`](EmulatorBuilder::with_max_connections)); the command-line flags
//!   for them are [`cli::ServeArgs`], shared by `oss-emulator` and `oss-rs emulator`.
//! - **Admin endpoints** under `/__emulator/` need no signature: `callbacks` (JSON list of
//!   delivered callbacks), `pubkey.pem`, `requests` (the request log), `stats` (both logs'
//!   `capacity`, `retained` and `evicted` counts), `uploads` (the open multipart uploads:
//!   bucket, key, upload id, part count, initiation time; `?bucket=NAME` for one bucket).
//!   Both logs are ring buffers of [`EmulatorBuilder::with_log_capacity`] entries
//!   (`--log-capacity` on the command line).
//! - **Completes take turns**: CompleteMultipartUpload and AbortMultipartUpload of one upload
//!   id are serialized, so a second Complete waits for the first to answer (callback
//!   included), then gets `NoSuchUpload`; two never interleave.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../oss-callback/testdata/emulator_test_key.pem"
//! ))?;
//! let emu = oss_emulator::Emulator::builder()
//!     .with_region("cn-hangzhou")
//!     .with_credentials("ak", "sk")
//!     .with_rsa_key_pem(key)
//!     .start()
//!     .await?;
//! assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
//! assert!(emu.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
//! assert!(emu.callbacks().is_empty());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `fuzzing` (off by default, enabled by `fuzz/`): the entry points the cargo-fuzz targets
//!   call, with a shared emulator on its own runtime. Not part of the API; a default build has
//!   no such module:
//!
//! ```compile_fail
//! use oss_emulator::fuzzing;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod admin;
mod auth;
mod body;
mod buckets;
mod builder;
mod callback;
pub mod cli;
mod conn;
mod cors;
mod error;
// Only for `fuzz/` (which enables the feature) and for this crate's unit tests: it holds a
// tokio runtime and an emulator in a static, which a default build must not carry.
#[cfg(any(feature = "fuzzing", test))]
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod ops;
mod policy;
mod request;
mod ring;
mod router;
mod server;
mod state;
mod storage;
mod upload_locks;
mod xml;

pub use builder::{
    EmulatorBuilder, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    GENERATED_KEY_BITS,
};
pub use callback::{CallbackOutcome, DeliveredCallback, MAX_CALLBACK_RESPONSE};
pub use error::{Error, MAX_ECHO_BYTES};
pub use identity::{IdentityConfig, DEFAULT_KEY_LIFETIME, DEFAULT_ROLE_NAME};
pub use oss_types::limits::MIN_PART_SIZE;
pub use request::{Operation, RequestLog, RequestRecord};
pub use ring::{LogStats, DEFAULT_LOG_CAPACITY};
pub use server::Emulator;
