//! `oss-rs cp -r`: a directory tree to a prefix and a prefix to a directory, `--jobs` files at
//! once. Memory stays bounded: an upload holds at most `--parallel` parts and a download
//! `--parallel` 1 MiB write buffers, so the total is `--jobs` times that.
//!
//! A failed file does not stop the others; a summary counts ok, skipped and failed, and the
//! command fails when any did. Downloads never write outside the target directory: keys whose
//! relative path is unsafe (see [`unsafe_reason`]) are skipped with a warning and count as failed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};
use oss_upload::{UploadFate, UploadHandle};

use crate::args::{CpArgs, GlobalArgs};
use crate::cp::Source;
use crate::location::ObjectUrl;
use crate::Error;

/// The placeholder a `--callback-var` value may use for the file's relative path.
pub(crate) const RELPATH_PLACEHOLDER: &str = "{relpath}";

/// Default `--jobs`.
const DEFAULT_JOBS: usize = 3;

#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    skipped: usize,
    failed: usize,
}

impl Tally {
    fn finish(self, verb: &str) -> Result<(), Error> {
        let _ = writeln!(
            std::io::stderr(),
            "{verb}: {} ok, {} skipped, {} failed",
            self.ok,
            self.skipped,
            self.failed
        );
        if self.failed > 0 {
            return Err(Error::Batch {
                failed: self.failed,
                total: self.ok + self.skipped + self.failed,
            });
        }
        Ok(())
    }
}

/// A skipped symlink, empty directory or special file: a warning, silenced by `-q`.
fn warn(message: &str) {
    crate::output::warn(message);
}

/// A key refused for leaving the target directory counts as failed: always printed, like an
/// error, even with `-q`.
fn refuse(message: &str) {
    let _ = writeln!(std::io::stderr(), "oss-rs: warning: {message}");
}

/// One line per finished file, unless `-q`.
fn progress_line(line: &str) {
    if !crate::output::quiet() {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

fn jobs(args: &CpArgs) -> Result<usize, Error> {
    match args.jobs {
        Some(0) => Err(Error::InvalidArgument {
            name: "--jobs",
            message: "must be at least 1".into(),
        }),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_JOBS),
    }
}

/// The prefix keys go under: the URL's key, with a `/` added when it has none.
fn key_prefix(url: &ObjectUrl) -> String {
    let key = url.key();
    if key.is_empty() || key.ends_with('/') {
        key.to_owned()
    } else {
        format!("{key}/")
    }
}

/// Files found under a directory, as (path, path relative to the root with `/` separators).
#[derive(Debug, Default)]
struct Walk {
    files: Vec<(PathBuf, String)>,
    skipped: usize,
}

fn walk(root: &Path, follow_symlinks: bool) -> Result<Walk, Error> {
    let mut out = Walk::default();
    let mut seen = BTreeSet::new();
    if let Ok(c) = std::fs::canonicalize(root) {
        seen.insert(c);
    }
    let mut stack = vec![(root.to_owned(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        let mut any = false;
        let mut names: Vec<_> = entries.filter_map(Result::ok).collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            any = true;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel_child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let Ok(lmeta) = std::fs::symlink_metadata(&path) else {
                warn(&format!("skipped {}: cannot read it", path.display()));
                out.skipped += 1;
                continue;
            };
            let meta = if lmeta.file_type().is_symlink() {
                if !follow_symlinks {
                    warn(&format!(
                        "skipped symbolic link {} (use --follow-symlinks to upload its target)",
                        path.display()
                    ));
                    out.skipped += 1;
                    continue;
                }
                match std::fs::metadata(&path) {
                    Ok(m) => m,
                    Err(_) => {
                        warn(&format!("skipped broken symbolic link {}", path.display()));
                        out.skipped += 1;
                        continue;
                    }
                }
            } else {
                lmeta
            };
            if meta.is_dir() {
                // A followed link may lead back up the tree: visit each real directory once.
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if seen.insert(real) {
                    stack.push((path, rel_child));
                } else {
                    warn(&format!(
                        "skipped {}: a directory already visited",
                        path.display()
                    ));
                    out.skipped += 1;
                }
            } else if meta.is_file() {
                out.files.push((path, rel_child));
            } else {
                warn(&format!("skipped {}: not a regular file", path.display()));
                out.skipped += 1;
            }
        }
        if !any && !rel.is_empty() {
            // OSS has no directories: an empty one has nothing to upload.
            warn(&format!("skipped empty directory {}", dir.display()));
            out.skipped += 1;
        }
    }
    out.files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// `cp -r DIR oss://bucket/prefix/`.
pub(crate) async fn upload(
    global: &GlobalArgs,
    args: &CpArgs,
    dir: &Path,
    dst: &ObjectUrl,
) -> Result<(), Error> {
    let jobs = jobs(args)?;
    if !dir.is_dir() {
        return Err(Error::File {
            path: dir.to_owned(),
            reason: "not a directory".into(),
        });
    }
    // Refuse bad callback flags once, before any file is sent.
    args.callback.to_callback()?;
    let tree = walk(dir, args.follow_symlinks)?;
    let client = global
        .upload_client_with_crc(dst.bucket(), !args.no_crc)
        .await?;
    let prefix = key_prefix(dst);
    let mut tally = Tally {
        skipped: tree.skipped,
        ..Tally::default()
    };
    let in_flight = InFlight::default();
    // Boxed, not pinned on the stack, so an interrupt can drop it (and with it every upload in
    // flight, which starts their aborts) before waiting for those aborts.
    let mut results = Box::pin(
        futures_util::stream::iter(tree.files)
            .map(|(path, rel)| {
                let client = &client;
                let in_flight = &in_flight;
                let key = format!("{prefix}{rel}");
                async move {
                    let outcome = upload_file(client, args, in_flight, &path, &rel, &key).await;
                    (rel, key, outcome)
                }
            })
            .buffer_unordered(jobs),
    );
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    tokio::pin!(stop);
    loop {
        let next = tokio::select! {
            n = results.next() => n,
            () = &mut stop => {
                drop(results);
                return Err(Error::Interrupted(in_flight.after_interrupt(dst.bucket()).await));
            }
        };
        let Some((rel, key, outcome)) = next else {
            break;
        };
        match outcome {
            Ok(Some(output)) => {
                tally.ok += 1;
                progress_line(&format!("uploaded {rel} to oss://{}/{key}", dst.bucket()));
                crate::cp::print_callback_answer(&output)?;
            }
            Ok(None) => {
                tally.skipped += 1;
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped {rel}: oss://{}/{key} exists (--no-clobber)",
                    dst.bucket()
                );
            }
            Err(e) => {
                tally.failed += 1;
                let _ = writeln!(std::io::stderr(), "oss-rs: {rel}: {}", e.report());
            }
        }
    }
    tally.finish("upload")
}

/// The `--callback-var` values with `{relpath}` replaced by this file's relative path.
fn callback_for(
    args: &CpArgs,
    rel: &str,
) -> Result<Option<(oss_callback::Callback, oss_callback::CallbackVars)>, Error> {
    let mut cb = args.callback.clone();
    for v in &mut cb.vars {
        *v = v.replace(RELPATH_PLACEHOLDER, rel);
    }
    cb.to_callback()
}

async fn upload_file(
    client: &oss_upload::Client,
    args: &CpArgs,
    in_flight: &InFlight,
    path: &Path,
    rel: &str,
    key: &str,
) -> Result<Option<oss_upload::UploadOutput>, Error> {
    if args.no_clobber && exists(client, key).await? {
        return Ok(None);
    }
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
        .len();
    let callback = callback_for(args, rel)?;
    let upload = crate::cp::prepare_upload(
        client,
        args,
        key,
        Source::File(path.to_owned(), size),
        callback,
        None,
    );
    // Only a dropped (interrupted) upload stays registered: one that ended settled itself.
    let registered = upload.handle().map(|h| in_flight.add(key, h));
    let result = upload.send().await;
    if let Some(id) = registered {
        in_flight.remove(id);
    }
    result.map(Some).map_err(Error::from)
}

/// How long an interrupted `cp -r` waits, in all, for the aborts of its multipart uploads
/// before it names the ones left instead (as `cp` does for one file).
const ABORT_WAIT: Duration = Duration::from_secs(10);

/// The handles of the multipart uploads `cp -r` is sending, so that an interrupted run can wait
/// for their aborts: the runtime shuts down when the command returns, and an abort still
/// running then would leave its upload's parts in OSS.
#[derive(Default)]
struct InFlight {
    uploads: Mutex<Registry>,
}

/// The uploads in flight by registration number, with their keys.
#[derive(Default)]
struct Registry {
    next: u64,
    uploads: BTreeMap<u64, (String, UploadHandle)>,
}

impl InFlight {
    fn add(&self, key: &str, handle: UploadHandle) -> u64 {
        let mut g = self.uploads.lock().unwrap_or_else(PoisonError::into_inner);
        let id = g.next;
        g.next += 1;
        g.uploads.insert(id, (key.to_owned(), handle));
        id
    }

    fn remove(&self, id: u64) {
        let mut g = self.uploads.lock().unwrap_or_else(PoisonError::into_inner);
        g.uploads.remove(&id);
    }

    /// Once the uploads' futures were dropped: waits (at most [`ABORT_WAIT`] in all) for their
    /// aborts, prints a line with the `uploads abort` command for each upload left in OSS, and
    /// returns the summary for the interrupted error.
    async fn after_interrupt(&self, bucket: &str) -> String {
        let uploads = std::mem::take(
            &mut self
                .uploads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .uploads,
        );
        let waits = uploads.into_values().map(|(key, handle)| async move {
            let settled = tokio::time::timeout(ABORT_WAIT, handle.settled()).await;
            let fate = match settled {
                Ok(s) => s,
                Err(_) => handle.upload_id().map(|id| {
                    let reason = "its abort did not finish in time".to_owned();
                    (id, UploadFate::Left { reason })
                }),
            };
            (key, fate)
        });
        let (mut aborted, mut left) = (0, 0);
        for (key, fate) in futures_util::future::join_all(waits).await {
            match fate {
                Some((_, UploadFate::Aborted)) => aborted += 1,
                Some((id, UploadFate::Left { reason })) => {
                    left += 1;
                    let _ = writeln!(
                        std::io::stderr(),
                        "oss-rs: upload {id} of oss://{bucket}/{key} stays in OSS ({reason}); its \
                         parts are billed until it is aborted: oss-rs uploads abort \
                         oss://{bucket}/{key} --upload-id {id}"
                    );
                }
                // Completed, or nothing initiated: nothing is left.
                _ => {}
            }
        }
        let mut summary = "the files not reported as uploaded were not all sent".to_owned();
        if aborted > 0 {
            summary.push_str(&format!(
                "; {aborted} multipart upload{} aborted",
                if aborted == 1 { " was" } else { "s were" }
            ));
        }
        if left > 0 {
            summary.push_str(&format!(
                "; {left} left in OSS (the lines above say how to abort them)"
            ));
        }
        summary
    }
}

async fn exists(client: &oss_upload::Client, key: &str) -> Result<bool, Error> {
    match client.head_object(key).await {
        Ok(_) => Ok(true),
        Err(e) if e.service_fields().is_some_and(|f| f.status == 404) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Why a key's path relative to the prefix cannot be written inside the target directory:
/// a `..`, `.` or empty segment, a leading `/` or `\`, a `\` anywhere (a separator on
/// Windows), a drive or stream colon, or a NUL. `None`: safe.
pub(crate) fn unsafe_reason(rel: &str) -> Option<&'static str> {
    if rel.starts_with('/') || rel.starts_with('\\') {
        return Some("it starts with a path separator");
    }
    if rel.contains('\\') {
        return Some("it contains a backslash");
    }
    if rel.contains(':') && cfg!(windows) {
        return Some("it contains a colon");
    }
    if rel.contains('\0') {
        return Some("it contains a NUL byte");
    }
    if rel.split('/').any(|s| s == "..") {
        return Some("it has a '..' segment");
    }
    if rel.split('/').any(|s| s.is_empty() || s == ".") {
        return Some("it has an empty or '.' segment");
    }
    None
}

/// `cp -r oss://bucket/prefix/ DIR`.
pub(crate) async fn download(
    global: &GlobalArgs,
    args: &CpArgs,
    src: &ObjectUrl,
    dir: &Path,
) -> Result<(), Error> {
    let jobs = jobs(args)?;
    let client = global.upload_client(src.bucket()).await?;
    let prefix = key_prefix(src);
    let mut listed = Vec::new();
    let mut pages = client
        .list_objects()
        .with_prefix(prefix.clone())
        .into_pages();
    while let Some(page) = pages.try_next().await? {
        listed.extend(page.objects);
    }
    let rels: BTreeSet<String> = listed
        .iter()
        .map(|o| o.key[prefix.len()..].to_owned())
        .collect();
    let mut tally = Tally::default();
    let mut todo = Vec::new();
    for obj in &listed {
        let rel = &obj.key[prefix.len()..];
        if rel.is_empty() || rel.ends_with('/') && obj.size == 0 {
            // A "directory" marker object: OSS's consoles make them; there is nothing to write.
            tally.skipped += 1;
            continue;
        }
        let reason = unsafe_reason(rel).or_else(|| {
            let below = format!("{rel}/");
            rels.range(below.clone()..)
                .next()
                .is_some_and(|r| r.starts_with(&below))
                .then_some("it is both an object and a prefix of other keys")
        });
        if let Some(reason) = reason {
            refuse(&format!(
                "skipped key {:?}: {reason}; it would not stay inside {}",
                obj.key,
                dir.display()
            ));
            tally.failed += 1;
            continue;
        }
        todo.push((obj.key.clone(), rel.to_owned()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let root = std::fs::canonicalize(dir)
        .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
    let results = futures_util::stream::iter(todo)
        .map(|(key, rel)| {
            let client = &client;
            let root = &root;
            async move {
                let outcome = download_one(client, args, root, &key, &rel).await;
                (key, rel, outcome)
            }
        })
        .buffer_unordered(jobs);
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    tokio::pin!(stop);
    tokio::pin!(results);
    loop {
        let next = tokio::select! {
            n = results.next() => n,
            () = &mut stop => return Err(Error::Interrupted("files not reported as downloaded were not written under their names".into())),
        };
        let Some((key, rel, outcome)) = next else {
            break;
        };
        match outcome {
            Ok(true) => {
                tally.ok += 1;
                progress_line(&format!("downloaded oss://{}/{key} to {rel}", src.bucket()));
            }
            Ok(false) => {
                tally.skipped += 1;
                let _ = writeln!(std::io::stderr(), "skipped {rel}: it exists (--no-clobber)");
            }
            Err(e) => {
                tally.failed += 1;
                let _ = writeln!(std::io::stderr(), "oss-rs: {key}: {}", e.report());
            }
        }
    }
    tally.finish("download")
}

/// Downloads one key to `root/rel`; `Ok(false)` when skipped by `--no-clobber`.
async fn download_one(
    client: &oss_upload::Client,
    args: &CpArgs,
    root: &Path,
    key: &str,
    rel: &str,
) -> Result<bool, Error> {
    let dest = rel.split('/').fold(root.to_owned(), |p, s| p.join(s));
    let parent = dest.parent().unwrap_or(root).to_owned();
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    // A symbolic link already in the target tree could lead elsewhere: check where the parent
    // really is before writing.
    let real = tokio::fs::canonicalize(&parent)
        .await
        .map_err(|e| Error::io(format!("cannot read {}", parent.display()), e))?;
    if !real.starts_with(root) {
        return Err(Error::File {
            path: dest,
            reason: "its directory resolves outside the target directory".into(),
        });
    }
    if tokio::fs::symlink_metadata(&dest).await.is_ok() {
        if args.no_clobber {
            return Ok(false);
        }
        if tokio::fs::symlink_metadata(&dest)
            .await
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(Error::File {
                path: dest,
                reason: "is a symbolic link; not overwritten".into(),
            });
        }
    }
    crate::cp_download::download_file(client, args, key, &dest, None).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_keys() {
        for bad in [
            "../evil",
            "a/../../x",
            "/abs",
            "\\abs",
            "a\\b",
            "a//b",
            "./a",
            "a/.",
        ] {
            assert!(unsafe_reason(bad).is_some(), "{bad}");
        }
        for good in ["a", "a/b c/文件.txt", "..a", "a..", "a/b..c"] {
            assert_eq!(unsafe_reason(good), None, "{good}");
        }
    }

    #[test]
    fn walk_skips_links_and_empty_dirs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub/empty")).unwrap();
        std::fs::write(d.path().join("sub/f 1.txt"), b"x").unwrap();
        std::fs::write(d.path().join("top"), b"y").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.path().join("top"), d.path().join("link")).unwrap();
        let w = walk(d.path(), false).unwrap();
        let rels: Vec<_> = w.files.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(rels, ["sub/f 1.txt", "top"]);
        assert_eq!(w.skipped, if cfg!(unix) { 2 } else { 1 });
        #[cfg(unix)]
        assert_eq!(walk(d.path(), true).unwrap().files.len(), 3);
    }
}
