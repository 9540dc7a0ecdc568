//! Mistakes that used to pass silently now stop with a clear error (or warn when the input could
//! be meant): each test asserts the message and the exit code of the `oss-rs` binary.

use std::process::{Command, Output, Stdio};

use oss_test_support::{isolated_command, spawn_emulator, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");

/// `oss-rs` with no OSS_*/ALIBABA_* variables from the developer's shell, static test keys
/// and no credential files.
fn oss_rs() -> Command {
    let mut cmd = isolated_command(BIN);
    cmd.env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = oss_rs().args(args).output().expect("run oss-rs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `oss-rs emulator` on a free port with one bucket, killed when dropped.
struct Emulator {
    _process: Running,
    endpoint: String,
}

impl Emulator {
    fn start(bucket: &str) -> Self {
        let (process, endpoint) = spawn_emulator(
            oss_rs()
                .args([
                    "--region",
                    "cn-hangzhou",
                    "emulator",
                    "--listen",
                    "127.0.0.1:0",
                ])
                .args(["--create-bucket", bucket])
                .stderr(Stdio::null()),
        );
        Self {
            _process: process,
            endpoint,
        }
    }
}

#[test]
fn a_region_the_endpoint_contradicts_says_which_region_to_pass() {
    let (code, _, stderr) = run(&[
        "--endpoint",
        "https://oss-cn-hangzhou.aliyuncs.com",
        "--region",
        "cn-beijing",
        "presign",
        "get",
        "oss://examplebucket/a.txt",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "region cn-beijing (--region or OSS_REGION) disagrees with endpoint \
             https://oss-cn-hangzhou.aliyuncs.com, which is in cn-hangzhou: pass --region \
             cn-hangzhou"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn an_ip_or_localhost_endpoint_implies_path_style() {
    for (endpoint, url) in [
        (
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/examplebucket/a.txt?",
        ),
        (
            "http://localhost:9000",
            "http://localhost:9000/examplebucket/a.txt?",
        ),
    ] {
        let (code, stdout, stderr) = run(&[
            "--endpoint",
            endpoint,
            "--region",
            "cn-hangzhou",
            "presign",
            "get",
            "oss://examplebucket/a.txt",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.starts_with(url), "{stdout}");
    }

    // And an upload to the emulator by IP, without --path-style, reaches the bucket.
    let emulator = Emulator::start("examplebucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.txt");
    std::fs::write(&file, b"hello").expect("write");
    let (code, _, stderr) = run(&[
        "--endpoint",
        &emulator.endpoint,
        "--region",
        "cn-hangzhou",
        "cp",
        file.to_str().expect("utf-8 path"),
        "oss://examplebucket/a.txt",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("uploaded"), "{stderr}");
}

#[test]
fn parallel_zero_is_a_usage_error() {
    let (code, _, stderr) = run(&[
        "--region",
        "cn-hangzhou",
        "cp",
        "./a.bin",
        "oss://examplebucket/a.bin",
        "--parallel",
        "0",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid value '0' for '--parallel <N>': must be at least 1"),
        "{stderr}"
    );
}

fn form(extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["--region", "cn-hangzhou", "form", "oss://examplebucket/up/"];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_form_must_expire_in_the_future_and_within_7_days_unless_allowed() {
    let (code, _, stderr) = form(&["--expires", "0"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("invalid --expires: 0 s is not in the future: give 1..=604800 seconds"),
        "{stderr}"
    );

    let (code, _, stderr) = form(&["--expires", "604801"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "invalid --expires: 604801 s is more than 7 days (604800 s): pass \
             --allow-long-expiry"
        ),
        "{stderr}"
    );

    let (code, _, stderr) = form(&["--expires", "99999999999", "--allow-long-expiry"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("99999999999 s is more than a year (31536000 s), even with"),
        "{stderr}"
    );

    let (code, stdout, stderr) = form(&["--expires", "1209600", "--allow-long-expiry"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"policy\""), "{stdout}");
    let (code, _, stderr) = form(&["--expires", "604800"]);
    assert_eq!(code, Some(0), "{stderr}");
}

fn presign_put_with_body(body: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "--region",
        "cn-hangzhou",
        "presign",
        "put",
        "oss://examplebucket/a.txt",
        "--callback-url",
        "https://app.example.com/cb",
        "--callback-body",
        body,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn an_unset_custom_variable_gets_a_warning_naming_it() {
    let (code, stdout, stderr) = presign_put_with_body(r#"{"u":${x:user}}"#, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "oss-rs: warning: the callback body uses ${x:user} but no --callback-var x:user=… \
             sets it; OSS sends it empty"
        ),
        "{stderr}"
    );
    assert!(stdout.starts_with("https://"), "{stdout}");

    // Set, it is not warned about.
    let (code, _, stderr) =
        presign_put_with_body(r#"{"u":${x:user}}"#, &["--callback-var", "x:user=alice"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_quoted_placeholder_says_to_remove_the_quotes() {
    let (code, stdout, stderr) = presign_put_with_body(r#"{"o":"${object}"}"#, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "oss-rs: invalid --callback-body: remove the quotes around `${object}`; OSS inserts a \
         JSON string"
    );
    assert!(stdout.is_empty(), "{stdout}");
}
