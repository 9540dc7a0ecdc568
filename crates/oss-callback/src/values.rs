//! The system variables OSS substitutes into callback bodies.

use crate::Error;

/// Names of the system variables OSS documents for callback bodies (case-sensitive).
pub const SYSTEM_VARIABLES: &[&str] = &[
    "bucket",
    "object",
    "etag",
    "size",
    "mimeType",
    "imageInfo.height",
    "imageInfo.width",
    "imageInfo.format",
    "crc64",
    "contentMd5",
    "vpcId",
    "clientIp",
    "reqId",
    "operation",
];

/// Values of the system variables for one upload, as OSS (or the emulator) knows them after
/// storing the object. Every value is text; an unknown or inapplicable value is the empty
/// string (for example the `imageInfo.*` values of a non-image).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemValues {
    /// `${bucket}`: the bucket name.
    pub bucket: String,
    /// `${object}`: the object key.
    pub object: String,
    /// `${etag}`: the object's ETag, without quotes.
    pub etag: String,
    /// `${size}`: the object's size in bytes, in decimal (the whole object for
    /// CompleteMultipartUpload).
    pub size: String,
    /// `${mimeType}`: the object's content type.
    pub mime_type: String,
    /// `${crc64}`: the object's CRC-64/ECMA in decimal (`x-oss-hash-crc64ecma`).
    pub crc64: String,
    /// `${contentMd5}`: the base64 MD5 (PutObject/PostObject only).
    pub content_md5: String,
    /// `${clientIp}`: the uploader's IP address.
    pub client_ip: String,
    /// `${reqId}`: the upload's request id.
    pub req_id: String,
    /// `${operation}`: `PutObject`, `PostObject` or `CompleteMultipartUpload`.
    pub operation: String,
    /// `${vpcId}`: the VPC id, empty when the upload did not come through a VPC.
    pub vpc_id: String,
    /// `${imageInfo.height}`: image height in pixels, empty for non-images.
    pub image_height: String,
    /// `${imageInfo.width}`: image width in pixels, empty for non-images.
    pub image_width: String,
    /// `${imageInfo.format}`: image format (`jpg`, `png`, ...), empty for non-images.
    pub image_format: String,
}

impl SystemValues {
    /// The value of a system variable by its template name (`mimeType`, `imageInfo.width`, ...);
    /// `None` for names that are not system variables.
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "bucket" => &self.bucket,
            "object" => &self.object,
            "etag" => &self.etag,
            "size" => &self.size,
            "mimeType" => &self.mime_type,
            "imageInfo.height" => &self.image_height,
            "imageInfo.width" => &self.image_width,
            "imageInfo.format" => &self.image_format,
            "crc64" => &self.crc64,
            "contentMd5" => &self.content_md5,
            "vpcId" => &self.vpc_id,
            "clientIp" => &self.client_ip,
            "reqId" => &self.req_id,
            "operation" => &self.operation,
            _ => return None,
        })
    }

    /// Sets a system variable by its template name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownVariable`] for names that are not system variables.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> Result<(), Error> {
        let slot = match name {
            "bucket" => &mut self.bucket,
            "object" => &mut self.object,
            "etag" => &mut self.etag,
            "size" => &mut self.size,
            "mimeType" => &mut self.mime_type,
            "imageInfo.height" => &mut self.image_height,
            "imageInfo.width" => &mut self.image_width,
            "imageInfo.format" => &mut self.image_format,
            "crc64" => &mut self.crc64,
            "contentMd5" => &mut self.content_md5,
            "vpcId" => &mut self.vpc_id,
            "clientIp" => &mut self.client_ip,
            "reqId" => &mut self.req_id,
            "operation" => &mut self.operation,
            _ => {
                return Err(Error::UnknownVariable {
                    name: name.to_owned(),
                })
            }
        };
        *slot = value.into();
        Ok(())
    }

    /// Whether `name` is a system variable.
    pub fn is_system_variable(name: &str) -> bool {
        SYSTEM_VARIABLES.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        let v = SystemValues::default();
        for name in SYSTEM_VARIABLES {
            assert_eq!(v.get(name), Some(""), "{name}");
        }
        assert_eq!(v.get("mimetype"), None);
        let mut v = v;
        for (i, name) in SYSTEM_VARIABLES.iter().enumerate() {
            v.set(name, i.to_string()).unwrap();
        }
        for (i, name) in SYSTEM_VARIABLES.iter().enumerate() {
            assert_eq!(v.get(name), Some(i.to_string().as_str()), "{name}");
        }
        assert!(matches!(
            v.set("nope", "x"),
            Err(Error::UnknownVariable { .. })
        ));
        assert!(!SystemValues::is_system_variable("filename"));
    }
}
