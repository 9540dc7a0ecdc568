//! End-to-end tests of the `oss-rs` binary: `oss-rs emulator` and `oss-rs callback-server` run as
//! child processes on 127.0.0.1:0, and `oss-rs cp` uploads to them, under a pseudo-terminal
//! (`script` from util-linux) and without one.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use oss_test_support::{
    http_request, isolated_command, spawn_callback_server, spawn_emulator, Running,
};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const MIB: usize = 1024 * 1024;

/// `oss-rs` with no OSS_* or ALIBABA_* variables inherited from the developer's shell, and a
/// HOME without credential files (the default chain must not find the developer's profiles).
fn base_command() -> Command {
    isolated_command(BIN)
}

/// An emulator and a callback server trusting its key URL.
struct Stack {
    emulator: Running,
    endpoint: String,
    callbacks: Running,
    callback_url: String,
}

impl Stack {
    fn start() -> Self {
        // These tests write to buckets they never create: they rely on auto-create.
        let (emulator, endpoint) = spawn_emulator(base_command().args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--auto-create-buckets",
        ]));
        let trusted = format!("{endpoint}/");
        let (callbacks, server) = spawn_callback_server(&mut base_command(), &trusted);
        Self {
            emulator,
            endpoint,
            callbacks,
            callback_url: format!("{server}/oss-callback"),
        }
    }

    /// Global options and credentials for talking to the emulator.
    fn globals(&self) -> Vec<String> {
        [
            "--endpoint",
            &self.endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
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
}

/// 200 MiB of a pattern that differs per MiB, written in 1 MiB chunks; returns its CRC-64.
fn write_pattern_file(path: &Path, mib: usize) -> u64 {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut crc = oss_upload::Crc64::new();
    let mut chunk = vec![0u8; MIB];
    for i in 0..mib {
        for (j, b) in chunk.iter_mut().enumerate() {
            *b = (j as u32).wrapping_mul(31).wrapping_add(i as u32 * 7) as u8;
        }
        crc.update(&chunk);
        file.write_all(&chunk).expect("write");
    }
    file.flush().expect("flush");
    crc.finish()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn cp_args(stack: &Stack, file: &Path, key: &str) -> Vec<String> {
    let mut args = stack.globals();
    args.extend(
        [
            "cp",
            &file.display().to_string(),
            &format!("oss://cli-bucket/{key}"),
            "--part-size",
            "16MiB",
            "--parallel",
            "4",
            "--callback-url",
            &stack.callback_url,
            "--callback-var",
            "x:run=",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    // Tag each run so the callback answers differ.
    let last = args.len() - 1;
    args[last] = format!("x:run={key}");
    args
}

fn with_credentials(cmd: &mut Command) -> &mut Command {
    cmd.env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
}

/// GETs the object and checks its bytes' CRC-64 and the CRC-64 header against `expected`.
fn assert_object_crc(stack: &Stack, key: &str, expected: u64, size: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = stack.client("cli-bucket");
        let got = client.get_object(key).send().await.expect("GetObject");
        assert_eq!(
            got.head.crc64,
            Some(expected),
            "x-oss-hash-crc64ecma of GET"
        );
        let body = got.body.bytes().await.expect("body");
        assert_eq!(body.len() as u64, size);
        assert_eq!(
            oss_upload::Crc64::checksum(&body),
            expected,
            "CRC-64 of GET body"
        );
    });
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

#[test]
fn cp_200_mib_with_callback_under_a_terminal_and_without() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file: PathBuf = dir.path().join("big.bin");
    let crc = write_pattern_file(&file, 200);
    let size = 200 * MIB as u64;
    let stack = Stack::start();

    // 1. Under a pseudo-terminal: `script -qfec CMD /dev/null` runs CMD on a pty and copies
    //    everything it writes (stdout and stderr) to our stdout; -e returns CMD's exit code.
    let args = cp_args(&stack, &file, "tty.bin");
    let command_line = std::iter::once(BIN.to_owned())
        .chain(args)
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["-qfec", &command_line, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    for var in [
        "OSS_ENDPOINT",
        "OSS_REGION",
        "OSS_SESSION_TOKEN",
        "RUST_LOG",
    ] {
        script.env_remove(var);
    }
    let out = with_credentials(&mut script).output().expect("run script");
    let tty = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{tty}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // A bar was drawn: redrawn in place (carriage returns / ANSI), with its fill characters.
    assert!(tty.contains('\r'), "no carriage return in {tty:?}");
    assert!(
        tty.contains("=>") || tty.contains("=]"),
        "no bar in {tty:?}"
    );
    assert!(tty.contains("200.00 MiB"), "no byte totals in {tty:?}");
    assert!(
        !tty.contains("progress: "),
        "plain lines on a terminal: {tty:?}"
    );
    let answered = stack.callbacks.line_starting("answered:");
    let printed = tty
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '\r' || c.is_whitespace()))
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no callback answer in {tty:?}"));
    assert_eq!(json(printed), json(&answered));
    assert_eq!(json(printed)["received"]["x:run"], "tty.bin");
    assert_eq!(json(printed)["received"]["size"], size.to_string());
    assert_object_crc(&stack, "tty.bin", crc, size);

    // 2. Without a terminal: plain progress lines on stderr, the answer alone on stdout.
    let mut cp = base_command();
    cp.args(cp_args(&stack, &file, "pipe.bin"));
    let out: Output = with_credentials(&mut cp).output().expect("run cp");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(progress.len() >= 5, "{stderr}");
    assert!(
        progress
            .last()
            .is_some_and(|l| l.contains("200.0 MiB / 200.0 MiB (100%)")),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("uploaded "), "{stderr}");
    let answered = stack.callbacks.line_starting("answered:");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert_eq!(json(stdout.trim()), json(&answered));
    assert_eq!(json(&stdout)["received"]["x:run"], "pipe.bin");
    assert_object_crc(&stack, "pipe.bin", crc, size);
    drop(stack.emulator);
}

fn run_cli(args: &[String]) -> Output {
    let mut cmd = base_command();
    cmd.args(args);
    with_credentials(&mut cmd).output().expect("run oss-rs")
}

fn small_file(dir: &Path) -> PathBuf {
    let path = dir.join("small.txt");
    std::fs::write(&path, b"hello from oss-rs\n").expect("write");
    path
}

#[test]
fn every_help_shows_examples() {
    for args in [
        &["--help"][..],
        &["cp", "--help"],
        &["presign", "--help"],
        &["presign", "put", "--help"],
        &["presign", "get", "--help"],
        &["form", "--help"],
        &["emulator", "--help"],
        &["callback-server", "--help"],
    ] {
        let out = base_command().args(args).output().expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(text.contains("Examples:\n  "), "{args:?}: {text}");
        assert!(text.contains("oss-rs "), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2_and_bad_input_exits_1_with_one_line() {
    let out = base_command().args(["cp"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = base_command()
        .args(["cp", "/nonexistent/file", "s3://b/k"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("oss://bucket/key"));

    let dir = tempfile::tempdir().expect("tempdir");
    let file = small_file(dir.path());
    // No credentials anywhere: a clear one-line message, exit 1, no panic.
    let out = base_command()
        .args([
            "--region",
            "cn-hangzhou",
            "cp",
            &file.display().to_string(),
            "oss://b/k",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("oss-rs: credentials are required"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn an_oss_prefixed_region_is_refused_with_a_suggestion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small_file(dir.path());
    for command in [
        vec![
            "cp".to_owned(),
            file.display().to_string(),
            "oss://b/k".into(),
        ],
        vec!["presign".to_owned(), "get".into(), "oss://b/k".into()],
    ] {
        let out = base_command()
            .args([
                "--region",
                "oss-cn-hangzhou",
                "--endpoint",
                "http://127.0.0.1:1",
            ])
            .args(["--access-key-id", "ak", "--access-key-secret", "sk"])
            .args(&command)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("oss-rs: invalid region \"oss-cn-hangzhou\""),
            "{stderr}"
        );
        assert!(stderr.contains("did you mean \"cn-hangzhou\"?"), "{stderr}");
    }
}

#[test]
fn service_errors_and_failed_callbacks_are_one_line_with_the_request_id() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small_file(dir.path()).display().to_string();

    // Wrong secret: 403 SignatureDoesNotMatch, exit 1.
    let mut args = stack.globals();
    args.extend(["cp".into(), file.clone(), "oss://cli-bucket/a.txt".into()]);
    let out = base_command()
        .args(&args)
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "wrong")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("oss-rs:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    assert!(
        errors[0].contains("HTTP 403 SignatureDoesNotMatch: The request signature"),
        "{stderr}"
    );
    assert!(errors[0].contains("[request id: "), "{stderr}");

    // A callback server that is not there: 203 CallbackFailed, exit 3, object stored.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/cb", closed.local_addr().expect("addr"));
    drop(closed);
    let mut args = stack.globals();
    args.extend([
        "cp".into(),
        file,
        "oss://cli-bucket/b.txt".into(),
        "--callback-url".into(),
        dead,
    ]);
    let out = run_cli(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("oss-rs: upload callback failed for oss://cli-bucket/b.txt; the object is stored: CallbackFailed"), "{stderr}");
    assert!(last.contains("[request id: "), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn presigned_put_with_header_callback_and_get_work_as_printed() {
    let stack = Stack::start();
    let mut args = stack.globals();
    args.extend([
        "presign".into(),
        "put".into(),
        "oss://cli-bucket/presigned.txt".into(),
        "--expires".into(),
        "600".into(),
        "--callback-url".into(),
        stack.callback_url.clone(),
        "--callback-var".into(),
        "x:who=presign".into(),
    ]);
    let out = run_cli(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    let url = lines.next().expect("URL line");
    assert!(
        url.starts_with(&format!("{}/cli-bucket/presigned.txt?", stack.endpoint)),
        "{url}"
    );
    let headers: Vec<(String, String)> = lines
        .clone()
        .take_while(|l| !l.starts_with("# ready-made"))
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    assert!(
        headers.iter().any(|(n, _)| n == "x-oss-callback"),
        "{stdout}"
    );
    assert!(
        headers.iter().any(|(n, _)| n == "x-oss-callback-var"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\ncurl -sS --upload-file 'FILE' -H 'x-oss-callback: "),
        "{stdout}"
    );

    let (status, body) = http_request(url, "PUT", &headers, b"presigned body");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["received"]["x:who"], "presign");
    let answered = stack.callbacks.line_starting("answered:");
    assert_eq!(json(&body), json(&answered));

    let mut args = stack.globals();
    args.extend([
        "presign".into(),
        "get".into(),
        "oss://cli-bucket/presigned.txt".into(),
    ]);
    let out = run_cli(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let url = stdout.lines().next().expect("URL");
    assert!(!stdout.contains("send these headers"), "{stdout}");
    let (status, body) = http_request(url, "GET", &[], b"");
    assert_eq!((status, body.as_str()), (200, "presigned body"));
}

#[test]
fn form_fields_and_html_page_upload_with_a_callback() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("upload.html");
    let mut args = stack.globals();
    args.extend([
        "form".into(),
        "oss://cli-bucket/uploads/".into(),
        "--max-size".into(),
        "1KiB".into(),
        "--html".into(),
        page.display().to_string(),
        "--callback-url".into(),
        stack.callback_url.clone(),
        "--callback-body-type".into(),
        "form".into(),
    ]);
    let out = run_cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let form = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(form["url"], format!("{}/cli-bucket/", stack.endpoint));
    let fields = form["fields"].as_object().expect("fields");
    assert_eq!(fields["key"], "uploads/${filename}");
    for name in [
        "policy",
        "x-oss-signature",
        "x-oss-credential",
        "x-oss-date",
        "callback",
    ] {
        assert!(fields.contains_key(name), "{name} missing: {form}");
    }
    let html = std::fs::read_to_string(&page).expect("page");
    let file_input = html.find("name=\"file\"").expect("file input");
    assert!(html.find("name=\"policy\"").is_some_and(|p| p < file_input));

    // Post the form as a browser would: the fields, then the file last.
    let boundary = "----oss-rs-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        let value = value.as_str().expect("string");
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hi.txt\"\r\nContent-Type: text/plain\r\n\r\nhi there\r\n--{boundary}--\r\n").as_bytes(),
    );
    let headers = vec![(
        "Content-Type".to_owned(),
        format!("multipart/form-data; boundary={boundary}"),
    )];
    let url = form["url"].as_str().expect("url");
    let (status, answer) = http_request(url, "POST", &headers, &body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        json(&answer),
        json(&stack.callbacks.line_starting("answered:"))
    );
    let received = json(&answer)["received"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        received.starts_with("bucket=cli-bucket&object=uploads%2Fhi.txt&etag=")
            && received.ends_with("&size=8&mimeType=text%2Fplain"),
        "{received}"
    );

    // Too big for the policy's content-length-range: refused.
    let big = vec![b'x'; 2048];
    let mut body2 = body.clone();
    let marker = b"hi there";
    let at = body2
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker");
    body2.splice(at..at + marker.len(), big);
    let (status, _) = http_request(url, "POST", &headers, &body2);
    assert_eq!(status, 400);
}

#[test]
fn resumable_cp_with_checkpoint_dir_leaves_no_checkpoint_and_stores_the_file() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("three-parts.bin");
    let crc = write_pattern_file(&file, 3);
    let checkpoints = dir.path().join("checkpoints");
    std::fs::create_dir(&checkpoints).expect("mkdir");
    let mut args = stack.globals();
    args.extend([
        "cp".into(),
        file.display().to_string(),
        "oss://cli-bucket/resumable/".into(),
        "--part-size".into(),
        "1MiB".into(),
        "--checkpoint-dir".into(),
        checkpoints.display().to_string(),
        "--content-type".into(),
        "application/x-test".into(),
    ]);
    let out = run_cli(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("uploaded ")
            && stderr.contains("oss://cli-bucket/resumable/three-parts.bin"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no callback, nothing on stdout");
    assert_eq!(
        std::fs::read_dir(&checkpoints).expect("dir").count(),
        0,
        "the checkpoint is removed after Complete"
    );
    assert_object_crc(&stack, "resumable/three-parts.bin", crc, 3 * MIB as u64);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let head = runtime
        .block_on(
            stack
                .client("cli-bucket")
                .head_object("resumable/three-parts.bin"),
        )
        .expect("HeadObject");
    assert_eq!(head.content_type.as_deref(), Some("application/x-test"));
    assert!(
        head.etag.is_some_and(|e| e.ends_with("-3\"")),
        "three parts"
    );
}

#[test]
fn sigterm_stops_a_resumable_cp_with_exit_130_and_the_same_command_resumes() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("interrupted.bin");
    let crc = write_pattern_file(&file, 64);
    let checkpoints = dir.path().join("checkpoints");
    std::fs::create_dir(&checkpoints).expect("mkdir");
    let mut args = stack.globals();
    args.extend([
        "cp".into(),
        file.display().to_string(),
        "oss://cli-bucket/interrupted.bin".into(),
        "--part-size".into(),
        "1MiB".into(),
        "--parallel".into(),
        "1".into(),
        "--checkpoint-dir".into(),
        checkpoints.display().to_string(),
    ]);
    let mut cmd = base_command();
    cmd.args(&args).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = with_credentials(&mut cmd).spawn().expect("spawn cp");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("a progress line");
    assert!(first.starts_with("progress: "), "{first}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    let code = child.wait().expect("wait").code();
    if code == Some(0) {
        // The upload won the race against the signal; nothing to resume.
        assert!(rest.contains("uploaded "), "{rest}");
    } else {
        assert_eq!(code, Some(130), "{rest}");
        assert!(
            rest.lines().last().is_some_and(|l| l
                == "oss-rs: interrupted: run the same command again to resume from the checkpoint"),
            "{rest}"
        );
        assert_eq!(
            std::fs::read_dir(&checkpoints).expect("dir").count(),
            1,
            "checkpoint kept"
        );
        let out = run_cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read_dir(&checkpoints).expect("dir").count(), 0);
    }
    assert_object_crc(&stack, "interrupted.bin", crc, 64 * MIB as u64);
}

#[test]
fn each_help_lists_only_its_own_and_global_options() {
    let help = |args: &[&str]| {
        let out = base_command().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // `emulator --help` prints help (it does not start the server) without client options.
    let emulator = help(&["emulator", "--help"]);
    assert!(emulator.contains("--listen"), "{emulator}");
    assert!(emulator.contains("Global options:"), "{emulator}");
    for client_only in ["--endpoint", "--path-style"] {
        assert!(!emulator.contains(client_only), "{client_only}: {emulator}");
    }
    for credentials_only in ["--profile", "--credentials-file"] {
        assert!(
            !emulator.contains(credentials_only),
            "{credentials_only}: {emulator}"
        );
    }
    assert!(emulator.contains("--region"), "{emulator}");
    // The callback server signs nothing and checks no access key: none of those options.
    let callback_server = help(&["callback-server", "--help"]);
    assert!(
        callback_server.contains("--trust-key-url-prefix"),
        "{callback_server}"
    );
    assert!(
        callback_server.contains("Global options:"),
        "{callback_server}"
    );
    for unused in [
        "--endpoint",
        "--path-style",
        "--region",
        "--access-key-id",
        "--access-key-secret",
        "--session-token",
        "--profile",
        "--credentials-file",
    ] {
        assert!(
            !callback_server.contains(unused),
            "{unused}: {callback_server}"
        );
    }
    // `cp --help`: its own options, the connection options, the global ones; nothing of the
    // emulator's.
    let cp = help(&["cp", "--help"]);
    for own in [
        "--callback-url",
        "--endpoint",
        "--path-style",
        "Global options:",
    ] {
        assert!(cp.contains(own), "{own}: {cp}");
    }
    for emulator_only in [
        "--listen",
        "--create-bucket",
        "--auto-create-buckets",
        "--data-dir",
        "--sts-token",
    ] {
        assert!(!cp.contains(emulator_only), "{emulator_only}: {cp}");
    }
    for client in [
        "--region",
        "--access-key-id",
        "--profile",
        "--credentials-file",
    ] {
        assert!(cp.contains(client), "{client}: {cp}");
    }
    // Subcommands of subcommands get the connection options too.
    for args in [
        &["presign", "put", "--help"][..],
        &["uploads", "ls", "--help"],
    ] {
        assert!(help(args).contains("--endpoint"), "{args:?}");
    }
}

#[test]
fn endpoint_goes_before_or_after_a_client_command_and_never_with_the_emulator() {
    for args in [
        &[
            "--endpoint",
            "http://127.0.0.1:1",
            "presign",
            "get",
            "oss://bkt/k",
        ][..],
        &[
            "presign",
            "get",
            "oss://bkt/k",
            "--endpoint",
            "http://127.0.0.1:1",
        ],
        &[
            "presign",
            "--endpoint",
            "http://127.0.0.1:1",
            "get",
            "oss://bkt/k",
        ],
    ] {
        let out = base_command()
            .args(["--region", "cn-hangzhou"])
            .args(["--access-key-id", "ak", "--access-key-secret", "sk"])
            .args(args)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}");
        assert!(
            stdout.starts_with("http://127.0.0.1:1/bkt/k?"),
            "{args:?}: {stdout}"
        );
    }
    for flag in [&["--endpoint", "http://127.0.0.1:1"][..], &["--path-style"]] {
        let out = base_command()
            .args(flag)
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
        assert!(stderr.contains("not to `emulator`"), "{stderr}");
    }
    // Region and keys before `callback-server`, a profile before `emulator`: refused too.
    for (flag, command) in [
        (&["--region", "cn-hangzhou"][..], "callback-server"),
        (&["--access-key-id", "ak"], "callback-server"),
        (&["--profile", "p"], "emulator"),
    ] {
        let out = base_command()
            .args(flag)
            .args([command, "--listen", "127.0.0.1:0"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
        assert!(stderr.contains(&format!("not to `{command}`")), "{stderr}");
    }
}
