//! `oss-rs mb oss://bucket` (PutBucket) and `oss-rs rb oss://bucket` (DeleteBucket).

use clap::Args;

use crate::args::GlobalArgs;
use crate::location::{object_url_arg, ObjectUrl};
use crate::table::say;
use crate::Error;

pub(crate) const MB_EXAMPLES: &str = "\
Examples:
  oss-rs --region cn-hangzhou mb oss://examplebucket

  # In the local emulator (started without --auto-create-buckets, buckets must be made first).
  oss-rs --endpoint http://127.0.0.1:9000 --region cn-hangzhou --path-style mb oss://examplebucket";

pub(crate) const RB_EXAMPLES: &str = "\
Examples:
  # The bucket must be empty: no objects and no multipart uploads.
  oss-rs --region cn-hangzhou rm -r --force oss://examplebucket
  oss-rs --region cn-hangzhou uploads abort oss://examplebucket --all --force
  oss-rs --region cn-hangzhou rb oss://examplebucket";

/// `oss-rs mb` and `oss-rs rb`.
#[derive(Debug, Args)]
pub struct BucketArgs {
    /// oss://bucket
    #[arg(value_parser = object_url_arg)]
    pub url: ObjectUrl,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: crate::args::ClientArgs,
}

fn bucket_only(url: &ObjectUrl) -> Result<&str, Error> {
    if !url.key().is_empty() {
        return Err(Error::InvalidArgument {
            name: "bucket URL",
            message: format!("{url} has a key: expected oss://bucket"),
        });
    }
    oss_types::BucketName::check(url.bucket()).map_err(|e| Error::InvalidArgument {
        name: "bucket name",
        message: e.to_string(),
    })?;
    Ok(url.bucket())
}

/// Creates the bucket.
pub(crate) async fn make(global: &GlobalArgs, args: BucketArgs) -> Result<(), Error> {
    let bucket = bucket_only(&args.url)?;
    global.upload_client(bucket).await?.create_bucket().await?;
    say(&format!("created bucket oss://{bucket}"))
}

/// Removes the (empty) bucket.
pub(crate) async fn remove(global: &GlobalArgs, args: BucketArgs) -> Result<(), Error> {
    let bucket = bucket_only(&args.url)?;
    global.upload_client(bucket).await?.delete_bucket().await?;
    say(&format!("removed bucket oss://{bucket}"))
}
