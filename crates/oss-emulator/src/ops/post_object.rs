//! PostObject: a `multipart/form-data` upload to the bucket, authorised by a V4 policy signature
//! (form fields `policy`, `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`,
//! `x-oss-signature`), with policy conditions, `success_action_status` and callbacks.

use std::time::SystemTime;

use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use oss_sign::{verify_signature, Product, Scope, SigningKey};

use super::post_redirect::Redirect;
use super::{
    base64_md5, entity_too_large, finish_upload, stored_headers, upper_hex, MAX_OBJECT_SIZE,
};
use crate::auth::{Principal, SigningKeyRef};
use crate::body::ResBody;
use crate::callback;
use crate::error::ApiError;
use crate::policy::Policy;
use crate::request::{check_key, header, LoggedKey};
use crate::router::Ctx;
use crate::storage::{now_unix, Blob, ObjectMeta};
use crate::xml::escape;

/// Largest non-file form field accepted.
const MAX_FIELD: usize = 64 * 1024;

fn malformed(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MalformedPOSTRequest",
        Some("0006-00000104"),
        message,
    )
}

fn arg(ec: &'static str, message: &str, name: &str, value: &str) -> ApiError {
    ApiError::invalid_argument(Some(ec), message, name, value)
}

/// The form fields before `file`, names lower-cased except `x:` variables (kept as sent).
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Checks the V4 policy signature and the STS token (before anything is stored); returns the
/// policy and who signed it.
fn verify_signature_fields(
    ctx: &Ctx<'_>,
    form: &Form,
    now: SystemTime,
    signed_by: &mut Option<String>,
) -> Result<(Policy, Principal), ApiError> {
    let config = &ctx.state.config;
    match form.get("x-oss-signature-version") {
        Some(oss_sign::ALGORITHM) => {}
        Some(other) => {
            return Err(arg(
                "0002-00000701",
                "Unsupported x-oss-signature-version.",
                "x-oss-signature-version",
                other,
            ))
        }
        None if form.get("ossaccesskeyid").is_some() => {
            return Err(arg(
                "0002-00000701",
                "The emulator only accepts V4 POST signatures.",
                "x-oss-signature-version",
                "",
            ))
        }
        None => {
            return Err(arg(
                "0002-00000703",
                "The POST form lacks x-oss-signature-version.",
                "x-oss-signature-version",
                "",
            ))
        }
    }
    let signature = form.get("x-oss-signature").ok_or_else(|| {
        arg(
            "0002-00000703",
            "The POST form lacks x-oss-signature.",
            "x-oss-signature",
            "",
        )
    })?;
    if signature.is_empty() {
        return Err(arg(
            "0002-00000704",
            "The POST form has an empty x-oss-signature.",
            "x-oss-signature",
            "",
        ));
    }
    let credential = form.get("x-oss-credential").ok_or_else(|| {
        arg(
            "0002-00000706",
            "The bucket POST must contain the specified 'x-oss-credential'. If it is specified, please check the order of the fields",
            "x-oss-credential",
            "",
        )
    })?;
    let (ak, scope_text) = credential.split_once('/').ok_or_else(|| {
        arg(
            "0002-00000710",
            "Invalid x-oss-credential.",
            "x-oss-credential",
            credential,
        )
    })?;
    let scope = Scope::parse(scope_text).map_err(|e| match e {
        oss_sign::Error::InvalidScope { reason, .. } if reason.contains("date") => arg(
            "0002-00000709",
            "Invalid date in x-oss-credential.",
            "x-oss-credential",
            credential,
        ),
        _ => arg(
            "0002-00000710",
            "Invalid x-oss-credential.",
            "x-oss-credential",
            credential,
        ),
    })?;
    *signed_by = Some(ak.to_owned());
    let signing_key = SigningKeyRef::find(config, ak)?;
    if scope.region() != config.region || scope.product() != Product::Oss {
        return Err(arg(
            "0002-00000715",
            "The signing region in credential is invalid.",
            "x-oss-credential",
            credential,
        ));
    }
    let date = form.get("x-oss-date").unwrap_or("");
    let signed_at = oss_sign::parse_datetime(date)
        .map_err(|_| arg("0002-00000709", "Invalid x-oss-date.", "x-oss-date", date))?;
    if !date.starts_with(scope.date()) {
        return Err(arg(
            "0002-00000709",
            "x-oss-date is not the credential's date.",
            "x-oss-credential",
            credential,
        ));
    }
    if signed_at > now + config.max_skew {
        return Err(arg(
            "0002-00000709",
            "x-oss-date is in the future.",
            "x-oss-date",
            date,
        ));
    }
    let policy_b64 = form
        .get("policy")
        .ok_or_else(|| malformed("The POST form lacks the policy field."))?;
    let expected = SigningKey::derive(signing_key.secret(config), &scope).sign(policy_b64);
    if !verify_signature(&expected, signature) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            Some("0002-00000705"),
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
        .with("OSSAccessKeyId", ak)
        .with("SignatureProvided", signature)
        .with("StringToSign", policy_b64));
    }
    signing_key.check_token(config, form.get("x-oss-security-token"), now)?;
    let policy = Policy::parse(policy_b64)?;
    policy.check_expiry(now)?;
    Ok((policy, signing_key.principal()))
}

/// `POST /bucket` with a form body. `signed_by` receives the access key id of the form, for
/// the request log.
pub(crate) async fn handle(
    ctx: &Ctx<'_>,
    body: Incoming,
    signed_by: &mut Option<String>,
) -> Result<Response<ResBody>, ApiError> {
    let content_type = header(ctx.headers, "content-type").unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        malformed("The body of your POST request is not well-formed multipart/form-data.")
    })?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut form = Form(Vec::new());
    loop {
        let field = multipart.next_field().await.map_err(|_| {
            malformed("The body of your POST request is not well-formed multipart/form-data.")
        })?;
        let Some(mut field) = field else {
            return Err(malformed("The POST form has no file field."));
        };
        let name = field.name().unwrap_or("").to_owned();
        let lname = if name.starts_with("x:") {
            name.clone()
        } else {
            name.to_ascii_lowercase()
        };
        if lname != "file" {
            let mut value = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|_| malformed("A form field could not be read."))?
            {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_FIELD {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "FieldItemTooLong",
                        None,
                        "A form field is too long.",
                    ));
                }
            }
            let value =
                String::from_utf8(value).map_err(|_| malformed("A form field is not UTF-8."))?;
            form.0.push((lname, value));
            continue;
        }
        // `file` must be the last field; everything needed is known now.
        let now = SystemTime::now();
        let (policy, principal) = verify_signature_fields(ctx, &form, now, signed_by)?;
        let filename = field.file_name().unwrap_or("").to_owned();
        let key = form
            .get("key")
            .ok_or_else(|| {
                arg(
                    "0016-00000001",
                    "The POST form lacks the key field.",
                    "key",
                    "",
                )
            })?
            .replace("${filename}", &filename);
        check_key(&key)?;
        principal.check_write(&ctx.bucket, &key)?;
        let bucket = ctx.bucket.clone();
        policy.check_fields(|n| match n {
            "bucket" => Some(bucket.as_str()),
            "key" => Some(key.as_str()),
            other => form.get(other),
        })?;
        let plan = callback::from_form(ctx, &form.0)?;
        let file_type = field.content_type().map(|m| m.to_string());
        let blob = receive_field(ctx, &mut field).await?;
        policy.check_length(blob.size)?;
        let mime = form
            .get("content-type")
            .map(str::to_owned)
            .or(file_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        return store(ctx, &form, key, mime, blob, plan).await;
    }
}

async fn receive_field(ctx: &Ctx<'_>, field: &mut multer::Field<'_>) -> Result<Blob, ApiError> {
    let mut writer = ctx.state.storage.blob_writer().await?;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| malformed("The file field could not be read."))?
    {
        if writer.size() + chunk.len() as u64 > MAX_OBJECT_SIZE {
            return Err(entity_too_large());
        }
        writer.write(chunk).await?;
    }
    Ok(writer.finish().await?)
}

async fn store(
    ctx: &Ctx<'_>,
    form: &Form,
    key: String,
    mime: String,
    blob: Blob,
    plan: Option<callback::Plan>,
) -> Result<Response<ResBody>, ApiError> {
    // Checked before storing; with a callback, the callback's answer is the reply instead.
    let redirect = match form.get("success_action_redirect") {
        Some(url) if plan.is_none() => Some(Redirect::parse(url)?),
        _ => None,
    };
    let meta = ObjectMeta {
        key,
        size: blob.size,
        etag: format!("\"{}\"", upper_hex(&blob.md5)),
        crc64: blob.crc64,
        content_type: mime,
        content_md5: Some(base64_md5(&blob.md5)),
        last_modified: now_unix(),
        headers: stored_headers(form.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    };
    ctx.state
        .storage
        .put_object(&ctx.bucket, meta.clone(), blob)
        .await?;
    let status = match form.get("success_action_status") {
        Some("200") => StatusCode::OK,
        Some("201") => StatusCode::CREATED,
        _ => StatusCode::NO_CONTENT,
    };
    let location = format!("{}/{}/{}", ctx.state.endpoint, ctx.bucket, meta.key);
    let body = (status == StatusCode::CREATED).then(|| {
        (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Bucket>{}</Bucket><Location>{}</Location><Key>{}</Key><ETag>{}</ETag></PostResponse>",
                escape(&ctx.bucket),
                escape(&location),
                escape(&meta.key),
                escape(&meta.etag)
            ),
            "application/xml",
        )
    });
    let mut headers = vec![
        ("etag", meta.etag.clone()),
        ("content-md5", meta.content_md5.clone().unwrap_or_default()),
        ("x-oss-hash-crc64ecma", meta.crc64.to_string()),
    ];
    let (status, body) = match &redirect {
        Some(r) => {
            headers.push(("location", r.location(&ctx.bucket, &meta.key, &meta.etag)));
            (StatusCode::SEE_OTHER, None)
        }
        None => (status, body),
    };
    let mut resp = finish_upload(
        ctx,
        plan.as_ref(),
        &meta,
        "PostObject",
        headers,
        (status, body),
    )
    .await;
    resp.extensions_mut().insert(LoggedKey(meta.key.clone()));
    Ok(resp)
}
