//! `oss-rs ls`, `stat`, `rm`, `uploads`, `mb` and `rb` against a strict `oss-rs emulator`
//! (buckets exist only once created), run as a child process on 127.0.0.1:0. Objects are
//! uploaded through the library so 120 keys do not cost 120 process spawns.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use oss_test_support::{isolated_command, spawn_emulator, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
/// Two prefixes whose names need encoding: a space, `+`, CJK and `%` (with a literal `%20`
/// that a double decode would turn into a space).
const PREFIXES: [&str; 2] = ["photos 2024/", "文档+%/"];
const PER_PREFIX: usize = 60;

/// A strict `oss-rs emulator`, killed when dropped.
struct Emulator {
    _process: Running,
    endpoint: String,
}

impl Emulator {
    fn start() -> Self {
        let (process, endpoint) =
            spawn_emulator(base_command().args(["emulator", "--listen", "127.0.0.1:0"]));
        Self {
            _process: process,
            endpoint,
        }
    }

    /// Runs `oss-rs <global options> ARGS` against this emulator, stdin not a terminal.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run oss-rs")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = base_command();
        cmd.args([
            "--endpoint",
            &self.endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
        ])
        .args(args)
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk");
        cmd
    }

    fn client(&self, bucket: &str) -> oss_upload::Client {
        oss_upload::Client::builder(bucket)
            .with_endpoint(self.endpoint.clone())
            .with_region("cn-hangzhou")
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .expect("client")
    }

    /// How many requests of `operation` the emulator has logged.
    fn count(&self, operation: &str) -> usize {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            stream,
            "GET /__emulator/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        text.matches(&format!("\"operation\":\"{operation}\""))
            .count()
    }
}

/// `oss-rs` with no OSS_* or ALIBABA_* variables from the developer's shell and a HOME without
/// credential files.
fn base_command() -> Command {
    isolated_command(BIN)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts success and returns stdout.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// Asserts exit code 1 and one error line, the last of stderr (`cp` prints progress lines
/// before it), `oss-rs: ...`, containing every needle.
fn fails_with(out: Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("oss-rs: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?} not in {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    errors[0].to_owned()
}

/// The 120 keys and their sizes (all different).
fn expected_keys() -> BTreeMap<String, u64> {
    let mut keys = BTreeMap::new();
    for (p, prefix) in PREFIXES.iter().enumerate() {
        for i in 0..PER_PREFIX {
            let key = format!("{prefix}{i:02} a+b 名 100%20 %.txt");
            keys.insert(key, (p * PER_PREFIX + i + 1) as u64);
        }
    }
    keys
}

fn upload_all(emulator: &Emulator, bucket: &str, keys: &BTreeMap<String, u64>) {
    let client = emulator.client(bucket);
    runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (key, size) in keys.clone() {
            let client = client.clone();
            tasks.spawn(async move {
                let body = vec![b'x'; size as usize];
                client
                    .put_object(key.clone(), body)
                    .send()
                    .await
                    .map(|_| key)
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("put_object");
        }
    });
}

/// Rows of `ls`: object URL without `oss://bucket/` → the Size column (`DIR` for prefixes).
fn ls_rows(text: &str, bucket: &str) -> BTreeMap<String, String> {
    let marker = format!("  oss://{bucket}/");
    text.lines()
        .filter_map(|line| {
            let at = line.find(&marker)?;
            let columns: Vec<&str> = line[..at].split_whitespace().collect();
            let size = if columns.first() == Some(&"DIR") {
                "DIR"
            } else {
                columns.get(1)?
            };
            Some((line[at + marker.len()..].to_owned(), size.to_owned()))
        })
        .collect()
}

fn sizes(keys: &BTreeMap<String, u64>, prefix: &str) -> BTreeMap<String, String> {
    keys.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, s)| (k.clone(), s.to_string()))
        .collect()
}

fn small_file(dir: &Path) -> String {
    let path = dir.join("small.txt");
    std::fs::write(&path, b"hello from oss-rs\n").expect("write");
    path.display().to_string()
}

#[test]
fn missing_buckets_objects_and_uploads_are_one_line_with_the_oss_code() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small_file(dir.path());

    fails_with(
        emu.run(&["cp", &file, "oss://no-such-bucket/a.txt"]),
        &["oss://no-such-bucket/a.txt", "HTTP 404 NoSuchBucket"],
    );
    fails_with(
        emu.run(&["ls", "oss://no-such-bucket/"]),
        &["oss://no-such-bucket/", "NoSuchBucket"],
    );
    fails_with(
        emu.run(&["rb", "oss://no-such-bucket"]),
        &["oss://no-such-bucket", "NoSuchBucket"],
    );

    ok(emu.run(&["mb", "oss://errors-bucket"]));
    fails_with(
        emu.run(&["stat", "oss://errors-bucket/missing.txt"]),
        &["oss://errors-bucket/missing.txt", "HTTP 404 NoSuchKey"],
    );
    fails_with(
        emu.run(&["rm", "oss://errors-bucket/missing.txt"]),
        &["oss://errors-bucket/missing.txt", "NoSuchKey"],
    );
    fails_with(
        emu.run(&[
            "uploads",
            "abort",
            "oss://errors-bucket/big.bin",
            "--upload-id",
            "0123456789ABCDEF",
        ]),
        &[
            "oss://errors-bucket/big.bin",
            "0123456789ABCDEF",
            "NoSuchUpload",
        ],
    );
    fails_with(
        emu.run(&["mb", "oss://errors-bucket/key"]),
        &["expected oss://bucket"],
    );
    fails_with(
        emu.run(&["rm", "oss://errors-bucket"]),
        &["names no object", "rm -r"],
    );
}

#[test]
fn ls_paginates_rm_r_removes_one_prefix_and_rb_needs_an_empty_bucket() {
    let emu = Emulator::start();
    let bucket = "listing-bucket";
    let out = ok(emu.run(&["mb", &format!("oss://{bucket}")]));
    assert_eq!(out.trim(), format!("created bucket oss://{bucket}"));
    let keys = expected_keys();
    upload_all(&emu, bucket, &keys);

    // Recursive, 7 entries per page: every key with its exact size, over 18 requests.
    let before = emu.count("ListObjectsV2");
    let text = ok(emu.run(&["ls", "--page-size", "7", &format!("oss://{bucket}")]));
    assert_eq!(
        emu.count("ListObjectsV2") - before,
        120_usize.div_ceil(7),
        "pagination"
    );
    assert_eq!(ls_rows(&text, bucket), sizes(&keys, ""), "{text}");
    assert!(text.starts_with("LastModifiedTime"), "{text}");
    assert!(text.ends_with("Object Number is: 120\n"), "{text}");
    // The listed order is OSS's byte-wise order.
    let listed: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.split_once(&format!("  oss://{bucket}/"))
                .map(|(_, k)| k.to_owned())
        })
        .collect();
    assert_eq!(listed, keys.keys().cloned().collect::<Vec<_>>());

    // Under one prefix only.
    let text = ok(emu.run(&[
        "ls",
        "--page-size",
        "5",
        &format!("oss://{bucket}/{}", PREFIXES[1]),
    ]));
    assert_eq!(ls_rows(&text, bucket), sizes(&keys, PREFIXES[1]), "{text}");

    // One level: the two common prefixes, no objects; one level down, the 60 objects.
    let text = ok(emu.run(&["ls", "-d", "--page-size", "1", &format!("oss://{bucket}")]));
    let dirs: BTreeMap<String, String> = PREFIXES
        .iter()
        .map(|p| ((*p).to_owned(), "DIR".to_owned()))
        .collect();
    assert_eq!(ls_rows(&text, bucket), dirs, "{text}");
    assert!(
        text.ends_with("Object Number is: 0\nPrefix Number is: 2\n"),
        "{text}"
    );
    let text = ok(emu.run(&["ls", "-d", &format!("oss://{bucket}/{}", PREFIXES[0])]));
    assert_eq!(ls_rows(&text, bucket), sizes(&keys, PREFIXES[0]), "{text}");

    // stat of one of them.
    let (key, size) = keys.iter().next().expect("a key");
    let text = ok(emu.run(&["stat", &format!("oss://{bucket}/{key}")]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("Content-Length") && l.ends_with(&format!(": {size}"))),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("Etag")), "{text}");
    assert!(!text.contains('"'), "ETag unquoted: {text}");
    assert!(!text.contains("X-Oss-Request-Id"), "{text}");

    // The bucket is listed and cannot be removed while it holds objects.
    let text = ok(emu.run(&["ls"]));
    assert!(text.contains(&format!("  oss://{bucket}\n")), "{text}");
    assert!(text.ends_with("Bucket Number is: 1\n"), "{text}");
    fails_with(
        emu.run(&["rb", &format!("oss://{bucket}")]),
        &[&format!("oss://{bucket}"), "HTTP 409 BucketNotEmpty"],
    );

    // rm -r without a terminal and without --force removes nothing.
    let first = format!("oss://{bucket}/{}", PREFIXES[0]);
    fails_with(
        emu.run(&["rm", "-r", &first]),
        &["not confirmed", "60 objects under", "--force"],
    );
    let text = ok(emu.run(&["ls", &format!("oss://{bucket}")]));
    assert_eq!(ls_rows(&text, bucket).len(), 120);

    // With --force: one prefix gone, the other intact.
    let out = ok(emu.run(&["rm", "-r", "--force", &first]));
    assert_eq!(out.trim(), format!("removed 60 objects under {first}"));
    let text = ok(emu.run(&["ls", "--page-size", "9", &format!("oss://{bucket}")]));
    assert_eq!(ls_rows(&text, bucket), sizes(&keys, PREFIXES[1]), "{text}");

    // One object, then the rest; then the bucket can go.
    let (key, _) = keys
        .iter()
        .find(|(k, _)| k.starts_with(PREFIXES[1]))
        .expect("a key");
    let url = format!("oss://{bucket}/{key}");
    assert_eq!(ok(emu.run(&["rm", &url])).trim(), format!("removed {url}"));
    fails_with(emu.run(&["stat", &url]), &["NoSuchKey"]);
    ok(emu.run(&["rm", "-r", "-f", &format!("oss://{bucket}")]));
    let text = ok(emu.run(&["ls", &format!("oss://{bucket}")]));
    assert!(ls_rows(&text, bucket).is_empty(), "{text}");
    let out = ok(emu.run(&["rb", &format!("oss://{bucket}")]));
    assert_eq!(out.trim(), format!("removed bucket oss://{bucket}"));
    let text = ok(emu.run(&["ls"]));
    assert!(text.ends_with("Bucket Number is: 0\n"), "{text}");
    fails_with(
        emu.run(&["ls", &format!("oss://{bucket}")]),
        &["NoSuchBucket"],
    );
}

#[test]
fn interrupted_multipart_uploads_are_listed_and_aborted() {
    let emu = Emulator::start();
    let bucket = "uploads-bucket";
    ok(emu.run(&["mb", &format!("oss://{bucket}")]));
    let client = emu.client(bucket);
    let part = vec![7u8; 100 * 1024];
    let keys = ["big 大+%.bin", "tmp/a.bin", "tmp/b.bin"];
    // Each upload is initiated and given one part, then left: as a killed cp leaves it.
    let ids: Vec<String> = runtime().block_on(async {
        let mut ids = Vec::new();
        for key in keys {
            let id = client
                .initiate_multipart_upload(key, &oss_upload::ObjectOptions::new())
                .await
                .expect("initiate");
            client
                .upload_part(key, &id, 1, bytes::Bytes::from(part.clone()))
                .await
                .expect("upload part");
            ids.push(id);
        }
        ids
    });

    let text = ok(emu.run(&["uploads", "ls", &format!("oss://{bucket}")]));
    for (key, id) in keys.iter().zip(&ids) {
        let row = text
            .lines()
            .find(|l| l.ends_with(&format!("  oss://{bucket}/{key}")))
            .unwrap_or_else(|| panic!("{key} not in {text}"));
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&columns[1..4], &["1", "102400", id.as_str()], "{row}");
    }
    assert!(text.ends_with("Upload Number is: 3\n"), "{text}");

    // Leftover uploads keep the bucket from being removed.
    fails_with(
        emu.run(&["rb", &format!("oss://{bucket}")]),
        &["BucketNotEmpty"],
    );

    // One by id.
    let url = format!("oss://{bucket}/{}", keys[0]);
    let out = ok(emu.run(&["uploads", "abort", &url, "--upload-id", &ids[0]]));
    assert_eq!(out.trim(), format!("aborted upload {} of {url}", ids[0]));
    fails_with(
        emu.run(&["uploads", "abort", &url, "--upload-id", &ids[0]]),
        &[&url, &ids[0], "NoSuchUpload"],
    );
    let text = ok(emu.run(&["uploads", "ls", &format!("oss://{bucket}/tmp/")]));
    assert!(text.ends_with("Upload Number is: 2\n"), "{text}");

    // The rest under a prefix: refused without a terminal, done with --force.
    let prefix = format!("oss://{bucket}/tmp/");
    fails_with(
        emu.run(&["uploads", "abort", &prefix, "--all"]),
        &["not confirmed", "2 uploads under", "--force"],
    );
    let out = ok(emu.run(&["uploads", "abort", &prefix, "--all", "--force"]));
    assert_eq!(out.trim(), format!("aborted 2 uploads under {prefix}"));
    let text = ok(emu.run(&["uploads", "ls", &format!("oss://{bucket}")]));
    assert!(text.ends_with("Upload Number is: 0\n"), "{text}");
    ok(emu.run(&["rb", &format!("oss://{bucket}")]));
}

/// `rm -r` under a pseudo-terminal (`script -qfec CMD /dev/null`, our stdin copied to it):
/// `n` removes nothing, `y` removes the objects.
#[test]
fn rm_r_asks_on_a_terminal() {
    let emu = Emulator::start();
    let bucket = "tty-bucket";
    ok(emu.run(&["mb", &format!("oss://{bucket}")]));
    let keys: BTreeMap<String, u64> = (0..3).map(|i| (format!("t/{i}.txt"), 4)).collect();
    upload_all(&emu, bucket, &keys);
    let url = format!("oss://{bucket}/t/");
    let command_line = [
        BIN,
        "--endpoint",
        &emu.endpoint,
        "--region",
        "cn-hangzhou",
        "--path-style",
        "rm",
        "-r",
        &url,
    ]
    .iter()
    .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
    .collect::<Vec<_>>()
    .join(" ");
    let answer = |text: &str| {
        let mut script = Command::new("script");
        script
            .args(["-qfec", &command_line, "/dev/null"])
            .env("TERM", "dumb")
            .env("OSS_ACCESS_KEY_ID", "ak")
            .env("OSS_ACCESS_KEY_SECRET", "sk")
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("HOME", "/nonexistent/oss-rs-test-home")
            .env_remove("OSS_ENDPOINT")
            .env_remove("OSS_REGION")
            .env_remove("OSS_SESSION_TOKEN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = script.spawn().expect("spawn script");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("answer");
        child.wait_with_output().expect("script")
    };

    let out = answer("n\n");
    let tty = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{tty}");
    assert!(
        tty.contains("remove 3 objects under oss://tty-bucket/t/? [y/N]"),
        "{tty}"
    );
    assert!(tty.contains("not confirmed: answered no"), "{tty}");
    let text = ok(emu.run(&["ls", &url]));
    assert_eq!(ls_rows(&text, bucket).len(), 3, "{text}");

    let out = answer("y\n");
    let tty = stdout(&out);
    assert!(out.status.success(), "{tty}");
    assert!(
        tty.contains("removed 3 objects under oss://tty-bucket/t/"),
        "{tty}"
    );
    let text = ok(emu.run(&["ls", &url]));
    assert!(ls_rows(&text, bucket).is_empty(), "{text}");
}
