//! CloudTrail's questions to S3: does the bucket exist, and does its policy let CloudTrail
//! deliver (spec cloudtrail.md §3.5)? Answered by S3's own authorization, as for any caller.

use super::org::SERVICE_PRINCIPAL;
use crate::error::AwsError;
use crate::services::s3::{self, authorize, ServiceSource};
use crate::store::Reader;
use chrono::{DateTime, Utc};

/// What delivery needs from a trail to ask the bucket policy.
pub struct DeliveryProbe<'a> {
    pub bucket: &'a str,
    pub trail_arn: &'a str,
    pub owner: &'a str,
    /// `{prefix/}AWSLogs/` roots that must be writable: the owner and, for an org trail, the org id.
    pub roots: Vec<String>,
    pub prefix: Option<&'a str>,
    /// The organization of the trail's owner, for `aws:SourceOrgID`.
    pub org_id: Option<&'a str>,
    pub now: DateTime<Utc>,
}

impl DeliveryProbe<'_> {
    pub fn source(&self) -> ServiceSource {
        ServiceSource {
            source_arn: Some(self.trail_arn.to_string()),
            source_account: Some(self.owner.to_string()),
            source_org_id: self.org_id.map(str::to_string),
        }
    }

    /// `{P}AWSLogs/<root>/`: the prefix validate-logs and delivery build the same way.
    pub fn root_key(&self, root: &str) -> String {
        match self.prefix {
            Some(p) => format!("{p}/AWSLogs/{root}/"),
            None => format!("AWSLogs/{root}/"),
        }
    }
}

pub fn bucket_exists(r: &dyn Reader, bucket: &str) -> Result<bool, AwsError> {
    Ok(s3::get_bucket(r, bucket)?.is_some())
}

/// Whether the bucket policy allows CloudTrail's GetBucketAcl and its PutObject (with
/// `bucket-owner-full-control`) under every root.
pub fn policy_allows_delivery(r: &dyn Reader, probe: &DeliveryProbe) -> Result<bool, AwsError> {
    let source = probe.source();
    let ask = |action: &str, key: Option<&str>, acl: Option<&str>| {
        authorize::service_may(
            r,
            &authorize::ServiceRequest {
                service: SERVICE_PRINCIPAL,
                source: &source,
                action,
                bucket: probe.bucket,
                key,
                acl,
                now: probe.now,
            },
        )
    };
    if !ask("s3:GetBucketAcl", None, None)? {
        return Ok(false);
    }
    for root in &probe.roots {
        let key = probe.root_key(root);
        if !ask(
            "s3:PutObject",
            Some(&key),
            Some("bucket-owner-full-control"),
        )? {
            return Ok(false);
        }
    }
    Ok(true)
}
