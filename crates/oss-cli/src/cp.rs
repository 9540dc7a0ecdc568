//! `oss-rs cp FILE oss://bucket/key`.

use std::io::Write as _;
use std::time::Instant;

use oss_upload::UploadOutput;

use crate::args::{CpArgs, GlobalArgs};
use crate::progress::ProgressView;
use crate::size::human;
use crate::Error;

/// Uploads the file; prints the callback's answer on stdout and a summary on stderr.
pub(crate) async fn run(global: &GlobalArgs, args: CpArgs) -> Result<(), Error> {
    let meta = std::fs::metadata(&args.file)
        .map_err(|e| Error::io(format!("cannot read {}", args.file.display()), e))?;
    if !meta.is_file() {
        return Err(Error::File {
            path: args.file.clone(),
            reason: "not a regular file".into(),
        });
    }
    let size = meta.len();
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let destination = args.destination.clone().with_default_name(&file_name);
    if destination.key().is_empty() {
        return Err(Error::InvalidArgument {
            name: "destination",
            message: "no object key".into(),
        });
    }
    let callback = args.callback.to_callback()?;
    let client = global.upload_client(destination.bucket()).await?;
    let options = args.object_options.to_options();

    let display = ProgressView::for_stderr(size);
    let started = Instant::now();
    let key = destination.key().to_owned();
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let resumable = args.checkpoint_dir.is_some();
    let upload = async {
        match &args.checkpoint_dir {
            Some(dir) => {
                let mut upload = client
                    .resumable_upload(key, args.file.clone())
                    .with_checkpoint_dir(dir.clone())
                    .with_options(options)
                    .with_progress(display.sink())
                    .with_part_size(args.part_size)
                    .with_parallelism(args.parallel);
                if let Some((cb, vars)) = callback {
                    upload = upload.with_callback(cb).with_callback_vars(vars);
                }
                upload.send().await
            }
            None => {
                let mut upload = client
                    .multipart_upload(key, oss_upload::UploadSource::file(args.file.clone()))
                    .with_options(options)
                    .with_progress(display.sink())
                    .with_part_size(args.part_size)
                    .with_parallelism(args.parallel);
                if let Some((cb, vars)) = callback {
                    upload = upload.with_callback(cb).with_callback_vars(vars);
                }
                upload.send().await
            }
        }
    };
    // Dropping the upload future stops it: parts already sent stay in OSS (resumable uploads
    // keep their checkpoint, so the same command resumes).
    let result = tokio::select! {
        result = upload => result,
        () = stop => {
            display.abandon();
            return Err(Error::Interrupted(if resumable {
                "run the same command again to resume from the checkpoint".into()
            } else {
                "parts already uploaded stay in OSS until the upload is aborted or expires \
                 (use --checkpoint-dir for resumable uploads)"
                    .into()
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
            return Err(e.into());
        }
    };
    report(&args, &destination.to_string(), size, started, &output)
}

fn report(
    args: &CpArgs,
    destination: &str,
    size: u64,
    started: Instant,
    output: &UploadOutput,
) -> Result<(), Error> {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 { size as f64 / secs } else { 0.0 };
    let mut summary = format!(
        "uploaded {} to {destination}: {} in {secs:.2} s ({}/s)",
        args.file.display(),
        human(size),
        human(rate as u64)
    );
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
    if let Some(cb) = &output.callback {
        let mut stdout = std::io::stdout().lock();
        let text = String::from_utf8_lossy(&cb.body);
        writeln!(stdout, "{}", text.trim_end())
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write the callback answer", e))?;
    }
    Ok(())
}
