//! XML bodies of the listing and bucket calls: ListObjects v2, ListMultipartUploads,
//! ListBuckets, GetBucketInfo and DeleteMultipleObjects. Every field is read as text first and
//! converted here, so a malformed answer is an [`Error::BadResponse`] naming the field, never a
//! panic; fields that `encoding-type=url` encodes are decoded (GO2 `unmarshalEncodeType`).

use serde::Deserialize;

use crate::Error;

fn bad(operation: &'static str, reason: impl Into<String>) -> Error {
    Error::BadResponse {
        operation,
        reason: reason.into(),
    }
}

fn text<'a>(operation: &'static str, body: &'a [u8]) -> Result<&'a str, Error> {
    std::str::from_utf8(body).map_err(|_| bad(operation, "body is not UTF-8"))
}

/// Percent-decodes `value` when the answer says `EncodingType=url` (`+` stays `+`, as PY2's
/// `unquote` does; the emulator and OSS write a space as `%20`).
fn decode(operation: &'static str, field: &str, value: String, url: bool) -> Result<String, Error> {
    if !url {
        return Ok(value);
    }
    percent_encoding::percent_decode_str(&value)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            bad(
                operation,
                format!("field {field}: not UTF-8 once url-decoded"),
            )
        })
}

fn number(operation: &'static str, field: &str, value: Option<&str>) -> Result<u64, Error> {
    let v = value.ok_or_else(|| bad(operation, format!("field {field} is missing")))?;
    v.trim()
        .parse()
        .map_err(|_| bad(operation, format!("field {field}: {v:?} is not a number")))
}

fn boolean(operation: &'static str, field: &str, value: Option<&str>) -> Result<bool, Error> {
    match value.map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(bad(
            operation,
            format!("field {field}: {v:?} is not true/false"),
        )),
    }
}

fn required(operation: &'static str, field: &str, value: Option<String>) -> Result<String, Error> {
    value.ok_or_else(|| bad(operation, format!("field {field} is missing")))
}

/// `2020-06-22T11:42:32.000Z`.
pub(crate) fn parse_iso8601(value: &str) -> Option<std::time::SystemTime> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(std::time::SystemTime::from)
}

fn time_field(
    operation: &'static str,
    field: &str,
    value: Option<&str>,
) -> Result<Option<std::time::SystemTime>, Error> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => parse_iso8601(v).map(Some).ok_or_else(|| {
            bad(
                operation,
                format!("field {field}: {v:?} is not an ISO 8601 time"),
            )
        }),
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedObject {
    /// Key, decoded.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag with its quotes.
    pub etag: String,
    /// `LastModified`.
    pub last_modified: Option<std::time::SystemTime>,
    /// `StorageClass` (`Standard`, `IA`, ...).
    pub storage_class: Option<String>,
    /// `Type` (`Normal`, `Multipart`, `Appendable`).
    pub object_type: Option<String>,
}

/// One page of ListObjectsV2.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectPage {
    /// Objects on this page, in OSS's order.
    pub objects: Vec<ListedObject>,
    /// Common prefixes (with a delimiter), decoded.
    pub common_prefixes: Vec<String>,
    /// Token for the next page, when this one is truncated.
    pub next_continuation_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListObjectsXml {
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    is_truncated: Option<String>,
    #[serde(default)]
    next_continuation_token: Option<String>,
    #[serde(default)]
    contents: Vec<ContentsXml>,
    #[serde(default)]
    common_prefixes: Vec<PrefixXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentsXml {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default, rename = "ETag")]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    storage_class: Option<String>,
    #[serde(default, rename = "Type")]
    object_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PrefixXml {
    #[serde(default)]
    prefix: Option<String>,
}

fn is_url(encoding: &Option<String>) -> bool {
    encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("url"))
}

/// A ListObjectsV2 page.
pub(crate) fn parse_list_objects(body: &[u8]) -> Result<ObjectPage, Error> {
    const OP: &str = "ListObjectsV2";
    let x: ListObjectsXml =
        quick_xml::de::from_str(text(OP, body)?).map_err(|e| bad(OP, e.to_string()))?;
    let url = is_url(&x.encoding_type);
    let truncated = boolean(OP, "IsTruncated", x.is_truncated.as_deref())?;
    let mut objects = Vec::with_capacity(x.contents.len());
    for c in x.contents {
        objects.push(ListedObject {
            key: decode(
                OP,
                "Contents/Key",
                required(OP, "Contents/Key", c.key)?,
                url,
            )?,
            size: number(OP, "Contents/Size", c.size.as_deref())?,
            etag: c.etag.unwrap_or_default(),
            last_modified: time_field(OP, "Contents/LastModified", c.last_modified.as_deref())?,
            storage_class: c.storage_class,
            object_type: c.object_type,
        });
    }
    let mut common_prefixes = Vec::new();
    for p in x.common_prefixes {
        let raw = required(OP, "CommonPrefixes/Prefix", p.prefix)?;
        common_prefixes.push(decode(OP, "CommonPrefixes/Prefix", raw, url)?);
    }
    let next_continuation_token = match (truncated, x.next_continuation_token) {
        (true, Some(t)) if !t.is_empty() => Some(decode(OP, "NextContinuationToken", t, url)?),
        (true, _) => {
            return Err(bad(
                OP,
                "field NextContinuationToken is missing from a truncated page",
            ))
        }
        (false, _) => None,
    };
    Ok(ObjectPage {
        objects,
        common_prefixes,
        next_continuation_token,
    })
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedUpload {
    /// Object key, decoded.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// `Initiated`.
    pub initiated: Option<std::time::SystemTime>,
}

/// One page of ListMultipartUploads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct UploadPage {
    /// Uploads on this page.
    pub uploads: Vec<ListedUpload>,
    /// `(NextKeyMarker, NextUploadIdMarker)` when truncated.
    pub next: Option<(String, String)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UploadsXml {
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    is_truncated: Option<String>,
    #[serde(default)]
    next_key_marker: Option<String>,
    #[serde(default)]
    next_upload_id_marker: Option<String>,
    #[serde(default, rename = "Upload")]
    uploads: Vec<UploadXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UploadXml {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    upload_id: Option<String>,
    #[serde(default)]
    initiated: Option<String>,
}

/// A ListMultipartUploads page.
pub(crate) fn parse_list_uploads(body: &[u8]) -> Result<UploadPage, Error> {
    const OP: &str = "ListMultipartUploads";
    let x: UploadsXml =
        quick_xml::de::from_str(text(OP, body)?).map_err(|e| bad(OP, e.to_string()))?;
    let url = is_url(&x.encoding_type);
    let mut uploads = Vec::with_capacity(x.uploads.len());
    for u in x.uploads {
        uploads.push(ListedUpload {
            key: decode(OP, "Upload/Key", required(OP, "Upload/Key", u.key)?, url)?,
            upload_id: required(OP, "Upload/UploadId", u.upload_id)?,
            initiated: time_field(OP, "Upload/Initiated", u.initiated.as_deref())?,
        });
    }
    let next = if boolean(OP, "IsTruncated", x.is_truncated.as_deref())? {
        let key = required(OP, "NextKeyMarker", x.next_key_marker)?;
        Some((
            decode(OP, "NextKeyMarker", key, url)?,
            x.next_upload_id_marker.unwrap_or_default(),
        ))
    } else {
        None
    };
    Ok(UploadPage { uploads, next })
}

/// A bucket, as ListBuckets or GetBucketInfo reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketSummary {
    /// Bucket name.
    pub name: String,
    /// `Region` (`cn-hangzhou`), else `Location` (`oss-cn-hangzhou`).
    pub region: Option<String>,
    /// `CreationDate`.
    pub created: Option<std::time::SystemTime>,
    /// `StorageClass`.
    pub storage_class: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketXml {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    creation_date: Option<String>,
    #[serde(default)]
    storage_class: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketsXml {
    #[serde(default, rename = "Bucket")]
    bucket: Vec<BucketXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBucketsXml {
    #[serde(default)]
    is_truncated: Option<String>,
    #[serde(default)]
    next_marker: Option<String>,
    #[serde(default)]
    buckets: Option<BucketsXml>,
}

fn summary(op: &'static str, b: BucketXml) -> Result<BucketSummary, Error> {
    Ok(BucketSummary {
        name: required(op, "Bucket/Name", b.name)?,
        region: b.region.or(b.location),
        created: time_field(op, "Bucket/CreationDate", b.creation_date.as_deref())?,
        storage_class: b.storage_class,
    })
}

/// A ListBuckets page: buckets and the next marker when truncated.
pub(crate) fn parse_list_buckets(
    body: &[u8],
) -> Result<(Vec<BucketSummary>, Option<String>), Error> {
    const OP: &str = "ListBuckets";
    let x: ListBucketsXml =
        quick_xml::de::from_str(text(OP, body)?).map_err(|e| bad(OP, e.to_string()))?;
    let mut out = Vec::new();
    for b in x.buckets.map(|b| b.bucket).unwrap_or_default() {
        out.push(summary(OP, b)?);
    }
    let next = if boolean(OP, "IsTruncated", x.is_truncated.as_deref())? {
        Some(required(OP, "NextMarker", x.next_marker)?)
    } else {
        None
    };
    Ok((out, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketInfoXml {
    bucket: Option<BucketXml>,
}

/// A GetBucketInfo answer.
pub(crate) fn parse_bucket_info(body: &[u8]) -> Result<BucketSummary, Error> {
    const OP: &str = "GetBucketInfo";
    let x: BucketInfoXml =
        quick_xml::de::from_str(text(OP, body)?).map_err(|e| bad(OP, e.to_string()))?;
    summary(
        OP,
        x.bucket.ok_or_else(|| bad(OP, "field Bucket is missing"))?,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteResultXml {
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    deleted: Vec<DeletedXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeletedXml {
    #[serde(default)]
    key: Option<String>,
}

/// The keys a DeleteMultipleObjects answer reports deleted (none in quiet mode, or an empty body).
pub(crate) fn parse_delete_result(body: &[u8]) -> Result<Vec<String>, Error> {
    const OP: &str = "DeleteMultipleObjects";
    let t = text(OP, body)?;
    if t.trim().is_empty() {
        return Ok(Vec::new());
    }
    let x: DeleteResultXml = quick_xml::de::from_str(t).map_err(|e| bad(OP, e.to_string()))?;
    let url = is_url(&x.encoding_type);
    x.deleted
        .into_iter()
        .map(|d| decode(OP, "Deleted/Key", required(OP, "Deleted/Key", d.key)?, url))
        .collect()
}

/// `<Delete>` for DeleteMultipleObjects.
pub(crate) fn delete_body(keys: &[String], quiet: bool) -> String {
    let mut out =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete><Quiet>{quiet}</Quiet>");
    for k in keys {
        out.push_str(&format!(
            "<Object><Key>{}</Key></Object>",
            quick_xml::escape::escape(k.as_str())
        ));
    }
    out.push_str("</Delete>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_listing() {
        let page = parse_list_objects(b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>t%2B1</NextContinuationToken><Contents><Key>a%20b%2Bc%25/%E4%B8%AD</Key><Size>3</Size><ETag>\"E\"</ETag><LastModified>2020-06-22T11:42:32.000Z</LastModified></Contents><CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes></ListBucketResult>").unwrap();
        assert_eq!(page.objects[0].key, "a b+c%/中");
        assert_eq!(page.objects[0].size, 3);
        assert!(page.objects[0].last_modified.is_some());
        assert_eq!(page.common_prefixes, ["d/"]);
        assert_eq!(page.next_continuation_token.as_deref(), Some("t+1"));
    }

    #[test]
    fn malformed_answers_name_the_field() {
        let e = parse_list_objects(b"<ListBucketResult><Contents><Key>k</Key><Size>big</Size></Contents></ListBucketResult>").unwrap_err();
        assert!(e.to_string().contains("Contents/Size"), "{e}");
        let e = parse_list_objects(
            b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        )
        .unwrap_err();
        assert!(e.to_string().contains("NextContinuationToken"), "{e}");
        let e = parse_list_objects(
            b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        )
        .unwrap_err();
        assert!(e.to_string().contains("Contents/Key"), "{e}");
        let e = parse_list_uploads(b"<ListMultipartUploadsResult><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>").unwrap_err();
        assert!(e.to_string().contains("Upload/UploadId"), "{e}");
        let e = parse_list_objects(
            b"<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        )
        .unwrap_err();
        assert!(e.to_string().contains("IsTruncated"), "{e}");
        let e = parse_list_objects(b"<ListBucketResult><Contents><Key>k</Key><Size>1</Size><LastModified>yesterday</LastModified></Contents></ListBucketResult>").unwrap_err();
        assert!(e.to_string().contains("Contents/LastModified"), "{e}");
        assert!(parse_list_objects(b"\xff").is_err());
    }

    #[test]
    fn delete_body_escapes_and_result_parses() {
        let body = delete_body(&["a&b".into(), "c".into()], true);
        assert!(body.contains("<Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"));
        let keys = parse_delete_result(b"<DeleteResult><EncodingType>url</EncodingType><Deleted><Key>a%26b</Key></Deleted></DeleteResult>").unwrap();
        assert_eq!(keys, ["a&b"]);
        assert!(parse_delete_result(b"").unwrap().is_empty());
    }
}
