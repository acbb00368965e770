//! Object operations (spec §5.5): PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
//! CopyObject.
//!
//! A body arrives as a temporary blob that the front door streamed in and checked
//! ([`ReceivedBody`]); the operation publishes it inside its transaction. Bodies an operation
//! replaces or deletes are returned as *garbage*: blob ids the caller removes once the
//! transaction has committed (never before, or a rolled-back delete would have lost data).

use super::acl::{self, AclRequest};
use super::authorize::{self, Target};
use super::checksums::{self, Algorithm, Hasher, Md5Hasher};
use super::encryption::{self, Sse, SseRequest};
use super::object_lock;
use super::tagging::Tag;
use super::versions;
use super::{
    access_denied, check_key, existing_bucket, get_object, internal, invalid_argument,
    invalid_request, no_such_key, Bucket, Call, Checksum, ContentHeaders, Object, Ownership,
    Segment,
};
use crate::error::AwsError;
use crate::store::blobs::OpenBlob;
use crate::store::{BlobStore, Reader, Writer};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Blob ids to remove after the commit.
pub type Garbage = Vec<String>;

/// Opened pieces of a body, in order: (blob, offset in it, length).
pub type OpenedBody = Vec<(Box<dyn OpenBlob>, u64, u64)>;

/// What PutObject, CopyObject and CreateMultipartUpload say about the object they make.
#[derive(Clone, Debug, Default)]
pub struct ObjectAttributes {
    pub headers: ContentHeaders,
    pub metadata: Vec<(String, String)>,
    pub acl: AclRequest,
    pub storage_class: Option<String>,
    /// `x-amz-tagging`, when sent.
    pub tags: Option<Vec<Tag>>,
    /// `x-amz-server-side-encryption*`.
    pub sse: SseRequest,
    /// `x-amz-object-lock-*`, and whether the request carried a digest.
    pub lock: object_lock::LockRequest,
}

/// A request body that has been streamed into a temporary blob and checked against the
/// digests the request declared.
#[derive(Clone, Debug)]
pub struct ReceivedBody {
    /// None for an empty body (no blob is kept).
    pub blob: Option<String>,
    pub size: u64,
    pub md5: [u8; 16],
    /// The flexible checksum, verified when the client sent one, computed when the client only
    /// named the algorithm.
    pub checksum: Option<(Algorithm, String)>,
}

impl ReceivedBody {
    pub fn segments(&self) -> Vec<Segment> {
        match &self.blob {
            Some(b) if self.size > 0 => vec![Segment {
                blob: b.clone(),
                size: self.size,
            }],
            _ => Vec::new(),
        }
    }
}

pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
];

fn check_storage_class(s: &Option<String>) -> Result<(), AwsError> {
    match s {
        Some(c) if !STORAGE_CLASSES.contains(&c.as_str()) => Err(AwsError::new(
            400,
            "InvalidStorageClass",
            "The storage class you specified is not valid",
        )
        .with("StorageClassRequested", c.clone())),
        _ => Ok(()),
    }
}

fn acl_extra(attrs: &ObjectAttributes) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = attrs
        .acl
        .canned
        .iter()
        .map(|c| ("s3:x-amz-acl", c.clone()))
        .collect();
    out.extend(attrs.sse.condition_keys());
    out
}

/// `s3:PutObject` on the object, and `s3:PutObjectTagging` too when the write sets tags; the
/// tags it sets are the `s3:RequestObjectTag` keys of both.
pub fn authorize_write(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    attrs: &ObjectAttributes,
) -> Result<(), AwsError> {
    let mut target = Target::object(b, key, None);
    if let Some(tags) = &attrs.tags {
        target = target.with_request_tags(tags);
    }
    let extra = acl_extra(attrs);
    authorize::check(r, call, "s3:PutObject", &target, &extra)?;
    if attrs.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        authorize::check(r, call, "s3:PutObjectTagging", &target, &extra)?;
    }
    Ok(())
}

/// The owner and ACL of an object the caller writes, under the bucket's ownership setting.
pub fn owner_and_acl(
    b: &Bucket,
    call: &Call,
    acl_req: &AclRequest,
) -> Result<(String, Vec<acl::Grant>), AwsError> {
    let writer = if call.ctx.principal.account.is_empty() {
        b.owner.clone()
    } else {
        call.ctx.principal.account.clone()
    };
    match b.effective_ownership() {
        Ownership::BucketOwnerEnforced => {
            let grants = acl::resolve(acl_req, &b.owner, Some(&b.owner))?;
            if !acl::enforced_accepts(acl_req, &grants, &b.owner) {
                return Err(acl::not_supported());
            }
            Ok((b.owner.clone(), acl::private(&b.owner)))
        }
        Ownership::BucketOwnerPreferred => {
            let owner = if acl_req.canned.as_deref() == Some("bucket-owner-full-control") {
                b.owner.clone()
            } else {
                writer
            };
            let grants = acl::resolve(acl_req, &b.owner, Some(&owner))?;
            check_public_acl(call, b, acl_req, &grants)?;
            Ok((
                owner.clone(),
                grants.unwrap_or_else(|| acl::private(&owner)),
            ))
        }
        Ownership::ObjectWriter => {
            let grants = acl::resolve(acl_req, &b.owner, Some(&writer))?;
            check_public_acl(call, b, acl_req, &grants)?;
            Ok((
                writer.clone(),
                grants.unwrap_or_else(|| acl::private(&writer)),
            ))
        }
    }
}

/// BlockPublicAcls on a write that sets an object's ACL.
fn check_public_acl(
    call: &Call,
    b: &Bucket,
    acl_req: &AclRequest,
    grants: &Option<Vec<acl::Grant>>,
) -> Result<(), AwsError> {
    super::public_access::check_acl(
        call,
        b,
        "s3:PutObject",
        &format!("{}/*", b.arn()),
        acl_req.canned.as_deref(),
        grants.as_deref().unwrap_or(&[]),
    )
}

/// Conditions of a write (`If-None-Match: *`, `If-Match`).
#[derive(Clone, Debug, Default)]
pub struct WriteConditions {
    pub if_none_match: Option<String>,
    pub if_match: Option<String>,
}

fn precondition_failed(condition: &str) -> AwsError {
    AwsError::new(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .with("Condition", condition)
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.trim_matches('"') == etag.trim_matches('"'))
}

pub fn check_write_conditions(
    existing: Option<&Object>,
    key: &str,
    c: &WriteConditions,
) -> Result<(), AwsError> {
    if let Some(inm) = &c.if_none_match {
        if inm.trim() != "*" {
            return Err(AwsError::new(
                501,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
            )
            .with("Header", "If-None-Match"));
        }
        if existing.is_some() {
            return Err(precondition_failed("If-None-Match"));
        }
    }
    if let Some(im) = &c.if_match {
        match existing {
            None => return Err(no_such_key(key)),
            Some(o) if !etag_matches(im, &o.etag) => return Err(precondition_failed("If-Match")),
            _ => {}
        }
    }
    Ok(())
}

/// The checks every write of an object passes, in S3's order: the bucket, the key,
/// `s3:PutObject`, the storage class, an ACL the bucket takes, the Object Lock headers. Returns
/// the bucket, the new object's owner and grants, and its lock.
pub type Checked = (Bucket, String, Vec<acl::Grant>, object_lock::NewLock);

pub fn write_checks(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    attrs: &ObjectAttributes,
) -> Result<Checked, AwsError> {
    let b = existing_bucket(r, bucket)?;
    check_key(key)?;
    authorize_write(r, call, &b, key, attrs)?;
    check_storage_class(&attrs.storage_class)?;
    let (owner, grants) = owner_and_acl(&b, call, &attrs.acl)?;
    let lock = object_lock::check_write(r, call, &b, key, &attrs.lock)?;
    Ok((b, owner, grants, lock))
}

/// What a PutObject may be refused for before its body is read. The front door calls this on a
/// snapshot so a refused upload is answered without reading (or storing) its body.
pub fn put_precheck(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    attrs: &ObjectAttributes,
) -> Result<(), AwsError> {
    let (b, ..) = write_checks(r, call, bucket, key, attrs)?;
    object_lock::require_digest(&b, &attrs.lock)
}

pub struct PutObjectInput {
    pub bucket: String,
    pub key: String,
    pub attrs: ObjectAttributes,
    pub body: ReceivedBody,
    pub conditions: WriteConditions,
}

pub struct PutObjectOutput {
    pub etag: String,
    /// `x-amz-version-id` (None in a never-versioned bucket).
    pub version_id: Option<String>,
    pub checksum: Option<Checksum>,
    pub sse: Sse,
    pub garbage: Garbage,
}

/// Publishes a received body (if any).
pub fn publish(blobs: &dyn BlobStore, body: &ReceivedBody) -> Result<(), AwsError> {
    if let Some(id) = &body.blob {
        blobs.publish(id).map_err(internal)?;
    }
    Ok(())
}

fn full_checksum(c: &Option<(Algorithm, String)>) -> Option<Checksum> {
    c.as_ref().map(|(a, v)| Checksum {
        algorithm: *a,
        value: v.clone(),
        kind: "FULL_OBJECT".into(),
    })
}

pub fn put(
    blobs: &dyn BlobStore,
    w: &mut dyn Writer,
    call: &Call,
    input: PutObjectInput,
) -> Result<PutObjectOutput, AwsError> {
    let (b, owner, grants, lock) = write_checks(w, call, &input.bucket, &input.key, &input.attrs)?;
    object_lock::require_digest(&b, &input.attrs.lock)?;
    let existing = get_object(w, &input.bucket, &input.key)?;
    check_write_conditions(existing.as_ref(), &input.key, &input.conditions)?;
    let sse = encryption::for_new_object(&b, &input.attrs.sse);
    let mut object = Object {
        size: input.body.size,
        etag: checksums::etag_of_md5(&input.body.md5),
        modified: call.ctx.time.timestamp_millis(),
        segments: input.body.segments(),
        parts: None,
        headers: input.attrs.headers,
        metadata: input.attrs.metadata,
        checksum: full_checksum(&input.body.checksum),
        owner,
        acl: grants,
        storage_class: input.attrs.storage_class.filter(|c| c != "STANDARD"),
        tags: input.attrs.tags.unwrap_or_default(),
        sse: Some(sse.clone()),
        ..Default::default()
    };
    object_lock::apply(&b, &lock, call.ctx.time, &mut object);
    publish(blobs, &input.body)?;
    let (etag, checksum) = (object.etag.clone(), object.checksum.clone());
    let written = versions::write_new(w, &b, &input.key, call.ctx.time.timestamp_micros(), object)?;
    Ok(PutObjectOutput {
        etag,
        version_id: written.version_id,
        checksum,
        sse,
        garbage: written.garbage,
    })
}

pub fn blob_ids(o: &Object) -> Vec<String> {
    o.segments
        .iter()
        .filter(|s| !s.blob.is_empty())
        .map(|s| s.blob.clone())
        .collect()
}

/// `Range: bytes=...` as the request gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeSpec {
    /// `a-b` (inclusive) or `a-` (b = None).
    From(u64, Option<u64>),
    /// `-n`: the last n bytes.
    Suffix(u64),
}

/// Parses a Range header; None for anything S3 ignores (other units, several ranges, syntax
/// errors), which then returns the whole object.
pub fn parse_range(h: &str) -> Option<RangeSpec> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().ok().map(RangeSpec::Suffix);
    }
    let start: u64 = a.parse().ok()?;
    if b.is_empty() {
        return Some(RangeSpec::From(start, None));
    }
    let end: u64 = b.parse().ok()?;
    (end >= start).then_some(RangeSpec::From(start, Some(end)))
}

/// The inclusive byte range to return, or InvalidRange.
fn resolve_range(r: RangeSpec, size: u64, raw: &str) -> Result<(u64, u64), AwsError> {
    let unsatisfiable = || {
        AwsError::new(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", raw.to_string())
        .with("ActualObjectSize", size.to_string())
    };
    match r {
        RangeSpec::From(start, end) => {
            if start >= size {
                return Err(unsatisfiable());
            }
            Ok((start, end.unwrap_or(size - 1).min(size - 1)))
        }
        RangeSpec::Suffix(n) => {
            if n == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            Ok((size - n.min(size), size - 1))
        }
    }
}

/// Read conditions (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since).
#[derive(Clone, Debug, Default)]
pub struct ReadConditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<DateTime<Utc>>,
    pub if_unmodified_since: Option<DateTime<Utc>>,
}

/// What a conditional read answers instead of the object.
#[derive(Debug, PartialEq, Eq)]
pub enum ConditionOutcome {
    Proceed,
    NotModified,
}

/// RFC 7232's order, as S3 applies it: If-Match (else If-Unmodified-Since) can fail with 412;
/// If-None-Match (else If-Modified-Since) can answer 304.
pub fn evaluate_read_conditions(
    o: &Object,
    c: &ReadConditions,
) -> Result<ConditionOutcome, AwsError> {
    // HTTP dates have whole seconds.
    let modified = o.modified / 1000;
    match &c.if_match {
        Some(im) => {
            if !etag_matches(im, &o.etag) {
                return Err(precondition_failed("If-Match"));
            }
        }
        None => {
            if let Some(t) = c.if_unmodified_since {
                if modified > t.timestamp() {
                    return Err(precondition_failed("If-Unmodified-Since"));
                }
            }
        }
    }
    match &c.if_none_match {
        Some(inm) => {
            if etag_matches(inm, &o.etag) {
                return Ok(ConditionOutcome::NotModified);
            }
        }
        None => {
            if let Some(t) = c.if_modified_since {
                if modified <= t.timestamp() {
                    return Ok(ConditionOutcome::NotModified);
                }
            }
        }
    }
    Ok(ConditionOutcome::Proceed)
}

pub struct GetObjectInput {
    pub bucket: String,
    pub key: String,
    pub range: Option<(RangeSpec, String)>,
    pub part_number: Option<u32>,
    pub conditions: ReadConditions,
    /// HEAD: no body is opened.
    pub head: bool,
    /// `versionId`.
    pub version_id: Option<String>,
}

pub struct GetObjectOutput {
    pub object: Object,
    /// Inclusive byte range when the answer is partial (206).
    pub range: Option<(u64, u64)>,
    pub not_modified: bool,
    /// The opened pieces of the body: (blob, offset in it, length).
    pub body: OpenedBody,
}

/// The version a read addresses (the current one without a version id), authorized as
/// `action` (its `...Version` form with a version id): NoSuchKey / NoSuchVersion when it does
/// not exist, 404 (current) or 405 (by id) with `x-amz-delete-marker` for a delete marker.
pub fn read_version(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    version_id: Option<&str>,
    action: &str,
    method: &str,
) -> Result<Object, AwsError> {
    let found = match version_id {
        None => versions::latest(r, b, key)?,
        Some(v) => versions::find(r, &b.name, key, v)?,
    };
    let object = found.map(|(_, o)| o);
    let action = versioned_action(action, version_id);
    let extra: Vec<(&'static str, String)> = version_id
        .map(|v| vec![("s3:versionid", v.to_string())])
        .unwrap_or_default();
    authorize::check(
        r,
        call,
        &action,
        &Target::object(b, key, object.as_ref().filter(|o| !o.delete_marker)),
        &extra,
    )?;
    match object {
        None => match version_id {
            None => Err(missing_key(r, call, b, key)?),
            Some(v) => Err(versions::no_such_version(key, v)),
        },
        Some(o) if o.delete_marker => Err(versions::delete_marker_error(
            &o,
            key,
            version_id.is_some(),
            method,
        )),
        Some(o) => Ok(o),
    }
}

/// The action S3 authorizes for a request that names a version: `s3:GetObject` →
/// `s3:GetObjectVersion`, `s3:GetObjectAcl` → `s3:GetObjectVersionAcl`, ...
pub fn versioned_action(action: &str, version_id: Option<&str>) -> String {
    if version_id.is_none() {
        return action.to_string();
    }
    match action.strip_prefix("s3:").and_then(|a| {
        a.strip_prefix("GetObject")
            .map(|r| ("Get", r))
            .or_else(|| a.strip_prefix("PutObject").map(|r| ("Put", r)))
            .or_else(|| a.strip_prefix("DeleteObject").map(|r| ("Delete", r)))
    }) {
        Some((verb, rest)) => format!("s3:{verb}ObjectVersion{rest}"),
        None => action.to_string(),
    }
}

/// NoSuchKey for callers who may list the bucket, AccessDenied for the others (who must not
/// learn whether a key exists).
pub fn missing_key(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
) -> Result<AwsError, AwsError> {
    Ok(
        if authorize::allowed(r, call, "s3:ListBucket", &Target::bucket(b), &[])? {
            no_such_key(key)
        } else {
            access_denied()
        },
    )
}

pub fn get(
    blobs: &dyn BlobStore,
    r: &dyn Reader,
    call: &Call,
    input: &GetObjectInput,
) -> Result<GetObjectOutput, AwsError> {
    let b = existing_bucket(r, &input.bucket)?;
    let method = if input.head { "HEAD" } else { "GET" };
    let mut object = read_version(
        r,
        call,
        &b,
        &input.key,
        input.version_id.as_deref(),
        "s3:GetObject",
        method,
    )?;
    object_lock::visible_lock(r, call, &b, &input.key, &mut object)?;
    if evaluate_read_conditions(&object, &input.conditions)? == ConditionOutcome::NotModified {
        return Ok(GetObjectOutput {
            object,
            range: None,
            not_modified: true,
            body: Vec::new(),
        });
    }
    let size = object.size;
    let range = match (input.part_number, &input.range) {
        (Some(_), Some(_)) => {
            return Err(invalid_request(
                "Cannot specify both Range header and partNumber query parameter",
            ))
        }
        (Some(n), None) => part_range(&object, n)?,
        (None, Some((spec, raw))) => Some(resolve_range(*spec, size, raw)?),
        (None, None) => None,
    };
    let (start, len) = match range {
        Some((a, z)) => (a, z - a + 1),
        None => (0, size),
    };
    let body = if input.head {
        Vec::new()
    } else {
        open_range(blobs, &object.segments, start, len)?
    };
    Ok(GetObjectOutput {
        object,
        range,
        not_modified: false,
        body,
    })
}

/// The byte range of part `n` (partNumber=N); None when it is the whole object.
fn part_range(o: &Object, n: u32) -> Result<Option<(u64, u64)>, AwsError> {
    let invalid = || {
        AwsError::new(
            416,
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
        )
        .with("PartNumberRequested", n.to_string())
        .with("ActualPartCount", o.parts.unwrap_or(1).to_string())
    };
    if n == 0 || n > 10000 {
        return Err(invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            &n.to_string(),
        ));
    }
    match o.parts {
        None if n == 1 => Ok(None),
        None => Err(invalid()),
        Some(count) if n > count => Err(invalid()),
        Some(_) => {
            let start: u64 = o.segments[..(n - 1) as usize].iter().map(|s| s.size).sum();
            let size = o.segments[(n - 1) as usize].size;
            if size == 0 {
                return Err(invalid());
            }
            Ok(Some((start, start + size - 1)))
        }
    }
}

/// Opens the blobs that hold `len` bytes from `start`. Opening happens inside the transaction,
/// so a delete committed later cannot pull a body out from under its reader.
pub fn open_range(
    blobs: &dyn BlobStore,
    segments: &[Segment],
    start: u64,
    len: u64,
) -> Result<OpenedBody, AwsError> {
    let mut out = Vec::new();
    let end = start + len;
    let mut at = 0u64;
    for s in segments {
        let (s_start, s_end) = (at, at + s.size);
        at = s_end;
        if s_end <= start || s_start >= end {
            continue;
        }
        let from = start.max(s_start) - s_start;
        let to = end.min(s_end) - s_start;
        let open = blobs.open(&s.blob).map_err(internal)?;
        out.push((open, from, to - from));
    }
    Ok(out)
}

pub type DeleteOutput = versions::Deleted;

/// DeleteObject: without a version id the object goes (never-versioned bucket) or a delete
/// marker is added; with one, that version goes for good (`s3:DeleteObjectVersion`) unless
/// Object Lock protects it (`bypass`: `x-amz-bypass-governance-retention: true`).
pub fn delete(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    bypass: bool,
) -> Result<DeleteOutput, AwsError> {
    let b = existing_bucket(w, bucket)?;
    check_key(key)?;
    delete_one(w, call, &b, key, version_id, bypass)
}

fn delete_one(
    w: &mut dyn Writer,
    call: &Call,
    b: &Bucket,
    key: &str,
    version_id: Option<&str>,
    bypass: bool,
) -> Result<DeleteOutput, AwsError> {
    let found = match version_id {
        Some(v) => Some(versions::find(w, &b.name, key, v)?),
        None => None,
    };
    let extra: Vec<(&'static str, String)> = version_id
        .map(|v| vec![("s3:versionid", v.to_string())])
        .unwrap_or_default();
    authorize::check(
        w,
        call,
        &versioned_action("s3:DeleteObject", version_id),
        &Target::object(b, key, None),
        &extra,
    )?;
    if let Some(Some((_, o))) = &found {
        object_lock::check_delete(w, call, b, key, o, bypass)?;
    }
    match (version_id, found) {
        (Some(v), Some(found)) => versions::delete_version(w, b, key, v, found),
        _ => {
            let owner = if call.ctx.principal.account.is_empty() {
                b.owner.clone()
            } else {
                call.ctx.principal.account.clone()
            };
            versions::delete_current(w, b, key, &owner, call.ctx.time)
        }
    }
}

pub struct DeleteObjectsInput {
    pub bucket: String,
    /// (key, version id).
    pub keys: Vec<(String, Option<String>)>,
    pub quiet: bool,
    /// `x-amz-bypass-governance-retention: true`.
    pub bypass: bool,
}

pub enum DeleteResult {
    Deleted {
        key: String,
        /// The version id the request named.
        version_id: Option<String>,
        /// The delete marker made or removed, and its version id.
        delete_marker: Option<String>,
    },
    Failed {
        key: String,
        version_id: Option<String>,
        code: String,
        message: String,
    },
}

pub struct DeleteObjectsOutput {
    pub results: Vec<DeleteResult>,
    pub quiet: bool,
    pub garbage: Garbage,
}

pub fn delete_objects(
    w: &mut dyn Writer,
    call: &Call,
    input: &DeleteObjectsInput,
) -> Result<DeleteObjectsOutput, AwsError> {
    let b = existing_bucket(w, &input.bucket)?;
    let mut results = Vec::new();
    let mut garbage = Vec::new();
    for (key, version_id) in &input.keys {
        let outcome = check_key(key)
            .and_then(|_| delete_one(w, call, &b, key, version_id.as_deref(), input.bypass));
        match outcome {
            Err(e) if e.status >= 500 => return Err(e),
            Err(e) => results.push(DeleteResult::Failed {
                key: key.clone(),
                version_id: version_id.clone(),
                code: e.code.to_string(),
                message: e.message,
            }),
            Ok(d) => {
                garbage.extend(d.garbage);
                results.push(DeleteResult::Deleted {
                    key: key.clone(),
                    version_id: version_id.clone(),
                    delete_marker: d
                        .delete_marker
                        .then(|| d.version_id.unwrap_or_else(|| "null".into())),
                });
            }
        }
    }
    Ok(DeleteObjectsOutput {
        results,
        quiet: input.quiet,
        garbage,
    })
}

/// CopyObject's request, decoded.
#[derive(Clone, Debug)]
pub struct CopyObjectInput {
    pub bucket: String,
    pub key: String,
    pub source_bucket: String,
    pub source_key: String,
    /// `x-amz-copy-source: ...?versionId=`.
    pub source_version_id: Option<String>,
    /// `x-amz-metadata-directive: REPLACE`.
    pub replace_metadata: bool,
    /// `x-amz-tagging-directive: REPLACE`: the copy gets the request's tags, not the source's.
    pub replace_tags: bool,
    pub attrs: ObjectAttributes,
    /// `x-amz-checksum-algorithm`.
    pub checksum_algorithm: Option<Algorithm>,
    pub source_conditions: ReadConditions,
    pub conditions: WriteConditions,
}

/// The source of a copy, opened on a snapshot.
pub struct CopySource {
    pub object: Object,
    pub body: OpenedBody,
    /// The checksum the copy gets (the source's algorithm unless the request names one).
    pub algorithm: Option<Algorithm>,
}

fn copy_source_failed(condition: &str) -> AwsError {
    precondition_failed(condition)
}

/// The source of a copy, if the caller may read it and it meets the `x-amz-copy-source-if-*`
/// conditions.
pub fn copy_source_object(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    conditions: &ReadConditions,
) -> Result<Object, AwsError> {
    let src_bucket = existing_bucket(r, bucket)?;
    let src = read_version(r, call, &src_bucket, key, version_id, "s3:GetObject", "GET")
        .map_err(|e| match e.code.as_ref() {
            // A copy from a delete marker is refused as InvalidRequest on AWS.
            "MethodNotAllowed" => invalid_request(
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ),
            _ => e,
        })?;
    match evaluate_read_conditions(&src, conditions) {
        Ok(ConditionOutcome::Proceed) => Ok(src),
        Ok(ConditionOutcome::NotModified) => {
            Err(copy_source_failed(if conditions.if_none_match.is_some() {
                "x-amz-copy-source-If-None-Match"
            } else {
                "x-amz-copy-source-If-Modified-Since"
            }))
        }
        Err(_) => Err(copy_source_failed(if conditions.if_match.is_some() {
            "x-amz-copy-source-If-Match"
        } else {
            "x-amz-copy-source-If-Unmodified-Since"
        })),
    }
}

/// Authorizes both ends of a copy and opens the source: GetObject on the source, PutObject on
/// the destination.
pub fn copy_prepare(
    blobs: &dyn BlobStore,
    r: &dyn Reader,
    call: &Call,
    input: &CopyObjectInput,
) -> Result<CopySource, AwsError> {
    let src = copy_source_object(
        r,
        call,
        &input.source_bucket,
        &input.source_key,
        input.source_version_id.as_deref(),
        &input.source_conditions,
    )?;
    write_checks(r, call, &input.bucket, &input.key, &copy_attrs(input, &src))?;
    let same = input.bucket == input.source_bucket && input.key == input.source_key;
    if same
        && !input.replace_metadata
        && !input.replace_tags
        && input.attrs.sse.algorithm.is_none()
        && input.attrs.storage_class.is_none()
        && input.checksum_algorithm.is_none()
    {
        return Err(invalid_request("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."));
    }
    let algorithm = input
        .checksum_algorithm
        .or(src.checksum.as_ref().map(|c| c.algorithm));
    let body = open_range(blobs, &src.segments, 0, src.size)?;
    Ok(CopySource {
        object: src,
        body,
        algorithm,
    })
}

/// Copies the source's bytes into a new temporary blob, off the async threads, computing the
/// ETag and checksum of the copy.
pub async fn copy_bytes(
    blobs: Arc<dyn BlobStore>,
    source: CopySource,
) -> Result<(Object, ReceivedBody), AwsError> {
    let CopySource {
        object,
        body,
        algorithm,
    } = source;
    let received = tokio::task::spawn_blocking(move || -> Result<ReceivedBody, AwsError> {
        struct Sink<'a> {
            writer: &'a mut Box<dyn crate::store::blobs::BlobWriter>,
            md5: Md5Hasher,
            sum: Option<Hasher>,
        }
        impl std::io::Write for Sink<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.writer.write_all(buf)?;
                self.md5.update(buf);
                if let Some(h) = &mut self.sum {
                    h.update(buf);
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut writer = blobs.create().map_err(internal)?;
        let mut sink = Sink {
            writer: &mut writer,
            md5: Md5Hasher::new(),
            sum: algorithm.map(Hasher::new),
        };
        let mut size = 0;
        for (blob, offset, len) in body {
            size += blob.copy_to(offset, len, &mut sink).map_err(internal)?;
        }
        let md5 = sink.md5.finish();
        let checksum = sink.sum.map(|h| (h.algorithm(), h.finish()));
        let id = writer.id().to_string();
        writer.finish().map_err(internal)?;
        Ok(ReceivedBody {
            blob: Some(id),
            size,
            md5,
            checksum,
        })
    })
    .await
    .map_err(internal)??;
    Ok((object, received))
}

pub struct CopyObjectOutput {
    pub etag: String,
    /// `x-amz-version-id` of the copy.
    pub version_id: Option<String>,
    /// `x-amz-copy-source-version-id`.
    pub source_version_id: Option<String>,
    pub modified: DateTime<Utc>,
    pub checksum: Option<Checksum>,
    pub sse: Sse,
    pub garbage: Garbage,
}

/// The attributes the copy is written with: its tags are the source's unless the request
/// replaces them.
fn copy_attrs(input: &CopyObjectInput, source: &Object) -> ObjectAttributes {
    let mut attrs = input.attrs.clone();
    if !input.replace_tags {
        attrs.tags = Some(source.tags.clone());
    }
    attrs
}

/// Commits a copy whose bytes are in `body`.
pub fn copy_commit(
    blobs: &dyn BlobStore,
    w: &mut dyn Writer,
    call: &Call,
    input: &CopyObjectInput,
    source: &Object,
    body: &ReceivedBody,
) -> Result<CopyObjectOutput, AwsError> {
    let b = existing_bucket(w, &input.bucket)?;
    let attrs = copy_attrs(input, source);
    authorize_write(w, call, &b, &input.key, &attrs)?;
    let (owner, grants) = owner_and_acl(&b, call, &input.attrs.acl)?;
    let lock = object_lock::check_write(w, call, &b, &input.key, &input.attrs.lock)?;
    let sse = encryption::for_new_object(&b, &input.attrs.sse);
    let existing = get_object(w, &input.bucket, &input.key)?;
    check_write_conditions(existing.as_ref(), &input.key, &input.conditions)?;
    let (headers, metadata) = if input.replace_metadata {
        (input.attrs.headers.clone(), input.attrs.metadata.clone())
    } else {
        (source.headers.clone(), source.metadata.clone())
    };
    let mut object = Object {
        size: body.size,
        etag: checksums::etag_of_md5(&body.md5),
        modified: call.ctx.time.timestamp_millis(),
        segments: body.segments(),
        parts: None,
        headers,
        metadata,
        checksum: full_checksum(&body.checksum),
        owner,
        acl: grants,
        storage_class: input
            .attrs
            .storage_class
            .clone()
            .or_else(|| source.storage_class.clone())
            .filter(|c| c != "STANDARD"),
        tags: attrs.tags.unwrap_or_default(),
        sse: Some(sse.clone()),
        ..Default::default()
    };
    object_lock::apply(&b, &lock, call.ctx.time, &mut object);
    publish(blobs, body)?;
    let (etag, modified, checksum) = (
        object.etag.clone(),
        object.modified_at(),
        object.checksum.clone(),
    );
    let written = versions::write_new(w, &b, &input.key, call.ctx.time.timestamp_micros(), object)?;
    Ok(CopyObjectOutput {
        etag,
        version_id: written.version_id,
        source_version_id: versions::header_of(source).map(str::to_string),
        modified,
        checksum,
        sse,
        garbage: written.garbage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9"), Some(RangeSpec::From(0, Some(9))));
        assert_eq!(parse_range("bytes=5-"), Some(RangeSpec::From(5, None)));
        assert_eq!(parse_range("bytes=-3"), Some(RangeSpec::Suffix(3)));
        assert_eq!(parse_range("bytes=9-0"), None);
        assert_eq!(parse_range("bytes=0-1,3-4"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(
            resolve_range(RangeSpec::From(0, Some(99)), 10, "").unwrap(),
            (0, 9)
        );
        assert_eq!(resolve_range(RangeSpec::Suffix(3), 10, "").unwrap(), (7, 9));
        assert_eq!(
            resolve_range(RangeSpec::Suffix(30), 10, "").unwrap(),
            (0, 9)
        );
        assert_eq!(
            resolve_range(RangeSpec::From(10, None), 10, "bytes=10-")
                .unwrap_err()
                .code,
            "InvalidRange"
        );
    }
}
