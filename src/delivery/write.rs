//! Putting a log file into its bucket the way CloudTrail does: through S3, as the service
//! principal `cloudtrail.amazonaws.com`, with `x-amz-acl: bucket-owner-full-control` and the
//! trail as `aws:SourceArn` — so the bucket policy decides, as it does for any caller.

use crate::app::App;
use crate::error::AwsError;
use crate::services::cloudtrail::model::Trail;
use crate::services::organizations::view;
use crate::services::s3::service_write::{self, ServiceWrite};
use crate::services::s3::{ContentHeaders, ServiceSource};
use std::sync::Arc;

pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

pub struct Delivery<'a> {
    pub bucket: &'a str,
    pub key: String,
    pub body: Vec<u8>,
    pub source: ServiceSource,
    pub region: &'a str,
    /// S3 user metadata (names without `x-amz-meta-`): a digest's signature.
    pub metadata: Vec<(String, String)>,
}

/// How CloudTrail presents itself to the bucket policy when it writes for `t`: the trail as
/// `aws:SourceArn`, its owner as `aws:SourceAccount`, the owner's organization.
pub fn source(app: &App, t: &Trail) -> Result<ServiceSource, AwsError> {
    Ok(ServiceSource {
        source_arn: Some(t.arn()),
        source_account: Some(t.owner.clone()),
        source_org_id: app
            .store
            .read(|r| view::organization_of(r, &t.owner))?
            .map(|o| o.id),
    })
}

/// Writes one gzipped JSON file (a log or digest file); the error is S3's (AccessDenied,
/// NoSuchBucket, ...).
pub async fn put(app: &Arc<App>, d: Delivery<'_>) -> Result<(), AwsError> {
    service_write::put(
        app,
        ServiceWrite {
            service: CLOUDTRAIL,
            bucket: d.bucket,
            key: d.key,
            body: d.body,
            headers: ContentHeaders {
                content_type: Some("application/json".into()),
                content_encoding: Some("gzip".into()),
                ..Default::default()
            },
            source: d.source,
            region: d.region,
            metadata: d.metadata,
        },
    )
    .await
}
