//! ListObjects (v1), ListObjectsV2 and ListMultipartUploads: byte-wise key order, `prefix`,
//! `delimiter` (common prefixes count toward the page like keys), markers, continuation tokens
//! and `encoding-type=url` (docs/decisions.md records the choices the spec leaves open).

use http::{Response, StatusCode};

use crate::body::{self, ResBody};
use crate::error::ApiError;
use crate::router::{respond, Ctx};
use crate::storage::{iso8601, ObjectMeta, UploadMeta};
use crate::xml::{escape, url_encode};

/// `max-keys` when the request gives none (OSS's documented default, checked live by GO2).
pub(crate) const DEFAULT_MAX_KEYS: usize = 100;
/// Largest `max-keys` / `max-uploads`.
pub(crate) const MAX_KEYS: usize = 1000;
/// The owner every listing reports (the emulator has one account).
pub(crate) const OWNER_ID: &str = "1234567890123456";

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// One listed entry: an item, or a common prefix standing for every key under it.
#[derive(Debug)]
enum Entry<'a, T> {
    Item(&'a T),
    Prefix(String),
}

/// One page of a listing.
#[derive(Debug)]
struct Page<'a, T> {
    entries: Vec<Entry<'a, T>>,
    truncated: bool,
}

/// The common prefix `key` rolls up into: `prefix` plus the rest up to and including the first
/// `delimiter` after it.
fn common_prefix(key: &str, prefix: &str, delimiter: &str) -> Option<String> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = &key[prefix.len()..];
    rest.find(delimiter)
        .map(|i| key[..prefix.len() + i + delimiter.len()].to_owned())
}

/// Walks `items` (sorted by key) from after the marker and cuts a page of `max` entries.
/// `passed` says whether an item is at or before the marker; a common prefix equal to
/// `marker` was the previous page's last entry, so every key under it is skipped.
fn paginate<'a, T>(
    items: &'a [T],
    key_of: fn(&T) -> &str,
    prefix: &str,
    delimiter: &str,
    passed: impl Fn(&T) -> bool,
    marker: &str,
    max: usize,
) -> Page<'a, T> {
    let mut entries: Vec<Entry<'a, T>> = Vec::new();
    let mut truncated = false;
    for item in items {
        let key = key_of(item);
        if !key.starts_with(prefix) || passed(item) {
            continue;
        }
        let entry = match common_prefix(key, prefix, delimiter) {
            Some(cp) => {
                if cp == marker || matches!(entries.last(), Some(Entry::Prefix(p)) if *p == cp) {
                    continue;
                }
                Entry::Prefix(cp)
            }
            None => Entry::Item(item),
        };
        if entries.len() == max {
            truncated = true;
            break;
        }
        entries.push(entry);
    }
    Page { entries, truncated }
}

fn url_encoding(ctx: &Ctx<'_>) -> Result<bool, ApiError> {
    match ctx.query.get("encoding-type") {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(true),
        Some(v) => Err(ApiError::invalid_argument(
            None,
            "The encoding-type you specified is not valid; only url is supported.",
            "encoding-type",
            v,
        )),
    }
}

/// A `max-keys`-style parameter: 1..=1000, `default` when absent.
pub(crate) fn max_param(ctx: &Ctx<'_>, name: &str, default: usize) -> Result<usize, ApiError> {
    match ctx.query.get(name) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_KEYS).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_argument(
                None,
                format!("Argument {name} must be an integer between 1 and {MAX_KEYS}."),
                name,
                v,
            )),
        },
    }
}

/// Text of a field that `encoding-type=url` encodes.
fn enc(value: &str, url: bool) -> String {
    if url {
        url_encode(value)
    } else {
        escape(value).into_owned()
    }
}

/// `<Name>value</Name>`, encoded when `url`.
fn elem(out: &mut String, name: &str, value: &str, url: bool) {
    out.push_str(&format!("<{name}>{}</{name}>", enc(value, url)));
}

pub(crate) fn xml_reply(text: String) -> Response<ResBody> {
    respond(
        StatusCode::OK,
        vec![
            ("content-type", "application/xml".into()),
            ("content-length", text.len().to_string()),
        ],
        body::full(text),
    )
}

fn owner_xml() -> String {
    format!("<Owner><ID>{OWNER_ID}</ID><DisplayName>{OWNER_ID}</DisplayName></Owner>")
}

fn contents_xml(out: &mut String, meta: &ObjectMeta, url: bool, owner: bool) {
    out.push_str("<Contents>");
    elem(out, "Key", &meta.key, url);
    out.push_str(&format!(
        "<LastModified>{}</LastModified><ETag>{}</ETag><Type>{}</Type><Size>{}</Size><StorageClass>Standard</StorageClass>",
        iso8601(meta.last_modified),
        escape(&meta.etag),
        if meta.etag.contains('-') { "Multipart" } else { "Normal" },
        meta.size
    ));
    if owner {
        out.push_str(&owner_xml());
    }
    out.push_str("</Contents>");
}

fn entries_xml(out: &mut String, page: &Page<'_, ObjectMeta>, url: bool, owner: bool) {
    for e in &page.entries {
        if let Entry::Item(meta) = e {
            contents_xml(out, meta, url, owner);
        }
    }
    for e in &page.entries {
        if let Entry::Prefix(p) = e {
            out.push_str("<CommonPrefixes>");
            elem(out, "Prefix", p, url);
            out.push_str("</CommonPrefixes>");
        }
    }
}

/// The key or prefix of a page's last entry: where the next page starts.
fn last_name<'a>(page: &'a Page<'_, ObjectMeta>) -> &'a str {
    match page.entries.last() {
        Some(Entry::Item(m)) => &m.key,
        Some(Entry::Prefix(p)) => p,
        None => "",
    }
}

/// Continuation tokens are the hex of the next page's marker: opaque to clients, and free of
/// characters that would need encoding.
fn token_of(marker: &str) -> String {
    marker.bytes().map(|b| format!("{b:02x}")).collect()
}

fn marker_of_token(token: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::invalid_argument(
            None,
            "The continuation token provided is incorrect.",
            "continuation-token",
            token,
        )
    };
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)
}

/// `GET /bucket` (v1) and `GET /bucket?list-type=2` (v2).
pub(crate) async fn list_objects(ctx: &Ctx<'_>, v2: bool) -> Result<Response<ResBody>, ApiError> {
    let url = url_encoding(ctx)?;
    let max = max_param(ctx, "max-keys", DEFAULT_MAX_KEYS)?;
    let prefix = ctx.query.get("prefix").unwrap_or("");
    let delimiter = ctx.query.get("delimiter").unwrap_or("");
    let token = ctx
        .query
        .get("continuation-token")
        .filter(|t| v2 && !t.is_empty());
    let start_after = if v2 {
        ctx.query.get("start-after").unwrap_or("")
    } else {
        ctx.query.get("marker").unwrap_or("")
    };
    // With a token the listing resumes where the token says; start-after only shapes the first
    // page (docs/decisions.md).
    let marker = match token {
        Some(t) => marker_of_token(t)?,
        None => start_after.to_owned(),
    };
    let objects = ctx.state.storage.list_objects(&ctx.bucket).await?;
    let page = paginate(
        &objects,
        |m: &ObjectMeta| m.key.as_str(),
        prefix,
        delimiter,
        |m| !marker.is_empty() && m.key.as_str() <= marker.as_str(),
        &marker,
        max,
    );
    let mut out = format!("{HEADER}<ListBucketResult>");
    elem(&mut out, "Name", &ctx.bucket, false);
    elem(&mut out, "Prefix", prefix, url);
    if v2 {
        if !start_after.is_empty() {
            elem(&mut out, "StartAfter", start_after, url);
        }
        if let Some(t) = token {
            elem(&mut out, "ContinuationToken", t, url);
        }
    } else {
        elem(&mut out, "Marker", start_after, url);
    }
    out.push_str(&format!("<MaxKeys>{max}</MaxKeys>"));
    elem(&mut out, "Delimiter", delimiter, url);
    if url {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    out.push_str(&format!("<IsTruncated>{}</IsTruncated>", page.truncated));
    if page.truncated {
        if v2 {
            elem(
                &mut out,
                "NextContinuationToken",
                &token_of(last_name(&page)),
                url,
            );
        } else {
            elem(&mut out, "NextMarker", last_name(&page), url);
        }
    }
    if v2 {
        out.push_str(&format!("<KeyCount>{}</KeyCount>", page.entries.len()));
    }
    let owner = !v2 || ctx.query.get("fetch-owner") == Some("true");
    entries_xml(&mut out, &page, url, owner);
    out.push_str("</ListBucketResult>");
    Ok(xml_reply(out))
}

/// `GET /bucket?uploads`: uploads ascending by key, then initiation time, then id.
pub(crate) async fn list_uploads(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let url = url_encoding(ctx)?;
    let max = max_param(ctx, "max-uploads", MAX_KEYS)?;
    let prefix = ctx.query.get("prefix").unwrap_or("");
    let delimiter = ctx.query.get("delimiter").unwrap_or("");
    let key_marker = ctx.query.get("key-marker").unwrap_or("");
    let id_marker = ctx.query.get("upload-id-marker").unwrap_or("");
    let uploads = ctx.state.storage.list_uploads(&ctx.bucket).await?;
    // The marker upload's place in the order; an unknown id falls back to "keys after the
    // key marker", which is also the rule when no id marker is given.
    let marker_pos = uploads
        .iter()
        .find(|u| !id_marker.is_empty() && u.key == key_marker && u.upload_id == id_marker)
        .map(|u| (u.key.clone(), u.initiated, u.upload_id.clone()));
    let page = paginate(
        &uploads,
        |u: &UploadMeta| u.key.as_str(),
        prefix,
        delimiter,
        |u| match &marker_pos {
            Some((k, t, id)) => (&u.key, u.initiated, &u.upload_id) <= (k, *t, id),
            None => !key_marker.is_empty() && u.key.as_str() <= key_marker,
        },
        key_marker,
        max,
    );
    let mut out = format!("{HEADER}<ListMultipartUploadsResult>");
    if url {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    elem(&mut out, "Bucket", &ctx.bucket, false);
    elem(&mut out, "KeyMarker", key_marker, url);
    elem(&mut out, "UploadIdMarker", id_marker, false);
    let (next_key, next_id) = match page.entries.last() {
        Some(Entry::Item(u)) => (u.key.as_str(), u.upload_id.as_str()),
        Some(Entry::Prefix(p)) => (p.as_str(), ""),
        None => ("", ""),
    };
    elem(&mut out, "NextKeyMarker", next_key, url);
    elem(&mut out, "NextUploadIdMarker", next_id, false);
    elem(&mut out, "Delimiter", delimiter, url);
    elem(&mut out, "Prefix", prefix, url);
    out.push_str(&format!(
        "<MaxUploads>{max}</MaxUploads><IsTruncated>{}</IsTruncated>",
        page.truncated
    ));
    for e in &page.entries {
        if let Entry::Item(u) = e {
            out.push_str("<Upload>");
            elem(&mut out, "Key", &u.key, url);
            elem(&mut out, "UploadId", &u.upload_id, false);
            out.push_str(&format!(
                "<StorageClass>Standard</StorageClass><Initiated>{}</Initiated></Upload>",
                iso8601(u.initiated)
            ));
        }
    }
    for e in &page.entries {
        if let Entry::Prefix(p) = e {
            out.push_str("<CommonPrefixes>");
            elem(&mut out, "Prefix", p, url);
            out.push_str("</CommonPrefixes>");
        }
    }
    out.push_str("</ListMultipartUploadsResult>");
    Ok(xml_reply(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    fn names(page: &Page<'_, String>) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Item(k) => (*k).clone(),
                Entry::Prefix(p) => format!("{p}*"),
            })
            .collect()
    }

    fn run(items: &[String], prefix: &str, delim: &str, marker: &str, max: usize) -> Vec<String> {
        let page = paginate(
            items,
            |k: &String| k.as_str(),
            prefix,
            delim,
            |k| !marker.is_empty() && k.as_str() <= marker,
            marker,
            max,
        );
        names(&page)
    }

    #[test]
    fn delimiter_rolls_keys_into_prefixes_that_count_toward_the_page() {
        let items = keys(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        assert_eq!(run(&items, "", "/", "", 10), ["a/*", "b", "c/*", "d"]);
        assert_eq!(run(&items, "", "/", "", 2), ["a/*", "b"]);
        // The next page starts after the last entry; a prefix marker skips its keys.
        assert_eq!(run(&items, "", "/", "a/", 2), ["b", "c/*"]);
        assert_eq!(run(&items, "c/", "/", "", 10), ["c/x/*", "c/y"]);
        assert_eq!(run(&items, "", "", "b", 10), ["c/x/1", "c/y", "d"]);
    }

    #[test]
    fn order_is_byte_wise_utf8() {
        let items = keys(&["Z", "a", "é", "中", "a b", "a+b", "a%b"]);
        assert_eq!(
            run(&items, "", "", "", 10),
            ["Z", "a", "a b", "a%b", "a+b", "é", "中"]
        );
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = token_of("dir/中 +%");
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(marker_of_token(&t).unwrap(), "dir/中 +%");
        assert_eq!(marker_of_token("zz").unwrap_err().code, "InvalidArgument");
        assert_eq!(marker_of_token("abc").unwrap_err().code, "InvalidArgument");
    }
}
