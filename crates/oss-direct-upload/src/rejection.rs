//! Refusals the application's hooks return; the service answers them as JSON.

use http::StatusCode;

/// A refusal from an [`Authorize`](crate::Authorize) or [`HandleUpload`](crate::HandleUpload)
/// hook, answered as `{"error":"<reason phrase>","message":"<message>"}` with its status.
///
/// The message is sent to the caller: never put secrets in it.
///
/// ```
/// use oss_direct_upload::Rejection;
/// let r = Rejection::unauthorized("sign in first");
/// assert_eq!(r.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(r.to_json(), r#"{"error":"Unauthorized","message":"sign in first"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    message: String,
}

impl Rejection {
    /// A refusal with any status. A status below 400 is replaced by 500, so a refusal can
    /// never read as a success.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.as_u16() < 400 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status
        };
        Self {
            status,
            message: message.into(),
        }
    }

    /// 401: the caller is not authenticated.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: the caller is authenticated but may not upload.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent to the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_a_success() {
        assert_eq!(
            Rejection::new(StatusCode::OK, "x").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            Rejection::forbidden("no").to_json(),
            r#"{"error":"Forbidden","message":"no"}"#
        );
    }
}
