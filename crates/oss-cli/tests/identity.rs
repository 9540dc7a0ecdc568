//! End to end with temporary credentials only: `oss-rs cp` with a callback, against
//! `oss-rs emulator --identity` and `oss-rs callback-server` on 127.0.0.1:0, where the
//! uploader's environment holds no long-term key and gets its credentials from
//! - the ECS role, through the emulator's IMDS (`OSS_RS_IMDS_ENDPOINT` on loopback; the only
//!   place `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is unset);
//! - RRSA (the three OIDC variables), through the emulator's STS over HTTPS, its CA trusted via
//!   `OSS_RS_CA_FILE`;
//! - a `ram_role_arn` profile in an INI file, through the same STS.
//!
//! Also: a resumable upload whose key is expired mid-upload (after the 3rd UploadPart, armed at
//! the emulator, never a timer) finishes, with requests signed by two temporary keys; and the
//! prefix helper's credentials write inside their prefix only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oss_test_support::{
    empty_env_command, http_request, spawn_callback_server, spawn_emulator, Running,
};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const OIDC_TOKEN: &str = "rrsa-token-for-the-emulator";
const ROLE: &str = "acs:ram::1234567890123456:role/uploader";

/// `oss-rs` with an empty environment apart from HOME and the switches that keep it off the
/// real metadata service and the developer's CLI profile.
fn command(home: &Path) -> Command {
    empty_env_command(BIN, home)
}

/// The emulator with its identity side, and a callback server trusting its key URL.
struct Stack {
    home: tempfile::TempDir,
    _emulator: Running,
    endpoint: String,
    imds: String,
    sts: String,
    callbacks: Running,
    callback_url: String,
}

impl Stack {
    fn start() -> Self {
        let home = tempfile::tempdir().expect("home");
        let ca = home.path().join("sts-ca.pem");
        let (emulator, endpoint) = spawn_emulator(command(home.path()).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--auto-create-buckets",
            "--identity",
            "--sts-ca-file",
            ca.to_str().expect("utf-8 path"),
            "--oidc-token",
            OIDC_TOKEN,
        ]));
        let imds = emulator.line_starting("oss-emulator IMDS on");
        let sts = emulator.line_starting("oss-emulator STS on");
        assert!(imds.starts_with("http://127.0.0.1:"), "{imds}");
        assert!(sts.starts_with("https://127.0.0.1:"), "{sts}");
        assert!(
            ca.is_file(),
            "the CA is written before the address is printed"
        );
        let trusted = format!("{endpoint}/");
        let (callbacks, server) = spawn_callback_server(&mut command(home.path()), &trusted);
        Self {
            home,
            _emulator: emulator,
            endpoint,
            imds,
            sts,
            callbacks,
            callback_url: format!("{server}/oss-callback"),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn ca_file(&self) -> PathBuf {
        self.home().join("sts-ca.pem")
    }

    /// `oss-rs cp FILE oss://id-bucket/KEY` with a callback tagged with the key, plus `extra`.
    fn cp(&self, mut cmd: Command, file: &Path, key: &str, extra: &[&str]) -> Output {
        cmd.args([
            "--endpoint",
            &self.endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
            "cp",
            file.to_str().expect("utf-8 path"),
            &format!("oss://id-bucket/{key}"),
            "--callback-url",
            &self.callback_url,
            "--callback-var",
            &format!("x:run={key}"),
        ])
        .args(extra);
        cmd.output().expect("run oss-rs cp")
    }

    /// The cp succeeded and printed the answer of a callback the server verified.
    fn assert_uploaded_with_callback(&self, out: &Output, key: &str) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
        let answered = self.callbacks.line_starting("answered:");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(json(stdout.trim()), json(&answered), "{stderr}");
        assert_eq!(json(&answered)["received"]["x:run"], key);
        assert!(
            !stderr.contains("sk") || !stderr.contains("secret"),
            "{stderr}"
        );
    }

    /// The emulator's request log.
    fn requests(&self) -> Vec<serde_json::Value> {
        let (status, body) = http(&self.endpoint, "GET", "/__emulator/requests");
        assert_eq!(status, 200, "{body}");
        json(&body).as_array().cloned().expect("a list")
    }

    /// Access key ids of the successful requests of `operation` on `key`.
    fn signers(&self, operation: &str, key: &str) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r["operation"] == operation && r["key"] == key && r["status"] == 200)
            .filter_map(|r| r["access_key_id"].as_str().map(str::to_owned))
            .collect()
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

/// One HTTP/1.1 request with an empty body over a fresh connection; status and body.
fn http(base: &str, method: &str, path: &str) -> (u16, String) {
    http_request(&format!("{base}{path}"), method, &[], b"")
}

fn small_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("uploaded with {name}\n")).expect("write");
    path
}

fn assert_temporary(signers: &[String]) {
    assert!(!signers.is_empty(), "no successful request logged");
    for id in signers {
        assert!(
            id.starts_with("STS."),
            "signed with {id}, not a temporary key"
        );
    }
}

#[test]
fn ecs_role_via_the_emulators_imds_uploads_with_a_callback() {
    let stack = Stack::start();
    let file = small_file(stack.home(), "ecs.txt");
    let mut cmd = command(stack.home());
    cmd.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
        .env("OSS_RS_IMDS_ENDPOINT", &stack.imds);
    let out = stack.cp(cmd, &file, "ecs.txt", &[]);
    stack.assert_uploaded_with_callback(&out, "ecs.txt");
    assert_temporary(&stack.signers("PutObject", "ecs.txt"));
}

#[test]
fn rrsa_variables_via_the_emulators_sts_upload_with_a_callback() {
    let stack = Stack::start();
    let file = small_file(stack.home(), "rrsa.txt");
    let token = stack.home().join("rrsa-token");
    std::fs::write(&token, OIDC_TOKEN).expect("token file");
    let mut cmd = command(stack.home());
    cmd.env("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .env(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/ack-rrsa",
        )
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token)
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &stack.sts)
        .env("OSS_RS_CA_FILE", stack.ca_file());
    let out = stack.cp(cmd, &file, "rrsa.txt", &[]);
    stack.assert_uploaded_with_callback(&out, "rrsa.txt");
    assert_temporary(&stack.signers("PutObject", "rrsa.txt"));
}

#[test]
fn ram_role_arn_profile_in_an_ini_file_uploads_with_a_callback() {
    let stack = Stack::start();
    let dir = stack.home().join(".alibabacloud");
    std::fs::create_dir_all(&dir).expect("mkdir");
    // The long-term key lives only in the file, as the source of AssumeRole; uploads use the
    // role's temporary key.
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = ak\naccess_key_secret = sk\n\
             role_arn = {ROLE}\nrole_session_name = oss-rs-e2e\n"
        ),
    )
    .expect("write ini");
    let file = small_file(stack.home(), "arn.txt");
    let mut cmd = command(stack.home());
    cmd.env("ALIBABA_CLOUD_STS_ENDPOINT", &stack.sts)
        .env("OSS_RS_CA_FILE", stack.ca_file());
    let out = stack.cp(cmd, &file, "arn.txt", &[]);
    stack.assert_uploaded_with_callback(&out, "arn.txt");
    assert_temporary(&stack.signers("PutObject", "arn.txt"));
}

#[test]
fn a_key_expired_mid_upload_is_refreshed_and_the_resumable_upload_finishes() {
    let stack = Stack::start();
    let file = stack.home().join("big.bin");
    let data: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    std::fs::write(&file, &data).expect("write");
    let checkpoints = stack.home().join("checkpoints");
    std::fs::create_dir_all(&checkpoints).expect("mkdir");
    // Expire whichever temporary key signs the 3rd successful UploadPart, as it is answered.
    let (status, body) = http(
        &stack.endpoint,
        "POST",
        "/__emulator/identity/expire-after?operation=UploadPart&count=3",
    );
    assert_eq!(status, 200, "{body}");
    let mut cmd = command(stack.home());
    cmd.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
        .env("OSS_RS_IMDS_ENDPOINT", &stack.imds);
    let out = stack.cp(
        cmd,
        &file,
        "big.bin",
        &[
            "--part-size",
            "256KiB",
            "--parallel",
            "2",
            "--checkpoint-dir",
            checkpoints.to_str().expect("utf-8 path"),
        ],
    );
    stack.assert_uploaded_with_callback(&out, "big.bin");
    let log = stack.requests();
    let refused = log
        .iter()
        .filter(|r| r["key"] == "big.bin" && r["status"] == 403)
        .count();
    assert!(refused >= 1, "no request was refused after the expiry");
    let mut keys = stack.signers("UploadPart", "big.bin");
    keys.extend(stack.signers("CompleteMultipartUpload", "big.bin"));
    assert_temporary(&keys);
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        2,
        "two temporary keys signed the upload: {keys:?}"
    );
    let parts = stack.signers("UploadPart", "big.bin").len();
    assert_eq!(parts, 12, "every part stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_helper_credentials_put_inside_the_prefix_and_are_denied_outside() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("ca.pem");
    let emu = oss_emulator::Emulator::builder()
        .with_identity(oss_emulator::IdentityConfig::new().with_ca_file(&ca))
        .start()
        .await
        .expect("emulator");
    let ctx = oss_credentials::Context::new()
        .with_env(oss_credentials::StaticEnv::new())
        .with_http(oss_credentials::HyperHttp::with_ca_file(&ca).expect("CA"));
    let creds = oss_credentials::assume_role_for_prefix(
        ctx,
        oss_sign::StaticCredentialsProvider::new(oss_sign::Credentials::new("ak", "sk")),
        ROLE,
        "app-bucket",
        "users/42/",
        oss_credentials::StsEndpoint::new().with_endpoint(emu.sts_endpoint().expect("STS")),
    )
    .await
    .expect("prefix credentials");
    let app = oss_upload::Client::builder("app-bucket")
        .with_endpoint(emu.endpoint().to_owned())
        .with_region("cn-hangzhou")
        .with_credentials(creds)
        .with_path_style(true)
        .build()
        .expect("client");
    app.put_object("users/42/avatar.png", bytes::Bytes::from_static(b"png"))
        .send()
        .await
        .expect("PutObject inside the prefix");
    let err = app
        .put_object("users/43/avatar.png", bytes::Bytes::from_static(b"png"))
        .send()
        .await
        .expect_err("outside the prefix");
    let fields = err.service_fields().expect("an OSS error");
    assert_eq!(
        (fields.status, fields.code.as_str()),
        (403, "AccessDenied"),
        "{err}"
    );
    emu.shutdown().await;
}
