//! Alibaba Cloud OSS uploads that return the upload callback's answer.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod checkpoint;
mod client;
mod content_type;
mod crc;
mod error;
mod form;
mod multipart;
mod object;
mod options;
mod output;
mod part_size;
mod policy;
mod progress;
mod raw;
mod resumable;
mod simple;
mod source;
mod wire;

pub use checkpoint::{CheckpointPart, CheckpointRecord, CheckpointRejection};
pub use client::{Client, ClientBuilder};
pub use content_type::{decide_content_type, DEFAULT_CONTENT_TYPE};
pub use crc::Crc64;
pub use error::{CallbackFailure, Error};
pub use form::{BrowserForm, BrowserFormRequest, PostObject, DEFAULT_POLICY_VALIDITY};
pub use multipart::MultipartUpload;
pub use object::{GetObject, GetObjectOutput, HeadObjectOutput, ObjectBody};
pub use options::{ContentMd5, ObjectAcl, ObjectOptions, ServerSideEncryption, StorageClass};
pub use output::{CallbackResponse, UploadOutput};
pub use part_size::{
    effective_part_size, part_count, DEFAULT_PARALLELISM, DEFAULT_PART_SIZE, MAX_PARTS,
    MAX_PART_SIZE, MIN_PART_SIZE,
};
pub use policy::{PolicyCondition, PostPolicy};
pub use progress::{Progress, ProgressEvent};
pub use raw::UploadedPart;
pub use resumable::ResumableUpload;
pub use simple::PutObject;
pub use source::{BodyStream, UploadSource};
pub use wire::{CompletedPart, ListPartsPage, ListedPart};
