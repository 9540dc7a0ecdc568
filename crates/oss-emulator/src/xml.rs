//! XML bodies: escaping, the CompleteMultipartUpload request, and the result documents.

use std::borrow::Cow;

use serde::Deserialize;

use crate::error::ApiError;
use crate::storage::{ObjectMeta, PartMeta};

/// XML-escapes text content.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// One `<Part>` of a CompleteMultipartUpload body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CompletePart {
    #[serde(rename = "PartNumber")]
    pub(crate) part_number: u32,
    #[serde(rename = "ETag")]
    pub(crate) etag: String,
}

#[derive(Debug, Deserialize)]
struct CompleteBody {
    #[serde(rename = "Part", default)]
    parts: Vec<CompletePart>,
}

/// Parses a CompleteMultipartUpload body (`MalformedXML` when it is not one).
pub(crate) fn parse_complete(body: &[u8]) -> Result<Vec<CompletePart>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::malformed_xml("0042-00000205", "body is not UTF-8"))?;
    if !text.contains("<CompleteMultipartUpload") {
        return Err(ApiError::malformed_xml(
            "0042-00000205",
            "root element is not CompleteMultipartUpload",
        ));
    }
    let parsed: CompleteBody = quick_xml::de::from_str(text)
        .map_err(|e| ApiError::malformed_xml("0042-00000205", e.to_string()))?;
    if parsed.parts.is_empty() {
        return Err(ApiError::malformed_xml(
            "0042-00000205",
            "no Part element in the body",
        ));
    }
    Ok(parsed.parts)
}

/// Encodes a key for `encoding-type=url` replies (query-style percent-encoding).
pub(crate) fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, crate::request::QUERY_ENCODE).to_string()
}

fn key_elem(key: &str, url: bool) -> String {
    if url {
        url_encode(key)
    } else {
        escape(key).into_owned()
    }
}

/// `<InitiateMultipartUploadResult>`.
pub(crate) fn initiate_result(bucket: &str, key: &str, upload_id: &str, url: bool) -> String {
    let enc = if url {
        "<EncodingType>url</EncodingType>"
    } else {
        ""
    };
    format!(
        "{HEADER}<InitiateMultipartUploadResult>{enc}<Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
        escape(bucket),
        key_elem(key, url),
        escape(upload_id)
    )
}

/// `<CompleteMultipartUploadResult>`.
pub(crate) fn complete_result(
    location: &str,
    bucket: &str,
    meta: &ObjectMeta,
    url: bool,
) -> String {
    let enc = if url {
        "<EncodingType>url</EncodingType>"
    } else {
        ""
    };
    format!(
        "{HEADER}<CompleteMultipartUploadResult>{enc}<Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
        escape(location),
        escape(bucket),
        key_elem(&meta.key, url),
        escape(&meta.etag)
    )
}

/// Everything a `<ListPartsResult>` needs.
#[derive(Debug)]
pub(crate) struct ListPartsPage<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) upload_id: &'a str,
    pub(crate) marker: u32,
    pub(crate) max_parts: usize,
    pub(crate) parts: &'a [PartMeta],
    pub(crate) truncated: bool,
    pub(crate) url: bool,
}

/// `<ListPartsResult>`.
pub(crate) fn list_parts_result(p: &ListPartsPage<'_>) -> String {
    let next = p.parts.last().map(|x| x.part_number).unwrap_or(p.marker);
    let mut out = format!("{HEADER}<ListPartsResult>");
    if p.url {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    out.push_str(&format!(
        "<Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId><StorageClass>Standard</StorageClass><PartNumberMarker>{}</PartNumberMarker><NextPartNumberMarker>{}</NextPartNumberMarker><MaxParts>{}</MaxParts><IsTruncated>{}</IsTruncated>",
        escape(p.bucket),
        key_elem(p.key, p.url),
        escape(p.upload_id),
        p.marker,
        next,
        p.max_parts,
        p.truncated
    ));
    for part in p.parts {
        out.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><LastModified>{}</LastModified><ETag>{}</ETag><HashCrc64ecma>{}</HashCrc64ecma><Size>{}</Size></Part>",
            part.part_number,
            crate::storage::iso8601(part.last_modified),
            escape(&part.etag),
            part.crc64,
            part.size
        ));
    }
    out.push_str("</ListPartsResult>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_complete_body_with_entity_quotes() {
        let body = br#"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;AB&#34;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"CD"</ETag></Part></CompleteMultipartUpload>"#;
        let parts = parse_complete(body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].etag, "\"AB\"");
        assert_eq!(parts[1].part_number, 2);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_complete(b"hello").unwrap_err().code, "MalformedXML");
        assert_eq!(
            parse_complete(b"<CompleteMultipartUpload></CompleteMultipartUpload>")
                .unwrap_err()
                .code,
            "MalformedXML"
        );
    }
}
