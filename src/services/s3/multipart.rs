//! Multipart uploads (spec §5.7): Create, UploadPart, Complete, Abort, ListParts,
//! ListMultipartUploads. Parts are blobs of their own; a completed object's body is its parts'
//! blobs in order, so completing copies nothing.

use super::authorize::{self, Target};
use super::checksums::{self, Algorithm};
use super::objects::{self, Garbage, ObjectAttributes, ReceivedBody, WriteConditions};
use super::xml::Element;
use super::{
    check_key, existing_bucket, get_object, invalid_argument, invalid_request, malformed_xml,
    new_upload_id, object_key, Bucket, Call, Checksum, Object, Part, Segment, Upload, PARTS,
    UPLOADS,
};
use crate::error::AwsError;
use crate::store::{BlobStore, Reader, ReaderExt, Writer, WriterExt};
use std::ops::Bound;

/// Smallest part but the last: 5 MiB.
pub const MIN_PART: u64 = 5 * 1024 * 1024;
pub const MAX_PARTS: u32 = 10000;

fn upload_key(bucket: &str, key: &str, id: &str) -> Vec<u8> {
    let mut k = object_key(bucket, key);
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

fn part_key(upload: &str, n: u32) -> Vec<u8> {
    format!("{upload}/{n:05}").into_bytes()
}

fn no_such_upload(id: &str) -> AwsError {
    AwsError::new(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    .with("UploadId", id)
}

fn existing_upload(r: &dyn Reader, bucket: &str, key: &str, id: &str) -> Result<Upload, AwsError> {
    r.get_json::<Upload>(UPLOADS, &upload_key(bucket, key, id))?
        .ok_or_else(|| no_such_upload(id))
}

pub struct CreateInput {
    pub bucket: String,
    pub key: String,
    pub attrs: ObjectAttributes,
    pub checksum_algorithm: Option<Algorithm>,
    pub checksum_type: Option<String>,
}

pub struct CreateOutput {
    pub upload_id: String,
    pub sse: super::encryption::Sse,
    pub checksum_algorithm: Option<Algorithm>,
    pub checksum_type: Option<String>,
}

pub fn create(
    w: &mut dyn Writer,
    call: &Call,
    input: &CreateInput,
) -> Result<CreateOutput, AwsError> {
    let (.., lock) = objects::write_checks(w, call, &input.bucket, &input.key, &input.attrs)?;
    let checksum_type = match (&input.checksum_type, input.checksum_algorithm) {
        (None, Some(_)) => Some("COMPOSITE".to_string()),
        (None, None) => None,
        (Some(t), Some(_)) if t == "COMPOSITE" => Some(t.clone()),
        (Some(t), _) if t == "FULL_OBJECT" => {
            // Full-object CRCs of multipart uploads would need the parts' CRCs combined.
            return Err(super::not_implemented().with("Header", "x-amz-checksum-type"));
        }
        (Some(t), None) if t == "COMPOSITE" => {
            return Err(invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ))
        }
        (Some(t), _) => {
            return Err(invalid_argument(
                "Value for x-amz-checksum-type header is invalid.",
                "x-amz-checksum-type",
                t,
            ))
        }
    };
    let id = new_upload_id();
    let sse =
        super::encryption::for_new_object(&existing_bucket(w, &input.bucket)?, &input.attrs.sse);
    let p = &call.ctx.principal;
    let upload = Upload {
        id: id.clone(),
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        initiated: call.ctx.time.timestamp_millis(),
        owner: if p.account.is_empty() {
            existing_bucket(w, &input.bucket)?.owner
        } else {
            p.account.clone()
        },
        initiator: p.arn(),
        initiator_id: p.user_id(),
        headers: input.attrs.headers.clone(),
        metadata: input.attrs.metadata.clone(),
        acl: None,
        acl_canned: input.attrs.acl.canned.clone(),
        checksum_algorithm: input.checksum_algorithm,
        checksum_type: checksum_type.clone(),
        storage_class: input.attrs.storage_class.clone(),
        tags: input.attrs.tags.clone().unwrap_or_default(),
        sse: Some(sse.clone()),
        retention: lock.retention,
        legal_hold: lock.legal_hold,
    };
    w.put_json(
        UPLOADS,
        &upload_key(&input.bucket, &input.key, &id),
        &upload,
    )?;
    Ok(CreateOutput {
        upload_id: id,
        sse,
        checksum_algorithm: input.checksum_algorithm,
        checksum_type,
    })
}

fn check_part_number(n: u32) -> Result<(), AwsError> {
    if (1..=MAX_PARTS).contains(&n) {
        Ok(())
    } else {
        Err(invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            &n.to_string(),
        ))
    }
}

/// Before a part's body is read: the upload exists and the caller may write the object.
/// Returns the checksum algorithm the upload declared, which every part must carry.
pub fn upload_part_precheck(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part: u32,
) -> Result<Option<Algorithm>, AwsError> {
    let b = existing_bucket(r, bucket)?;
    check_part_number(part)?;
    let upload = existing_upload(r, bucket, key, upload_id)?;
    authorize::check(r, call, "s3:PutObject", &Target::object(&b, key, None), &[])?;
    Ok(upload.checksum_algorithm)
}

pub struct UploadPartInput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number: u32,
    pub body: ReceivedBody,
    /// The request carried Content-MD5 or a flexible checksum (needed for a part of an object
    /// Object Lock will protect).
    pub digest_sent: bool,
}

pub struct UploadPartOutput {
    pub etag: String,
    pub sse: super::encryption::Sse,
    pub checksum: Option<(Algorithm, String)>,
    pub garbage: Garbage,
}

pub fn upload_part(
    blobs: &dyn BlobStore,
    w: &mut dyn Writer,
    call: &Call,
    input: UploadPartInput,
) -> Result<UploadPartOutput, AwsError> {
    let b = existing_bucket(w, &input.bucket)?;
    check_part_number(input.part_number)?;
    let upload = existing_upload(w, &input.bucket, &input.key, &input.upload_id)?;
    authorize::check(
        w,
        call,
        "s3:PutObject",
        &Target::object(&b, &input.key, None),
        &[],
    )?;
    let locked = upload.retention.is_some() || upload.legal_hold.is_some();
    if super::object_lock::part_needs_digest(&b, locked) && !input.digest_sent {
        return Err(super::object_lock::digest_required());
    }
    if let (Some(want), Some((got, _))) = (upload.checksum_algorithm, &input.body.checksum) {
        if want != *got {
            return Err(invalid_request(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                want.name().to_ascii_lowercase(),
                got.name().to_ascii_lowercase()
            )));
        }
    }
    let etag = checksums::etag_of_md5(&input.body.md5);
    let blob = match &input.body.blob {
        Some(id) => id.clone(),
        None => {
            // An empty part still needs a body record; it holds no bytes.
            String::new()
        }
    };
    let part = Part {
        number: input.part_number,
        size: input.body.size,
        etag: etag.clone(),
        modified: call.ctx.time.timestamp_millis(),
        blob,
        checksum: input.body.checksum.as_ref().map(|(a, v)| Checksum {
            algorithm: *a,
            value: v.clone(),
            kind: "FULL_OBJECT".into(),
        }),
    };
    let key = part_key(&input.upload_id, input.part_number);
    let replaced: Option<Part> = w.get_json(PARTS, &key)?;
    objects::publish(blobs, &input.body)?;
    w.put_json(PARTS, &key, &part)?;
    Ok(UploadPartOutput {
        etag,
        sse: upload
            .sse
            .clone()
            .unwrap_or_else(super::encryption::Sse::s3),
        checksum: input.body.checksum,
        garbage: replaced
            .map(|p| p.blob)
            .filter(|b| !b.is_empty())
            .into_iter()
            .collect(),
    })
}

fn parts_of(r: &dyn Reader, upload_id: &str) -> Result<Vec<Part>, AwsError> {
    Ok(
        r.scan_prefix_json::<Part>(PARTS, format!("{upload_id}/").as_bytes(), usize::MAX)?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
    )
}

/// One `<Part>` of a CompleteMultipartUpload body.
#[derive(Clone, Debug)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    pub checksums: Vec<(Algorithm, String)>,
}

/// Reads the CompleteMultipartUpload document.
pub fn parse_complete(doc: &Element) -> Result<Vec<CompletedPart>, AwsError> {
    if doc.name != "CompleteMultipartUpload" {
        return Err(malformed_xml());
    }
    let mut parts = Vec::new();
    for p in doc.children("Part") {
        let number = p
            .child_text("PartNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(malformed_xml)?;
        let etag = p.child_text("ETag").ok_or_else(malformed_xml)?.to_string();
        let checksums = checksums::ALL
            .into_iter()
            .filter_map(|a| p.child_text(a.element()).map(|v| (a, v.to_string())))
            .collect();
        parts.push(CompletedPart {
            number,
            etag,
            checksums,
        });
    }
    if parts.is_empty() {
        return Err(malformed_xml());
    }
    Ok(parts)
}

pub struct CompleteInput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub parts: Vec<CompletedPart>,
    pub conditions: WriteConditions,
}

pub struct CompleteOutput {
    pub version_id: Option<String>,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub sse: super::encryption::Sse,
    pub checksum: Option<Checksum>,
    pub garbage: Garbage,
}

fn invalid_part(upload: &str, p: &CompletedPart) -> AwsError {
    AwsError::new(
        400,
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    )
    .with("UploadId", upload)
    .with("PartNumber", p.number.to_string())
    .with("ETag", p.etag.clone())
}

fn same_etag(a: &str, b: &str) -> bool {
    a.trim().trim_matches('"') == b.trim().trim_matches('"')
}

pub fn complete(
    blobs: &dyn BlobStore,
    w: &mut dyn Writer,
    call: &Call,
    input: &CompleteInput,
) -> Result<CompleteOutput, AwsError> {
    let _ = blobs;
    let b: Bucket = existing_bucket(w, &input.bucket)?;
    let upload = existing_upload(w, &input.bucket, &input.key, &input.upload_id)?;
    authorize::check(
        w,
        call,
        "s3:PutObject",
        &Target::object(&b, &input.key, None),
        &upload
            .acl_canned
            .iter()
            .map(|c| ("s3:x-amz-acl", c.clone()))
            .collect::<Vec<_>>(),
    )?;
    for pair in input.parts.windows(2) {
        if pair[1].number <= pair[0].number {
            return Err(AwsError::new(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
            .with("UploadId", input.upload_id.clone()));
        }
    }
    let stored = parts_of(w, &input.upload_id)?;
    let mut chosen: Vec<&Part> = Vec::with_capacity(input.parts.len());
    for (i, p) in input.parts.iter().enumerate() {
        let part = stored
            .iter()
            .find(|s| s.number == p.number)
            .filter(|s| same_etag(&s.etag, &p.etag))
            .ok_or_else(|| invalid_part(&input.upload_id, p))?;
        for (alg, value) in &p.checksums {
            let ok = part
                .checksum
                .as_ref()
                .is_some_and(|c| c.algorithm == *alg && c.value == *value);
            if !ok {
                return Err(invalid_part(&input.upload_id, p));
            }
        }
        if i + 1 < input.parts.len() && part.size < MIN_PART {
            return Err(AwsError::new(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
            )
            .with("ProposedSize", part.size.to_string())
            .with("MinSizeAllowed", MIN_PART.to_string())
            .with("PartNumber", p.number.to_string())
            .with("ETag", p.etag.clone()));
        }
        chosen.push(part);
    }
    let existing = get_object(w, &input.bucket, &input.key)?;
    objects::check_write_conditions(existing.as_ref(), &input.key, &input.conditions)?;
    let md5s: Vec<Vec<u8>> = chosen
        .iter()
        .map(|p| hex::decode(p.etag.trim_matches('"')).unwrap_or_default())
        .collect();
    let etag = checksums::multipart_etag(&md5s);
    let checksum = match upload.checksum_algorithm {
        None => None,
        Some(alg) => {
            let values: Option<Vec<String>> = chosen
                .iter()
                .map(|p| {
                    p.checksum
                        .as_ref()
                        .filter(|c| c.algorithm == alg)
                        .map(|c| c.value.clone())
                })
                .collect();
            let values = values.ok_or_else(|| {
                invalid_request(format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part.",
                    alg.name().to_ascii_lowercase()
                ))
            })?;
            Some(Checksum {
                algorithm: alg,
                value: checksums::composite(alg, &values)
                    .ok_or_else(|| super::internal("bad stored checksum"))?,
                kind: "COMPOSITE".into(),
            })
        }
    };
    let acl_req = super::acl::AclRequest {
        canned: upload.acl_canned.clone(),
        ..Default::default()
    };
    let (owner, grants) = objects::owner_and_acl(&b, call, &acl_req)?;
    let mut object = Object {
        size: chosen.iter().map(|p| p.size).sum(),
        etag: etag.clone(),
        modified: call.ctx.time.timestamp_millis(),
        // Every part is a segment, empty ones included, so GetObject?partNumber=N can find
        // part N by position.
        segments: chosen
            .iter()
            .map(|p| Segment {
                blob: p.blob.clone(),
                size: p.size,
            })
            .collect(),
        parts: Some(chosen.len() as u32),
        headers: upload.headers.clone(),
        metadata: upload.metadata.clone(),
        checksum: checksum.clone(),
        owner,
        acl: grants,
        storage_class: upload.storage_class.clone().filter(|c| c != "STANDARD"),
        tags: upload.tags.clone(),
        sse: upload.sse.clone(),
        ..Default::default()
    };
    let lock = super::object_lock::NewLock {
        retention: upload.retention,
        legal_hold: upload.legal_hold.clone(),
    };
    super::object_lock::apply(&b, &lock, call.ctx.time, &mut object);
    let used: std::collections::HashSet<&str> = chosen.iter().map(|p| p.blob.as_str()).collect();
    let mut garbage: Garbage = stored
        .iter()
        .filter(|p| !p.blob.is_empty() && !used.contains(p.blob.as_str()))
        .map(|p| p.blob.clone())
        .collect();
    drop(existing);
    w.delete(
        UPLOADS,
        &upload_key(&input.bucket, &input.key, &input.upload_id),
    )?;
    w.delete_prefix(PARTS, format!("{}/", input.upload_id).as_bytes())?;
    let written =
        super::versions::write_new(w, &b, &input.key, call.ctx.time.timestamp_micros(), object)?;
    garbage.extend(written.garbage);
    Ok(CompleteOutput {
        version_id: written.version_id,
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        etag,
        sse: upload
            .sse
            .clone()
            .unwrap_or_else(super::encryption::Sse::s3),
        checksum,
        garbage,
    })
}

pub fn abort(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Garbage, AwsError> {
    let b = existing_bucket(w, bucket)?;
    check_key(key)?;
    authorize::check(
        w,
        call,
        "s3:AbortMultipartUpload",
        &Target::object(&b, key, None),
        &[],
    )?;
    existing_upload(w, bucket, key, upload_id)?;
    discard_upload(w, bucket, key, upload_id)
}

/// Removes an upload and its parts without asking anyone (AbortMultipartUpload once authorized,
/// and S3's own lifecycle abort); returns the parts' blobs, to remove after the commit.
pub fn discard_upload(
    w: &mut dyn Writer,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Garbage, AwsError> {
    let garbage = parts_of(w, upload_id)?
        .into_iter()
        .map(|p| p.blob)
        .filter(|b| !b.is_empty())
        .collect();
    w.delete(UPLOADS, &upload_key(bucket, key, upload_id))?;
    w.delete_prefix(PARTS, format!("{upload_id}/").as_bytes())?;
    Ok(garbage)
}

/// An upload, if it is still in progress (S3's own lifecycle abort rechecks in its transaction).
pub fn find_upload(
    r: &dyn Reader,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<Upload>, AwsError> {
    Ok(r.get_json::<Upload>(UPLOADS, &upload_key(bucket, key, upload_id))?)
}

pub struct ListPartsInput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub max_parts: usize,
    pub marker: u32,
}

pub struct ListPartsOutput {
    pub upload: Upload,
    pub parts: Vec<Part>,
    pub marker: u32,
    pub next_marker: Option<u32>,
    pub max_parts: usize,
    pub truncated: bool,
}

pub fn list_parts(
    r: &dyn Reader,
    call: &Call,
    input: &ListPartsInput,
) -> Result<ListPartsOutput, AwsError> {
    let b = existing_bucket(r, &input.bucket)?;
    authorize::check(
        r,
        call,
        "s3:ListMultipartUploadParts",
        &Target::object(&b, &input.key, None),
        &[],
    )?;
    let upload = existing_upload(r, &input.bucket, &input.key, &input.upload_id)?;
    let from = part_key(&input.upload_id, input.marker);
    let end = part_key(&input.upload_id, 99999);
    let rows = r.scan(
        PARTS,
        Bound::Excluded(&from),
        Bound::Included(&end),
        input.max_parts + 1,
        false,
    )?;
    let mut parts: Vec<Part> = rows
        .iter()
        .map(|(_, v)| serde_json::from_slice(v))
        .collect::<Result<_, _>>()
        .map_err(super::internal)?;
    let truncated = parts.len() > input.max_parts;
    parts.truncate(input.max_parts);
    let next_marker = truncated.then(|| parts.last().map(|p| p.number)).flatten();
    Ok(ListPartsOutput {
        upload,
        parts,
        marker: input.marker,
        next_marker,
        max_parts: input.max_parts,
        truncated,
    })
}

#[derive(Clone)]
pub struct ListUploadsInput {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: usize,
}

pub struct ListUploadsOutput {
    pub uploads: Vec<Upload>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

pub fn list_uploads(
    r: &dyn Reader,
    call: &Call,
    input: &ListUploadsInput,
) -> Result<ListUploadsOutput, AwsError> {
    let b = existing_bucket(r, &input.bucket)?;
    authorize::check(
        r,
        call,
        "s3:ListBucketMultipartUploads",
        &Target::bucket(&b),
        &[],
    )?;
    let base = object_key(&input.bucket, &input.prefix);
    let end = crate::store::prefix_end(&base).expect("bucket keys end below 0xff");
    // Uploads of the marker key after the upload-id marker, then keys after the marker.
    let start = match (&input.key_marker, &input.upload_id_marker) {
        (Some(k), Some(u)) => upload_key(&input.bucket, k, u),
        (Some(k), None) => {
            let mut s = object_key(&input.bucket, k);
            s.push(1);
            s
        }
        (None, _) => base.clone(),
    };
    let lower = if input.key_marker.is_some() {
        Bound::Excluded(start.as_slice())
    } else {
        Bound::Included(start.as_slice())
    };
    let mut uploads = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    for (_, v) in r.scan(UPLOADS, lower, Bound::Excluded(&end), usize::MAX, false)? {
        let u: Upload = serde_json::from_slice(&v).map_err(super::internal)?;
        let rolled = input.delimiter.as_ref().and_then(|d| {
            u.key[input.prefix.len()..]
                .find(d.as_str())
                .map(|i| u.key[..input.prefix.len() + i + d.len()].to_string())
        });
        if let Some(cp) = &rolled {
            if prefixes.last() == Some(cp) {
                continue;
            }
        }
        if uploads.len() + prefixes.len() == input.max_uploads {
            truncated = true;
            break;
        }
        match rolled {
            Some(cp) => prefixes.push(cp),
            None => uploads.push(u),
        }
    }
    let (next_key_marker, next_upload_id_marker) = if truncated {
        match uploads.last() {
            Some(u) => (Some(u.key.clone()), Some(u.id.clone())),
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(ListUploadsOutput {
        uploads,
        common_prefixes: prefixes,
        truncated,
        next_key_marker,
        next_upload_id_marker,
    })
}

/// UploadPartCopy's request: a byte range of an existing object becomes a part.
#[derive(Clone, Debug)]
pub struct PartCopyInput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number: u32,
    pub source_bucket: String,
    pub source_key: String,
    pub source_version_id: Option<String>,
    /// `x-amz-copy-source-range: bytes=first-last` (inclusive), as sent.
    pub range: Option<String>,
    pub source_conditions: objects::ReadConditions,
}

fn parse_copy_range(raw: &str, size: u64) -> Result<(u64, u64), AwsError> {
    let bad = || {
        invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            raw,
        )
    };
    let spec = raw.trim().strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let first: u64 = a.trim().parse().map_err(|_| bad())?;
    let last: u64 = b.trim().parse().map_err(|_| bad())?;
    if last < first {
        return Err(bad());
    }
    if last >= size {
        return Err(invalid_argument(
            &format!("Range specified is not valid for source object of size: {size}"),
            "x-amz-copy-source-range",
            raw,
        )
        .with("ActualObjectSize", size.to_string()));
    }
    Ok((first, last))
}

/// Authorizes an UploadPartCopy (GetObject on the source, PutObject on the upload's key) and
/// opens the source range; the upload's checksum algorithm is the one the part gets.
pub fn part_copy_prepare(
    blobs: &dyn BlobStore,
    r: &dyn Reader,
    call: &Call,
    input: &PartCopyInput,
) -> Result<objects::CopySource, AwsError> {
    let algorithm = upload_part_precheck(
        r,
        call,
        &input.bucket,
        &input.key,
        &input.upload_id,
        input.part_number,
    )?;
    let src = objects::copy_source_object(
        r,
        call,
        &input.source_bucket,
        &input.source_key,
        input.source_version_id.as_deref(),
        &input.source_conditions,
    )?;
    let (start, len) = match &input.range {
        Some(raw) => {
            let (a, z) = parse_copy_range(raw, src.size)?;
            (a, z - a + 1)
        }
        None => (0, src.size),
    };
    if len > super::MAX_PUT {
        return Err(AwsError::new(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
    }
    let body = objects::open_range(blobs, &src.segments, start, len)?;
    Ok(objects::CopySource {
        object: src,
        body,
        algorithm,
    })
}
