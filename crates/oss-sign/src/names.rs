//! Wire names and fixed values of OSS Signature V4: the algorithm, header and query names.

use std::time::Duration;

/// The signature algorithm name, `OSS4-HMAC-SHA256`, first word of the `Authorization` header.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";

/// The payload hash OSS clients send: the body is never hashed (`x-oss-content-sha256`).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The last element of every V4 scope.
pub const SCOPE_TERMINATOR: &str = "aliyun_v4_request";

/// Longest expiry OSS accepts for a V4 presigned URL: 7 days, in seconds.
pub const MAX_PRESIGN_EXPIRES_SECS: u64 = 604_800;

/// Expiry used when the caller of [`Signer::presign`](crate::Signer::presign) passes `None`: 15 minutes.
pub const DEFAULT_PRESIGN_EXPIRES: Duration = Duration::from_secs(900);

/// Header `x-oss-date`: the signing time, `yyyyMMdd'T'HHmmss'Z'`.
pub const X_OSS_DATE: &str = "x-oss-date";

/// Header `x-oss-content-sha256`: always [`UNSIGNED_PAYLOAD`].
pub const X_OSS_CONTENT_SHA256: &str = "x-oss-content-sha256";

/// Header (header signing) or query parameter (presigning) carrying the STS token.
pub const X_OSS_SECURITY_TOKEN: &str = "x-oss-security-token";

/// Query parameter naming the algorithm of a presigned URL.
pub const X_OSS_SIGNATURE_VERSION: &str = "x-oss-signature-version";

/// Query parameter: lifetime of a presigned URL in seconds.
pub const X_OSS_EXPIRES: &str = "x-oss-expires";

/// Query parameter (and POST form field): `<AccessKeyId>/<scope>`.
pub const X_OSS_CREDENTIAL: &str = "x-oss-credential";

/// Query parameter: the `;`-joined additional signed header names of a presigned URL.
pub const X_OSS_ADDITIONAL_HEADERS: &str = "x-oss-additional-headers";

/// Query parameter (and POST form field) carrying the hex signature.
pub const X_OSS_SIGNATURE: &str = "x-oss-signature";

/// Prefix of the headers that are always signed.
pub const X_OSS_PREFIX: &str = "x-oss-";
