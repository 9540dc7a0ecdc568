//! `oss-rs uploads ls|abort`: multipart uploads that were started and neither completed nor
//! aborted. Their parts stay stored (and billed) until aborted or expired by a lifecycle rule.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt as _;
use oss_upload::ListedUpload;

use crate::args::GlobalArgs;
use crate::confirm::confirm;
use crate::location::{object_url_arg, ObjectUrl};
use crate::table::{print, say, timestamp};
use crate::Error;

pub(crate) const UPLOADS_EXAMPLES: &str = "\
Examples:
  # Interrupted uploads under backups/, with their parts and bytes stored so far.
  oss-rs --region cn-hangzhou uploads ls oss://examplebucket/backups/

  # Abort one of them (its parts are deleted).
  oss-rs --region cn-hangzhou uploads abort oss://examplebucket/backups/db.tar --upload-id 0004B9...

  # Abort every upload under a prefix (asks first on a terminal).
  oss-rs --region cn-hangzhou uploads abort oss://examplebucket/backups/ --all";

pub(crate) const UPLOADS_LS_EXAMPLES: &str = "\
Examples:
  oss-rs --region cn-hangzhou uploads ls oss://examplebucket
  oss-rs --region cn-hangzhou uploads ls oss://examplebucket/videos/";

pub(crate) const UPLOADS_ABORT_EXAMPLES: &str = "\
Examples:
  oss-rs --region cn-hangzhou uploads abort oss://examplebucket/big.bin --upload-id 0004B9...
  oss-rs --region cn-hangzhou uploads abort oss://examplebucket/tmp/ --all --force";

/// `oss-rs uploads`.
#[derive(Debug, Args)]
pub struct UploadsArgs {
    /// The operation.
    #[command(subcommand)]
    pub operation: UploadsOperation,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: crate::args::ClientArgs,
}

/// What `oss-rs uploads` does.
#[derive(Debug, Subcommand)]
pub enum UploadsOperation {
    /// List multipart uploads in progress (ListMultipartUploads, then ListParts for each)
    #[command(after_help = UPLOADS_LS_EXAMPLES)]
    Ls(UploadsLsArgs),
    /// Abort multipart uploads, deleting their parts (AbortMultipartUpload)
    #[command(after_help = UPLOADS_ABORT_EXAMPLES)]
    Abort(UploadsAbortArgs),
}

/// `oss-rs uploads ls`.
#[derive(Debug, Args)]
pub struct UploadsLsArgs {
    /// oss://bucket[/prefix]: uploads of keys starting with the prefix
    #[arg(value_parser = object_url_arg)]
    pub url: ObjectUrl,
}

/// `oss-rs uploads abort`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["upload_id", "all"]))]
pub struct UploadsAbortArgs {
    /// oss://bucket/key with --upload-id, oss://bucket[/prefix] with --all
    #[arg(value_parser = object_url_arg)]
    pub url: ObjectUrl,
    /// The upload to abort (as `uploads ls` shows it)
    #[arg(long, value_name = "ID")]
    pub upload_id: Option<String>,
    /// Abort every upload of a key starting with the prefix
    #[arg(long)]
    pub all: bool,
    /// With --all: do not ask (required when stdin is not a terminal)
    #[arg(short, long, requires = "all")]
    pub force: bool,
}

/// Runs `uploads ls` or `uploads abort`.
pub(crate) async fn run(global: &GlobalArgs, args: UploadsArgs) -> Result<(), Error> {
    match args.operation {
        UploadsOperation::Ls(a) => list(global, a).await,
        UploadsOperation::Abort(a) => abort(global, a).await,
    }
}

async fn uploads_under(
    client: &oss_upload::Client,
    prefix: &str,
) -> Result<Vec<ListedUpload>, Error> {
    let mut uploads = Vec::new();
    let mut pages = client.list_uploads().with_prefix(prefix).into_pages();
    while let Some(page) = pages.try_next().await? {
        uploads.extend(page.uploads);
    }
    Ok(uploads)
}

async fn list(global: &GlobalArgs, args: UploadsLsArgs) -> Result<(), Error> {
    let client = global.upload_client(args.url.bucket()).await?;
    let uploads = uploads_under(&client, args.url.key()).await?;
    let mut out = std::io::stdout();
    print(
        &mut out,
        &format!(
            "{:<20}  {:>5}  {:>12}  {:<32}  ObjectName\n",
            "InitiatedTime", "Parts", "Size(B)", "UploadId"
        ),
    )?;
    for u in &uploads {
        let parts = match client.list_parts(&u.key, &u.upload_id).await {
            Ok(parts) => parts,
            // Completed or aborted between the two calls: it is no longer in progress.
            Err(e) if e.service_code() == Some("NoSuchUpload") => continue,
            Err(e) => return Err(e.into()),
        };
        let bytes: u64 = parts.iter().map(|p| p.size).sum();
        print(
            &mut out,
            &format!(
                "{:<20}  {:>5}  {:>12}  {:<32}  oss://{}/{}\n",
                timestamp(u.initiated),
                parts.len(),
                bytes,
                u.upload_id,
                args.url.bucket(),
                u.key
            ),
        )?;
    }
    print(&mut out, &format!("Upload Number is: {}\n", uploads.len()))
}

async fn abort(global: &GlobalArgs, args: UploadsAbortArgs) -> Result<(), Error> {
    let client = global.upload_client(args.url.bucket()).await?;
    if let Some(id) = &args.upload_id {
        if args.url.key().is_empty() {
            return Err(Error::InvalidArgument {
                name: "object URL",
                message: format!(
                    "{} names no object: --upload-id needs oss://bucket/key",
                    args.url
                ),
            });
        }
        client.abort_multipart_upload(args.url.key(), id).await?;
        return say(&format!("aborted upload {id} of {}", args.url));
    }
    let uploads = uploads_under(&client, args.url.key()).await?;
    if uploads.is_empty() {
        return say(&format!("no uploads under {}", args.url));
    }
    let what = format!(
        "{} upload{} under {}",
        uploads.len(),
        if uploads.len() == 1 { "" } else { "s" },
        args.url
    );
    confirm(format!("abort {what}?"), args.force).await?;
    for u in &uploads {
        match client.abort_multipart_upload(&u.key, &u.upload_id).await {
            // Finished or aborted by someone else meanwhile: nothing left to remove.
            Err(e) if e.service_code() == Some("NoSuchUpload") => {}
            other => other?,
        }
    }
    say(&format!("aborted {what}"))
}
