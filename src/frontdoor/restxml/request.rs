//! Reading an S3 request: which bucket and key it addresses (path style or virtual-hosted,
//! spec §2.9), its query parameters, its headers, and which operation it is.

use crate::error::AwsError;
use crate::services::s3::{invalid_argument, not_implemented};
use http::request::Parts;
use http::Method;

/// What a request addresses and says.
pub struct S3Request<'a> {
    pub parts: &'a Parts,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Query parameters, percent-decoded, in order; a parameter without `=` has an empty value.
    pub query: Vec<(String, String)>,
    /// The bucket came from the Host header.
    pub virtual_host: bool,
}

fn decode(s: &str) -> Result<String, AwsError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| AwsError::new(400, "InvalidURI", "Couldn't parse the specified URI."))
}

/// Query strings as S3 reads them: `+` is a space (form encoding), `%XX` escapes.
fn decode_query_part(s: &str) -> Result<String, AwsError> {
    decode(&s.replace('+', " "))
}

/// The bucket named by a virtual-hosted Host (`<bucket>.localhost[:port]`,
/// `<bucket>.s3[.-]<region>.amazonaws.com`, `<bucket>.s3.amazonaws.com`).
pub fn virtual_bucket(host: &str) -> Option<String> {
    let host = host.trim();
    // Strip the port (not from a bracketed IPv6 literal, which is never virtual).
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(']') => h,
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    if let Some(b) = name.strip_suffix(".localhost") {
        return (!b.is_empty()).then(|| b.to_string());
    }
    let rest = name.strip_suffix(".amazonaws.com")?;
    // <bucket>.s3 | <bucket>.s3.<region> | <bucket>.s3-<region> | <bucket>.s3.dualstack.<region>
    let labels: Vec<&str> = rest.split('.').collect();
    let s3_at = labels
        .iter()
        .rposition(|l| *l == "s3" || l.starts_with("s3-"))?;
    if s3_at == 0 {
        return None;
    }
    Some(labels[..s3_at].join("."))
}

impl<'a> S3Request<'a> {
    pub fn parse(parts: &'a Parts) -> Result<S3Request<'a>, AwsError> {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let path = parts.uri.path();
        let (bucket, key, virtual_host) = match virtual_bucket(&host) {
            Some(b) => {
                let key = path.strip_prefix('/').unwrap_or(path);
                (
                    Some(b),
                    (!key.is_empty()).then(|| decode(key)).transpose()?,
                    true,
                )
            }
            None => {
                let rest = path.strip_prefix('/').unwrap_or(path);
                match rest.split_once('/') {
                    None if rest.is_empty() => (None, None, false),
                    None => (Some(decode(rest)?), None, false),
                    Some((b, k)) => (
                        Some(decode(b)?),
                        (!k.is_empty()).then(|| decode(k)).transpose()?,
                        false,
                    ),
                }
            }
        };
        let mut query = Vec::new();
        if let Some(q) = parts.uri.query() {
            for kv in q.split('&').filter(|s| !s.is_empty()) {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                query.push((decode_query_part(k)?, decode_query_part(v)?));
            }
        }
        Ok(S3Request {
            parts,
            bucket,
            key,
            query,
            virtual_host,
        })
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// A header as text (ISO-8859-1 bytes are taken as they come).
    pub fn header(&self, name: &str) -> Option<String> {
        self.parts.headers.get(name).map(|v| match v.to_str() {
            Ok(s) => s.to_string(),
            Err(_) => v.as_bytes().iter().map(|&b| b as char).collect(),
        })
    }

    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// A numeric query parameter, or InvalidArgument naming it.
    pub fn q_number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, AwsError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                invalid_argument(
                    &format!("Provided {name} not an integer or within integer range"),
                    name,
                    v,
                )
            }),
        }
    }
}

/// The operations served, and the ones named only to be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    ListMultipartUploads,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketPolicyStatus,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    GetBucketWebsite,
    PutBucketWebsite,
    DeleteBucketWebsite,
    GetBucketNotificationConfiguration,
    PutBucketNotificationConfiguration,
    GetBucketLogging,
    PutBucketLogging,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetBucketVersioning,
    PutBucketVersioning,
    ListObjectVersions,
    GetObjectLockConfiguration,
    PutObjectLockConfiguration,
    GetObjectRetention,
    PutObjectRetention,
    GetObjectLegalHold,
    PutObjectLegalHold,
    /// An operation of the S3 model Cairn does not serve (501 NotImplemented).
    Unsupported(&'static str),
}

impl Op {
    /// The operation's name as CloudTrail records it (its `eventName`), which for a few
    /// operations is S3's older name (PutBucketLifecycle, PutBucketNotification,
    /// PutBucketPublicAccessBlock).
    pub fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::CreateBucket => "CreateBucket",
            Op::DeleteBucket => "DeleteBucket",
            Op::HeadBucket => "HeadBucket",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::GetBucketAcl => "GetBucketAcl",
            Op::PutBucketAcl => "PutBucketAcl",
            Op::GetBucketPolicy => "GetBucketPolicy",
            Op::PutBucketPolicy => "PutBucketPolicy",
            Op::DeleteBucketPolicy => "DeleteBucketPolicy",
            Op::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Op::PutBucketOwnershipControls => "PutBucketOwnershipControls",
            Op::DeleteBucketOwnershipControls => "DeleteBucketOwnershipControls",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::DeleteObjects => "DeleteObjects",
            Op::PutObject => "PutObject",
            Op::CopyObject => "CopyObject",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::DeleteObject => "DeleteObject",
            Op::GetObjectAcl => "GetObjectAcl",
            Op::PutObjectAcl => "PutObjectAcl",
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::UploadPartCopy => "UploadPartCopy",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListParts => "ListParts",
            Op::GetBucketTagging => "GetBucketTagging",
            Op::PutBucketTagging => "PutBucketTagging",
            Op::DeleteBucketTagging => "DeleteBucketTagging",
            Op::GetBucketEncryption => "GetBucketEncryption",
            Op::PutBucketEncryption => "PutBucketEncryption",
            Op::DeleteBucketEncryption => "DeleteBucketEncryption",
            Op::GetPublicAccessBlock => "GetBucketPublicAccessBlock",
            Op::PutPublicAccessBlock => "PutBucketPublicAccessBlock",
            Op::DeletePublicAccessBlock => "DeleteBucketPublicAccessBlock",
            Op::GetBucketPolicyStatus => "GetBucketPolicyStatus",
            Op::GetBucketCors => "GetBucketCors",
            Op::PutBucketCors => "PutBucketCors",
            Op::DeleteBucketCors => "DeleteBucketCors",
            Op::GetBucketWebsite => "GetBucketWebsite",
            Op::PutBucketWebsite => "PutBucketWebsite",
            Op::DeleteBucketWebsite => "DeleteBucketWebsite",
            Op::GetBucketNotificationConfiguration => "GetBucketNotification",
            Op::PutBucketNotificationConfiguration => "PutBucketNotification",
            Op::GetBucketLogging => "GetBucketLogging",
            Op::PutBucketLogging => "PutBucketLogging",
            Op::GetBucketLifecycleConfiguration => "GetBucketLifecycle",
            Op::PutBucketLifecycleConfiguration => "PutBucketLifecycle",
            Op::DeleteBucketLifecycle => "DeleteBucketLifecycle",
            Op::GetObjectTagging => "GetObjectTagging",
            Op::PutObjectTagging => "PutObjectTagging",
            Op::DeleteObjectTagging => "DeleteObjectTagging",
            Op::GetBucketVersioning => "GetBucketVersioning",
            Op::PutBucketVersioning => "PutBucketVersioning",
            Op::ListObjectVersions => "ListObjectVersions",
            Op::GetObjectLockConfiguration => "GetObjectLockConfiguration",
            Op::PutObjectLockConfiguration => "PutObjectLockConfiguration",
            Op::GetObjectRetention => "GetObjectRetention",
            Op::PutObjectRetention => "PutObjectRetention",
            Op::GetObjectLegalHold => "GetObjectLegalHold",
            Op::PutObjectLegalHold => "PutObjectLegalHold",
            Op::Unsupported(name) => name,
        }
    }
}

/// Bucket sub-resources of operations Cairn does not serve, with the (GET, PUT, DELETE) names
/// the S3 model gives them.
const BUCKET_UNSUPPORTED: &[(&str, [&str; 3])] = &[
    (
        "accelerate",
        [
            "GetBucketAccelerateConfiguration",
            "PutBucketAccelerateConfiguration",
            "",
        ],
    ),
    (
        "analytics",
        [
            "GetBucketAnalyticsConfiguration",
            "PutBucketAnalyticsConfiguration",
            "DeleteBucketAnalyticsConfiguration",
        ],
    ),
    (
        "intelligent-tiering",
        [
            "GetBucketIntelligentTieringConfiguration",
            "PutBucketIntelligentTieringConfiguration",
            "DeleteBucketIntelligentTieringConfiguration",
        ],
    ),
    (
        "inventory",
        [
            "GetBucketInventoryConfiguration",
            "PutBucketInventoryConfiguration",
            "DeleteBucketInventoryConfiguration",
        ],
    ),
    (
        "metadataTable",
        [
            "GetBucketMetadataTableConfiguration",
            "CreateBucketMetadataTableConfiguration",
            "DeleteBucketMetadataTableConfiguration",
        ],
    ),
    (
        "metrics",
        [
            "GetBucketMetricsConfiguration",
            "PutBucketMetricsConfiguration",
            "DeleteBucketMetricsConfiguration",
        ],
    ),
    (
        "replication",
        [
            "GetBucketReplication",
            "PutBucketReplication",
            "DeleteBucketReplication",
        ],
    ),
    (
        "requestPayment",
        ["GetBucketRequestPayment", "PutBucketRequestPayment", ""],
    ),
    ("session", ["CreateSession", "", ""]),
];

const OBJECT_UNSUPPORTED: &[(&str, [&str; 3])] = &[
    ("torrent", ["GetObjectTorrent", "", ""]),
    ("attributes", ["GetObjectAttributes", "", ""]),
    ("restore", ["", "", ""]),
    ("select", ["", "", ""]),
    ("renameObject", ["", "RenameObject", ""]),
];

fn unsupported(table: &[(&str, [&'static str; 3])], req: &S3Request) -> Option<Op> {
    for (sub, names) in table {
        if req.has(sub) {
            let i = match *req.method() {
                Method::GET | Method::HEAD => 0,
                Method::PUT => 1,
                Method::DELETE => 2,
                _ => 1,
            };
            let name = match (*sub, names[i]) {
                ("restore", _) => "RestoreObject",
                ("select", _) => "SelectObjectContent",
                (_, "") => "Unknown",
                (_, n) => n,
            };
            return Some(Op::Unsupported(name));
        }
    }
    None
}

/// Configuration sub-resources served, with their (GET, PUT, DELETE) operations.
type Configurations = &'static [(&'static str, [Option<Op>; 3])];

const BUCKET_CONFIGURATIONS: Configurations = &[
    (
        "tagging",
        [
            Some(Op::GetBucketTagging),
            Some(Op::PutBucketTagging),
            Some(Op::DeleteBucketTagging),
        ],
    ),
    (
        "encryption",
        [
            Some(Op::GetBucketEncryption),
            Some(Op::PutBucketEncryption),
            Some(Op::DeleteBucketEncryption),
        ],
    ),
    (
        "publicAccessBlock",
        [
            Some(Op::GetPublicAccessBlock),
            Some(Op::PutPublicAccessBlock),
            Some(Op::DeletePublicAccessBlock),
        ],
    ),
    (
        "policyStatus",
        [Some(Op::GetBucketPolicyStatus), None, None],
    ),
    (
        "cors",
        [
            Some(Op::GetBucketCors),
            Some(Op::PutBucketCors),
            Some(Op::DeleteBucketCors),
        ],
    ),
    (
        "website",
        [
            Some(Op::GetBucketWebsite),
            Some(Op::PutBucketWebsite),
            Some(Op::DeleteBucketWebsite),
        ],
    ),
    (
        "notification",
        [
            Some(Op::GetBucketNotificationConfiguration),
            Some(Op::PutBucketNotificationConfiguration),
            None,
        ],
    ),
    (
        "logging",
        [Some(Op::GetBucketLogging), Some(Op::PutBucketLogging), None],
    ),
    (
        "versioning",
        [
            Some(Op::GetBucketVersioning),
            Some(Op::PutBucketVersioning),
            None,
        ],
    ),
    ("versions", [Some(Op::ListObjectVersions), None, None]),
    (
        "object-lock",
        [
            Some(Op::GetObjectLockConfiguration),
            Some(Op::PutObjectLockConfiguration),
            None,
        ],
    ),
    (
        "lifecycle",
        [
            Some(Op::GetBucketLifecycleConfiguration),
            Some(Op::PutBucketLifecycleConfiguration),
            Some(Op::DeleteBucketLifecycle),
        ],
    ),
];

const OBJECT_CONFIGURATIONS: Configurations = &[
    (
        "tagging",
        [
            Some(Op::GetObjectTagging),
            Some(Op::PutObjectTagging),
            Some(Op::DeleteObjectTagging),
        ],
    ),
    (
        "retention",
        [
            Some(Op::GetObjectRetention),
            Some(Op::PutObjectRetention),
            None,
        ],
    ),
    (
        "legal-hold",
        [
            Some(Op::GetObjectLegalHold),
            Some(Op::PutObjectLegalHold),
            None,
        ],
    ),
];

fn configuration(table: Configurations, req: &S3Request) -> Result<Option<Op>, AwsError> {
    for (sub, ops) in table {
        if req.has(sub) {
            let op = match *req.method() {
                Method::GET | Method::HEAD => ops[0],
                Method::PUT => ops[1],
                Method::DELETE => ops[2],
                _ => None,
            };
            return op.map(Some).ok_or_else(method_not_allowed);
        }
    }
    Ok(None)
}

fn method_not_allowed() -> AwsError {
    AwsError::new(
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

/// Which operation a request is (method, sub-resource, bucket/key presence, copy source).
pub fn route(req: &S3Request) -> Result<Op, AwsError> {
    let m = req.method().clone();
    let Some(_) = &req.bucket else {
        return match m {
            Method::GET => Ok(Op::ListBuckets),
            _ => Err(method_not_allowed()),
        };
    };
    if req.key.is_none() {
        if let Some(op) = configuration(BUCKET_CONFIGURATIONS, req)? {
            return Ok(op);
        }
        if let Some(op) = unsupported(BUCKET_UNSUPPORTED, req) {
            return Ok(op);
        }
        let op = match m {
            Method::GET if req.has("location") => Op::GetBucketLocation,
            Method::GET if req.has("acl") => Op::GetBucketAcl,
            Method::GET if req.has("policy") => Op::GetBucketPolicy,
            Method::GET if req.has("ownershipControls") => Op::GetBucketOwnershipControls,
            Method::GET if req.has("uploads") => Op::ListMultipartUploads,
            Method::GET if req.q("list-type") == Some("2") => Op::ListObjectsV2,
            Method::GET => Op::ListObjects,
            Method::HEAD => Op::HeadBucket,
            Method::PUT if req.has("acl") => Op::PutBucketAcl,
            Method::PUT if req.has("policy") => Op::PutBucketPolicy,
            Method::PUT if req.has("ownershipControls") => Op::PutBucketOwnershipControls,
            Method::PUT => Op::CreateBucket,
            Method::DELETE if req.has("policy") => Op::DeleteBucketPolicy,
            Method::DELETE if req.has("ownershipControls") => Op::DeleteBucketOwnershipControls,
            Method::DELETE => Op::DeleteBucket,
            Method::POST if req.has("delete") => Op::DeleteObjects,
            // Browser-form uploads.
            Method::POST => Op::Unsupported("PostObject"),
            _ => return Err(method_not_allowed()),
        };
        return Ok(op);
    }
    if let Some(op) = configuration(OBJECT_CONFIGURATIONS, req)? {
        return Ok(op);
    }
    if let Some(op) = unsupported(OBJECT_UNSUPPORTED, req) {
        return Ok(op);
    }
    let copy = req.parts.headers.contains_key("x-amz-copy-source");
    let op = match m {
        Method::GET if req.has("uploadId") => Op::ListParts,
        Method::GET if req.has("acl") => Op::GetObjectAcl,
        Method::GET => Op::GetObject,
        Method::HEAD => Op::HeadObject,
        Method::PUT if req.has("uploadId") && copy => Op::UploadPartCopy,
        Method::PUT if req.has("uploadId") || req.has("partNumber") => Op::UploadPart,
        Method::PUT if req.has("acl") => Op::PutObjectAcl,
        Method::PUT if copy => Op::CopyObject,
        Method::PUT => Op::PutObject,
        Method::DELETE if req.has("uploadId") => Op::AbortMultipartUpload,
        Method::DELETE => Op::DeleteObject,
        Method::POST if req.has("uploads") => Op::CreateMultipartUpload,
        Method::POST if req.has("uploadId") => Op::CompleteMultipartUpload,
        Method::POST => return Err(method_not_allowed()),
        _ => return Err(method_not_allowed()),
    };
    Ok(op)
}

/// 501 for a model operation that is not served.
pub fn refuse_unsupported(op: Op) -> AwsError {
    not_implemented().with("Operation", op.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn addressing() {
        let p = parts(
            "GET",
            "/b/a%20b/c%2Bd?list-type=2&prefix=x+y",
            "127.0.0.1:5000",
        );
        let r = S3Request::parse(&p).unwrap();
        assert_eq!(r.bucket.as_deref(), Some("b"));
        assert_eq!(r.key.as_deref(), Some("a b/c+d"));
        assert_eq!(r.q("prefix"), Some("x y"));
        assert!(!r.virtual_host);

        let p = parts("GET", "/k//x", "my.bucket.localhost:4566");
        let r = S3Request::parse(&p).unwrap();
        assert_eq!(r.bucket.as_deref(), Some("my.bucket"));
        assert_eq!(r.key.as_deref(), Some("k//x"));
        assert!(r.virtual_host);

        assert_eq!(virtual_bucket("b.s3.amazonaws.com").as_deref(), Some("b"));
        assert_eq!(
            virtual_bucket("b.s3.eu-west-1.amazonaws.com").as_deref(),
            Some("b")
        );
        assert_eq!(
            virtual_bucket("b.s3-eu-west-1.amazonaws.com").as_deref(),
            Some("b")
        );
        assert_eq!(virtual_bucket("s3.amazonaws.com"), None);
        assert_eq!(virtual_bucket("localhost:4566"), None);
        assert_eq!(virtual_bucket("127.0.0.1:4566"), None);

        let p = parts("GET", "/", "localhost");
        let r = S3Request::parse(&p).unwrap();
        assert_eq!(r.bucket, None);
        let p = parts("GET", "/b/", "localhost");
        let r = S3Request::parse(&p).unwrap();
        assert_eq!((r.bucket.as_deref(), r.key.as_deref()), (Some("b"), None));
    }

    #[test]
    fn routing() {
        let op =
            |m: &str, uri: &str| route(&S3Request::parse(&parts(m, uri, "localhost")).unwrap());
        assert_eq!(op("GET", "/").unwrap(), Op::ListBuckets);
        assert_eq!(op("PUT", "/b").unwrap(), Op::CreateBucket);
        assert_eq!(op("GET", "/b?list-type=2").unwrap(), Op::ListObjectsV2);
        assert_eq!(op("GET", "/b?location").unwrap(), Op::GetBucketLocation);
        assert_eq!(op("PUT", "/b?policy").unwrap(), Op::PutBucketPolicy);
        assert_eq!(op("POST", "/b?delete").unwrap(), Op::DeleteObjects);
        assert_eq!(
            op("PUT", "/b/k?partNumber=1&uploadId=u").unwrap(),
            Op::UploadPart
        );
        assert_eq!(
            op("POST", "/b/k?uploads").unwrap(),
            Op::CreateMultipartUpload
        );
        assert_eq!(op("GET", "/b?versioning").unwrap(), Op::GetBucketVersioning);
        assert_eq!(op("GET", "/b?versions").unwrap(), Op::ListObjectVersions);
        assert_eq!(
            op("PUT", "/b?object-lock").unwrap(),
            Op::PutObjectLockConfiguration
        );
        assert_eq!(
            op("GET", "/b?object-lock").unwrap(),
            Op::GetObjectLockConfiguration
        );
        assert_eq!(op("PUT", "/b/k?retention").unwrap(), Op::PutObjectRetention);
        assert_eq!(
            op("GET", "/b/k?legal-hold").unwrap(),
            Op::GetObjectLegalHold
        );
        assert_eq!(
            op("DELETE", "/b/k?retention").unwrap_err().code,
            "MethodNotAllowed"
        );
        assert_eq!(op("PUT", "/b/k?tagging").unwrap(), Op::PutObjectTagging);
        assert_eq!(op("DELETE", "/b?tagging").unwrap(), Op::DeleteBucketTagging);
        assert_eq!(
            op("GET", "/b?publicAccessBlock").unwrap().name(),
            "GetBucketPublicAccessBlock"
        );
        assert_eq!(
            op("PUT", "/b?lifecycle").unwrap(),
            Op::PutBucketLifecycleConfiguration
        );
        assert_eq!(
            op("DELETE", "/b?logging").unwrap_err().code,
            "MethodNotAllowed"
        );
        assert_eq!(op("DELETE", "/").unwrap_err().code, "MethodNotAllowed");
    }
}
