//! The result of presigning: a method, a URL and the headers to send with it.

use std::fmt;
use std::time::SystemTime;

use http::{HeaderMap, Method, Uri};

/// A presigned request, ready to hand to any HTTP client (a browser, `curl`, another service).
#[derive(Clone)]
#[non_exhaustive]
pub struct PresignedRequest {
    /// The HTTP method the URL was signed for.
    pub method: Method,
    /// The URL, signature included.
    pub uri: Uri,
    /// Headers the request must carry with exactly these values (`content-type`,
    /// `content-md5`, `x-oss-*` such as `x-oss-callback`, additional headers): they are part of
    /// the signature.
    pub signed_headers: HeaderMap,
    /// The URL is refused after this instant.
    pub expires_at: SystemTime,
}

impl PresignedRequest {
    /// A ready `curl` command for this request; `upload_file`, when given, is sent as the body
    /// (`--upload-file`). Single quotes in values are escaped for POSIX shells.
    ///
    /// The command contains the signature (and an STS token, when one was used): treat it as
    /// the credential it is.
    pub fn curl_command(&self, upload_file: Option<&str>) -> String {
        let mut cmd = String::from("curl -sS");
        match (&self.method, upload_file) {
            (&Method::PUT, Some(file)) => {
                cmd.push_str(" --upload-file ");
                cmd.push_str(&shell_quote(file));
            }
            (&Method::HEAD, _) => cmd.push_str(" --head"),
            (method, file) => {
                if method != Method::GET {
                    cmd.push_str(" -X ");
                    cmd.push_str(method.as_str());
                }
                if let Some(file) = file {
                    cmd.push_str(" --data-binary @");
                    cmd.push_str(&shell_quote(file));
                }
            }
        }
        for (name, value) in &self.signed_headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            cmd.push_str(" -H ");
            cmd.push_str(&shell_quote(&format!("{}: {value}", name.as_str())));
        }
        cmd.push(' ');
        cmd.push_str(&shell_quote(&self.uri.to_string()));
        cmd
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query is the credential (signature, maybe an STS token): never print it.
        let shown = format!(
            "{}://{}{}?…",
            self.uri.scheme_str().unwrap_or("https"),
            self.uri.authority().map_or("", |a| a.as_str()),
            self.uri.path()
        );
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("uri", &shown)
            .field(
                "signed_headers",
                &self.signed_headers.keys().collect::<Vec<_>>(),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PresignedRequest {
        let mut signed_headers = HeaderMap::new();
        signed_headers.insert("x-oss-callback", "eyJ9".parse().unwrap());
        PresignedRequest {
            method: Method::PUT,
            uri: "http://127.0.0.1:9000/b/k?x-oss-signature=abc&x-oss-security-token=tok"
                .parse()
                .unwrap(),
            signed_headers,
            expires_at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn debug_hides_the_query() {
        let shown = format!("{:?}", sample());
        assert!(shown.contains("http://127.0.0.1:9000/b/k?…"), "{shown}");
        assert!(!shown.contains("abc") && !shown.contains("tok"), "{shown}");
    }

    #[test]
    fn curl_command_sends_signed_headers_and_file() {
        let cmd = sample().curl_command(Some("it's.txt"));
        assert_eq!(
            cmd,
            "curl -sS --upload-file 'it'\\''s.txt' -H 'x-oss-callback: eyJ9' \
             'http://127.0.0.1:9000/b/k?x-oss-signature=abc&x-oss-security-token=tok'"
        );
    }
}
