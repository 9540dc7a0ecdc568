//! Build, encode, resolve and verify Alibaba Cloud OSS upload callbacks.
//!
//! After OSS stores an object uploaded with a callback, it POSTs a body built from a template
//! to your server and relays your server's JSON reply to the uploader. This crate covers every
//! step of that exchange, with no I/O in its core:
//!
//! - **Client side**: [`Callback::builder`] validates a callback the way OSS does (1–5 URLs,
//!   ports, body template placeholders, body type, `additionalHeaders`, 5 KB limit) and
//!   [`CallbackVars`] holds custom `x:` variables. Both encode to the base64 JSON OSS expects,
//!   for any of the three [`Carrier`]s: headers ([`encode_headers`]), presigned-URL query
//!   ([`encode_query`]) or PostObject form fields ([`encode_form`]).
//! - **OSS side** (used by the emulator): [`decode_headers`], [`decode_query`],
//!   [`decode_form`] and [`decode_request`] decode and validate; [`Template::resolve`] fills
//!   `${var}` placeholders from [`SystemValues`] and the custom variables; [`sign_callback`]
//!   signs the callback request.
//! - **Your callback server**: [`verify_callback`] checks the RSA/MD5 signature against a
//!   [`CallbackPublicKey`] (OSS's key is 512-bit RSA), and [`CallbackVerifier`] adds the
//!   key-URL allow-list, a key cache, a pluggable [`KeyFetcher`] and a [`PublicPath`] for
//!   reverse proxies. Key URLs are refused before any fetch unless canonical and covered by an
//!   allow-list entry ([`KeyUrlPrefix`]).
//!
//! # Example
//!
//! ```
//! use oss_callback::{Callback, CallbackBodyType, CallbackVars, SystemValues};
//!
//! let callback = Callback::builder()
//!     .with_url("https://example.com/oss-callback")
//!     .with_body(r#"{"object":${object},"size":${size},"user":${x:user}}"#)
//!     .with_body_type(CallbackBodyType::Json)
//!     .build()?;
//! assert_eq!(
//!     callback.encode(),
//!     "eyJjYWxsYmFja1VybCI6Imh0dHBzOi8vZXhhbXBsZS5jb20vb3NzLWNhbGxiYWNrIiwiY2FsbGJhY2tCb2R5Ijoie1wib2JqZWN0XCI6JHtvYmplY3R9LFwic2l6ZVwiOiR7c2l6ZX0sXCJ1c2VyXCI6JHt4OnVzZXJ9fSIsImNhbGxiYWNrQm9keVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0="
//! );
//! let vars = CallbackVars::new().with("x:user", "alice")?;
//!
//! // Put both on a PutObject request (before signing it).
//! let mut headers = http::HeaderMap::new();
//! oss_callback::encode_headers(&callback, Some(&vars), &mut headers)?;
//! assert_eq!(headers["x-oss-callback"], callback.encode().as_str());
//! assert_eq!(headers["x-oss-callback-var"], "eyJ4OnVzZXIiOiJhbGljZSJ9");
//!
//! // What OSS will send to the callback server once the object is stored:
//! let values = SystemValues {
//!     object: "photos/cat.jpg".into(),
//!     size: "1024".into(),
//!     ..SystemValues::default()
//! };
//! let template = callback.template().expect("inline callback");
//! assert_eq!(
//!     template.resolve(&values, &vars, callback.body_type())?,
//!     r#"{"object":"photos/cat.jpg","size":"1024","user":"alice"}"#
//! );
//! # Ok::<(), oss_callback::Error>(())
//! ```
//!
//! # Features
//!
//! - `server` (off by default): a hyper + rustls [`KeyFetcher`] (`HyperKeyFetcher`, which
//!   always reaches OSS's key host over HTTPS) and a `tower` layer (`CallbackVerifyLayer`) that
//!   verifies callbacks, answers forged ones with 403 and hands the handler a
//!   [`VerifiedCallback`].
//!   Without it the crate depends on no async runtime, HTTP client or TLS stack.
//! - `fuzzing` (off by default, enabled by `fuzz/`): the entry points the cargo-fuzz targets
//!   call. Not part of the API; a default build has no such module:
//!
//! ```compile_fail
//! use oss_callback::fuzzing;
//! ```
//!
//! # Choices where OSS is silent
//!
//! Recorded in `docs/decisions.md`: unknown `${name}` placeholders are rejected when the
//! template is parsed; `+` in the signed path stays `+`; form values are percent-encoded except
//! for RFC 3986 unreserved characters; JSON values are always JSON strings (`"size":"9"`).

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod body_type;
mod callback;
mod carrier;
mod codec;
mod error;
// Only for `fuzz/` (which enables the feature) and for this crate's unit tests.
#[cfg(any(feature = "fuzzing", test))]
#[doc(hidden)]
pub mod fuzzing;
mod key;
mod key_url;
#[cfg(feature = "server")]
mod server;
mod signature;
mod template;
mod values;
mod vars;
mod verifier;

pub use body_type::CallbackBodyType;
pub use callback::{Callback, CallbackBuilder, MAX_ADDITIONAL_HEADERS, MAX_CALLBACK_URLS};
pub use carrier::{
    decode_form, decode_headers, decode_query, decode_request, encode_form, encode_headers,
    encode_query, Carrier, DecodedCallback, HEADER_CALLBACK, HEADER_CALLBACK_VAR, PARAM_CALLBACK,
    PARAM_CALLBACK_VAR,
};
pub use error::{Error, MAX_CALLBACK_JSON_LEN};
pub use key::{CallbackPrivateKey, CallbackPublicKey};
pub use key_url::{KeyUrlPrefix, OFFICIAL_KEY_HOST};
#[cfg(feature = "server")]
pub use server::{CallbackVerifyLayer, CallbackVerifyService, HyperKeyFetcher};
pub use signature::{
    decode_pub_key_url, sign_callback, signature_headers, string_to_sign, verify_callback,
    HEADER_AUTHORIZATION, HEADER_PUB_KEY_URL,
};
pub use template::Template;
pub use values::{SystemValues, SYSTEM_VARIABLES};
pub use vars::{CallbackVarKey, CallbackVars};
pub use verifier::{
    CallbackVerifier, CallbackVerifierBuilder, FetchFuture, KeyFetcher, PublicPath,
    StaticKeyFetcher, VerifiedCallback, DEFAULT_ALLOWED_KEY_URL_PREFIXES, DEFAULT_MAX_CACHED_KEYS,
};
