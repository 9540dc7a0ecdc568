//! Alibaba Cloud OSS uploads that return the upload callback's answer.
//!
//! Every way to upload with a callback, as one client facade over [`oss_transport`]
//! (V4 signing per attempt, retries, typed errors), [`oss_sign`] and [`oss_callback`]:
//!
//! | path | builder | callback carrier |
//! | --- | --- | --- |
//! | simple upload from bytes, a file or a stream | [`Client::put_object`] → [`PutObject`] | headers |
//! | multipart (parallel parts, streams of unknown length) | [`Client::multipart_upload`] → [`MultipartUpload`] | headers on Complete |
//! | resumable upload of a file (checkpoint) | [`Client::resumable_upload`] → [`ResumableUpload`] | headers on Complete |
//! | form upload (PostObject, V4 POST policy) | [`Client::post_object`] → [`PostObject`] | form fields |
//! | presigned URL | [`Client::put_presigned`] | URL query or signed headers |
//!
//! Each returns [`UploadOutput`] (ETag, request id, CRC-64, version id and
//! `callback: Option<CallbackResponse>`, the application server's answer), or
//! [`Error::CallbackFailed`] when OSS stored the object but the callback failed (HTTP 203; never
//! success, never retried), or [`Error::CallbackOutcomeUnknown`] when the request carrying the
//! callback failed after its body was sent: the uploader then asks OSS (HeadObject: size,
//! CRC-64, `Last-Modified`) instead of guessing, and reports the object stored with the callback's
//! outcome unknown, or sends again when the object is not there (see [`UnknownCallbackOutcome`]).
//! The raw multipart calls ([`Client::initiate_multipart_upload`], [`Client::upload_part`],
//! [`Client::complete_multipart_upload`],
//! [`Client::abort_multipart_upload`], [`Client::list_parts`]) and [`Client::get_object`],
//! [`Client::head_object`], [`Client::delete_object`] are there to build your own flows and to
//! check what was uploaded. [`Client::browser_form`] signs a form a web page posts directly.
//!
//! Downloads: [`Client::download`] → [`Download`] fetches parallel ranges pinned to one ETag
//! into `<file>.temp`, checks the combined CRC-64 and renames it (resumable with a
//! checkpoint); [`Client::download_to_writer`] streams in order (stdout).
//!
//! To see and undo what was uploaded: [`Client::list_objects`] and [`Client::list_uploads`]
//! are paginated [`PageStream`]s (prefix, delimiter, start-after, continuation; url-encoded
//! keys decoded), [`Client::delete_objects`] deletes in batches (quiet or verbose), and
//! [`Client::create_bucket`], [`Client::delete_bucket`], [`Client::bucket_info`] and
//! [`Client::list_buckets`] manage buckets.
//!
//! Content-Type is decided before signing (explicit, else from the key's extension, else
//! `application/octet-stream`); CRC-64 is computed while sending and compared with
//! `x-oss-hash-crc64ecma` ([`Error::CrcMismatch`], retryable). Progress arrives as
//! [`ProgressEvent`]s through a [`Progress`] callback or channel.
//!
//! # Example
//!
//! An in-process [`oss-emulator`](https://docs.rs/oss-emulator) stands in for OSS, and a tiny
//! callback server answers JSON; the upload returns that answer.
//!
//! ```
//! # use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use oss_callback::{Callback, CallbackBodyType, CallbackVars};
//! use oss_upload::{Client, ObjectOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../oss-callback/testdata/emulator_test_key.pem"))?;
//! let emu = oss_emulator::Emulator::builder()
//!     .with_credentials("ak", "sk")
//! #   .with_rsa_key_pem(pem)
//!     .start()
//!     .await?;
//! # // A one-shot callback server: reads the callback, answers {"accepted":true}.
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let callback_url = format!("http://{}/notify", listener.local_addr()?);
//! # tokio::spawn(async move {
//! #     let (mut s, _) = listener.accept().await.unwrap();
//! #     let mut buf = Vec::new();
//! #     let mut chunk = [0u8; 4096];
//! #     loop {
//! #         let n = s.read(&mut chunk).await.unwrap();
//! #         buf.extend_from_slice(&chunk[..n]);
//! #         let text = String::from_utf8_lossy(&buf).to_lowercase();
//! #         if let Some(end) = text.find("\r\n\r\n") {
//! #             let len: usize = text.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse().unwrap()).unwrap_or(0);
//! #             if buf.len() >= end + 4 + len { break; }
//! #         }
//! #         if n == 0 { break; }
//! #     }
//! #     let body = r#"{"accepted":true}"#;
//! #     let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
//! #     s.write_all(reply.as_bytes()).await.unwrap();
//! # });
//! let client = Client::builder("examplebucket")
//!     .with_endpoint(emu.endpoint())
//!     .with_region(emu.region())
//!     .with_static_credentials("ak", "sk")
//!     .with_path_style(true)
//!     .build()?;
//!
//! let callback = Callback::builder()
//!     .with_url(callback_url)
//!     .with_body(r#"{"object":${object},"size":${size},"user":${x:user}}"#)
//!     .with_body_type(CallbackBodyType::Json)
//!     .build()?;
//! let out = client
//!     .put_object("docs/hello.txt", "hello, oss")
//!     .with_options(ObjectOptions::new().with_metadata("origin", "doctest"))
//!     .with_callback(callback)
//!     .with_callback_vars(CallbackVars::new().with("x:user", "alice")?)
//!     .send()
//!     .await?;
//!
//! let answer = out.callback.expect("the callback answered").json_value()?;
//! assert_eq!(answer["accepted"], true);
//! assert_eq!(emu.callbacks()[0].body, r#"{"object":"docs/hello.txt","size":"10","user":"alice"}"#);
//! let stored = client.get_object("docs/hello.txt").send().await?.body.bytes().await?;
//! assert_eq!(stored, "hello, oss");
//! # Ok(())
//! # }
//! ```
//!
//! # Cancellation
//!
//! Dropping an upload future stops it at its next `.await`; what happens to parts already sent:
//!
//! - [`MultipartUpload`]: once Initiate answered, the upload aborts itself on the current tokio
//!   runtime (a spawned task), as it does on error, unless told to keep the parts. Not when a
//!   Complete carrying a callback was in flight: it may have committed the object and called the
//!   application server, so the upload is left alone. [`MultipartUpload::handle`], taken before
//!   awaiting, gives the upload id and waits for that abort ([`UploadHandle::settled`]: a program
//!   about to exit lets it finish, or prints the id to abort later).
//! - [`ResumableUpload`]: nothing is aborted: the checkpoint (written before Initiate, after it,
//!   after every part and before Complete) is what the next run resumes, and that run never
//!   sends a part the file still holds or a second Complete after one that committed.
//! - Parts left in OSS are billed until [`Client::abort_multipart_upload`] removes them
//!   ([`Client::list_uploads`] finds them).
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod buffer_pool;
mod checkpoint;
mod checkpoint_lock;
mod checksum;
mod client;
mod content_type;
mod download;
mod download_checkpoint;
mod error;
mod form;
mod list_wire;
mod listing;
mod multipart;
mod object;
mod options;
mod output;
mod part_check;
mod part_size;
mod parts;
mod policy;
mod progress;
mod raw;
mod resumable;
mod simple;
mod source;
mod spec;
mod unconfirmed;
mod upload_handle;
mod wire;

pub use checkpoint::{AttemptMark, CheckpointPart, CheckpointRecord, CheckpointRejection};
pub use client::{Client, ClientBuilder};
pub use content_type::{decide_content_type, DEFAULT_CONTENT_TYPE};
pub use download::{Download, DownloadOutput};
pub use error::{Confirmation, Error, UnknownCallbackOutcome};
pub use form::{BrowserForm, BrowserFormRequest, PostObject, DEFAULT_POLICY_VALIDITY};
pub use list_wire::{BucketSummary, ListedObject, ListedUpload, ObjectPage, UploadPage};
pub use listing::{ListBuckets, ListObjects, ListUploads, PageStream, MAX_DELETE_BATCH};
pub use multipart::MultipartUpload;
pub use object::{GetObject, GetObjectOutput, HeadObjectOutput, ObjectBody};
pub use options::{ContentMd5, ObjectAcl, ObjectOptions, ServerSideEncryption, StorageClass};
pub use oss_types::limits::{MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE};
pub use oss_types::Crc64;
pub use oss_types::{CallbackFailure, ServiceFields};
pub use output::{CallbackResponse, UploadOutput};
pub use part_size::{effective_part_size, part_count, DEFAULT_PARALLELISM, DEFAULT_PART_SIZE};
pub use policy::{PolicyCondition, PostPolicy};
pub use progress::{Progress, ProgressEvent};
pub use raw::{CompleteParts, UploadedPart};
pub use resumable::ResumableUpload;
pub use simple::PutObject;
pub use source::{BodyStream, UploadSource};
pub use upload_handle::{UploadFate, UploadHandle};
pub use wire::{CompletedPart, ListPartsPage, ListedPart};
