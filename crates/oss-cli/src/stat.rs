//! `oss-rs stat oss://bucket/key` (HeadObject) and `oss-rs stat oss://bucket` (GetBucketInfo).

use clap::Args;

use crate::args::GlobalArgs;
use crate::location::{object_url_arg, ObjectUrl};
use crate::table::{aligned, etag, print, timestamp};
use crate::Error;

pub(crate) const STAT_EXAMPLES: &str = "\
Examples:
  # Size, ETag, CRC-64, content type, last modified, storage class and user metadata.
  oss-rs --region cn-hangzhou stat oss://examplebucket/photos/cat.jpg

  # The bucket: region, creation time, storage class.
  oss-rs --region cn-hangzhou stat oss://examplebucket";

/// Headers that describe the exchange, not the object (ossutil's `stat` leaves them out too).
const NOT_OBJECT_HEADERS: &[&str] = &[
    "date",
    "server",
    "connection",
    "keep-alive",
    "x-oss-request-id",
    "x-oss-server-time",
];

/// `oss-rs stat`.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// oss://bucket/key for an object, oss://bucket for the bucket
    #[arg(value_parser = object_url_arg)]
    pub url: ObjectUrl,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: crate::args::ClientArgs,
}

/// Prints the object's (or bucket's) properties as `Name: value` lines, sorted by name.
pub(crate) async fn run(global: &GlobalArgs, args: StatArgs) -> Result<(), Error> {
    let client = global.upload_client(args.url.bucket()).await?;
    let rows = if args.url.key().is_empty() {
        let info = client.bucket_info().await?;
        vec![
            ("Name".to_owned(), info.name),
            ("Region".to_owned(), info.region.unwrap_or_default()),
            ("CreationDate".to_owned(), timestamp(info.created)),
            (
                "StorageClass".to_owned(),
                info.storage_class.unwrap_or_default(),
            ),
        ]
    } else {
        let head = client.head_object(args.url.key()).await?;
        let mut rows: Vec<(String, String)> = head
            .headers
            .iter()
            .filter(|(name, _)| !NOT_OBJECT_HEADERS.contains(&name.as_str()))
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let text = if name == "etag" {
                    etag(&text).to_owned()
                } else {
                    text
                };
                (title_case(name.as_str()), text)
            })
            .collect();
        rows.sort();
        rows
    };
    print(&mut std::io::stdout(), &aligned(&rows))
}

/// `x-oss-meta-owner` → `X-Oss-Meta-Owner`, as ossutil prints header names.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(title_case("x-oss-meta-owner"), "X-Oss-Meta-Owner");
        assert_eq!(title_case("etag"), "Etag");
        assert_eq!(title_case("content-length"), "Content-Length");
    }
}
