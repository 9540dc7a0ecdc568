//! `oss-rs --profile p cp` with the credentials only in an INI file under a temporary HOME,
//! against `oss-rs emulator` and `oss-rs callback-server` on 127.0.0.1:0; and
//! `oss-rs credentials`, which names the file and never prints the secret.

use std::path::Path;
use std::process::Command;

use oss_test_support::{empty_env_command, spawn_callback_server, spawn_emulator};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
/// The emulator's default secret: it must never appear in any output.
const SECRET: &str = "sk";
const INI: &str =
    "[default]\ntype = access_key\naccess_key_id = wrong\naccess_key_secret = wrong-secret\n\n\
                   [p]\ntype = access_key\naccess_key_id = ak\naccess_key_secret = sk\n";

/// `oss-rs` with an empty environment apart from HOME and the metadata switch: no OSS_* or
/// ALIBABA_* variable reaches the child, and nothing can contact 100.100.100.200.
fn command(home: &Path) -> Command {
    empty_env_command(BIN, home)
}

#[test]
fn profile_from_an_ini_file_uploads_with_a_callback_and_credentials_names_the_file() {
    let home = tempfile::tempdir().expect("home");
    let ini_dir = home.path().join(".alibabacloud");
    std::fs::create_dir_all(&ini_dir).expect("mkdir");
    let ini_path = ini_dir.join("credentials");
    std::fs::write(&ini_path, INI).expect("write ini");
    let file = home.path().join("hello.txt");
    std::fs::write(&file, b"hello from an INI profile\n").expect("write file");

    // This test writes to a bucket it never creates: it relies on auto-create.
    let (_emulator, endpoint) = spawn_emulator(command(home.path()).args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--auto-create-buckets",
    ]));
    let trusted = format!("{endpoint}/");
    let (callbacks, server) = spawn_callback_server(&mut command(home.path()), &trusted);
    let callback_url = format!("{server}/oss-callback");
    let globals = [
        "--endpoint",
        endpoint.as_str(),
        "--region",
        "cn-hangzhou",
        "--path-style",
    ];

    // The default profile holds wrong keys: the upload succeeds only with --profile p.
    let out = command(home.path())
        .args(globals)
        .args(["--profile", "p", "cp"])
        .arg(&file)
        .args([
            "oss://cli-bucket/profile.txt",
            "--callback-url",
            &callback_url,
            "--callback-var",
            "x:via=ini",
        ])
        .output()
        .expect("run cp");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    let answered = callbacks.line_starting("answered:");
    let printed: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON answer");
    let expected: serde_json::Value = serde_json::from_str(&answered).expect("JSON answered");
    assert_eq!(printed, expected);
    assert_eq!(printed["received"]["x:via"], "ini");
    assert_eq!(printed["received"]["object"], "profile.txt");

    // Without --profile the `default` section's wrong keys are used: the emulator refuses.
    let out = command(home.path())
        .args(globals)
        .arg("cp")
        .arg(&file)
        .arg("oss://cli-bucket/default.txt")
        .output()
        .expect("run cp");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("InvalidAccessKeyId") || stderr.contains("403"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-secret"), "{stderr}");

    // `oss-rs credentials` names the file and the profile, masks the id, prints no secret.
    let out = command(home.path())
        .args(["--profile", "p", "credentials"])
        .output()
        .expect("run credentials");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "source: INI credentials file {}, profile p\n",
            ini_path.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("access_key_id: ****\n"), "{stdout}");
    assert!(stdout.contains("expiration: never\n"), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains(SECRET) && !l.starts_with("source:")),
        "{stdout}"
    );

    // --credentials-file names another file; an unknown profile is a one-line named error.
    let other = home.path().join("other.ini");
    std::fs::write(&other, INI).expect("write other");
    let out = command(home.path())
        .arg("--credentials-file")
        .arg(&other)
        .args(["--profile", "nope", "credentials"])
        .output()
        .expect("run credentials");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "INI credentials file {}: no profile \"nope\"",
            other.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-secret"), "{stderr}");
}
