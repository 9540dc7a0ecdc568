//! InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts.

use http::{Response, StatusCode};
use hyper::body::Incoming;
use md5::{Digest, Md5};

use super::{
    base64_md5, check_md5, expected_md5, finish_upload, receive, stored_request_headers, upper_hex,
};
use crate::body::{self, read_small, ResBody};
use crate::callback;
use crate::error::ApiError;
use crate::request::header;
use crate::router::{respond, Ctx};
use crate::storage::{now_unix, ObjectMeta, PartMeta, UploadMeta};
use crate::xml;
use oss_types::limits::MIN_PART_SIZE;
use oss_types::{Crc64, Crc64Combiner};

fn xml_reply(text: String) -> Response<ResBody> {
    respond(
        StatusCode::OK,
        vec![
            ("content-type", "application/xml".into()),
            ("content-length", text.len().to_string()),
        ],
        body::full(text),
    )
}

fn url_encoding(ctx: &Ctx<'_>) -> bool {
    ctx.query.get("encoding-type") == Some("url")
}

/// The upload named by `uploadId`, which must belong to this bucket and key.
async fn upload_of(ctx: &Ctx<'_>, ec: &'static str) -> Result<UploadMeta, ApiError> {
    let id = ctx.query.get("uploadId").unwrap_or("");
    match ctx.state.storage.upload(id).await? {
        Some(u) if u.bucket == ctx.bucket && u.key == ctx.key => Ok(u),
        _ => Err(ApiError::no_such_upload(ec, id)),
    }
}

/// `POST /bucket/key?uploads`.
pub(crate) async fn initiate(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let upload_id = upper_hex(&rand::random::<[u8; 16]>());
    let meta = UploadMeta {
        upload_id: upload_id.clone(),
        bucket: ctx.bucket.clone(),
        key: ctx.key.clone(),
        content_type: header(ctx.headers, "content-type")
            .unwrap_or("application/octet-stream")
            .to_owned(),
        headers: stored_request_headers(ctx.headers),
        initiated: now_unix(),
    };
    ctx.state.storage.create_upload(&meta).await?;
    Ok(xml_reply(xml::initiate_result(
        &ctx.bucket,
        &ctx.key,
        &upload_id,
        url_encoding(ctx),
    )))
}

fn part_number(ctx: &Ctx<'_>) -> Result<u32, ApiError> {
    let raw = ctx.query.get("partNumber").unwrap_or("");
    if raw.is_empty() {
        return Err(ApiError::invalid_argument(
            Some("0017-00000219"),
            "Unexpected query string parameter",
            "ResourceType",
            "partNumber",
        ));
    }
    match raw.parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_argument(
            Some("0017-00000220"),
            "Part number must be an integer between 1 and 10000, inclusive.",
            "PartNumber",
            raw,
        )),
    }
}

/// `PUT /bucket/key?partNumber=N&uploadId=ID`.
pub(crate) async fn upload_part(
    ctx: &Ctx<'_>,
    body: Incoming,
) -> Result<Response<ResBody>, ApiError> {
    let number = part_number(ctx)?;
    let upload = upload_of(ctx, "0042-00000104").await?;
    let want_md5 = expected_md5(ctx.headers)?;
    let blob = receive(ctx, body).await?;
    check_md5(want_md5, &blob)?;
    let part = PartMeta {
        part_number: number,
        etag: format!("\"{}\"", upper_hex(&blob.md5)),
        size: blob.size,
        crc64: blob.crc64,
        md5_hex: upper_hex(&blob.md5),
        last_modified: now_unix(),
    };
    let md5 = base64_md5(&blob.md5);
    if let Err(e) = ctx
        .state
        .storage
        .put_part(&upload.upload_id, part.clone(), blob)
        .await
    {
        // An Abort (or Complete) that ran while the body was arriving removed the upload:
        // OSS answers that part as it would any part of a finished upload.
        if e.kind() == std::io::ErrorKind::NotFound
            && ctx.state.storage.upload(&upload.upload_id).await?.is_none()
        {
            return Err(ApiError::no_such_upload("0042-00000104", &upload.upload_id));
        }
        return Err(e.into());
    }
    Ok(respond(
        StatusCode::OK,
        vec![
            ("etag", part.etag),
            ("content-md5", md5),
            ("x-oss-hash-crc64ecma", part.crc64.to_string()),
            ("content-length", "0".into()),
        ],
        body::empty(),
    ))
}

fn etag_eq(a: &str, b: &str) -> bool {
    a.trim()
        .trim_matches('"')
        .eq_ignore_ascii_case(b.trim().trim_matches('"'))
}

/// Picks and checks the parts a Complete request lists (or all of them with `x-oss-complete-all`).
async fn chosen_parts(
    ctx: &Ctx<'_>,
    upload: &UploadMeta,
    body: Incoming,
) -> Result<Vec<PartMeta>, ApiError> {
    let stored = ctx.state.storage.parts(&upload.upload_id).await?;
    let raw = read_small(body, 4 * 1024 * 1024).await?;
    if header(ctx.headers, "x-oss-complete-all").is_some_and(|v| v.eq_ignore_ascii_case("yes")) {
        if !raw.is_empty() {
            return Err(ApiError::invalid_argument(
                Some("0042-00000216"),
                "Should not speficy both complete all header and http body.",
                "x-oss-complete-all",
                "yes",
            ));
        }
        return Ok(stored);
    }
    let listed = xml::parse_complete(&raw)?;
    let mut chosen = Vec::with_capacity(listed.len());
    let mut previous = 0u32;
    for item in &listed {
        if item.part_number <= previous {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidPartOrder",
                Some("0042-00000209"),
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
            .with("UploadId", upload.upload_id.clone()));
        }
        previous = item.part_number;
        match stored.iter().find(|p| p.part_number == item.part_number) {
            Some(p) if etag_eq(&p.etag, &item.etag) => chosen.push(p.clone()),
            _ => {
                return Err(ApiError::invalid_part(
                    &upload.upload_id,
                    item.part_number,
                    &item.etag,
                ))
            }
        }
    }
    Ok(chosen)
}

fn check_sizes(upload: &UploadMeta, parts: &[PartMeta]) -> Result<(), ApiError> {
    let Some((_, init)) = parts.split_last() else {
        return Err(ApiError::malformed_xml(
            "0042-00000205",
            "no parts to complete",
        ));
    };
    if let Some(small) = init.iter().find(|p| p.size < MIN_PART_SIZE) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            Some("0042-00000213"),
            "Your proposed upload smaller than the minimum allowed size.",
        )
        .with("MinSizeAllowed", MIN_PART_SIZE.to_string())
        .with("ProposedSize", small.size.to_string())
        .with("PartNumber", small.part_number.to_string())
        .with("UploadId", upload.upload_id.clone()));
    }
    Ok(())
}

/// `POST /bucket/key?uploadId=ID`: checks the part list, joins the parts into the object (the
/// ETag from the parts' MD5s and the CRC-64 combined from theirs: no byte is hashed again),
/// answers the XML result or the callback's answer.
///
/// Completes (and Aborts) of one upload id take turns, the callback included: a second Complete
/// waits for the first to answer, then finds the upload gone (`NoSuchUpload`).
pub(crate) async fn complete(ctx: &Ctx<'_>, body: Incoming) -> Result<Response<ResBody>, ApiError> {
    let _turn = ctx
        .state
        .upload_locks
        .lock(ctx.query.get("uploadId").unwrap_or(""))
        .await;
    let upload = upload_of(ctx, "0017-00000244").await?;
    let plan = callback::from_request(ctx)?;
    let parts = chosen_parts(ctx, &upload, body).await?;
    check_sizes(&upload, &parts)?;
    let mut md5s = Md5::new();
    let mut crc = 0u64;
    let mut size = 0u64;
    // Parts but the last have one size: one precomputed shift serves them all.
    let same_size = Crc64Combiner::for_part_size(parts.first().map_or(0, |p| p.size));
    for part in &parts {
        md5s.update(hex_to_bytes(&part.md5_hex));
        crc = if part.size == same_size.part_size() {
            same_size.combine(crc, part.crc64)
        } else {
            Crc64::combine(crc, part.crc64, part.size)
        };
        size += part.size;
    }
    let meta = ObjectMeta {
        key: ctx.key.clone(),
        size,
        etag: format!("\"{}-{}\"", upper_hex(&md5s.finalize()), parts.len()),
        crc64: crc,
        content_type: upload.content_type.clone(),
        content_md5: None,
        last_modified: now_unix(),
        headers: upload.headers.clone(),
    };
    ctx.state
        .storage
        .complete_upload(&ctx.bucket, &upload.upload_id, &parts, meta.clone())
        .await?;
    let location = format!("{}/{}/{}", ctx.state.endpoint, ctx.bucket, ctx.key);
    let result = xml::complete_result(&location, &ctx.bucket, &meta, url_encoding(ctx));
    let headers = vec![
        ("etag", meta.etag.clone()),
        ("x-oss-hash-crc64ecma", meta.crc64.to_string()),
    ];
    Ok(finish_upload(
        ctx,
        plan.as_ref(),
        &meta,
        "CompleteMultipartUpload",
        headers,
        (StatusCode::OK, Some((result, "application/xml"))),
    )
    .await)
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// `DELETE /bucket/key?uploadId=ID`; waits for a Complete of the same upload in progress.
pub(crate) async fn abort(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let _turn = ctx
        .state
        .upload_locks
        .lock(ctx.query.get("uploadId").unwrap_or(""))
        .await;
    let upload = upload_of(ctx, "0042-00000002").await?;
    ctx.state.storage.remove_upload(&upload.upload_id).await?;
    Ok(respond(StatusCode::NO_CONTENT, vec![], body::empty()))
}

/// `GET /bucket/key?uploadId=ID` (`max-parts` ≤ 1000, `part-number-marker`).
pub(crate) async fn list_parts(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let upload = upload_of(ctx, "0017-00000244").await?;
    let max_parts = match ctx.query.get("max-parts") {
        None | Some("") => 1000,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_argument(
                    None,
                    "Argument max-parts must be an integer between 1 and 1000.",
                    "max-parts",
                    v,
                ))
            }
        },
    };
    let marker = match ctx.query.get("part-number-marker") {
        None | Some("") => 0,
        Some(v) => v.parse::<u32>().map_err(|_| {
            ApiError::invalid_argument(None, "Invalid part-number-marker.", "part-number-marker", v)
        })?,
    };
    let after: Vec<PartMeta> = ctx
        .state
        .storage
        .parts(&upload.upload_id)
        .await?
        .into_iter()
        .filter(|p| p.part_number > marker)
        .collect();
    let truncated = after.len() > max_parts;
    let page = &after[..after.len().min(max_parts)];
    Ok(xml_reply(xml::list_parts_result(&xml::ListPartsPage {
        bucket: &ctx.bucket,
        key: &ctx.key,
        upload_id: &upload.upload_id,
        marker,
        max_parts,
        parts: page,
        truncated,
        url: url_encoding(ctx),
    })))
}
