//! Object options every upload accepts: metadata, ACL, storage class, overwrite protection,
//! server-side encryption, caching headers, Content-Type and Content-MD5.

use http::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, EXPIRES,
};
use http::HeaderMap;

use crate::Error;

/// Object ACL (`x-oss-object-acl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectAcl {
    /// Inherit the bucket's ACL.
    Default,
    /// Owner only.
    Private,
    /// Anyone may read.
    PublicRead,
    /// Anyone may read and write.
    PublicReadWrite,
}

impl ObjectAcl {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Private => "private",
            Self::PublicRead => "public-read",
            Self::PublicReadWrite => "public-read-write",
        }
    }
}

/// Storage class (`x-oss-storage-class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageClass {
    /// Standard.
    Standard,
    /// Infrequent access.
    InfrequentAccess,
    /// Archive.
    Archive,
    /// Cold archive.
    ColdArchive,
    /// Deep cold archive.
    DeepColdArchive,
}

impl StorageClass {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "Standard",
            Self::InfrequentAccess => "IA",
            Self::Archive => "Archive",
            Self::ColdArchive => "ColdArchive",
            Self::DeepColdArchive => "DeepColdArchive",
        }
    }
}

/// Server-side encryption (`x-oss-server-side-encryption` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerSideEncryption {
    /// OSS-managed keys, AES-256.
    Aes256,
    /// OSS-managed keys, SM4.
    Sm4,
    /// KMS, with an optional key id (`x-oss-server-side-encryption-key-id`).
    Kms {
        /// CMK id; the default KMS key when `None`.
        key_id: Option<String>,
    },
}

/// How the upload's `Content-MD5` is handled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentMd5 {
    /// Not sent (default).
    #[default]
    None,
    /// Computed from the body before sending (simple uploads and each multipart part).
    Compute,
    /// This base64 value is sent as is (simple uploads only).
    Value(String),
}

/// Options applied to the stored object. Defaults: nothing sent; Content-Type decided from the
/// key's extension.
#[derive(Debug, Clone, Default)]
pub struct ObjectOptions {
    pub(crate) content_type: Option<String>,
    pub(crate) content_md5: ContentMd5,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) acl: Option<ObjectAcl>,
    pub(crate) storage_class: Option<StorageClass>,
    pub(crate) forbid_overwrite: bool,
    pub(crate) sse: Option<ServerSideEncryption>,
    pub(crate) cache_control: Option<String>,
    pub(crate) content_disposition: Option<String>,
    pub(crate) content_encoding: Option<String>,
    pub(crate) expires: Option<String>,
}

impl ObjectOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Content-Type. Default: from the key's extension, else `application/octet-stream`.
    pub fn with_content_type(mut self, v: impl Into<String>) -> Self {
        self.content_type = Some(v.into());
        self
    }

    /// Content-MD5 handling. Default: [`ContentMd5::None`].
    pub fn with_content_md5(mut self, v: ContentMd5) -> Self {
        self.content_md5 = v;
        self
    }

    /// Adds user metadata sent as `x-oss-meta-<name>` (name lower-cased; give it without prefix).
    pub fn with_metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((name.into(), value.into()));
        self
    }

    /// Object ACL. Default: not sent (the bucket's).
    pub fn with_acl(mut self, v: ObjectAcl) -> Self {
        self.acl = Some(v);
        self
    }

    /// Storage class. Default: not sent (the bucket's).
    pub fn with_storage_class(mut self, v: StorageClass) -> Self {
        self.storage_class = Some(v);
        self
    }

    /// Sends `x-oss-forbid-overwrite: true` (the upload fails if the key exists). Default: false.
    pub fn with_forbid_overwrite(mut self, v: bool) -> Self {
        self.forbid_overwrite = v;
        self
    }

    /// Server-side encryption. Default: none requested.
    pub fn with_server_side_encryption(mut self, v: ServerSideEncryption) -> Self {
        self.sse = Some(v);
        self
    }

    /// Cache-Control of the stored object.
    pub fn with_cache_control(mut self, v: impl Into<String>) -> Self {
        self.cache_control = Some(v.into());
        self
    }

    /// Content-Disposition of the stored object.
    pub fn with_content_disposition(mut self, v: impl Into<String>) -> Self {
        self.content_disposition = Some(v.into());
        self
    }

    /// Content-Encoding of the stored object.
    pub fn with_content_encoding(mut self, v: impl Into<String>) -> Self {
        self.content_encoding = Some(v.into());
        self
    }

    /// Expires of the stored object (an HTTP date string).
    pub fn with_expires(mut self, v: impl Into<String>) -> Self {
        self.expires = Some(v.into());
        self
    }

    /// The explicit Content-Type, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The Content-Type for `key` (explicit, else by extension, else octet-stream).
    pub fn resolved_content_type(&self, key: &str) -> String {
        crate::content_type::decide_content_type(self.content_type.as_deref(), key)
    }

    /// Name/value pairs of every object header (without Content-Type / Content-MD5), as sent on
    /// PutObject and InitiateMultipartUpload, or as PostObject form fields.
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, value) in &self.metadata {
            let name = name.trim().to_ascii_lowercase();
            let name = name.strip_prefix("x-oss-meta-").unwrap_or(&name).to_owned();
            out.push((format!("x-oss-meta-{name}"), value.trim().to_owned()));
        }
        if let Some(acl) = self.acl {
            out.push(("x-oss-object-acl".into(), acl.as_str().into()));
        }
        if let Some(sc) = self.storage_class {
            out.push(("x-oss-storage-class".into(), sc.as_str().into()));
        }
        if self.forbid_overwrite {
            out.push(("x-oss-forbid-overwrite".into(), "true".into()));
        }
        match &self.sse {
            Some(ServerSideEncryption::Aes256) => {
                out.push(("x-oss-server-side-encryption".into(), "AES256".into()))
            }
            Some(ServerSideEncryption::Sm4) => {
                out.push(("x-oss-server-side-encryption".into(), "SM4".into()))
            }
            Some(ServerSideEncryption::Kms { key_id }) => {
                out.push(("x-oss-server-side-encryption".into(), "KMS".into()));
                if let Some(id) = key_id {
                    out.push(("x-oss-server-side-encryption-key-id".into(), id.clone()));
                }
            }
            None => {}
        }
        for (name, v) in [
            (CACHE_CONTROL, &self.cache_control),
            (CONTENT_DISPOSITION, &self.content_disposition),
            (CONTENT_ENCODING, &self.content_encoding),
            (EXPIRES, &self.expires),
        ] {
            if let Some(v) = v {
                out.push((name.as_str().to_owned(), v.trim().to_owned()));
            }
        }
        out
    }

    /// Writes the object headers and `Content-Type` for `key` into `headers`.
    pub(crate) fn apply(&self, key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        insert(headers, "content-type", &self.resolved_content_type(key))?;
        for (name, value) in self.pairs() {
            insert(headers, &name, &value)?;
        }
        Ok(())
    }

    /// Headers CompleteMultipartUpload accepts from these options.
    pub(crate) fn apply_complete(&self, headers: &mut HeaderMap) -> Result<(), Error> {
        if self.forbid_overwrite {
            insert(headers, "x-oss-forbid-overwrite", "true")?;
        }
        if let Some(acl) = self.acl {
            insert(headers, "x-oss-object-acl", acl.as_str())?;
        }
        Ok(())
    }
}

/// Inserts a header, turning invalid names or values into [`Error::InvalidArgument`].
pub(crate) fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), Error> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidArgument {
        name: "header name",
        message: format!("invalid header name {name:?}"),
    })?;
    let v = HeaderValue::from_str(value).map_err(|_| Error::InvalidArgument {
        name: "header value",
        message: format!("invalid value for header {name}"),
    })?;
    headers.insert(n, v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_from_options() {
        let o = ObjectOptions::new()
            .with_metadata("Author", "me")
            .with_acl(ObjectAcl::PublicRead)
            .with_storage_class(StorageClass::InfrequentAccess)
            .with_forbid_overwrite(true)
            .with_server_side_encryption(ServerSideEncryption::Kms {
                key_id: Some("k1".into()),
            })
            .with_cache_control("no-cache")
            .with_content_disposition("attachment");
        let mut h = HeaderMap::new();
        o.apply("a/b.png", &mut h).unwrap();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-oss-meta-author"], "me");
        assert_eq!(h["x-oss-object-acl"], "public-read");
        assert_eq!(h["x-oss-storage-class"], "IA");
        assert_eq!(h["x-oss-forbid-overwrite"], "true");
        assert_eq!(h["x-oss-server-side-encryption"], "KMS");
        assert_eq!(h["x-oss-server-side-encryption-key-id"], "k1");
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["content-disposition"], "attachment");
    }

    #[test]
    fn bad_values_are_errors() {
        let o = ObjectOptions::new().with_metadata("a b", "x");
        assert!(o.apply("k", &mut HeaderMap::new()).is_err());
        let o = ObjectOptions::new().with_cache_control("a\nb");
        assert!(o.apply("k", &mut HeaderMap::new()).is_err());
    }
}
