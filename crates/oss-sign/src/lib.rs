//! Alibaba Cloud OSS Signature V4 (`OSS4-HMAC-SHA256`), with no I/O.
//!
//! `oss-sign` signs [`http`] requests for OSS: header signing ([`Signer::sign_headers`]),
//! presigned URLs ([`Signer::presign`]) and V4 PostObject policies
//! ([`Signer::sign_post_policy`]). It never reads the clock, the network or files: the signing
//! time is part of [`SigningParams`]. Credentials come from a [`ProvideCredentials`]; the
//! providers that read the environment, files or the network live in `oss-credentials`.
//!
//! Every stage of the signature is a public type whose `Display` is the exact hashed text —
//! [`CanonicalRequest`], [`Scope`], [`StringToSign`], [`SigningKey`] — so a server (the
//! `oss-emulator` crate) verifies with the same code, and a failing signature can be debugged
//! stage by stage. [`parse_authorization`] and [`parse_presigned_query`] read signatures back.
//!
//! # Example
//!
//! Sign the official `v4-header-basic` request (Go SDK V2 `TestV4AuthHeader`), then a PutObject
//! carrying an upload callback:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use oss_sign::{Credentials, SigningParams, Signer};
//!
//! let signer = Signer::new();
//! let creds = Credentials::new("ak", "sk");
//! let time = UNIX_EPOCH + Duration::from_secs(1_702_743_657); // 2023-12-16T16:20:57Z
//!
//! let (mut parts, ()) = http::Request::put(
//!     "http://bucket.oss-cn-hangzhou.aliyuncs.com/1234%2B-/123/1.txt\
//!      ?param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2&%7Cparam2&param2",
//! )
//! .header("x-oss-head1", "value")
//! .header("abc", "value")
//! .header("ZAbc", "value")
//! .header("XYZ", "value")
//! .header("content-type", "text/plain")
//! .body(())?
//! .into_parts();
//! let params = SigningParams::builder("cn-hangzhou")
//!     .with_bucket("bucket")
//!     .with_key("1234+-/123/1.txt")
//!     .with_time(time)
//!     .build()?;
//! signer.sign_headers(&mut parts, &creds, &params)?;
//! assert_eq!(
//!     parts.headers["authorization"],
//!     "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
//!      Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
//! );
//! assert_eq!(parts.headers["x-oss-date"], "20231216T162057Z");
//! assert_eq!(parts.headers["x-oss-content-sha256"], "UNSIGNED-PAYLOAD");
//!
//! // The same call for a PutObject with an upload callback: `x-oss-callback` (base64 JSON,
//! // built by the `oss-callback` crate) is an `x-oss-*` header, so it is signed too.
//! let callback = "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9jYiIsImNhbGxiYWNrQm9keSI6ImJ1Y2tldD0ke2J1Y2tldH0ifQ==";
//! let (mut put, ()) = http::Request::put(
//!     "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/exampledir/exampleobject.txt",
//! )
//! .header("content-type", "text/plain")
//! .header("x-oss-callback", callback)
//! .body(())?
//! .into_parts();
//! let params = SigningParams::builder("cn-hangzhou")
//!     .with_bucket("examplebucket")
//!     .with_key("exampledir/exampleobject.txt")
//!     .with_time(time)
//!     .build()?;
//! let stages = signer.sign_headers_with_stages(&mut put, &creds, &params)?;
//! assert!(stages.canonical_request.to_string().contains(&format!("x-oss-callback:{callback}\n")));
//! assert!(put.headers["authorization"].to_str()?.ends_with(&stages.signature));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Secrets
//!
//! [`Secret`] and [`Credentials`] print `***` in `Debug` and have no `Display`; secrets are
//! zeroed on drop; errors never carry them. The `Authorization` and `x-oss-security-token`
//! header values are marked sensitive.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod authorization;
mod canonical;
mod credentials;
mod datetime;
mod encoding;
mod error;
mod key;
mod names;
mod params;
mod policy;
mod presign;
mod provider;
mod scope;
mod sign;
mod sink;
mod string_to_sign;

pub use authorization::{
    parse_authorization, parse_presigned_query, verify_signature, Authorization, PresignedQuery,
};
pub use canonical::{effective_additional_headers, is_default_signed_header, CanonicalRequest};
pub use credentials::{Credentials, Secret};
pub use datetime::{format_datetime, format_http_date, parse_datetime, parse_http_date};
pub use encoding::decode_query;
pub use error::Error;
pub use key::SigningKey;
pub use names::{
    ALGORITHM, DEFAULT_PRESIGN_EXPIRES, MAX_PRESIGN_EXPIRES_SECS, SCOPE_TERMINATOR,
    UNSIGNED_PAYLOAD, X_OSS_ADDITIONAL_HEADERS, X_OSS_CONTENT_SHA256, X_OSS_CREDENTIAL, X_OSS_DATE,
    X_OSS_EXPIRES, X_OSS_PREFIX, X_OSS_SECURITY_TOKEN, X_OSS_SIGNATURE, X_OSS_SIGNATURE_VERSION,
};
pub use oss_types::percent_encode;
pub use params::{SigningParams, SigningParamsBuilder};
pub use policy::{post_policy_credential, PostPolicySignature};
pub use presign::Presigned;
pub use provider::{ProvideCredentials, ProvideFuture, StaticCredentialsProvider};
pub use scope::{Product, Scope};
pub use sign::{Signer, SigningStages};
pub use string_to_sign::StringToSign;
