//! Bucket CORS: the rules of PutBucketCors, how a request is matched against them (first
//! matching rule wins), and the `Access-Control-*` headers a match earns.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use http::{HeaderMap, HeaderValue, Method};
use serde::Deserialize;

use crate::error::ApiError;
use crate::request::header;
use crate::xml::escape;

/// At most this many rules per bucket.
const MAX_RULES: usize = 10;

/// Methods a rule may allow.
const METHODS: &[&str] = &["GET", "PUT", "DELETE", "POST", "HEAD"];

/// One `<CORSRule>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CorsRule {
    #[serde(rename = "AllowedOrigin", default)]
    pub(crate) origins: Vec<String>,
    #[serde(rename = "AllowedMethod", default)]
    pub(crate) methods: Vec<String>,
    #[serde(rename = "AllowedHeader", default)]
    pub(crate) headers: Vec<String>,
    #[serde(rename = "ExposeHeader", default)]
    pub(crate) expose: Vec<String>,
    #[serde(rename = "MaxAgeSeconds", default)]
    pub(crate) max_age: Vec<u64>,
}

/// A bucket's `<CORSConfiguration>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CorsConfig {
    #[serde(rename = "CORSRule", default)]
    pub(crate) rules: Vec<CorsRule>,
    #[serde(rename = "ResponseVary", default)]
    pub(crate) response_vary: Option<bool>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "InvalidArgument",
        None,
        message,
    )
}

/// Whether `pattern` (with at most one `*`, matching any run of characters) matches `text`.
fn glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t) = if case_insensitive {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), text.to_owned())
    };
    match p.split_once('*') {
        None => p == t,
        Some((head, tail)) => {
            t.len() >= head.len() + tail.len() && t.starts_with(head) && t.ends_with(tail)
        }
    }
}

impl CorsConfig {
    /// Parses and validates a PutBucketCors body.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::malformed_xml("0006-00000101", "body is not UTF-8"))?;
        if !text.contains("<CORSConfiguration") {
            return Err(ApiError::malformed_xml(
                "0006-00000101",
                "root element is not CORSConfiguration",
            ));
        }
        let config: CorsConfig = quick_xml::de::from_str(text)
            .map_err(|e| ApiError::malformed_xml("0006-00000101", e.to_string()))?;
        if config.rules.is_empty() {
            return Err(invalid("A CORSConfiguration needs at least one CORSRule."));
        }
        if config.rules.len() > MAX_RULES {
            return Err(invalid(
                "A CORSConfiguration has at most 10 CORSRule elements.",
            ));
        }
        for rule in &config.rules {
            if rule.origins.is_empty() || rule.methods.is_empty() {
                return Err(invalid(
                    "Each CORSRule needs an AllowedOrigin and an AllowedMethod.",
                ));
            }
            if let Some(m) = rule.methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
                return Err(invalid(format!("Unsupported AllowedMethod {m}.")));
            }
            let two_stars = |v: &String| v.matches('*').count() > 1;
            if rule.origins.iter().any(two_stars) || rule.headers.iter().any(two_stars) {
                return Err(invalid(
                    "AllowedOrigin and AllowedHeader may hold at most one '*'.",
                ));
            }
            if rule.expose.iter().any(|h| h.contains('*')) {
                return Err(invalid("ExposeHeader may not hold a wildcard."));
            }
            if rule.max_age.len() > 1 {
                return Err(invalid("A CORSRule has at most one MaxAgeSeconds."));
            }
        }
        Ok(config)
    }

    /// The GetBucketCors document.
    pub(crate) fn to_xml(&self) -> String {
        let mut out =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration>");
        for rule in &self.rules {
            out.push_str("<CORSRule>");
            let mut elems = |name: &str, values: &[String]| {
                for v in values {
                    out.push_str(&format!("<{name}>{}</{name}>", escape(v)));
                }
            };
            elems("AllowedOrigin", &rule.origins);
            elems("AllowedMethod", &rule.methods);
            elems("AllowedHeader", &rule.headers);
            elems("ExposeHeader", &rule.expose);
            for age in &rule.max_age {
                out.push_str(&format!("<MaxAgeSeconds>{age}</MaxAgeSeconds>"));
            }
            out.push_str("</CORSRule>");
        }
        out.push_str(&format!(
            "<ResponseVary>{}</ResponseVary></CORSConfiguration>",
            self.response_vary.unwrap_or(false)
        ));
        out
    }

    /// The first rule allowing `origin`, `method` and every requested header.
    fn find(&self, origin: &str, method: &str, requested: &[&str]) -> Option<&CorsRule> {
        self.rules.iter().find(|r| {
            r.origins.iter().any(|o| glob(o, origin, false))
                && r.methods.iter().any(|m| m == method)
                && requested
                    .iter()
                    .all(|h| r.headers.iter().any(|a| glob(a, h, true)))
        })
    }

    /// The headers a preflight earns, or `None` when no rule allows it.
    pub(crate) fn preflight(&self, headers: &HeaderMap) -> Option<Vec<(&'static str, String)>> {
        let origin = header(headers, "origin")?;
        let method = header(headers, "access-control-request-method")?;
        let requested: Vec<&str> = header(headers, "access-control-request-headers")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let rule = self.find(origin, method, &requested)?;
        let mut out = self.allow(rule, origin);
        if !requested.is_empty() {
            out.push(("access-control-allow-headers", requested.join(", ")));
        }
        if let Some(age) = rule.max_age.first() {
            out.push(("access-control-max-age", age.to_string()));
        }
        Some(out)
    }

    /// The headers an actual (non-preflight) request earns: the allow set when a rule matches,
    /// and `Vary: Origin` whenever `ResponseVary` is on.
    pub(crate) fn actual(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(origin) = header(headers, "origin") {
            if let Some(rule) = self.find(origin, method.as_str(), &[]) {
                out = self.allow(rule, origin);
            }
        }
        if self.response_vary == Some(true) && !out.iter().any(|(n, _)| *n == "vary") {
            out.push(("vary", "Origin".into()));
        }
        out
    }

    fn allow(&self, rule: &CorsRule, origin: &str) -> Vec<(&'static str, String)> {
        // A rule for any origin answers `*`; otherwise the origin itself, which is then part of
        // the answer's identity for caches.
        let any = rule.origins.iter().any(|o| o == "*");
        let mut out = vec![
            (
                "access-control-allow-origin",
                if any {
                    "*".to_owned()
                } else {
                    origin.to_owned()
                },
            ),
            ("access-control-allow-methods", rule.methods.join(", ")),
        ];
        if !rule.expose.is_empty() {
            out.push(("access-control-expose-headers", rule.expose.join(", ")));
        }
        if !any || self.response_vary == Some(true) {
            out.push(("vary", "Origin".into()));
        }
        out
    }
}

/// Each bucket's CORS configuration (none: CORS off).
#[derive(Debug, Default)]
pub(crate) struct CorsStore {
    configs: Mutex<HashMap<String, CorsConfig>>,
}

impl CorsStore {
    pub(crate) fn get(&self, bucket: &str) -> Option<CorsConfig> {
        self.configs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bucket)
            .cloned()
    }

    pub(crate) fn put(&self, bucket: &str, config: CorsConfig) {
        self.configs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(bucket.to_owned(), config);
    }

    pub(crate) fn delete(&self, bucket: &str) {
        self.configs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(bucket);
    }

    /// Adds the headers an actual request to `bucket` earns (error responses included).
    pub(crate) fn decorate(
        &self,
        bucket: Option<&str>,
        method: &Method,
        request: &HeaderMap,
        response: &mut HeaderMap,
    ) {
        if *method == Method::OPTIONS {
            return;
        }
        let Some(config) = bucket.and_then(|b| self.get(b)) else {
            return;
        };
        for (name, value) in config.actual(method, request) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.insert(name, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(xml: &str) -> Result<CorsConfig, ApiError> {
        CorsConfig::parse(xml.as_bytes())
    }

    #[test]
    fn parse_validate_and_render() {
        let c = config("<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>POST</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>100</MaxAgeSeconds></CORSRule></CORSConfiguration>").unwrap();
        assert_eq!(c.rules[0].methods, ["POST", "PUT"]);
        assert_eq!(
            config(&c.to_xml()).unwrap(),
            CorsConfig {
                response_vary: Some(false),
                ..c
            }
        );
        assert!(config("<CORSConfiguration></CORSConfiguration>").is_err());
        assert!(config("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>").is_err());
        assert!(config("<CORSConfiguration><CORSRule><AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>").is_err());
        assert!(config("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-*</ExposeHeader></CORSRule></CORSConfiguration>").is_err());
        assert_eq!(config("<Other/>").unwrap_err().code, "MalformedXML");
    }

    #[test]
    fn matching() {
        assert!(glob(
            "https://*.example.com",
            "https://app.example.com",
            false
        ));
        assert!(!glob("https://*.example.com", "https://example.com", false));
        assert!(glob("x-oss-*", "X-OSS-Date", true));
        let c = config("<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>POST</AllowedMethod><AllowedHeader>content-type</AllowedHeader></CORSRule></CORSConfiguration>").unwrap();
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_static("https://app.example"));
        h.insert(
            "access-control-request-method",
            HeaderValue::from_static("POST"),
        );
        h.insert(
            "access-control-request-headers",
            HeaderValue::from_static("Content-Type"),
        );
        let got = c.preflight(&h).unwrap();
        assert!(got.contains(&("access-control-allow-origin", "https://app.example".into())));
        assert!(got.contains(&("access-control-allow-headers", "Content-Type".into())));
        h.insert(
            "access-control-request-headers",
            HeaderValue::from_static("x-other"),
        );
        assert!(c.preflight(&h).is_none());
        h.remove("access-control-request-headers");
        h.insert(
            "access-control-request-method",
            HeaderValue::from_static("DELETE"),
        );
        assert!(c.preflight(&h).is_none());
        assert!(c.actual(&Method::GET, &h).is_empty());
        assert_eq!(c.actual(&Method::POST, &h)[0].1, "https://app.example");
    }
}
