//! `cargo xtask demo`: uploads with each of the five paths (PutObject, multipart, resumable,
//! PostObject form, presigned PUT), plus one PutObject whose credentials come from the
//! emulator's mock ECS metadata service, to an embedded `oss-emulator`, each with a JSON callback to a
//! local server that verifies OSS's RSA signature before answering. One line per path; the run
//! fails (exit 1) unless every callback was delivered, verified, recorded by the emulator with the
//! same body, and its answer handed back to the uploader.

mod callback_server;
mod ecs_role;
mod live;

use std::process::ExitCode;

use bytes::Bytes;
use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_emulator::{CallbackOutcome, Emulator, IdentityConfig};
use oss_presign::{Addressing, CallbackCarrier, PresignRequest, Presigner};
use oss_sign::Credentials;
use oss_upload::{Client, UploadOutput, UploadSource};

use callback_server::CallbackServer;

const BUCKET: &str = "demo-bucket";
const ACCESS_KEY_ID: &str = "demo-access-key";
const ACCESS_KEY_SECRET: &str = "demo-secret";
const PART_SIZE: u64 = 100 * 1024;

/// What `oss-demo --help` prints; the demo itself takes no options but `--live`.
const USAGE: &str = "\
oss-demo: every upload path of oss-rs against an in-process emulator, each with a verified
callback (run it with `cargo xtask demo`).

Usage: oss-demo [--live]

Options:
  --live      run against real OSS (credentials and bucket from the environment)
  -h, --help  print this help and exit
";

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(arg) = std::env::args().nth(1) {
        if arg == "--help" || arg == "-h" {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        if arg != "--live" {
            eprint!("demo: unknown argument {arg:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("demo: {}", chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, BoxError> {
    if std::env::args().nth(1).as_deref() == Some("--live") {
        return live::run().await;
    }
    let emulator = Emulator::builder()
        .with_region("cn-hangzhou")
        .with_credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
        .with_identity(IdentityConfig::new())
        .start()
        .await?;
    let server = CallbackServer::start(&format!("{}/", emulator.endpoint())).await?;
    println!(
        "oss-rs demo: embedded oss-emulator at {} (region {}), callback server at {}",
        emulator.endpoint(),
        emulator.region(),
        server.url
    );
    println!("every upload carries a JSON callback; the callback server verifies OSS's RSA signature before answering\n");

    let target = Target {
        client: Client::builder(BUCKET)
            .with_endpoint(emulator.endpoint())
            .with_region(emulator.region())
            .with_static_credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
            .with_path_style(true)
            .build()?,
        presigner: Presigner::builder(emulator.region())
            .with_endpoint(emulator.endpoint())
            .with_credentials(Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
            .with_addressing(Addressing::PathStyle)
            .build()?,
        ecs_role_client: ecs_role::client(&emulator, BUCKET)?,
        bucket: BUCKET.to_owned(),
        dir: tempfile::tempdir()?,
    };
    let mut ok = true;
    for path in Path::ALL {
        let key = format!("demo/{}.{}", path.name(), path.extension());
        let callback = callback(&format!("{}/oss-callback?path={}", server.url, path.name()))?;
        let before = server.received().len();
        let line = match target.upload(path, &key, callback).await {
            Ok(output) => check(path, &key, &output, &server, &emulator, before),
            Err(err) => Err(format!("upload failed: {}", chain(err.as_ref()))),
        };
        match line {
            Ok(line) => println!("{line}"),
            Err(why) => {
                ok = false;
                println!("{:<12} {key:<28} FAILED: {why}", path.name());
            }
        }
    }
    emulator.shutdown().await;
    println!();
    if ok {
        println!(
            "demo: all {} upload paths stored their object, fired a verified callback and returned its answer",
            Path::ALL.len()
        );
    } else {
        println!("demo: FAILED (see above)");
    }
    Ok(ok)
}

/// Where the demo paths upload to: a client and presigner for one bucket, and a scratch dir.
pub(crate) struct Target {
    pub(crate) client: Client,
    pub(crate) presigner: Presigner,
    /// Signs with the emulator's IMDS role key (no long-term key).
    pub(crate) ecs_role_client: Client,
    pub(crate) bucket: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Target {
    /// Uploads with one path, carrying `callback` and the `x:user` variable.
    pub(crate) async fn upload(
        &self,
        path: Path,
        key: &str,
        callback: Callback,
    ) -> Result<UploadOutput, BoxError> {
        let vars = CallbackVars::new().with("x:user", "demo-user")?;
        let file = self.dir.path().join(format!("{}.csv", path.name()));
        std::fs::write(&file, pattern(4 * PART_SIZE as usize + 1234))?;
        let client = &self.client;
        let output = match path {
            Path::PutObject => {
                client
                    .put_object(key, UploadSource::bytes(Bytes::from_static(b"hello, oss")))
                    .with_callback(callback)
                    .with_callback_vars(vars)
                    .send()
                    .await?
            }
            Path::EcsRole => {
                self.ecs_role_client
                    .put_object(key, UploadSource::bytes(Bytes::from_static(b"hello, role")))
                    .with_callback(callback)
                    .with_callback_vars(vars)
                    .send()
                    .await?
            }
            Path::Multipart => {
                client
                    .multipart_upload(key, UploadSource::file(&file))
                    .with_part_size(PART_SIZE)
                    .with_callback(callback)
                    .with_callback_vars(vars)
                    .send()
                    .await?
            }
            Path::Resumable => {
                client
                    .resumable_upload(key, &file)
                    .with_part_size(PART_SIZE)
                    .with_checkpoint_dir(self.dir.path())
                    .with_callback(callback)
                    .with_callback_vars(vars)
                    .send()
                    .await?
            }
            Path::Form => {
                client
                    .post_object(
                        key,
                        UploadSource::bytes(Bytes::from_static(b"<p>posted</p>")),
                    )
                    .with_callback(callback)
                    .with_callback_vars(vars)
                    .send()
                    .await?
            }
            Path::Presigned => {
                let presigned = self
                    .presigner
                    .presign(
                        &PresignRequest::put_object(&self.bucket, key)
                            .with_content_type("application/json")
                            .with_callback(callback, Some(vars), CallbackCarrier::Header),
                    )
                    .await?;
                client
                    .put_presigned(presigned.uri, presigned.signed_headers, &b"{\"k\":1}"[..])
                    .await?
            }
        };
        Ok(output)
    }
}

/// Checks one path against both ends of the callback and renders its line.
fn check(
    path: Path,
    key: &str,
    output: &UploadOutput,
    server: &CallbackServer,
    emulator: &Emulator,
    before: usize,
) -> Result<String, String> {
    let received = server.received();
    if received.len() != before + 1 {
        return Err(format!(
            "callback server got {} verified callbacks, expected 1",
            received.len() - before
        ));
    }
    let got = &received[received.len() - 1];
    let record = emulator
        .callbacks()
        .into_iter()
        .rev()
        .find(|c| c.key == key)
        .ok_or("the emulator has no record of this callback")?;
    if record.outcome != CallbackOutcome::Delivered || record.body != got.body {
        return Err(format!(
            "emulator recorded {:?} with body {}, server received {}",
            record.outcome, record.body, got.body
        ));
    }
    let answer = output
        .callback
        .as_ref()
        .ok_or("the uploader got no callback answer")?;
    let answer_json = answer
        .json_value()
        .map_err(|e| format!("callback answer is not JSON: {e}"))?;
    if answer_json["received"] != got.body.as_str() {
        return Err("the answer the uploader got is not the callback server's".into());
    }
    let body: serde_json::Value =
        serde_json::from_str(&got.body).map_err(|e| format!("callback body is not JSON: {e}"))?;
    if body["object"] != key || body["user"] != "demo-user" || body["bucket"] != BUCKET {
        return Err(format!("callback body has the wrong values: {}", got.body));
    }
    Ok(format!(
        "{:<12} {key:<28} signature verified  {} received {}  uploader got {}",
        path.name(),
        got.path,
        got.body,
        String::from_utf8_lossy(&answer.body)
    ))
}

pub(crate) fn callback(url: &str) -> Result<Callback, oss_callback::Error> {
    Callback::builder()
        .with_url(url)
        .with_body(
            r#"{"bucket":${bucket},"object":${object},"size":${size},"mimeType":${mimeType},"etag":${etag},"user":${x:user}}"#,
        )
        .with_body_type(CallbackBodyType::Json)
        .build()
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Path {
    PutObject,
    Multipart,
    Resumable,
    Form,
    Presigned,
    /// PutObject signed with a temporary key from the emulator's IMDS.
    EcsRole,
}

impl Path {
    pub(crate) const ALL: [Path; 6] = [
        Path::PutObject,
        Path::Multipart,
        Path::Resumable,
        Path::Form,
        Path::Presigned,
        Path::EcsRole,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Path::PutObject => "put-object",
            Path::Multipart => "multipart",
            Path::Resumable => "resumable",
            Path::Form => "form",
            Path::Presigned => "presigned",
            Path::EcsRole => "ecs-role",
        }
    }

    pub(crate) fn extension(self) -> &'static str {
        match self {
            Path::PutObject | Path::EcsRole => "txt",
            Path::Multipart | Path::Resumable => "csv",
            Path::Form => "html",
            Path::Presigned => "json",
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"0123456789,abcdef\n"[i % 18]).collect()
}

/// An error and its causes on one line.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
