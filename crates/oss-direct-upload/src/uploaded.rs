//! The callback body the kit asks OSS for, and its typed form once verified.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A stored object, as OSS reported it in a callback whose signature verified.
///
/// `trusted` holds the values the authorization hook vouched for. They come from constants in
/// the callback body, which the policy pins, so the browser cannot change them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedObject {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub object: String,
    /// Size in bytes.
    pub size: u64,
    /// Content type OSS stored.
    pub mime_type: String,
    /// ETag as OSS reported it.
    pub etag: String,
    /// The grant's trusted values, by name (without `x:`).
    pub trusted: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    bucket: String,
    object: String,
    size: String,
    mime_type: String,
    etag: String,
    #[serde(default)]
    trusted: BTreeMap<String, String>,
}

impl UploadedObject {
    /// Parses the (already verified) body of a callback the kit's template produced.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let w: Wire = serde_json::from_slice(body).ok()?;
        Some(Self {
            bucket: w.bucket,
            object: w.object,
            size: w.size.parse().ok()?,
            mime_type: w.mime_type,
            etag: w.etag,
            trusted: w.trusted,
        })
    }
}

/// The `callbackBody` template: OSS's values as placeholders, the trusted values as JSON
/// constants. `$` in a constant is written `\u0024`, so no trusted value can form a placeholder.
pub(crate) fn body_template(trusted: &BTreeMap<String, String>) -> String {
    let trusted = serde_json::to_string(trusted)
        .unwrap_or_else(|_| "{}".into())
        .replace('$', "\\u0024");
    format!(
        r#"{{"bucket":${{bucket}},"object":${{object}},"etag":${{etag}},"size":${{size}},"mimeType":${{mimeType}},"trusted":{trusted}}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_values_are_constants_that_cannot_form_placeholders() {
        let mut t = BTreeMap::new();
        t.insert("user".to_owned(), "a${object}\"b".to_owned());
        let tmpl = body_template(&t);
        assert_eq!(
            tmpl,
            r#"{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"trusted":{"user":"a\u0024{object}\"b"}}"#
        );
        let template = oss_callback::Template::parse(&tmpl).unwrap();
        let values = oss_callback::SystemValues {
            bucket: "b".into(),
            object: "k".into(),
            etag: "E".into(),
            size: "3".into(),
            mime_type: "text/plain".into(),
            ..Default::default()
        };
        let body = template
            .resolve(
                &values,
                &oss_callback::CallbackVars::new(),
                oss_callback::CallbackBodyType::Json,
            )
            .unwrap();
        let parsed = UploadedObject::parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.trusted["user"], "a${object}\"b");
        assert_eq!(parsed.size, 3);
        assert_eq!(parsed.mime_type, "text/plain");
    }
}
