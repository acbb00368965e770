//! Server access logging: a record of every request made to a bucket whose logging is on,
//! delivered as log objects into its target bucket and prefix (`PutBucketLogging`).
//!
//! The front door notes each request's record here once its response is ready (`note`); S3's
//! own actions (lifecycle expirations) note theirs too (`lifecycle_action`). `deliver.rs`
//! writes what has gathered every `--delivery-interval`, one object per source bucket and
//! target, through S3's PutObject as the logging service principal `logging.s3.amazonaws.com`
//! under the target bucket's policy (or its ACL's LogDelivery grant). Like AWS's, server access
//! logging is best effort (the User Guide says so): records wait in memory, not in the
//! journal, so recording a request costs no write, and a crash loses at most one interval of
//! them. CloudTrail's records are the complete account of every call.

pub mod deliver;
pub mod format;

use super::bucket_config::Logging;
use chrono::{DateTime, Utc};
use format::{KeyFormat, Record};
use std::sync::Mutex;

/// Records waiting for delivery beyond this are dropped (with a warning): a target that
/// refuses delivery must not let memory grow without bound.
pub const MAX_PENDING: usize = 200_000;

/// Where a source bucket's records go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub bucket: String,
    pub prefix: String,
    pub format: KeyFormat,
}

impl Target {
    pub fn of(l: &Logging) -> Target {
        let format = match &l.key_format {
            Some(f) => match f.children.iter().find(|c| c.name == "PartitionedPrefix") {
                Some(p) => KeyFormat::Partitioned {
                    event_time: !p
                        .children
                        .iter()
                        .any(|c| c.name == "PartitionDateSource" && c.text == "DeliveryTime"),
                },
                None => KeyFormat::Simple,
            },
            None => KeyFormat::Simple,
        };
        Target {
            bucket: l.target_bucket.clone(),
            prefix: l.target_prefix.clone(),
            format,
        }
    }
}

/// The bucket a record is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    pub bucket: String,
    pub account: String,
    pub region: String,
}

pub struct Pending {
    pub source: Source,
    pub target: Target,
    pub record: Record,
}

/// Records waiting for the next delivery.
#[derive(Default)]
pub struct AccessLogs {
    pending: Mutex<Vec<Pending>>,
}

impl AccessLogs {
    pub fn note(&self, p: Pending) {
        let mut q = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= MAX_PENDING {
            tracing::warn!(bucket = %p.source.bucket, "server access log records dropped");
            return;
        }
        q.push(p);
    }

    /// Everything gathered so far, oldest first.
    pub fn take(&self) -> Vec<Pending> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts back records a delivery could not write, ahead of newer ones.
    pub fn put_back(&self, mut failed: Vec<Pending>) {
        let mut q = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let newer = std::mem::take(&mut *q);
        failed.extend(newer);
        failed.truncate(MAX_PENDING);
        *q = failed;
    }

    pub fn clear(&self) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The operation field for a REST call: `REST.<method>.<resource>`.
pub fn rest_operation(method: &str, operation: &str) -> String {
    let resource = match operation {
        "CreateBucket" | "DeleteBucket" | "HeadBucket" | "ListObjects" | "ListObjectsV2" => {
            "BUCKET"
        }
        "GetBucketLocation" => "LOCATION",
        "GetBucketAcl" | "PutBucketAcl" | "GetObjectAcl" | "PutObjectAcl" => "ACL",
        "GetBucketPolicy" | "PutBucketPolicy" | "DeleteBucketPolicy" => "BUCKETPOLICY",
        "GetBucketPolicyStatus" => "BUCKETPOLICYSTATUS",
        "GetBucketOwnershipControls"
        | "PutBucketOwnershipControls"
        | "DeleteBucketOwnershipControls" => "OWNERSHIP_CONTROLS",
        "ListMultipartUploads" | "CreateMultipartUpload" => "UPLOADS",
        "DeleteObjects" => "MULTI_OBJECT_DELETE",
        "PutObject" | "GetObject" | "HeadObject" | "DeleteObject" => "OBJECT",
        "CopyObject" => return "REST.COPY.OBJECT".into(),
        "UploadPartCopy" => return "REST.COPY.PART".into(),
        "UploadPart" => "PART",
        "CompleteMultipartUpload" | "AbortMultipartUpload" | "ListParts" => "UPLOAD",
        "GetBucketTagging" | "PutBucketTagging" | "DeleteBucketTagging" => "TAGGING",
        "GetObjectTagging" | "PutObjectTagging" | "DeleteObjectTagging" => "OBJECT_TAGGING",
        "GetBucketEncryption" | "PutBucketEncryption" | "DeleteBucketEncryption" => "ENCRYPTION",
        "GetBucketPublicAccessBlock"
        | "PutBucketPublicAccessBlock"
        | "DeleteBucketPublicAccessBlock" => "PUBLIC_ACCESS_BLOCK",
        "GetBucketCors" | "PutBucketCors" | "DeleteBucketCors" => "CORS",
        "GetBucketWebsite" | "PutBucketWebsite" | "DeleteBucketWebsite" => "WEBSITE",
        "GetBucketNotification" | "PutBucketNotification" => "NOTIFICATION",
        "GetBucketLogging" | "PutBucketLogging" => "LOGGING_STATUS",
        "GetBucketLifecycle" | "PutBucketLifecycle" | "DeleteBucketLifecycle" => "LIFECYCLE",
        "GetBucketVersioning" | "PutBucketVersioning" => "VERSIONING",
        "ListObjectVersions" => "BUCKETVERSIONS",
        "GetObjectLockConfiguration" | "PutObjectLockConfiguration" => "OBJECT_LOCK_CONFIGURATION",
        "GetObjectRetention" | "PutObjectRetention" => "RETENTION",
        "GetObjectLegalHold" | "PutObjectLegalHold" => "LEGAL_HOLD",
        _ => return format!("REST.{method}.{}", operation.to_ascii_uppercase()),
    };
    format!("REST.{method}.{resource}")
}

/// A record for something S3 did itself (`S3.EXPIRE.OBJECT`, `S3.CREATE.DELETEMARKER`,
/// `S3.DELETE.UPLOAD`): the requester is `AmazonS3`, there is no HTTP request.
pub fn lifecycle_action(
    logs: &AccessLogs,
    bucket: &super::Bucket,
    key: &str,
    version_id: Option<&str>,
    operation: &str,
    time: DateTime<Utc>,
) {
    let Some(l) = &bucket.config.logging else {
        return;
    };
    logs.note(Pending {
        source: Source {
            bucket: bucket.name.clone(),
            account: bucket.owner.clone(),
            region: bucket.region.clone(),
        },
        target: Target::of(l),
        record: Record {
            bucket_owner: super::acl::canonical_id(&bucket.owner),
            bucket: bucket.name.clone(),
            time,
            requester: "AmazonS3".into(),
            request_id: crate::ids::s3_request_id(),
            operation: operation.into(),
            key: format::encode_key(key),
            version_id: version_id.unwrap_or_default().into(),
            ..Default::default()
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_s3_names_them() {
        assert_eq!(rest_operation("GET", "GetObject"), "REST.GET.OBJECT");
        assert_eq!(rest_operation("PUT", "PutObject"), "REST.PUT.OBJECT");
        assert_eq!(rest_operation("GET", "ListObjectsV2"), "REST.GET.BUCKET");
        assert_eq!(
            rest_operation("GET", "GetBucketLogging"),
            "REST.GET.LOGGING_STATUS"
        );
        assert_eq!(rest_operation("PUT", "CopyObject"), "REST.COPY.OBJECT");
        assert_eq!(
            rest_operation("POST", "DeleteObjects"),
            "REST.POST.MULTI_OBJECT_DELETE"
        );
    }

    #[test]
    fn buffer_is_bounded_and_keeps_failed_records_first() {
        let logs = AccessLogs::default();
        let p = |b: &str| Pending {
            source: Source {
                bucket: b.into(),
                account: "1".into(),
                region: "r".into(),
            },
            target: Target {
                bucket: "t".into(),
                prefix: String::new(),
                format: KeyFormat::Simple,
            },
            record: Record::default(),
        };
        logs.note(p("a"));
        let failed = logs.take();
        logs.note(p("b"));
        logs.put_back(failed);
        let order: Vec<_> = logs.take().into_iter().map(|p| p.source.bucket).collect();
        assert_eq!(order, ["a", "b"]);
        for _ in 0..MAX_PENDING + 5 {
            logs.note(p("c"));
        }
        assert_eq!(logs.take().len(), MAX_PENDING);
    }
}
