//! `oss-rs cp oss://b/k PATH` and `oss-rs cp oss://b/k -`: downloads.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use oss_upload::{Client, DownloadOutput, Progress};

use crate::args::{CpArgs, GlobalArgs};
use crate::location::ObjectUrl;
use crate::progress::ProgressView;
use crate::Error;

fn object_name(src: &ObjectUrl) -> Result<&str, Error> {
    let key = src.key();
    if key.is_empty() || key.ends_with('/') {
        return Err(Error::InvalidArgument {
            name: "source",
            message: format!("{src} names a prefix, not an object (use -r to copy a prefix)"),
        });
    }
    Ok(key)
}

/// Where a download of `key` to `path` lands: into `path` when it is a directory (or ends in
/// a separator), under the key's last segment.
fn target_path(key: &str, path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    if path.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        let name = key.rsplit('/').next().unwrap_or(key);
        return path.join(name);
    }
    path.to_owned()
}

/// Downloads one object to a file, with the progress view and Ctrl-C handling.
pub(crate) async fn to_file(
    global: &GlobalArgs,
    args: &CpArgs,
    src: &ObjectUrl,
    path: &Path,
) -> Result<(), Error> {
    let key = object_name(src)?;
    let dest = target_path(key, path);
    if args.no_clobber && dest.exists() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped {src}: {} exists (--no-clobber)",
            dest.display()
        );
        return Ok(());
    }
    let client = global.upload_client(src.bucket()).await?;
    let head = client.head_object(key).await?;
    let display = ProgressView::for_stderr(head.size);
    let started = Instant::now();
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let download = download_file(&client, args, key, &dest, Some(display.sink()));
    let result = tokio::select! {
        r = download => r,
        () = stop => {
            display.abandon();
            return Err(Error::Interrupted(if args.checkpoint_dir.is_some() {
                "the ranges already fetched are kept in the .temp file; run the same command \
                 again to resume"
                    .into()
            } else {
                "nothing was written under the target name (use --checkpoint-dir to resume \
                 downloads)"
                    .into()
            }));
        }
    };
    match result {
        Ok(out) => {
            display.finish();
            report(src, &dest, started, &out);
            Ok(())
        }
        Err(e) => {
            display.abandon();
            Err(e)
        }
    }
}

/// One download with the `cp` flags (part size, parallelism, checkpoint).
pub(crate) async fn download_file(
    client: &Client,
    args: &CpArgs,
    key: &str,
    dest: &Path,
    progress: Option<Progress>,
) -> Result<DownloadOutput, Error> {
    let mut download = client
        .download(key, dest)
        .with_part_size(args.part_size)
        .with_parallelism(args.parallel);
    if let Some(dir) = &args.checkpoint_dir {
        download = download.with_checkpoint_dir(dir.clone());
    }
    if let Some(p) = progress {
        download = download.with_progress(p);
    }
    download.send().await.map_err(Error::from)
}

fn report(src: &ObjectUrl, dest: &Path, started: Instant, out: &DownloadOutput) {
    let mut line = format!(
        "downloaded {src} to {}: {}, crc64 {}",
        dest.display(),
        crate::cp::rate(out.size, started.elapsed().as_secs_f64()),
        out.crc64
    );
    if out.resumed_bytes > 0 {
        line.push_str(&format!(
            ", {} resumed from the checkpoint",
            crate::size::human(out.resumed_bytes)
        ));
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Streams one object to stdout in order; the CRC-64 is checked at the end (a mismatch is an
/// error and a non-zero exit, though the bytes were already written).
pub(crate) async fn to_stdout(global: &GlobalArgs, src: &ObjectUrl) -> Result<(), Error> {
    let key = object_name(src)?;
    let client = global.upload_client(src.bucket()).await?;
    let mut stdout = crate::cp::std_stream(&std::io::stdout())
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    tokio::select! {
        r = client.download_to_writer(key, &mut stdout, None) => r.map(|_| ()).map_err(Error::from),
        () = stop => Err(Error::Interrupted("stdout has a partial copy".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_target_gets_the_key_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(target_path("a/b.txt", dir.path()), dir.path().join("b.txt"));
        assert_eq!(
            target_path("a/b.txt", Path::new("x/y.bin")),
            PathBuf::from("x/y.bin")
        );
        assert_eq!(
            target_path("k", Path::new("newdir/")),
            PathBuf::from("newdir/k")
        );
    }
}
