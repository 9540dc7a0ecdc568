//! The token: a signed PostObject V4 policy for one grant, as the JSON a page posts from.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_upload::PostPolicy;
use serde::Serialize;

use crate::uploaded::body_template;
use crate::{Error, UploadGrant};

/// The `success_action_status` every token asks for: with a callback, OSS answers 200 and
/// relays the callback server's JSON.
pub const SUCCESS_ACTION_STATUS: &str = "200";

/// What `GET <prefix>/token` answers: everything a page needs to POST a file straight to OSS.
///
/// Post `fields` (all of them, any order) plus `Content-Type` (one of `content_types`, when
/// that list is non-empty) and then `file`, last, as `multipart/form-data` to `host`. `key` may
/// be replaced by any key under `dir`; `${filename}` is replaced by OSS with the file's name.
/// The top-level names follow Alibaba's V4 demo app servers (`host`, `dir`, `policy`,
/// `x_oss_signature_version`, `x_oss_credential`, `x_oss_date`, `signature`,
/// `security_token`, `callback`); `fields` uses the exact form field names.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UploadToken {
    /// The form's action URL (the bucket URL).
    pub host: String,
    /// The key prefix the policy pins with `starts-with`.
    pub dir: String,
    /// A default `key` field: `dir` followed by `${filename}`.
    pub key: String,
    /// Base64 policy JSON (form field `policy`).
    pub policy: String,
    /// `OSS4-HMAC-SHA256` (form field `x-oss-signature-version`).
    pub x_oss_signature_version: String,
    /// Form field `x-oss-credential`.
    pub x_oss_credential: String,
    /// Form field `x-oss-date`.
    pub x_oss_date: String,
    /// Form field `x-oss-signature`.
    pub signature: String,
    /// Form field `x-oss-security-token`, with STS credentials only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_token: Option<String>,
    /// Form field `success_action_status`.
    pub success_action_status: String,
    /// Base64 callback JSON (form field `callback`, pinned by the policy).
    pub callback: String,
    /// When the policy expires, in Unix seconds (refresh the token before).
    pub expire: u64,
    /// Largest file in bytes.
    pub max_size: u64,
    /// Allowed content types (empty: any).
    pub content_types: Vec<String>,
    /// Every form field to send except `Content-Type` and `file`, by exact name.
    pub fields: BTreeMap<String, String>,
}

impl fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadToken")
            .field("host", &self.host)
            .field("dir", &self.dir)
            .field("policy", &self.policy)
            .field("x_oss_credential", &self.x_oss_credential)
            .field("x_oss_date", &self.x_oss_date)
            .field("signature", &self.signature)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .field("expire", &self.expire)
            .finish_non_exhaustive()
    }
}

/// Signs a token for `grant` at `now`, reusing `oss-upload`'s browser-form signing.
pub(crate) async fn issue(
    client: &oss_upload::Client,
    callback_url: &str,
    grant: &UploadGrant,
    now: SystemTime,
) -> Result<UploadToken, Error> {
    grant.check()?;
    let expiration = now + grant.expires_in();
    let mut policy = PostPolicy::new(expiration)
        .with_starts_with("key", grant.key_prefix())
        .with_content_length_range(0, grant.max_size());
    if !grant.content_types().is_empty() {
        policy = policy.with_in("content-type", grant.content_types().iter().cloned());
    }
    policy = policy.with_eq("success_action_status", SUCCESS_ACTION_STATUS);
    let mut vars = CallbackVars::new();
    for (name, value) in grant.trusted() {
        let field = format!("x:{name}");
        policy = policy.with_eq(field.clone(), value.clone());
        vars = vars.with(field, value.clone()).map_err(Error::Callback)?;
    }
    let callback = Callback::builder()
        .with_url(callback_url)
        .with_body(body_template(grant.trusted()))
        .with_body_type(CallbackBodyType::Json)
        .build()
        .map_err(Error::Callback)?;
    let key = format!("{}${{filename}}", grant.key_prefix());
    // `sign` adds the bucket, the V4 trio, the STS token and `{"callback": ..}` to the policy.
    let mut request = client
        .browser_form(key.clone(), policy)
        .with_callback(callback)
        .with_time(now);
    if !vars.is_empty() {
        request = request.with_callback_vars(vars);
    }
    let form = request.sign().await.map_err(Error::Sign)?;
    let mut fields: BTreeMap<String, String> = form.fields.iter().cloned().collect();
    fields.insert(
        "success_action_status".into(),
        SUCCESS_ACTION_STATUS.to_owned(),
    );
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    Ok(UploadToken {
        host: form.url.clone(),
        dir: grant.key_prefix().to_owned(),
        key,
        policy: field("policy"),
        x_oss_signature_version: field("x-oss-signature-version"),
        x_oss_credential: field("x-oss-credential"),
        x_oss_date: field("x-oss-date"),
        signature: field("x-oss-signature"),
        security_token: fields.get("x-oss-security-token").cloned(),
        success_action_status: SUCCESS_ACTION_STATUS.to_owned(),
        callback: field("callback"),
        expire: expiration
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        max_size: grant.max_size(),
        content_types: grant.content_types().to_vec(),
        fields,
    })
}
