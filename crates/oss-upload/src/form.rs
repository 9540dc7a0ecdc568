//! PostObject (form upload) with a V4 POST policy, and the browser-form helper that hands a web
//! page the URL and fields to post directly.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::Method;
use oss_transport::{Auth, Body, Request};
use tracing::Instrument as _;

use crate::client::{Client, Ctx};
use crate::options::insert;
use crate::output::UploadOutput;
use crate::policy::{PolicyCondition, PostPolicy};
use crate::progress::Tracker;
use crate::source::{digest_file, file_meta, io_err, UploadSource};
use crate::spec::{SpecRef, UploadSpec};
use crate::Error;
use oss_transport::ExpectedCrc64;
use oss_types::Crc64;

/// Default validity of the policy [`PostObject`] signs: 1 hour.
pub const DEFAULT_POLICY_VALIDITY: Duration = Duration::from_secs(3600);

/// What a web page needs to upload straight to OSS: POST a `multipart/form-data` body to
/// `url` with `fields` in order, then the `file` field last.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrowserForm {
    /// The bucket URL to POST to.
    pub url: String,
    /// Form fields in order (the `file` field is not included; it must come last).
    pub fields: Vec<(String, String)>,
}

impl fmt::Debug for BrowserForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(n, v)| {
                let v = if n == "x-oss-security-token" {
                    "***"
                } else {
                    v.as_str()
                };
                (n.as_str(), v)
            })
            .collect();
        f.debug_struct("BrowserForm")
            .field("url", &self.url)
            .field("fields", &fields)
            .finish()
    }
}

/// Builder for a browser form (see [`Client::browser_form`]).
#[derive(Debug)]
#[must_use = "call .sign().await"]
pub struct BrowserFormRequest {
    client: Client,
    spec: UploadSpec,
    policy: PostPolicy,
    time: Option<SystemTime>,
}

impl BrowserFormRequest {
    crate::spec::spec_setters!();

    /// Signing time. Default: now.
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Signs the policy and returns URL and fields.
    ///
    /// # Errors
    /// [`Error::Config`] without region or credentials, [`Error::Sign`],
    /// [`Error::InvalidArgument`] for a bad policy.
    pub async fn sign(self) -> Result<BrowserForm, Error> {
        let spec = self.spec.view();
        sign_form(
            &self.client,
            spec,
            self.policy,
            self.time.unwrap_or_else(SystemTime::now),
            false,
        )
        .await
    }
}

/// The fields of a signed form.
async fn sign_form(
    client: &Client,
    spec: SpecRef<'_>,
    mut policy: PostPolicy,
    time: SystemTime,
    explicit_content_type: bool,
) -> Result<BrowserForm, Error> {
    spec.check()?;
    let SpecRef {
        key,
        options,
        callback,
        vars,
    } = spec;
    let creds = client.credentials().await?;
    let region = client.region()?;
    let product = client.inner.product;
    let credential = oss_sign::post_policy_credential(creds.access_key_id(), region, product, time);
    let datetime = oss_sign::format_datetime(time);
    let callback_fields = match callback {
        Some(cb) => oss_callback::encode_form(cb, vars),
        None => Vec::new(),
    };
    policy = policy
        .with_exact("bucket", client.bucket())
        .with_exact("x-oss-signature-version", oss_sign::ALGORITHM)
        .with_exact("x-oss-credential", credential)
        .with_exact("x-oss-date", datetime);
    if let Some(token) = creds.security_token() {
        policy = policy.with_exact("x-oss-security-token", token.expose());
    }
    if let Some((_, cb)) = callback_fields.iter().find(|(n, _)| n == "callback") {
        policy = policy.with_condition(PolicyCondition::Exact {
            field: "callback".into(),
            value: cb.clone(),
        });
    }
    let json = policy.to_json()?;
    let sig = client
        .inner
        .signer
        .sign_post_policy(&json, &creds, region, product, time);
    let mut fields = vec![("key".to_owned(), key.to_owned())];
    fields.extend(sig.form_fields());
    if explicit_content_type || options.content_type().is_some() {
        fields.push(("Content-Type".into(), options.resolved_content_type(key)));
    }
    fields.extend(options.pairs());
    fields.extend(callback_fields);
    let url = client
        .inner
        .endpoint
        .uri(Some(client.bucket()), None, &[])
        .map_err(|e| Error::Config {
            reason: e.to_string(),
        })?
        .to_string();
    Ok(BrowserForm { url, fields })
}

impl Client {
    /// A browser form for `key` (which may contain `${filename}`) under `policy` (expiration
    /// and your conditions; the bucket and V4 conditions are added when signing).
    pub fn browser_form(&self, key: impl Into<String>, policy: PostPolicy) -> BrowserFormRequest {
        BrowserFormRequest {
            client: self.clone(),
            spec: UploadSpec::new(key),
            policy,
            time: None,
        }
    }

    /// Starts a PostObject (form upload) of `source` to `key`.
    pub fn post_object(
        &self,
        key: impl Into<String>,
        source: impl Into<UploadSource>,
    ) -> PostObject {
        PostObject {
            client: self.clone(),
            spec: UploadSpec::new(key),
            source: source.into(),
            validity: DEFAULT_POLICY_VALIDITY,
            conditions: Vec::new(),
        }
    }
}

/// Builder for a PostObject (see [`Client::post_object`]). The form body streams the file last.
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct PostObject {
    client: Client,
    spec: UploadSpec,
    source: UploadSource,
    validity: Duration,
    conditions: Vec<PolicyCondition>,
}

impl PostObject {
    crate::spec::spec_setters!(progress);
    /// How long the signed policy is valid. Default 1 hour.
    pub fn with_policy_validity(mut self, validity: Duration) -> Self {
        self.validity = validity;
        self
    }

    /// An extra policy condition the form must satisfy.
    pub fn with_condition(mut self, condition: PolicyCondition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Uploads the form.
    ///
    /// # Errors
    /// [`Error::CallbackFailed`] (object stored), [`Error::CallbackOutcomeUnknown`] (the POST
    /// failed after its body was sent; the object is or may be stored), [`Error::Request`],
    /// [`Error::CrcMismatch`], [`Error::Config`] / [`Error::Sign`] for signing, [`Error::Io`] /
    /// [`Error::Stream`].
    pub async fn send(self) -> Result<UploadOutput, Error> {
        let span = tracing::info_span!("post_object", bucket = %self.client.bucket(), key = %self.spec.key);
        self.run().instrument(span).await
    }

    async fn run(self) -> Result<UploadOutput, Error> {
        let now = SystemTime::now();
        let mut policy = PostPolicy::new(now + self.validity);
        for c in self.conditions {
            policy = policy.with_condition(c);
        }
        let spec = self.spec.view();
        let form = sign_form(&self.client, spec, policy, now, true).await?;
        // Random, so no file content can contain it and end a part early.
        let boundary = format!(
            "oss-rs-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let mut head = BytesMut::new();
        for (name, value) in &form.fields {
            head.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
                    quote(name)
                )
                .as_bytes(),
            );
        }
        let filename = self
            .spec
            .key
            .rsplit('/')
            .next()
            .unwrap_or(&self.spec.key)
            .to_owned();
        head.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                quote(&filename),
                self.spec.options.resolved_content_type(&self.spec.key)
            )
            .as_bytes(),
        );
        let head = head.freeze();
        let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
        let (body, crc, data_len) = match self.source {
            UploadSource::Bytes(b) => {
                let crc = Crc64::checksum(&b);
                let len = b.len() as u64;
                let mut all = BytesMut::with_capacity(head.len() + b.len() + tail.len());
                all.extend_from_slice(&head);
                all.extend_from_slice(&b);
                all.extend_from_slice(&tail);
                (
                    Body::Bytes(all.freeze()),
                    ExpectedCrc64::Known(crc),
                    Some(len),
                )
            }
            UploadSource::File(path) => {
                let (len, _) = file_meta(&path).await?;
                let (crc, _, _) = digest_file(&path, false).await?;
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| io_err(&path, e))?;
                let chunks = file_chunks(file);
                let s = stream::iter([Ok(head.clone())])
                    .chain(chunks)
                    .chain(stream::iter([Ok(tail.clone())]));
                (Body::stream(s), ExpectedCrc64::Known(crc), Some(len))
            }
            UploadSource::Stream { stream: s, len } => {
                let running = Arc::new(Mutex::new(Crc64::new()));
                let r = Arc::clone(&running);
                let data = s.inspect(move |c| {
                    if let (Ok(c), Ok(mut crc)) = (c, r.lock()) {
                        crc.update(c);
                    }
                });
                let s = stream::iter([Ok(head.clone())])
                    .chain(data)
                    .chain(stream::iter([Ok(tail.clone())]));
                (Body::stream(s), ExpectedCrc64::Running(running), len)
            }
        };
        let mut headers = http::HeaderMap::new();
        insert(
            &mut headers,
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )?;
        if let (Body::Stream(_), Some(len)) = (&body, data_len) {
            let total = head.len() as u64 + len + tail.len() as u64;
            insert(&mut headers, "content-length", &total.to_string())?;
        }
        let tracker = Tracker::new(self.spec.progress, data_len);
        let has_callback = self.spec.callback.is_some();
        // The callback rides in the form body: declared, so a 203 becomes `CallbackFailed` and
        // the POST is retried only if no byte came back.
        let req = Request::new(Method::POST)
            .with_bucket(self.client.bucket().to_owned())
            .with_auth(Auth::None)
            .with_headers(headers)
            .with_body(body);
        let req = Client::with_callback_intent(
            req,
            has_callback.then_some(oss_transport::CallbackCarrier::FormBody),
        );
        let req = Client::with_tracking(req, &tracker, "PostObject");
        let ctx = Ctx::new("PostObject", &self.spec.key);
        let resp = match has_callback {
            true => {
                self.client
                    .execute_callback(req, &ctx, Some(crc), data_len)
                    .await
                    .1?
            }
            false => self.client.execute(req, &ctx, Some(crc)).await?,
        };
        Ok(UploadOutput::from_response(resp, has_callback))
    }
}

/// Reads a file as a stream of 256 KiB chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    use tokio::io::AsyncReadExt as _;
    stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Escapes a name for a `Content-Disposition` parameter.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "%22")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_form_debug_hides_the_sts_token() {
        let form = BrowserForm {
            url: "https://b.oss-cn-hangzhou.aliyuncs.com/".into(),
            fields: vec![
                ("key".into(), "k".into()),
                ("x-oss-security-token".into(), "sts-secret".into()),
            ],
        };
        assert_eq!(
            format!("{form:?}"),
            r#"BrowserForm { url: "https://b.oss-cn-hangzhou.aliyuncs.com/", fields: [("key", "k"), ("x-oss-security-token", "***")] }"#
        );
    }

    #[tokio::test]
    async fn sts_forms_carry_the_token_in_fields_and_policy() {
        let client = Client::builder("bucket")
            .with_region("cn-hangzhou")
            .with_credentials(oss_sign::Credentials::new("ak", "sk").with_security_token("tok"))
            .build()
            .unwrap();
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_702_743_657);
        let form = client
            .browser_form(
                "a/${filename}",
                PostPolicy::new(t + Duration::from_secs(60)),
            )
            .with_time(t)
            .sign()
            .await
            .unwrap();
        assert_eq!(form.url, "https://bucket.oss-cn-hangzhou.aliyuncs.com/");
        let get = |n: &str| {
            form.fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-oss-security-token"), Some("tok"));
        assert_eq!(get("x-oss-date"), Some("20231216T162057Z"));
        assert_eq!(
            get("x-oss-credential"),
            Some("ak/20231216/cn-hangzhou/oss/aliyun_v4_request")
        );
        use base64::Engine as _;
        let policy = base64::engine::general_purpose::STANDARD
            .decode(get("policy").unwrap())
            .unwrap();
        let policy = String::from_utf8(policy).unwrap();
        assert!(
            policy.starts_with(r#"{"expiration":"2023-12-16T16:21:57.000Z","conditions":["#),
            "{policy}"
        );
        assert!(
            policy.contains(r#"{"x-oss-security-token":"tok"}"#),
            "{policy}"
        );
        assert!(!format!("{form:?}").contains("tok\""));
        // The signature is the policy's HMAC with the V4 key of that day.
        let expected = oss_sign::Signer::new().sign_post_policy(
            &policy,
            &oss_sign::Credentials::new("ak", "sk"),
            "cn-hangzhou",
            oss_sign::Product::Oss,
            t,
        );
        assert_eq!(get("x-oss-signature"), Some(expected.signature()));
    }
}
