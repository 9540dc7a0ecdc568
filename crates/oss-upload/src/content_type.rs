//! Content-Type decided before signing (Content-Type is a signed header).

/// Used when neither the caller nor the key's extension gives a type.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The Content-Type sent with an upload: `explicit` if given, else the type registered for the
/// key's extension (`mime_guess`), else `application/octet-stream`.
///
/// ```
/// use oss_upload::decide_content_type;
/// assert_eq!(decide_content_type(Some("text/x-custom"), "a.txt"), "text/x-custom");
/// assert_eq!(decide_content_type(None, "dir/photo.JPG"), "image/jpeg");
/// assert_eq!(decide_content_type(None, "no-extension"), "application/octet-stream");
/// ```
pub fn decide_content_type(explicit: Option<&str>, key: &str) -> String {
    if let Some(explicit) = explicit.map(str::trim).filter(|s| !s.is_empty()) {
        return explicit.to_owned();
    }
    let name = key.rsplit('/').next().unwrap_or(key);
    if !name.contains('.') {
        return DEFAULT_CONTENT_TYPE.to_owned();
    }
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension() {
        assert_eq!(decide_content_type(None, "x/y.json"), "application/json");
        assert_eq!(
            decide_content_type(None, "x.unknownext"),
            DEFAULT_CONTENT_TYPE
        );
        assert_eq!(decide_content_type(Some("  "), "a.html"), "text/html");
        assert_eq!(
            decide_content_type(None, "dir.d/file"),
            DEFAULT_CONTENT_TYPE
        );
    }
}
