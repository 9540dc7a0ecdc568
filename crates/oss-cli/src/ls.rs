//! `oss-rs ls [oss://bucket[/prefix]]`: objects under a prefix (recursive, or one level with
//! `-d`), or the account's buckets when no URL is given.

use std::io::Write as _;

use clap::Args;
use futures_util::TryStreamExt as _;

use crate::args::GlobalArgs;
use crate::location::{object_url_arg, ObjectUrl};
use crate::table::{etag, print, timestamp};
use crate::Error;

pub(crate) const LS_EXAMPLES: &str = "\
Examples:
  # Every object under photos/ (recursive), with time, size, storage class and ETag.
  oss-rs --region cn-hangzhou ls oss://examplebucket/photos/

  # One level: objects directly under photos/ and the \"directories\" below it.
  oss-rs --region cn-hangzhou ls -d oss://examplebucket/photos/

  # The buckets of the account.
  oss-rs --region cn-hangzhou ls";

/// A bucket name for the client of a service-level call (ListBuckets), which sends no bucket:
/// the client type needs one, OSS never sees it.
pub(crate) const SERVICE_CLIENT_BUCKET: &str = "oss-rs-service";

/// `oss-rs ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// oss://bucket[/prefix]; the prefix is matched as is (`logs` also matches `logs2/`).
    /// Without it, the account's buckets are listed
    #[arg(value_parser = object_url_arg)]
    pub url: Option<ObjectUrl>,
    /// One level only: group keys at the next '/' and show those common prefixes
    #[arg(short = 'd', long = "dirs")]
    pub dirs: bool,
    /// Entries per ListObjects/ListBuckets request (1..=1000); the listing is complete either way
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: crate::args::ClientArgs,
}

/// Lists objects (or buckets) on stdout as they arrive, then the counts.
pub(crate) async fn run(global: &GlobalArgs, args: LsArgs) -> Result<(), Error> {
    match &args.url {
        None => list_buckets(global, args.page_size).await,
        Some(url) => list_objects(global, url, args.dirs, args.page_size).await,
    }
}

async fn list_objects(
    global: &GlobalArgs,
    url: &ObjectUrl,
    dirs: bool,
    page_size: u32,
) -> Result<(), Error> {
    let client = global.upload_client(url.bucket()).await?;
    let mut listing = client
        .list_objects()
        .with_prefix(url.key())
        .with_page_size(page_size);
    if dirs {
        listing = listing.with_delimiter("/");
    }
    let mut pages = listing.into_pages();
    let mut out = std::io::stdout();
    print(
        &mut out,
        &format!(
            "{:<20}  {:>12}  {:<12}  {:<34}  ObjectName\n",
            "LastModifiedTime", "Size(B)", "StorageClass", "ETAG"
        ),
    )?;
    let (mut objects, mut prefixes) = (0u64, 0u64);
    let bucket = url.bucket();
    while let Some(page) = pages.try_next().await? {
        // Objects and common prefixes interleave in key order, as one listing.
        let mut rows: Vec<(&str, String)> = page
            .objects
            .iter()
            .map(|o| {
                let columns = format!(
                    "{:<20}  {:>12}  {:<12}  {:<34}",
                    timestamp(o.last_modified),
                    o.size,
                    o.storage_class.as_deref().unwrap_or("-"),
                    etag(&o.etag),
                );
                (o.key.as_str(), columns)
            })
            .chain(page.common_prefixes.iter().map(|p| {
                (
                    p.as_str(),
                    format!("{:<20}  {:>12}  {:<12}  {:<34}", "", "DIR", "", ""),
                )
            }))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        let text: String = rows
            .iter()
            .map(|(name, columns)| format!("{columns}  oss://{bucket}/{name}\n"))
            .collect();
        objects += page.objects.len() as u64;
        prefixes += page.common_prefixes.len() as u64;
        print(&mut out, &text)?;
    }
    let mut summary = format!("Object Number is: {objects}\n");
    if dirs {
        summary.push_str(&format!("Prefix Number is: {prefixes}\n"));
    }
    print(&mut out, &summary)?;
    out.flush()
        .map_err(|e| Error::io("cannot write to stdout", e))
}

async fn list_buckets(global: &GlobalArgs, page_size: u32) -> Result<(), Error> {
    let client = global.upload_client(SERVICE_CLIENT_BUCKET).await?;
    let mut pages = client.list_buckets().with_page_size(page_size).into_pages();
    let mut out = std::io::stdout();
    print(
        &mut out,
        &format!(
            "{:<20}  {:<16}  {:<12}  BucketName\n",
            "CreationTime", "Region", "StorageClass"
        ),
    )?;
    let mut count = 0u64;
    while let Some(page) = pages.try_next().await? {
        let mut text = String::new();
        for b in &page {
            text.push_str(&format!(
                "{:<20}  {:<16}  {:<12}  oss://{}\n",
                timestamp(b.created),
                b.region.as_deref().unwrap_or("-"),
                b.storage_class.as_deref().unwrap_or("-"),
                b.name
            ));
        }
        count += page.len() as u64;
        print(&mut out, &text)?;
    }
    print(&mut out, &format!("Bucket Number is: {count}\n"))?;
    out.flush()
        .map_err(|e| Error::io("cannot write to stdout", e))
}
