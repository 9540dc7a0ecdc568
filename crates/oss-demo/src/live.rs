//! `oss-demo --live` (run by `cargo xtask conformance --live`): the same five paths against a
//! real bucket. Needs `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` (and `OSS_SESSION_TOKEN` for
//! STS), `OSS_TEST_BUCKET`, `OSS_TEST_REGION`, a public `OSS_TEST_CALLBACK_URL` whose server
//! answers JSON, and optionally `OSS_TEST_ENDPOINT`. Ends with `live: N passed, M failed`.

use std::time::{SystemTime, UNIX_EPOCH};

use oss_credentials::{Context, EnvProvider, LoadCredentials as _};
use oss_presign::Presigner;
use oss_upload::Client;

use crate::{callback, chain, BoxError, Path, Target};

/// The variables the live run needs, besides the credentials.
pub(crate) const REQUIRED: [&str; 5] = [
    "OSS_ACCESS_KEY_ID",
    "OSS_ACCESS_KEY_SECRET",
    "OSS_TEST_BUCKET",
    "OSS_TEST_REGION",
    "OSS_TEST_CALLBACK_URL",
];

pub(crate) async fn run() -> Result<bool, BoxError> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_none())
        .collect();
    if !missing.is_empty() {
        println!("live: not run: {} not set", missing.join(", "));
        return Ok(false);
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let (bucket, region, callback_url) = (
        var("OSS_TEST_BUCKET"),
        var("OSS_TEST_REGION"),
        var("OSS_TEST_CALLBACK_URL"),
    );
    let endpoint = std::env::var("OSS_TEST_ENDPOINT")
        .unwrap_or_else(|_| format!("https://oss-{region}.aliyuncs.com"));
    let credentials = EnvProvider::new(Context::new()).load().await?.credentials;
    let client = Client::builder(&bucket)
        .with_endpoint(&endpoint)
        .with_region(&region)
        .with_credentials(credentials.clone())
        .build()?;
    let target = Target {
        // Off ECS there is no metadata service to ask; that path is skipped below.
        ecs_role_client: client.clone(),
        client,
        presigner: Presigner::builder(&region)
            .with_endpoint(&endpoint)
            .with_credentials(credentials)
            .build()?,
        bucket,
        dir: tempfile::tempdir()?,
    };
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    println!(
        "live: uploading to oss://{}/oss-rs-conformance/{run_id}/ via {endpoint}",
        target.bucket
    );
    let (mut passed, mut failed) = (0, 0);
    for path in Path::ALL
        .into_iter()
        .filter(|p| !matches!(p, Path::EcsRole))
    {
        let key = format!(
            "oss-rs-conformance/{run_id}/{}.{}",
            path.name(),
            path.extension()
        );
        let outcome = match target.upload(path, &key, callback(&callback_url)?).await {
            Ok(output) => match output.callback.as_ref().map(|c| c.json_value()) {
                Some(Ok(answer)) => Ok(format!("callback answered {answer}")),
                Some(Err(e)) => Err(format!("the callback answer is not JSON: {e}")),
                None => Err("no callback answer came back".to_owned()),
            },
            Err(err) => Err(chain(err.as_ref())),
        };
        match outcome {
            Ok(line) => {
                passed += 1;
                println!("{:<12} {key}  {line}", path.name());
            }
            Err(why) => {
                failed += 1;
                println!("{:<12} {key}  FAILED: {why}", path.name());
            }
        }
        // Leave nothing behind in the user's bucket.
        let _ = target.client.delete_object(&key).await;
    }
    println!("live: {passed} passed, {failed} failed");
    Ok(failed == 0)
}
