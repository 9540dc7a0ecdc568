//! The vocabulary of Alibaba Cloud OSS that every oss-rs crate speaks, with no I/O.
//!
//! Each rule lives here once, so the signer, the transport, the presigner, the uploader, the
//! emulator and the CLI cannot disagree:
//!
//! - [`Region`], [`BucketName`] and [`PartNumber`] are validated newtypes whose parse errors say
//!   what is wrong (a region written `oss-cn-hangzhou` gets a did-you-mean).
//! - [`Endpoint`], [`Scheme`] and [`Addressing`] turn a bucket and key into a URL
//!   (virtual-hosted, path-style or CNAME), percent-encoded with the rule V4 signs
//!   ([`percent_encode`]).
//! - [`Crc64`] is the `x-oss-hash-crc64ecma` checksum, streaming and combinable; [`Crc64Combiner`]
//!   combines parts of one length with a precomputed shift.
//! - [`limits`] holds OSS's multipart limits.
//! - [`CallbackFailure`] is the record of a 203 `CallbackFailed` answer, the same from the
//!   transport to the CLI; [`ServiceFields`] is what every level copies from an OSS error
//!   answer so its one-line `Display` is complete.
//!
//! ```
//! use oss_types::{BucketName, Crc64, Endpoint, PartNumber, Region};
//!
//! let region: Region = "cn-hangzhou".parse()?;
//! let bucket = BucketName::new("examplebucket")?;
//! let url = Endpoint::for_region(&region).object_url(&bucket, "dir/a b.txt");
//! assert_eq!(url, "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b.txt");
//!
//! let err = "oss-cn-hangzhou".parse::<Region>().unwrap_err();
//! assert!(err.to_string().contains("did you mean \"cn-hangzhou\""));
//!
//! assert!(PartNumber::new(10_001).is_err());
//! assert_eq!(Crc64::checksum(b"123456789"), 0x995d_c9bb_df19_39fa);
//! # Ok::<(), oss_types::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod bucket;
mod callback;
mod crc;
mod encoding;
mod endpoint;
mod error;
pub mod limits;
mod part;
mod region;

pub use bucket::BucketName;
pub use callback::{CallbackFailure, ServiceFields};
pub use crc::{Crc64, Crc64Combiner};
pub use encoding::{encode_query, percent_encode, percent_encode_chunks};
pub use endpoint::{Addressing, Endpoint, Scheme};
pub use error::Error;
pub use part::PartNumber;
pub use region::Region;
