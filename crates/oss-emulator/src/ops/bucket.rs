//! PutBucket, DeleteBucket, GetBucketInfo and ListBuckets: buckets exist only once created
//! (unless the emulator auto-creates them), and only an empty bucket can be deleted.

use http::{Response, StatusCode};

use super::list::{max_param, xml_reply, DEFAULT_MAX_KEYS, OWNER_ID};
use crate::body::{self, ResBody};
use crate::error::ApiError;
use crate::router::{respond, Ctx};
use crate::state::State;
use crate::storage::iso8601;
use crate::xml::escape;

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// 409 `BucketNotEmpty` (GO2 mocks and live tests; EC from the spec §3).
fn bucket_not_empty(bucket: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "BucketNotEmpty",
        Some("0015-00000301"),
        "The bucket has objects. Please delete them first.",
    )
    .with("BucketName", bucket)
}

/// The emulator's address, which stands in for both of a bucket's endpoints.
fn own_endpoint(state: &State) -> &str {
    state.endpoint.trim_start_matches("http://")
}

/// `PUT /bucket`: 200 whether the bucket is new or already the caller's (OSS answers a repeat
/// by the owner with 200; the emulator has one owner).
pub(crate) fn put_bucket(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    ctx.state.buckets.create(&ctx.bucket)?;
    Ok(respond(
        StatusCode::OK,
        vec![
            ("content-length", "0".into()),
            ("location", format!("/{}", ctx.bucket)),
        ],
        body::empty(),
    ))
}

/// `DELETE /bucket`: 204, or 409 `BucketNotEmpty` while objects or multipart uploads remain.
pub(crate) async fn delete_bucket(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    if ctx.state.buckets.created(&ctx.bucket).is_none() {
        return Err(ApiError::no_such_bucket(&ctx.bucket));
    }
    let storage = &ctx.state.storage;
    if !storage.list_objects(&ctx.bucket).await?.is_empty()
        || !storage.list_uploads(&ctx.bucket).await?.is_empty()
    {
        return Err(bucket_not_empty(&ctx.bucket));
    }
    ctx.state.buckets.remove(&ctx.bucket)?;
    Ok(respond(StatusCode::NO_CONTENT, vec![], body::empty()))
}

/// `GET /bucket?bucketInfo`.
pub(crate) fn get_bucket_info(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let created = ctx
        .state
        .buckets
        .created(&ctx.bucket)
        .ok_or_else(|| ApiError::no_such_bucket(&ctx.bucket))?;
    let region = &ctx.state.config.region;
    let endpoint = escape(own_endpoint(ctx.state));
    let text = format!(
        "{HEADER}<BucketInfo><Bucket><AccessMonitor>Disabled</AccessMonitor><CreationDate>{}</CreationDate><ExtranetEndpoint>{endpoint}</ExtranetEndpoint><IntranetEndpoint>{endpoint}</IntranetEndpoint><Location>oss-{}</Location><StorageClass>Standard</StorageClass><TransferAcceleration>Disabled</TransferAcceleration><CrossRegionReplication>Disabled</CrossRegionReplication><Name>{}</Name><ResourceGroupId>rg-default</ResourceGroupId><Owner><ID>{OWNER_ID}</ID><DisplayName>{OWNER_ID}</DisplayName></Owner><AccessControlList><Grant>private</Grant></AccessControlList><Comment></Comment><DataRedundancyType>LRS</DataRedundancyType><ServerSideEncryptionRule><SSEAlgorithm>None</SSEAlgorithm></ServerSideEncryptionRule><BucketPolicy><LogBucket></LogBucket><LogPrefix></LogPrefix></BucketPolicy></Bucket></BucketInfo>",
        iso8601(created),
        escape(region),
        escape(&ctx.bucket),
    );
    Ok(xml_reply(text))
}

/// `GET /` on the service: buckets ascending by name, `prefix`, `marker`, `max-keys`
/// (default 100, docs/decisions.md).
pub(crate) fn list_buckets(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let max = max_param(ctx, "max-keys", DEFAULT_MAX_KEYS)?;
    let prefix = ctx.query.get("prefix").unwrap_or("");
    let marker = ctx.query.get("marker").unwrap_or("");
    let all: Vec<(String, u64)> = ctx
        .state
        .buckets
        .list()
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix) && name.as_str() > marker)
        .collect();
    let truncated = all.len() > max;
    let page = &all[..all.len().min(max)];
    let region = escape(&ctx.state.config.region).into_owned();
    let endpoint = escape(own_endpoint(ctx.state)).into_owned();
    let mut out = format!("{HEADER}<ListAllMyBucketsResult>");
    let paged = !prefix.is_empty() || !marker.is_empty() || ctx.query.has("max-keys");
    if paged || truncated {
        out.push_str(&format!(
            "<Prefix>{}</Prefix><Marker>{}</Marker><MaxKeys>{max}</MaxKeys><IsTruncated>{truncated}</IsTruncated>",
            escape(prefix),
            escape(marker)
        ));
        if truncated {
            if let Some((last, _)) = page.last() {
                out.push_str(&format!("<NextMarker>{}</NextMarker>", escape(last)));
            }
        }
    }
    out.push_str(&format!(
        "<Owner><ID>{OWNER_ID}</ID><DisplayName>{OWNER_ID}</DisplayName></Owner><Buckets>"
    ));
    for (name, created) in page {
        out.push_str(&format!(
            "<Bucket><CreationDate>{}</CreationDate><ExtranetEndpoint>{endpoint}</ExtranetEndpoint><IntranetEndpoint>{endpoint}</IntranetEndpoint><Location>oss-{region}</Location><Name>{}</Name><Region>{region}</Region><StorageClass>Standard</StorageClass></Bucket>",
            iso8601(*created),
            escape(name)
        ));
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    Ok(xml_reply(out))
}
