//! DeleteMultipleObjects (`POST /bucket?delete`): up to 1000 keys in one request, `Content-MD5`
//! required, quiet or verbose reply. A key that does not exist is reported deleted, as OSS does.

use http::{Response, StatusCode};
use hyper::body::Incoming;
use md5::{Digest, Md5};
use serde::Deserialize;

use super::list::{xml_reply, MAX_KEYS};
use super::{check_md5_digest, expected_md5};
use crate::body::read_small;
use crate::body::ResBody;
use crate::error::ApiError;
use crate::request::check_key;
use crate::router::Ctx;
use crate::xml::{escape, url_encode};

/// Largest request body: 1000 keys of up to 1023 bytes, XML-escaped, with room to spare.
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct DeleteBody {
    #[serde(rename = "Quiet", default)]
    quiet: Option<String>,
    #[serde(rename = "Object", default)]
    objects: Vec<DeleteEntry>,
}

#[derive(Debug, Deserialize)]
struct DeleteEntry {
    #[serde(rename = "Key")]
    key: String,
}

/// The parsed request: quiet mode and the keys, in request order.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    quiet: bool,
    keys: Vec<String>,
}

fn parse(body: &[u8]) -> Result<Parsed, ApiError> {
    // No EC is documented for a malformed Delete body, so none is invented.
    let malformed = |detail: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            None,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
        .with("ErrorDetail", detail)
    };
    let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8".into()))?;
    if !text.contains("<Delete") {
        return Err(malformed("root element is not Delete".into()));
    }
    let parsed: DeleteBody = quick_xml::de::from_str(text).map_err(|e| malformed(e.to_string()))?;
    let quiet = match parsed.quiet.as_deref().map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid_argument(
                Some("0016-00000610"),
                "The Quiet element must be true or false.",
                "Quiet",
                other,
            ))
        }
    };
    if parsed.objects.is_empty() {
        return Err(malformed("no Object element in the body".into()));
    }
    if parsed.objects.len() > MAX_KEYS {
        return Err(malformed(format!(
            "{} objects, more than {MAX_KEYS}",
            parsed.objects.len()
        )));
    }
    Ok(Parsed {
        quiet,
        keys: parsed.objects.into_iter().map(|o| o.key).collect(),
    })
}

/// 400 `MissingArgument` when `Content-MD5` is absent (docs/decisions.md: OSS requires it; the
/// exact reply is not documented, so the generic missing-argument error is used).
fn missing_md5() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MissingArgument",
        None,
        "Missing Some Required Arguments.",
    )
    .with("ArgumentName", "Content-MD5")
}

/// `POST /bucket?delete`.
pub(crate) async fn handle(ctx: &Ctx<'_>, body: Incoming) -> Result<Response<ResBody>, ApiError> {
    let want = expected_md5(ctx.headers)?.ok_or_else(missing_md5)?;
    let bytes = read_small(body, MAX_BODY).await?;
    let got: [u8; 16] = Md5::digest(&bytes).into();
    check_md5_digest(Some(want), &got)?;
    let req = parse(&bytes)?;
    for key in &req.keys {
        check_key(key)?;
    }
    let url = ctx.query.get("encoding-type") == Some("url");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult>");
    if url {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    for key in &req.keys {
        ctx.state.storage.delete(&ctx.bucket, key).await?;
        if !req.quiet {
            let shown = if url {
                url_encode(key)
            } else {
                escape(key).into_owned()
            };
            out.push_str(&format!("<Deleted><Key>{shown}</Key></Deleted>"));
        }
    }
    out.push_str("</DeleteResult>");
    Ok(xml_reply(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quiet_and_keys_with_character_references() {
        let p = parse(
            b"<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c&#x41;</Key></Object></Delete>",
        )
        .unwrap();
        assert_eq!(
            p,
            Parsed {
                quiet: true,
                keys: vec!["a&b".into(), "cA".into()]
            }
        );
        assert!(
            !parse(b"<Delete><Object><Key>k</Key></Object></Delete>")
                .unwrap()
                .quiet
        );
    }

    #[test]
    fn refuses_bad_bodies() {
        assert_eq!(parse(b"nope").unwrap_err().code, "MalformedXML");
        assert_eq!(
            parse(b"<Delete></Delete>").unwrap_err().code,
            "MalformedXML"
        );
        let bad_quiet = parse(b"<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>");
        assert_eq!(bad_quiet.unwrap_err().ec, Some("0016-00000610"));
        let many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(1001)
        );
        assert_eq!(parse(many.as_bytes()).unwrap_err().code, "MalformedXML");
    }
}
