//! The demo's ECS-role upload: a client whose credentials come from the emulator's mock IMDS,
//! as on an ECS instance with a RAM role (token, role discovery, temporary key), refreshed
//! ahead of expiry by the cache.

use oss_credentials::{CachedProvider, Context, EcsRamRoleProvider, HyperHttp, StaticEnv};
use oss_emulator::Emulator;
use oss_upload::Client;

use crate::BoxError;

/// A client of `bucket` signing with the IMDS role's temporary key. The environment is empty
/// on purpose: the demo must not pick up the developer's role name or metadata switches, and
/// the IMDS URL is the emulator's loopback one, never 100.100.100.200.
pub(crate) fn client(emulator: &Emulator, bucket: &str) -> Result<Client, BoxError> {
    let imds = emulator
        .imds_endpoint()
        .ok_or("the emulator runs without its identity side")?;
    let ctx = Context::new()
        .with_env(StaticEnv::new())
        .with_http(HyperHttp::new());
    let provider = CachedProvider::new(EcsRamRoleProvider::new(ctx).with_endpoint(imds));
    Ok(Client::builder(bucket)
        .with_endpoint(emulator.endpoint())
        .with_region(emulator.region())
        .with_credentials_provider(provider)
        .with_path_style(true)
        .build()?)
}
