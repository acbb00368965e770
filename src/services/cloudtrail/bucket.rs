//! CloudTrail's questions to S3: does the bucket exist, and does its policy let CloudTrail
//! deliver (spec cloudtrail.md §3.5)?

use crate::error::AwsError;
use crate::store::Reader;

/// What delivery needs from a trail to ask the bucket policy.
pub struct DeliveryProbe<'a> {
    pub bucket: &'a str,
    pub trail_arn: &'a str,
    pub owner: &'a str,
    /// `{prefix/}AWSLogs/` roots that must be writable: the owner and, for an org trail, the org id.
    pub roots: Vec<String>,
    pub prefix: Option<&'a str>,
    pub org_id: Option<&'a str>,
}

pub fn bucket_exists(_r: &dyn Reader, _bucket: &str) -> Result<bool, AwsError> {
    Ok(false)
}

/// Whether the bucket policy allows CloudTrail's GetBucketAcl and its PutObject under every root.
pub fn policy_allows_delivery(_r: &dyn Reader, _probe: &DeliveryProbe) -> Result<bool, AwsError> {
    Ok(false)
}
