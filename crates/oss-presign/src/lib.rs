//! Presigned Alibaba Cloud OSS URLs (Signature V4), upload callbacks included, with no I/O.
//!
//! A [`Presigner`] holds the endpoint, region and credentials; a [`PresignRequest`] names the
//! operation (PutObject, GetObject, HeadObject, InitiateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload) and its options. The result,
//! [`PresignedRequest`], is the method, the URL and the headers the eventual request must carry.
//!
//! Expiry defaults to 15 minutes and may be 1 s to 7 days. A callback rides in signed headers
//! ([`CallbackCarrier::Header`]: the uploader must send them, exactly) or in the signed query
//! ([`CallbackCarrier::Query`]: nothing extra to send).
//!
//! # Example
//!
//! The official `v4-presign-basic` vector (Go SDK V2 `TestV4AuthQuery`), then a presigned PUT
//! whose callback rides in the query:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use oss_callback::{Callback, CallbackBodyType, CallbackVars};
//! use oss_presign::{CallbackCarrier, PresignRequest, Presigner};
//! use oss_sign::Credentials;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let presigner = Presigner::builder("cn-hangzhou")
//!     .with_endpoint("http://oss-cn-hangzhou.aliyuncs.com")
//!     .with_credentials(Credentials::new("ak", "sk"))
//!     .build()?;
//! let request = PresignRequest::put_object("bucket", "1234+-/123/1.txt")
//!     .with_query("param1", "value1")
//!     .with_query("+param1", "value3")
//!     .with_query("|param1", "value4")
//!     .with_query("+param2", "")
//!     .with_query("|param2", "")
//!     .with_query("param2", "")
//!     .with_header("x-oss-head1", "value")
//!     .with_content_type("application/octet-stream")
//!     .with_time(UNIX_EPOCH + Duration::from_secs(1_702_781_677))
//!     .with_expires(Duration::from_secs(599));
//! let presigned = presigner.presign(&request).await?;
//! let url = presigned.uri.to_string();
//! assert!(url.starts_with("http://bucket.oss-cn-hangzhou.aliyuncs.com/1234%2B-/123/1.txt?"));
//! assert!(url.ends_with(
//!     "&x-oss-signature=a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"
//! ));
//! // Signed headers must be sent as they are.
//! assert_eq!(presigned.signed_headers["content-type"], "application/octet-stream");
//! assert_eq!(presigned.signed_headers["x-oss-head1"], "value");
//!
//! // A presigned PUT with a callback in the URL: the uploader sends only the body.
//! let callback = Callback::builder()
//!     .with_url("https://example.com/oss-callback")
//!     .with_body(r#"{"object":${object},"size":${size},"user":${x:user}}"#)
//!     .with_body_type(CallbackBodyType::Json)
//!     .build()?;
//! let vars = CallbackVars::new().with("x:user", "alice")?;
//! let presigned = presigner.presign(
//!     &PresignRequest::put_object("bucket", "uploads/photo.jpg")
//!         .with_callback(callback, Some(vars), CallbackCarrier::Query)
//!         .with_expires(Duration::from_secs(3600)),
//! ).await?;
//! assert!(presigned.uri.query().unwrap().contains("callback="));
//! assert!(presigned.signed_headers.get("x-oss-callback").is_none());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod error;
mod presigned;
mod presigner;
mod request;

pub use error::Error;
pub use oss_types::Addressing;
pub use presigned::PresignedRequest;
pub use presigner::{Presigner, PresignerBuilder};
pub use request::{CallbackCarrier, PresignRequest};
