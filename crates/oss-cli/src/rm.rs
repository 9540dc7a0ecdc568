//! `oss-rs rm oss://bucket/key` and `oss-rs rm -r oss://bucket/prefix` (ListObjects, then
//! DeleteMultipleObjects in batches of 1000).

use clap::Args;
use futures_util::TryStreamExt as _;

use crate::args::GlobalArgs;
use crate::confirm::confirm;
use crate::location::{object_url_arg, ObjectUrl};
use crate::table::say;
use crate::Error;

pub(crate) const RM_EXAMPLES: &str = "\
Examples:
  # One object (an error if it does not exist).
  oss-rs --region cn-hangzhou rm oss://examplebucket/photos/cat.jpg

  # Everything under a prefix; asks first on a terminal.
  oss-rs --region cn-hangzhou rm -r oss://examplebucket/tmp/

  # The same from a script (without a terminal, -r needs --force).
  oss-rs --region cn-hangzhou rm -r --force oss://examplebucket/tmp/";

/// `oss-rs rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// oss://bucket/key, or with -r oss://bucket/prefix (matched as is: `tmp` also matches
    /// `tmp2/`; oss://bucket alone is every object)
    #[arg(value_parser = object_url_arg)]
    pub url: ObjectUrl,
    /// Remove every object whose key starts with the prefix
    #[arg(short, long)]
    pub recursive: bool,
    /// Do not ask before removing (required with -r when stdin is not a terminal)
    #[arg(short, long)]
    pub force: bool,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: crate::args::ClientArgs,
}

/// Removes the object, or every object under the prefix; says what it removed on stdout.
pub(crate) async fn run(global: &GlobalArgs, args: RmArgs) -> Result<(), Error> {
    let client = global.upload_client(args.url.bucket()).await?;
    if !args.recursive {
        let key = args.url.key();
        if key.is_empty() {
            return Err(Error::InvalidArgument {
                name: "object URL",
                message: format!(
                    "{} names no object: use rm -r to remove everything under a prefix, \
                     rb to remove the bucket",
                    args.url
                ),
            });
        }
        // DeleteObject succeeds for a missing key; a typo should not look like a success
        // (docs/decisions.md), so ask first and report NoSuchKey.
        client.head_object(key).await?;
        client.delete_object(key).await?;
        return say(&format!("removed {}", args.url));
    }
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects()
        .with_prefix(args.url.key())
        .into_pages();
    while let Some(page) = pages.try_next().await? {
        keys.extend(page.objects.into_iter().map(|o| o.key));
    }
    if keys.is_empty() {
        return say(&format!("no objects under {}", args.url));
    }
    let what = format!(
        "{} object{} under {}",
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        args.url
    );
    confirm(format!("remove {what}?"), args.force).await?;
    client.delete_objects(&keys, true).await?;
    say(&format!("removed {what}"))
}
