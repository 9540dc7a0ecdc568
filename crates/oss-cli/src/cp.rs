//! `oss-rs cp`: uploads (a file, stdin of unknown length), downloads (a file, stdout), and
//! with `-r` whole trees ([`crate::cp_dir`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oss_callback::{Callback, CallbackVars};
use oss_upload::{
    BodyStream, Client, MultipartUpload, Progress, ResumableUpload, UploadFate, UploadHandle,
    UploadOutput, UploadSource,
};

use crate::args::{CpArgs, GlobalArgs};
use crate::cp_path::CpPath;
use crate::location::ObjectUrl;
use crate::progress::ProgressView;
use crate::size::human;
use crate::Error;

/// Runs `cp` for whichever pair of sides was given.
pub(crate) async fn run(global: &GlobalArgs, args: CpArgs) -> Result<(), Error> {
    let invalid = |message: &str| Error::InvalidArgument {
        name: "cp",
        message: message.into(),
    };
    match (args.source.clone(), args.destination.clone()) {
        (CpPath::Oss(_), CpPath::Oss(_)) => Err(invalid(
            "copying between OSS locations is not supported: one side must be local",
        )),
        (CpPath::Oss(src), CpPath::Local(dir)) if args.recursive => {
            crate::cp_dir::download(global, &args, &src, &dir).await
        }
        (CpPath::Oss(src), CpPath::Stdio) if !args.recursive => {
            crate::cp_download::to_stdout(global, &src).await
        }
        (CpPath::Oss(src), CpPath::Local(path)) => {
            crate::cp_download::to_file(global, &args, &src, &path).await
        }
        (CpPath::Local(dir), CpPath::Oss(dst)) if args.recursive => {
            crate::cp_dir::upload(global, &args, &dir, &dst).await
        }
        (_, _) if args.recursive => Err(invalid(
            "-r copies a directory to oss://bucket/prefix/ or a prefix to a directory",
        )),
        (CpPath::Stdio, CpPath::Oss(dst)) => upload_stdin(global, &args, dst).await,
        (CpPath::Local(path), CpPath::Oss(dst)) => upload_path(global, &args, &path, dst).await,
        (_, _) => Err(invalid(
            "one side must be oss://bucket/key (local-to-local copies are not supported)",
        )),
    }
}

/// What one upload reads.
pub(crate) enum Source {
    /// A regular file of this size.
    File(PathBuf, u64),
    /// A stream of unknown length (stdin, a pipe, a device).
    Stream(BodyStream),
}

/// An async file over a duplicate of stdin's or stdout's descriptor (tokio's blocking pool
/// does the reads and writes, as for any file).
#[cfg(unix)]
pub(crate) fn std_stream(stdio: &impl std::os::fd::AsFd) -> std::io::Result<tokio::fs::File> {
    let fd = stdio.as_fd().try_clone_to_owned()?;
    Ok(tokio::fs::File::from_std(std::fs::File::from(fd)))
}

/// An async file over a duplicate of stdin's or stdout's handle.
#[cfg(windows)]
pub(crate) fn std_stream(
    stdio: &impl std::os::windows::io::AsHandle,
) -> std::io::Result<tokio::fs::File> {
    let handle = stdio.as_handle().try_clone_to_owned()?;
    Ok(tokio::fs::File::from_std(std::fs::File::from(handle)))
}

/// Streams `reader` in 256 KiB chunks; the uploader buffers it part by part.
pub(crate) fn reader_stream(
    reader: impl tokio::io::AsyncRead + Send + Unpin + 'static,
) -> BodyStream {
    use tokio::io::AsyncReadExt as _;
    Box::pin(futures_util::stream::try_unfold(
        reader,
        |mut r| async move {
            let mut buf = bytes::BytesMut::with_capacity(256 * 1024);
            let n = r.read_buf(&mut buf).await?;
            Ok::<_, std::io::Error>((n > 0).then(|| (buf.freeze(), r)))
        },
    ))
}

async fn upload_stdin(global: &GlobalArgs, args: &CpArgs, dst: ObjectUrl) -> Result<(), Error> {
    if dst.key().is_empty() || dst.key().ends_with('/') {
        return Err(Error::InvalidArgument {
            name: "destination",
            message: "stdin has no file name: give the full object key".into(),
        });
    }
    let stdin = std_stream(&std::io::stdin()).map_err(|e| Error::io("cannot read stdin", e))?;
    let source = Source::Stream(reader_stream(stdin));
    upload_one(global, args, "stdin", source, dst).await
}

async fn upload_path(
    global: &GlobalArgs,
    args: &CpArgs,
    path: &Path,
    dst: ObjectUrl,
) -> Result<(), Error> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if meta.is_dir() {
        return Err(Error::File {
            path: path.to_owned(),
            reason: "is a directory (use -r to copy a tree)".into(),
        });
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let destination = dst.with_default_name(&file_name);
    let source = if meta.is_file() {
        Source::File(path.to_owned(), meta.len())
    } else {
        // /dev/stdin, a FIFO, a device: read it as a stream of unknown length.
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        Source::Stream(reader_stream(file))
    };
    upload_one(
        global,
        args,
        &path.display().to_string(),
        source,
        destination,
    )
    .await
}

async fn upload_one(
    global: &GlobalArgs,
    args: &CpArgs,
    label: &str,
    source: Source,
    destination: ObjectUrl,
) -> Result<(), Error> {
    if destination.key().is_empty() {
        return Err(Error::InvalidArgument {
            name: "destination",
            message: "no object key".into(),
        });
    }
    let callback = args.callback.to_callback()?;
    let client = global
        .upload_client_with_crc(destination.bucket(), !args.no_crc)
        .await?;
    let size = match &source {
        Source::File(_, size) => Some(*size),
        Source::Stream(_) => None,
    };
    let display = ProgressView::for_stderr(size.unwrap_or(0));
    let started = Instant::now();
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let upload = prepare_upload(
        &client,
        args,
        destination.key(),
        source,
        callback,
        Some(display.sink()),
    );
    let handle = upload.handle();
    // Dropping the upload future stops it: a resumable upload keeps its checkpoint (the same
    // command resumes), a multipart upload aborts itself, and the handle says how that went.
    let result = tokio::select! {
        result = upload.send() => result.map_err(Error::from),
        () = stop => {
            display.abandon();
            return Err(Error::Interrupted(match handle {
                None => "run the same command again to resume from the checkpoint".into(),
                Some(handle) => after_interrupt(&handle, &destination).await,
            }));
        }
    };
    let output = match result {
        Ok(output) => {
            display.finish();
            output
        }
        Err(e) => {
            display.abandon();
            return Err(e);
        }
    };
    if crate::output::json() {
        return crate::output::print_json(&crate::output::upload_document(
            &destination,
            size,
            &output,
        ));
    }
    if !crate::output::quiet() {
        report(label, &destination.to_string(), size, started, &output)?;
    }
    print_callback_answer(&output)
}

/// How long an interrupted `cp` waits for its multipart upload's abort before it names the
/// upload id to abort by hand instead.
const ABORT_WAIT: Duration = Duration::from_secs(10);

/// What an interrupted multipart upload left, once its abort (spawned when its future was
/// dropped) finished: nothing, or the upload id and the command that removes its parts.
async fn after_interrupt(handle: &UploadHandle, destination: &ObjectUrl) -> String {
    let by_hand = |id: &str, why: &str| {
        format!(
            "upload {id} stays in OSS ({why}); its parts are billed until it is aborted: \
             oss-rs uploads abort {destination} --upload-id {id}"
        )
    };
    match tokio::time::timeout(ABORT_WAIT, handle.settled()).await {
        Ok(None) => "nothing was left in OSS".into(),
        Ok(Some((id, UploadFate::Aborted))) => {
            format!("upload {id} was aborted; no part is left in OSS")
        }
        Ok(Some((id, UploadFate::Left { reason }))) => by_hand(&id, &reason),
        Ok(Some((id, _))) => format!("upload {id} had completed"),
        Err(_) => match handle.upload_id() {
            Some(id) => by_hand(&id, "its abort did not finish in time"),
            None => "nothing was left in OSS".into(),
        },
    }
}

/// One upload, ready to send: resumable with `--checkpoint-dir` for a file, else the
/// multipart uploader (one PutObject when the data fits in one part, streams included).
pub(crate) enum PreparedUpload {
    /// A resumable upload (its checkpoint is what an interrupted run leaves).
    Resumable(ResumableUpload),
    /// A multipart upload (it aborts itself when interrupted).
    Multipart(MultipartUpload),
}

impl PreparedUpload {
    /// The multipart upload's handle (upload id, and what became of it); `None` for a
    /// resumable upload.
    pub(crate) fn handle(&self) -> Option<UploadHandle> {
        match self {
            PreparedUpload::Resumable(_) => None,
            PreparedUpload::Multipart(m) => Some(m.handle()),
        }
    }

    /// Uploads.
    pub(crate) async fn send(self) -> Result<UploadOutput, oss_upload::Error> {
        match self {
            PreparedUpload::Resumable(r) => r.send().await,
            PreparedUpload::Multipart(m) => m.send().await,
        }
    }
}

/// The upload of `source` to `key` as `args` ask for it.
pub(crate) fn prepare_upload(
    client: &Client,
    args: &CpArgs,
    key: &str,
    source: Source,
    callback: Option<(Callback, CallbackVars)>,
    progress: Option<Progress>,
) -> PreparedUpload {
    let options = args.object_options.to_options();
    match (source, &args.checkpoint_dir) {
        (Source::File(path, _), Some(dir)) => {
            let mut upload = client
                .resumable_upload(key, path)
                .with_checkpoint_dir(dir.clone())
                .with_options(options)
                .with_part_size(args.part_size)
                .with_parallelism(args.parallel);
            if let Some(p) = progress {
                upload = upload.with_progress(p);
            }
            if let Some((cb, vars)) = callback {
                upload = upload.with_callback(cb).with_callback_vars(vars);
            }
            PreparedUpload::Resumable(upload)
        }
        (source, _) => {
            let source = match source {
                Source::File(path, _) => UploadSource::file(path),
                Source::Stream(stream) => UploadSource::Stream { stream, len: None },
            };
            let mut upload = client
                .multipart_upload(key, source)
                .with_options(options)
                .with_part_size(args.part_size)
                .with_parallelism(args.parallel);
            if let Some(p) = progress {
                upload = upload.with_progress(p);
            }
            if let Some((cb, vars)) = callback {
                upload = upload.with_callback(cb).with_callback_vars(vars);
            }
            PreparedUpload::Multipart(upload)
        }
    }
}

fn report(
    label: &str,
    destination: &str,
    size: Option<u64>,
    started: Instant,
    output: &UploadOutput,
) -> Result<(), Error> {
    let secs = started.elapsed().as_secs_f64();
    let mut summary = match size {
        Some(size) => format!("uploaded {label} to {destination}: {}", rate(size, secs)),
        None => format!("uploaded {label} to {destination} in {secs:.2} s"),
    };
    if let Some(etag) = &output.etag {
        summary.push_str(&format!(", etag {etag}"));
    }
    if let Some(crc) = output.crc64 {
        summary.push_str(&format!(", crc64 {crc}"));
    }
    if let Some(id) = &output.request_id {
        summary.push_str(&format!(", request id {id}"));
    }
    let _ = writeln!(std::io::stderr(), "{summary}");
    Ok(())
}

/// Prints the callback's answer on stdout, one line.
pub(crate) fn print_callback_answer(output: &UploadOutput) -> Result<(), Error> {
    if let Some(cb) = &output.callback {
        let mut stdout = std::io::stdout().lock();
        let text = String::from_utf8_lossy(&cb.body);
        writeln!(stdout, "{}", text.trim_end())
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write the callback answer", e))?;
    }
    Ok(())
}

/// `size` bytes in `secs` seconds, for summaries.
pub(crate) fn rate(size: u64, secs: f64) -> String {
    let rate = if secs > 0.0 { size as f64 / secs } else { 0.0 };
    format!("{} in {secs:.2} s ({}/s)", human(size), human(rate as u64))
}
