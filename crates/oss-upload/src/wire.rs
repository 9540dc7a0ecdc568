//! XML bodies of the multipart calls (protocol §5.1).

use serde::Deserialize;

use crate::Error;

/// One part in a CompleteMultipartUpload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number (1-based).
    pub part_number: u32,
    /// ETag returned by UploadPart, with its quotes.
    pub etag: String,
}

/// One part listed by ListParts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedPart {
    /// Part number.
    pub part_number: u32,
    /// ETag, with its quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-64 of the part, when OSS reported it.
    pub crc64: Option<u64>,
}

/// One page of ListParts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPartsPage {
    /// Parts on this page, ascending.
    pub parts: Vec<ListedPart>,
    /// Whether more parts follow.
    pub is_truncated: bool,
    /// Marker for the next page.
    pub next_part_number_marker: Option<u32>,
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// `<CompleteMultipartUpload>` with the parts sorted ascending.
pub(crate) fn complete_body(parts: &[CompletedPart]) -> String {
    let mut sorted: Vec<&CompletedPart> = parts.iter().collect();
    sorted.sort_by_key(|p| p.part_number);
    let mut out = String::from("<CompleteMultipartUpload>");
    for p in sorted {
        out.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            p.part_number,
            escape(&p.etag)
        ));
    }
    out.push_str("</CompleteMultipartUpload>");
    out
}

fn bad(operation: &'static str, reason: impl Into<String>) -> Error {
    Error::BadResponse {
        operation,
        reason: reason.into(),
    }
}

fn decode_key(value: String, url_encoded: bool) -> String {
    if url_encoded {
        percent_encoding::percent_decode_str(&value)
            .decode_utf8()
            .map(|s| s.into_owned())
            .unwrap_or(value)
    } else {
        value
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateXml {
    upload_id: String,
}

/// The upload id from an InitiateMultipartUpload response.
pub(crate) fn parse_initiate(body: &[u8]) -> Result<String, Error> {
    let text =
        std::str::from_utf8(body).map_err(|_| bad("InitiateMultipartUpload", "not UTF-8"))?;
    let x: InitiateXml =
        quick_xml::de::from_str(text).map_err(|e| bad("InitiateMultipartUpload", e.to_string()))?;
    if x.upload_id.is_empty() {
        return Err(bad("InitiateMultipartUpload", "empty UploadId"));
    }
    Ok(x.upload_id)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPartsXml {
    #[serde(default)]
    is_truncated: Option<String>,
    #[serde(default)]
    next_part_number_marker: Option<String>,
    #[serde(default, rename = "Part")]
    parts: Vec<PartXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PartXml {
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    size: u64,
    #[serde(default)]
    hash_crc64ecma: Option<String>,
}

/// A ListParts page.
pub(crate) fn parse_list_parts(body: &[u8]) -> Result<ListPartsPage, Error> {
    let text = std::str::from_utf8(body).map_err(|_| bad("ListParts", "not UTF-8"))?;
    let x: ListPartsXml =
        quick_xml::de::from_str(text).map_err(|e| bad("ListParts", e.to_string()))?;
    Ok(ListPartsPage {
        parts: x
            .parts
            .into_iter()
            .map(|p| ListedPart {
                part_number: p.part_number,
                etag: p.etag,
                size: p.size,
                crc64: p
                    .hash_crc64ecma
                    .and_then(|v| oss_types::Crc64::parse_header(&v)),
            })
            .collect(),
        is_truncated: x.is_truncated.as_deref().map(str::trim) == Some("true"),
        next_part_number_marker: x
            .next_part_number_marker
            .and_then(|m| m.trim().parse().ok())
            .filter(|m| *m > 0),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CompleteXml {
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default, rename = "ETag")]
    etag: Option<String>,
}

/// ETag (and decoded key) from a CompleteMultipartUpload XML body without callback.
pub(crate) fn parse_complete(body: &[u8]) -> Result<(Option<String>, Option<String>), Error> {
    let text =
        std::str::from_utf8(body).map_err(|_| bad("CompleteMultipartUpload", "not UTF-8"))?;
    let x: CompleteXml =
        quick_xml::de::from_str(text).map_err(|e| bad("CompleteMultipartUpload", e.to_string()))?;
    let encoded = x.encoding_type.as_deref() == Some("url");
    Ok((x.etag, x.key.map(|k| decode_key(k, encoded))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_body_sorted_and_escaped() {
        let body = complete_body(&[
            CompletedPart {
                part_number: 2,
                etag: "\"B\"".into(),
            },
            CompletedPart {
                part_number: 1,
                etag: "\"A&\"".into(),
            },
        ]);
        assert_eq!(
            body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;A&amp;&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;B&quot;</ETag></Part></CompleteMultipartUpload>"
        );
    }

    #[test]
    fn parses_responses() {
        let id = parse_initiate(b"<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>").unwrap();
        assert_eq!(id, "U1");
        assert!(parse_initiate(b"<InitiateMultipartUploadResult/>").is_err());
        let page = parse_list_parts(b"<ListPartsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker><Part><PartNumber>1</PartNumber><LastModified>x</LastModified><ETag>\"E1\"</ETag><Size>5</Size><HashCrc64ecma>77</HashCrc64ecma></Part><Part><PartNumber>2</PartNumber><ETag>&quot;E2&quot;</ETag><Size>6</Size></Part></ListPartsResult>").unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_part_number_marker, Some(2));
        assert_eq!(page.parts[0].crc64, Some(77));
        assert_eq!(page.parts[1].etag, "\"E2\"");
        let empty = parse_list_parts(
            b"<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>",
        )
        .unwrap();
        assert!(empty.parts.is_empty() && !empty.is_truncated);
        let (etag, key) = parse_complete(b"<CompleteMultipartUploadResult><EncodingType>url</EncodingType><Key>a%2Fb</Key><ETag>\"X\"</ETag></CompleteMultipartUploadResult>").unwrap();
        assert_eq!(etag.as_deref(), Some("\"X\""));
        assert_eq!(key.as_deref(), Some("a/b"));
    }
}
