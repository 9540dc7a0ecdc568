//! The `x-oss-callback` parameter: builder, validation and JSON form.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::codec;
use crate::error::{REASON_CRLF, REASON_EMPTY_NAME, REASON_X_OSS_PREFIX};
use crate::{CallbackBodyType, Error, Template, MAX_CALLBACK_JSON_LEN};

/// Most callback URLs OSS accepts in one `callbackUrl` (`;`-separated).
pub const MAX_CALLBACK_URLS: usize = 5;
/// Most `additionalHeaders` entries OSS accepts.
pub const MAX_ADDITIONAL_HEADERS: usize = 10;

static NO_HEADERS: BTreeMap<String, String> = BTreeMap::new();

/// A validated upload callback: what OSS calls after storing an object.
///
/// Either an inline callback (URLs, body template, body type, ...) built with
/// [`Callback::builder`], or a reference to a bucket callback policy
/// ([`Callback::from_policy`], sent as `{"callbackPolicy":"name"}`).
///
/// A `Callback` always satisfies OSS's validation rules, so [`Callback::encode`] cannot fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inner {
    Inline(Box<Inline>),
    Policy(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inline {
    urls: Vec<String>,
    host: Option<String>,
    template: Template,
    body_type: CallbackBodyType,
    sni: bool,
    additional_headers: BTreeMap<String, String>,
}

/// The JSON form, in the field order of the Java SDK's `jsonizeCallback`.
#[derive(Serialize)]
struct WireCallback<'a> {
    #[serde(rename = "callbackUrl")]
    url: String,
    #[serde(rename = "callbackHost", skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(rename = "callbackBody")]
    body: &'a str,
    #[serde(rename = "callbackBodyType")]
    body_type: &'static str,
    #[serde(rename = "callbackSNI", skip_serializing_if = "is_false")]
    sni: bool,
    #[serde(
        rename = "additionalHeaders",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    additional_headers: &'a BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Callback {
    /// Starts building an inline callback.
    pub fn builder() -> CallbackBuilder {
        CallbackBuilder::default()
    }

    /// A reference to a bucket-level callback policy (`PutBucketCallbackPolicy`), sent as
    /// `{"callbackPolicy":"<name>"}`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyPolicyName`] for an empty name; [`Error::TooLarge`] past 5 KB.
    pub fn from_policy(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        if name.is_empty() {
            return Err(Error::EmptyPolicyName);
        }
        let cb = Self {
            inner: Inner::Policy(name),
        };
        cb.check_size()?;
        Ok(cb)
    }

    fn inline(&self) -> Option<&Inline> {
        match &self.inner {
            Inner::Inline(i) => Some(i),
            Inner::Policy(_) => None,
        }
    }

    /// The callback URLs, tried in order until one succeeds; empty for a policy reference.
    pub fn urls(&self) -> &[String] {
        self.inline().map_or(&[], |i| &i.urls)
    }

    /// The `Host` header OSS sends (`callbackHost`); `None` means the URL's host.
    pub fn host(&self) -> Option<&str> {
        self.inline().and_then(|i| i.host.as_deref())
    }

    /// The body template text (`callbackBody`); empty for a policy reference.
    pub fn body(&self) -> &str {
        self.inline().map_or("", |i| i.template.as_str())
    }

    /// The parsed body template; `None` for a policy reference.
    pub fn template(&self) -> Option<&Template> {
        self.inline().map(|i| &i.template)
    }

    /// The body type (`callbackBodyType`); the default for a policy reference.
    pub fn body_type(&self) -> CallbackBodyType {
        self.inline()
            .map_or_else(CallbackBodyType::default, |i| i.body_type)
    }

    /// Whether OSS sends TLS SNI to an HTTPS callback URL (`callbackSNI`, default `false`).
    pub fn sni(&self) -> bool {
        self.inline().is_some_and(|i| i.sni)
    }

    /// Extra headers OSS adds to the callback request (`additionalHeaders`), by lower-case name.
    pub fn additional_headers(&self) -> &BTreeMap<String, String> {
        self.inline().map_or(&NO_HEADERS, |i| &i.additional_headers)
    }

    /// The bucket callback policy this callback refers to, if it is a policy reference.
    pub fn policy_name(&self) -> Option<&str> {
        match &self.inner {
            Inner::Policy(name) => Some(name),
            Inner::Inline(_) => None,
        }
    }

    /// The JSON text (UTF-8, written by a real JSON encoder). Field order: `callbackUrl`,
    /// `callbackHost` (if set), `callbackBody`, `callbackBodyType` (always written),
    /// `callbackSNI` (only when `true`), `additionalHeaders` (only when non-empty).
    pub fn to_json(&self) -> String {
        let value = match &self.inner {
            Inner::Policy(name) => serde_json::json!({ "callbackPolicy": name }),
            Inner::Inline(i) => {
                let wire = WireCallback {
                    url: i.urls.join(";"),
                    host: i.host.as_deref(),
                    body: i.template.as_str(),
                    body_type: i.body_type.as_mime(),
                    sni: i.sni,
                    additional_headers: &i.additional_headers,
                };
                return serde_json::to_string(&wire).unwrap_or_default();
            }
        };
        value.to_string()
    }

    /// Standard base64 (with padding) of [`Callback::to_json`]: the value of `x-oss-callback`,
    /// of the `callback` query parameter, or of the PostObject `callback` form field.
    pub fn encode(&self) -> String {
        codec::encode_base64(self.to_json().as_bytes())
    }

    /// Decodes an `x-oss-callback` / `callback` value and validates it as OSS does.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Base64`], [`Error::Json`], and every validation error of
    /// [`Callback::from_json`].
    pub fn decode(b64: &str) -> Result<Self, Error> {
        let bytes = codec::decode_base64_json("callback", b64)?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            field: "callback",
            source,
        })?;
        Self::from_value(value)
    }

    /// Parses and validates the decoded JSON text of a callback. Unknown fields are ignored;
    /// `null` optional fields count as absent.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Json`], [`Error::InvalidField`] (wrong JSON type),
    /// [`Error::MissingField`], and every error of [`CallbackBuilder::build`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if json.len() > MAX_CALLBACK_JSON_LEN {
            return Err(Error::TooLarge {
                field: "callback",
                len: json.len(),
            });
        }
        let value: Value = serde_json::from_str(json).map_err(|source| Error::Json {
            field: "callback",
            source,
        })?;
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Result<Self, Error> {
        let Value::Object(mut map) = value else {
            return Err(Error::InvalidField {
                field: "callback",
                reason: "not a JSON object",
            });
        };
        let mut take = |name: &str| match map.remove(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        };
        let policy = take("callbackPolicy");
        let url = take("callbackUrl");
        if let Some(policy) = policy {
            if url.is_some() {
                return Err(Error::InvalidField {
                    field: "callback",
                    reason: "both callbackPolicy and callbackUrl are set",
                });
            }
            let Value::String(name) = policy else {
                return Err(Error::InvalidField {
                    field: "callbackPolicy",
                    reason: "not a string",
                });
            };
            return Self::from_policy(name);
        }
        let mut builder = Callback::builder();
        match url {
            None => {
                return Err(Error::MissingField {
                    field: "callbackUrl",
                })
            }
            Some(Value::String(url)) => builder = builder.with_url(url),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "callbackUrl",
                    reason: "not a string",
                })
            }
        }
        match take("callbackBody") {
            None => {
                return Err(Error::MissingField {
                    field: "callbackBody",
                })
            }
            Some(Value::String(body)) => builder = builder.with_body(body),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "callbackBody",
                    reason: "not a string",
                })
            }
        }
        match take("callbackHost") {
            None => {}
            Some(Value::String(host)) => builder = builder.with_host(host),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "callbackHost",
                    reason: "not a string",
                })
            }
        }
        match take("callbackBodyType") {
            None => {}
            Some(Value::String(t)) => {
                builder = builder.with_body_type(CallbackBodyType::from_mime(&t)?)
            }
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "callbackBodyType",
                    reason: "not a string",
                })
            }
        }
        match take("callbackSNI") {
            None => {}
            Some(Value::Bool(sni)) => builder = builder.with_sni(sni),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "callbackSNI",
                    reason: "not a boolean",
                })
            }
        }
        match take("additionalHeaders") {
            None => {}
            Some(Value::Object(headers)) => {
                for (name, value) in headers {
                    let Value::String(value) = value else {
                        return Err(Error::InvalidField {
                            field: "additionalHeaders",
                            reason: "a value is not a string",
                        });
                    };
                    builder = builder.with_additional_header(name, value);
                }
            }
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "additionalHeaders",
                    reason: "not a JSON object",
                })
            }
        }
        builder.build()
    }

    fn check_size(&self) -> Result<(), Error> {
        let len = self.to_json().len();
        if len > MAX_CALLBACK_JSON_LEN {
            return Err(Error::TooLarge {
                field: "callback",
                len,
            });
        }
        Ok(())
    }
}

/// Builder for an inline [`Callback`]; see [`Callback::builder`].
#[derive(Debug, Clone, Default)]
pub struct CallbackBuilder {
    urls: Vec<String>,
    host: Option<String>,
    body: Option<String>,
    body_type: CallbackBodyType,
    sni: bool,
    additional_headers: Vec<(String, String)>,
}

impl CallbackBuilder {
    /// Adds a callback URL (repeatable; 1 to 5 in total). A value containing `;` adds each
    /// `;`-separated URL. The scheme may be omitted (`121.43.113.8:23456/index.html`); non-ASCII
    /// characters must be percent-encoded. No default: at least one URL is required.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// Sets the `Host` header of the callback request (`callbackHost`). Default: the host of the
    /// URL that is called.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Sets the body template (`callbackBody`), with `${var}` placeholders. Required, non-empty.
    pub fn with_body(mut self, template: impl Into<String>) -> Self {
        self.body = Some(template.into());
        self
    }

    /// Sets the body type. Default: [`CallbackBodyType::FormUrlEncoded`].
    pub fn with_body_type(mut self, body_type: CallbackBodyType) -> Self {
        self.body_type = body_type;
        self
    }

    /// Whether OSS sends TLS SNI to an HTTPS callback URL (`callbackSNI`). Default: `false`.
    pub fn with_sni(mut self, sni: bool) -> Self {
        self.sni = sni;
        self
    }

    /// Adds a header OSS puts on the callback request (`additionalHeaders`). Names must be
    /// lower-case `0-9a-z-` and must not start with `x-oss-`; values must not contain CR/LF;
    /// at most 10 headers. Default: none.
    pub fn with_additional_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.additional_headers.push((name.into(), value.into()));
        self
    }

    /// Validates everything and builds the callback.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyUrl`], [`Error::TooManyUrls`], [`Error::InvalidUrl`],
    /// [`Error::InvalidHost`], [`Error::EmptyBody`], [`Error::MalformedPlaceholder`],
    /// [`Error::UnknownVariable`], [`Error::InvalidVarKey`], [`Error::InvalidJsonTemplate`]
    /// (JSON body type), [`Error::InvalidAdditionalHeader`], [`Error::TooLarge`] (JSON over 5 KB).
    pub fn build(self) -> Result<Callback, Error> {
        let mut urls = Vec::new();
        for given in &self.urls {
            urls.extend(given.split(';').map(str::to_owned));
        }
        if urls.is_empty() {
            return Err(Error::EmptyUrl);
        }
        if urls.len() > MAX_CALLBACK_URLS {
            return Err(Error::TooManyUrls { count: urls.len() });
        }
        for url in &urls {
            check_url(url)?;
        }
        if let Some(host) = &self.host {
            check_host(host)?;
        }
        let template = Template::parse(self.body.as_deref().unwrap_or(""))?;
        if self.body_type == CallbackBodyType::Json {
            template.check_json()?;
        }
        if self.additional_headers.len() > MAX_ADDITIONAL_HEADERS {
            return Err(Error::InvalidAdditionalHeader {
                name: String::new(),
                reason: "more than 10 additional headers",
            });
        }
        let mut additional_headers = BTreeMap::new();
        for (name, value) in self.additional_headers {
            check_additional_header(&name, &value)?;
            additional_headers.insert(name, value);
        }
        let cb = Callback {
            inner: Inner::Inline(Box::new(Inline {
                urls,
                host: self.host,
                template,
                body_type: self.body_type,
                sni: self.sni,
                additional_headers,
            })),
        };
        cb.check_size()?;
        Ok(cb)
    }
}

fn invalid_url(url: &str, reason: &'static str) -> Error {
    Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    }
}

fn check_url(url: &str) -> Result<(), Error> {
    if url.is_empty() {
        return Err(Error::EmptyUrl);
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid_url(
            url,
            "must be percent-encoded ASCII without spaces",
        ));
    }
    let rest = match url.split_once("://") {
        Some((scheme, rest)) => {
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(invalid_url(url, "scheme must be http or https"));
            }
            rest
        }
        None => url,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(invalid_url(url, "user info is not allowed"));
    }
    if authority.starts_with('[') {
        return Err(invalid_url(url, "IPv6 addresses are not supported"));
    }
    check_authority(authority).map_err(|reason| invalid_url(url, reason))
}

/// Checks `host[:port]`.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err("host is empty");
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err("host has invalid characters");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && matches!(port.parse::<u32>(), Ok(1..=65535));
        if !valid {
            return Err("port is not a number from 1 to 65535");
        }
    }
    Ok(())
}

fn check_host(host: &str) -> Result<(), Error> {
    check_authority(host).map_err(|_| Error::InvalidHost {
        host: host.to_owned(),
    })
}

fn check_additional_header(name: &str, value: &str) -> Result<(), Error> {
    let fail = |reason| {
        Err(Error::InvalidAdditionalHeader {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return fail(REASON_EMPTY_NAME);
    }
    if name.starts_with("x-oss-") {
        return fail(REASON_X_OSS_PREFIX);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return fail("only 0-9, a-z and - are allowed in names");
    }
    if value.contains(['\r', '\n']) {
        return fail(REASON_CRLF);
    }
    if http::HeaderValue::from_str(value).is_err() {
        return fail("value is not a valid header value");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> CallbackBuilder {
        Callback::builder()
            .with_url("http://example.com/cb")
            .with_body("bucket=${bucket}")
    }

    #[test]
    fn builds_and_round_trips() {
        let cb = base()
            .with_url("https://b.example.com:8443/x?y=1")
            .with_host("cb.example.com")
            .with_sni(true)
            .with_additional_header("my-header", "v")
            .build()
            .unwrap();
        assert_eq!(
            cb.to_json(),
            r#"{"callbackUrl":"http://example.com/cb;https://b.example.com:8443/x?y=1","callbackHost":"cb.example.com","callbackBody":"bucket=${bucket}","callbackBodyType":"application/x-www-form-urlencoded","callbackSNI":true,"additionalHeaders":{"my-header":"v"}}"#
        );
        assert_eq!(Callback::decode(&cb.encode()).unwrap(), cb);
        assert_eq!(Callback::from_json(&cb.to_json()).unwrap(), cb);
    }

    #[test]
    fn url_rules() {
        assert!(matches!(
            Callback::builder().with_body("a").build(),
            Err(Error::EmptyUrl)
        ));
        assert!(matches!(base().with_url("").build(), Err(Error::EmptyUrl)));
        assert!(matches!(
            base().with_url("a;b;c;d;e").build(),
            Err(Error::TooManyUrls { count: 6 })
        ));
        for bad in [
            "10.101.166.30:test",
            "host:0",
            "host:65536",
            "host:",
            "ftp://host/x",
            "http://[::1]:80/",
            "http://u@host/",
            "http:///path",
            "http://exa mple.com/",
            "http://example.com/中文",
        ] {
            assert!(
                matches!(base().with_url(bad).build(), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
        for good in [
            "121.43.113.8:23456/index.html",
            "http://127.0.0.1:1/cb",
            "HTTPS://example.com",
        ] {
            assert!(base().with_url(good).build().is_ok(), "{good}");
        }
        assert!(matches!(
            base().with_host("").build(),
            Err(Error::InvalidHost { .. })
        ));
        assert!(matches!(
            base().with_host("a b").build(),
            Err(Error::InvalidHost { .. })
        ));
    }

    #[test]
    fn body_rules() {
        let no_body = Callback::builder().with_url("example.com").build();
        assert!(matches!(no_body, Err(Error::EmptyBody)));
        assert!(matches!(
            base().with_body("").build(),
            Err(Error::EmptyBody)
        ));
        assert!(matches!(
            base()
                .with_body(r#"{"a":"${bucket}"}"#)
                .with_body_type(CallbackBodyType::Json)
                .build(),
            Err(Error::InvalidJsonTemplate { .. })
        ));
    }

    #[test]
    fn additional_header_rules() {
        let cases = [
            ("", "v", REASON_EMPTY_NAME),
            ("x-oss-meta", "v", REASON_X_OSS_PREFIX),
            ("My-Header", "v", "only 0-9, a-z and - are allowed in names"),
            ("a", "v\r\nx: y", REASON_CRLF),
        ];
        for (name, value, why) in cases {
            match base().with_additional_header(name, value).build() {
                Err(Error::InvalidAdditionalHeader { reason, .. }) => assert_eq!(reason, why),
                other => panic!("{name}: {other:?}"),
            }
        }
        let mut many = base();
        for i in 0..11 {
            many = many.with_additional_header(format!("h{i}"), "v");
        }
        assert!(matches!(
            many.build(),
            Err(Error::InvalidAdditionalHeader { .. })
        ));
    }

    #[test]
    fn size_limit() {
        let big = format!("a={}", "b".repeat(5200));
        assert!(matches!(
            base().with_body(big).build(),
            Err(Error::TooLarge {
                field: "callback",
                ..
            })
        ));
    }

    #[test]
    fn policy_reference() {
        let cb = Callback::from_policy("test_2").unwrap();
        assert_eq!(cb.to_json(), r#"{"callbackPolicy":"test_2"}"#);
        assert_eq!(Callback::decode(&cb.encode()).unwrap(), cb);
        assert_eq!(cb.policy_name(), Some("test_2"));
        assert!(cb.urls().is_empty());
        assert!(matches!(
            Callback::from_policy(""),
            Err(Error::EmptyPolicyName)
        ));
    }

    #[test]
    fn decode_type_errors() {
        let cases = [
            (r#"{"callbackBody":"a"}"#, "missing url"),
            (r#"{"callbackUrl":"a.com"}"#, "missing body"),
            (r#"{"callbackUrl":1,"callbackBody":"a"}"#, "url type"),
            (
                r#"{"callbackUrl":"a.com","callbackBody":["a"]}"#,
                "body type",
            ),
            (
                r#"{"callbackUrl":"a.com","callbackBody":"a","callbackSNI":"true"}"#,
                "sni",
            ),
            (
                r#"{"callbackUrl":"a.com","callbackBody":"a","callbackBodyType":123}"#,
                "bodytype",
            ),
            (
                r#"{"callbackUrl":"a.com","callbackBody":"a","additionalHeaders":[]}"#,
                "headers",
            ),
            ("[]", "array"),
        ];
        for (json, what) in cases {
            let err = Callback::from_json(json).unwrap_err();
            assert!(
                matches!(err, Error::MissingField { .. } | Error::InvalidField { .. }),
                "{what}: {err:?}"
            );
        }
        assert!(matches!(
            Callback::from_json(
                r#"{"callbackUrl":"a.com","callbackBody":"a","callbackBodyType":"text/plain"}"#
            ),
            Err(Error::UnsupportedBodyType(_))
        ));
    }
}
