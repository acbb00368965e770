//! Amazon S3 (spec: organizations-s3-sts-auth.md §5-6): buckets, objects, listing, multipart
//! uploads, ACLs and object ownership, bucket policies.
//!
//! Every operation is a plain function over the store, run inside the call's write transaction;
//! the front door decodes the REST-XML request into the inputs here and renders the outputs.
//! Request bodies are streamed into temporary blobs before the transaction (see
//! `store::blobs`); the transaction publishes them together with the metadata. Every operation
//! is authorized through [`authorize`], which is also what CloudTrail asks before it delivers.
//!
//! Tables and their keys, designed for the scans the operations need:
//! - `s3.buckets`: `<bucket>` → [`Bucket`]
//! - `s3.owned`: `<account>/<bucket>` → `{}` (ListBuckets)
//! - `s3.objects`: `<bucket>/<key>` → [`Object`]; a bucket's objects are one contiguous range in
//!   key order, so listings are bounded range scans.
//!   The current version of a key, unless that is a delete marker (see [`versions`]).
//! - `s3.versions`: `<bucket>/<key>\0<inverted sequence>` → [`Object`]: every other version of
//!   a key (noncurrent versions, delete markers), newest first.
//! - `s3.uploads`: `<bucket>/<key>\0<upload id>` → [`Upload`] (ListMultipartUploads order)
//! - `s3.parts`: `<upload id>/<part number, 5 digits>` → [`Part`]

pub mod access_log;
pub mod acl;
pub mod authorize;
pub mod bucket_config;
pub mod buckets;
pub mod checksums;
pub mod encryption;
pub mod events;
pub mod lifecycle;
pub mod listing;
pub mod multipart;
pub mod object_lock;
pub mod objects;
pub mod policy;
pub mod public_access;
pub mod service_write;
pub mod tagging;
pub mod versions;
pub mod xml;

use crate::error::AwsError;
use crate::services::RequestContext;
use crate::store::{Reader, ReaderExt, StoreError, Table};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

pub const BUCKETS: Table = Table("s3.buckets");
pub const OWNED: Table = Table("s3.owned");
pub const OBJECTS: Table = Table("s3.objects");
pub const UPLOADS: Table = Table("s3.uploads");
pub const PARTS: Table = Table("s3.parts");
pub const VERSIONS: Table = Table("s3.versions");

/// The S3 XML namespace of every success document.
pub const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Largest object a single PUT (or part) may carry: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;
/// Largest key, in UTF-8 bytes.
pub const MAX_KEY: usize = 1024;
/// Largest total size of user metadata (names and values), in bytes.
pub const MAX_METADATA: usize = 2048;

/// How the caller authenticated, for the `s3:` condition keys.
#[derive(Clone, Debug, Default)]
pub struct AuthFacts {
    /// `REST-HEADER`, `REST-QUERY-STRING`; None when unsigned.
    pub auth_type: Option<&'static str>,
    /// `AWS4-HMAC-SHA256` or `AWS` (SigV2); None when unsigned.
    pub signature_version: Option<&'static str>,
    /// The `x-amz-content-sha256` header as sent.
    pub content_sha256: Option<String>,
}

/// What an AWS service acting on its own behalf tells about the resource it acts for
/// (`aws:SourceArn`, `aws:SourceAccount`, `aws:SourceOrgID`).
#[derive(Clone, Debug, Default)]
pub struct ServiceSource {
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub source_org_id: Option<String>,
}

/// One S3 call: who, from where, and how it was signed.
#[derive(Clone, Debug)]
pub struct Call {
    pub ctx: RequestContext,
    pub auth: AuthFacts,
    /// `x-amz-expected-bucket-owner`.
    pub expected_owner: Option<String>,
    /// Set when an AWS service makes the call (CloudTrail delivering logs).
    pub service: Option<ServiceSource>,
}

/// Who owns what an object's bucket holds, and whether ACLs count (spec §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Ownership {
    #[default]
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::BucketOwnerEnforced => "BucketOwnerEnforced",
            Ownership::BucketOwnerPreferred => "BucketOwnerPreferred",
            Ownership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(s: &str) -> Option<Ownership> {
        match s {
            "BucketOwnerEnforced" => Some(Ownership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(Ownership::BucketOwnerPreferred),
            "ObjectWriter" => Some(Ownership::ObjectWriter),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    /// The owning account (never a role session).
    pub owner: String,
    pub region: String,
    /// Epoch milliseconds.
    pub created: i64,
    /// None: ownership controls were deleted (GetBucketOwnershipControls then answers
    /// OwnershipControlsNotFoundError, and S3 behaves as ObjectWriter).
    pub ownership: Option<Ownership>,
    pub acl: Vec<acl::Grant>,
    /// The bucket policy exactly as it was put.
    pub policy: Option<String>,
    /// The bucket's configurations (tags, default encryption, public access block, CORS,
    /// website, notifications, logging, lifecycle). Absent in records of earlier versions.
    #[serde(default, skip_serializing_if = "BucketConfig::is_empty")]
    pub config: BucketConfig,
}

/// A bucket's sub-resource configurations, each as it was put (validated). None: never put or
/// deleted. Replication is to be added here the same way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<tagging::Tag>>,
    /// Default encryption; None is SSE-S3 (AES256), as for every bucket since January 2023.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<encryption::EncryptionRule>,
    /// Buckets made since April 2023 start with all four settings on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<public_access::PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Vec<bucket_config::CorsRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<bucket_config::Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<bucket_config::Notification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<bucket_config::Logging>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Vec<bucket_config::LifecycleRule>>,
    /// None: never versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<versions::Versioning>,
    /// Object Lock (enabled only when the bucket was created with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<object_lock::LockConfig>,
}

impl BucketConfig {
    pub fn is_empty(&self) -> bool {
        *self == BucketConfig::default()
    }
}

impl Bucket {
    /// The ownership rule in force.
    pub fn effective_ownership(&self) -> Ownership {
        self.ownership.unwrap_or(Ownership::ObjectWriter)
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.name)
    }
}

/// Which checksum an object or part carries, and of what kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: checksums::Algorithm,
    /// Base64 of the digest; composite multipart values end in `-<parts>`.
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: String,
}

/// Where an object's bytes are: one blob, or the parts of a completed multipart upload in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Segment {
    pub blob: String,
    pub size: u64,
}

/// The standard headers S3 stores with an object and returns on GET/HEAD.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Object {
    pub size: u64,
    /// With its quotes: `"<md5 hex>"` or `"<hex>-<parts>"`.
    pub etag: String,
    /// Epoch milliseconds.
    pub modified: i64,
    pub segments: Vec<Segment>,
    /// Number of parts for a multipart object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    #[serde(default)]
    pub headers: ContentHeaders,
    /// `x-amz-meta-*`, names lower-cased without the prefix, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// The owning account.
    pub owner: String,
    pub acl: Vec<acl::Grant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The object's tags (at most 10), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<tagging::Tag>,
    /// How the object is encrypted; None (records of earlier versions) is SSE-S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<encryption::ObjectSse>,
    /// None: the `null` version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The version's place in its key's history (microseconds, strictly increasing per key);
    /// None for objects written while the bucket was never versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// Object Lock retention of this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<object_lock::Retention>,
    /// Object Lock legal hold (`ON`/`OFF`); None: never set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<String>,
}

impl Object {
    /// The version id as S3 shows it (`null` for the null version).
    pub fn version_text(&self) -> &str {
        self.version_id.as_deref().unwrap_or("null")
    }

    pub fn modified_at(&self) -> DateTime<Utc> {
        millis(self.modified)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: i64,
    /// The account that started it.
    pub owner: String,
    /// The principal ARN that started it (`Initiator`).
    pub initiator: String,
    pub initiator_id: String,
    pub headers: ContentHeaders,
    pub metadata: Vec<(String, String)>,
    pub acl: Option<Vec<acl::Grant>>,
    pub acl_canned: Option<String>,
    pub checksum_algorithm: Option<checksums::Algorithm>,
    pub checksum_type: Option<String>,
    pub storage_class: Option<String>,
    /// `x-amz-tagging` of CreateMultipartUpload: the completed object's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<tagging::Tag>,
    /// The encryption the completed object gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<encryption::ObjectSse>,
    /// The Object Lock retention the completed object gets (its own; the bucket's default
    /// retention is applied at completion otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<object_lock::Retention>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Part {
    pub number: u32,
    pub size: u64,
    /// With quotes.
    pub etag: String,
    pub modified: i64,
    pub blob: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
}

pub fn millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// S3's timestamp in XML: `2026-11-23T23:23:48.000Z`.
pub fn xml_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// S3's timestamp in headers: RFC 1123, `Mon, 23 Nov 2026 23:23:48 GMT`.
pub fn http_time(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1 + key.len());
    k.extend_from_slice(bucket.as_bytes());
    k.push(b'/');
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn get_bucket(r: &dyn Reader, name: &str) -> Result<Option<Bucket>, StoreError> {
    r.get_json(BUCKETS, name.as_bytes())
}

/// The bucket, or `NoSuchBucket`.
pub fn existing_bucket(r: &dyn Reader, name: &str) -> Result<Bucket, AwsError> {
    get_bucket(r, name)?.ok_or_else(|| no_such_bucket(name))
}

pub fn get_object(r: &dyn Reader, bucket: &str, key: &str) -> Result<Option<Object>, StoreError> {
    r.get_json(OBJECTS, &object_key(bucket, key))
}

// Errors S3 words the same way everywhere.

pub fn no_such_bucket(name: &str) -> AwsError {
    AwsError::new(404, "NoSuchBucket", "The specified bucket does not exist")
        .with("BucketName", name)
}

pub fn no_such_key(key: &str) -> AwsError {
    AwsError::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key)
}

pub fn access_denied() -> AwsError {
    AwsError::new(403, "AccessDenied", "Access Denied")
}

pub fn invalid_argument(message: &str, name: &str, value: &str) -> AwsError {
    AwsError::new(400, "InvalidArgument", message)
        .with("ArgumentName", name)
        .with("ArgumentValue", value)
}

pub fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidRequest", message)
}

pub fn malformed_xml() -> AwsError {
    AwsError::new(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub fn not_implemented() -> AwsError {
    AwsError::new(
        501,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
    )
}

/// S3's code for unexpected failures (the JSON protocols say InternalFailure).
pub fn internal(detail: impl std::fmt::Display) -> AwsError {
    let mut e = AwsError::internal(detail);
    e.code = "InternalError".into();
    e.message = "We encountered an internal error. Please try again.".into();
    e
}

/// Keys are 1-1024 bytes of UTF-8 (already guaranteed by the decoder).
pub fn check_key(key: &str) -> Result<(), AwsError> {
    if key.is_empty() {
        return Err(invalid_argument("A key must be provided", "key", ""));
    }
    if key.len() > MAX_KEY {
        return Err(
            AwsError::new(400, "KeyTooLongError", "Your key is too long")
                .with("MaxSizeAllowed", MAX_KEY.to_string())
                .with("Size", key.len().to_string()),
        );
    }
    Ok(())
}

/// The ids of objects and uploads: opaque, URL-safe.
pub fn new_upload_id() -> String {
    use base64::Engine;
    let bytes: [u8; 48] = rand::random::<[[u8; 16]; 3]>()
        .concat()
        .try_into()
        .expect("48 bytes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
