//! Bucket policies (spec §5.3, §6.1): Put/Get/DeleteBucketPolicy. Validation is the policy
//! engine's; the principals a policy names must exist here, as AWS requires.

use super::authorize::{self, Target};
use super::{existing_bucket, Call, BUCKETS};
use crate::auth::directory;
use crate::error::AwsError;
use crate::policy::{Policy, PolicyKind, BUCKET_POLICY_MAX_BYTES};
use crate::store::{Reader, Writer, WriterExt};

fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "MalformedPolicy", message)
}

fn principal_exists(r: &dyn Reader, arn: &str) -> Result<bool, AwsError> {
    Ok(directory::principal_exists(r, arn, true)?)
}

pub fn put(w: &mut dyn Writer, call: &Call, bucket: &str, body: &[u8]) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:PutBucketPolicy", &Target::bucket(&b), &[])?;
    if body.len() > BUCKET_POLICY_MAX_BYTES {
        return Err(malformed(
            "Policy exceeds the maximum allowed document size.",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| malformed("Policies must be valid JSON and the first byte must be '{'"))?;
    let policy = Policy::parse(
        text,
        &PolicyKind::Bucket {
            bucket: bucket.to_string(),
        },
    )
    .map_err(|e| malformed(e.message))?;
    for arn in policy.aws_principals() {
        if arn != "*" && !principal_exists(w, &arn)? {
            return Err(malformed("Invalid principal in policy"));
        }
    }
    super::public_access::check_policy(call, &b, text)?;
    b.policy = Some(text.to_string());
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

pub fn get(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:GetBucketPolicy", &Target::bucket(&b), &[])?;
    b.policy.ok_or_else(|| {
        AwsError::new(
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        )
        .with("BucketName", bucket)
    })
}

pub fn delete(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:DeleteBucketPolicy", &Target::bucket(&b), &[])?;
    if b.policy.take().is_some() {
        w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    }
    Ok(())
}
