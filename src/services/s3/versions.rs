//! Versioning: Put/GetBucketVersioning, version ids, delete markers, ListObjectVersions.
//!
//! Layout (backwards compatible with data directories of unversioned Cairn):
//! - `s3.objects` `<bucket>/<key>` holds the current version of a key, unless the current
//!   version is a delete marker; ListObjects(V2) therefore stays a bounded scan of it.
//! - `s3.versions` `<bucket>/<key>\0<inverted sequence>` holds every other version (noncurrent
//!   versions and delete markers), newest first. The current version in `s3.objects` is always
//!   newer than every row here.
//!
//! A version's sequence is microseconds, strictly increasing per key. Its id is 32 URL-safe
//! characters: 11 that encode the inverted sequence in an order-preserving alphabet, then 21
//! random ones, so an id names its row (one point read) and ids sort newest first.

use super::authorize::{self, Target};
use super::objects::{blob_ids, Garbage};
use super::xml::Element;
use super::{
    existing_bucket, invalid_argument, malformed_xml, object_key, Bucket, Call, Object, OBJECTS,
    VERSIONS,
};
use crate::error::AwsError;
use crate::store::{prefix_end, Reader, ReaderExt, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::ops::Bound;

/// A bucket's versioning configuration as put.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versioning {
    /// `Enabled` or `Suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `Disabled` (Enabled needs an MFA device, which Cairn has none of).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_delete: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unversioned,
    Enabled,
    Suspended,
}

pub fn state(b: &Bucket) -> State {
    match b
        .config
        .versioning
        .as_ref()
        .and_then(|v| v.status.as_deref())
    {
        Some("Enabled") => State::Enabled,
        Some("Suspended") => State::Suspended,
        _ => State::Unversioned,
    }
}

/// Order-preserving base64 alphabet (ASCII order).
const ALPHABET: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const SEQ_CHARS: usize = 11;
pub const VERSION_ID_LEN: usize = 32;

/// The 11 characters that place a sequence: newer (larger) sorts first.
pub fn encode_seq(seq: u64) -> String {
    let v = !seq;
    (0..SEQ_CHARS)
        .map(|i| {
            let shift = 6 * (SEQ_CHARS - 1 - i);
            let d = if shift >= 64 { 0 } else { (v >> shift) & 63 };
            ALPHABET[d as usize] as char
        })
        .collect()
}

fn digit(c: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u64)
}

pub fn decode_seq(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < SEQ_CHARS {
        return None;
    }
    let mut v: u64 = 0;
    for (i, &c) in b[..SEQ_CHARS].iter().enumerate() {
        let d = digit(c)?;
        if i == 0 && d > 15 {
            return None;
        }
        v = (v << 6) | d;
    }
    Some(!v)
}

pub fn new_version_id(seq: u64) -> String {
    let mut id = encode_seq(seq);
    for _ in SEQ_CHARS..VERSION_ID_LEN {
        id.push(ALPHABET[rand::random::<u8>() as usize % 64] as char);
    }
    id
}

/// A version id as a request gives it: `null`, or one of ours (else InvalidArgument).
pub fn check_version_id(v: &str) -> Result<Option<u64>, AwsError> {
    if v == "null" {
        return Ok(None);
    }
    if v.len() != VERSION_ID_LEN || !v.bytes().all(|c| digit(c).is_some()) {
        return Err(invalid_version(v));
    }
    decode_seq(v).map(Some).ok_or_else(|| invalid_version(v))
}

pub fn invalid_version(v: &str) -> AwsError {
    invalid_argument("Invalid version id specified", "versionId", v)
}

pub fn no_such_version(key: &str, v: &str) -> AwsError {
    AwsError::new(
        404,
        "NoSuchVersion",
        "The specified version does not exist.",
    )
    .with("Key", key)
    .with("VersionId", v)
}

fn versions_prefix(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = object_key(bucket, key);
    k.push(0);
    k
}

pub fn row_key(bucket: &str, key: &str, seq: u64) -> Vec<u8> {
    let mut k = versions_prefix(bucket, key);
    k.extend_from_slice(encode_seq(seq).as_bytes());
    k
}

/// A version's sequence; objects written before versioning get one from their time.
pub fn seq_of(o: &Object) -> u64 {
    o.seq.unwrap_or((o.modified.max(0) as u64) * 1000)
}

/// Where a version is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Current,
    Row(Vec<u8>),
}

fn rows_of(
    r: &dyn Reader,
    bucket: &str,
    key: &str,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Object)>, AwsError> {
    Ok(r.scan_prefix_json::<Object>(VERSIONS, &versions_prefix(bucket, key), limit)?)
}

/// The newest version of a key, delete markers included, and where it is.
pub fn latest(r: &dyn Reader, b: &Bucket, key: &str) -> Result<Option<(Place, Object)>, AwsError> {
    if let Some(o) = super::get_object(r, &b.name, key)? {
        return Ok(Some((Place::Current, o)));
    }
    if b.config.versioning.is_none() {
        return Ok(None);
    }
    Ok(rows_of(r, &b.name, key, 1)?
        .into_iter()
        .next()
        .map(|(k, o)| (Place::Row(k), o)))
}

/// Versions kept in `s3.versions`, with their rows, newest first.
pub type VersionRows = Vec<(Vec<u8>, Object)>;

/// Every version of a key: the current one (None when it is a delete marker or there is none)
/// and the rest with their rows, newest first (when there is no current one, the first of them
/// is the current delete marker). S3's lifecycle reads a key's history through this.
pub fn history(
    r: &dyn Reader,
    bucket: &str,
    key: &str,
) -> Result<(Option<Object>, VersionRows), AwsError> {
    Ok((
        super::get_object(r, bucket, key)?,
        rows_of(r, bucket, key, usize::MAX)?,
    ))
}

/// The version `version_id` (`null` or ours) of a key.
pub fn find(
    r: &dyn Reader,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Result<Option<(Place, Object)>, AwsError> {
    let seq = check_version_id(version_id)?;
    let wanted = (version_id != "null").then_some(version_id);
    if let Some(o) = super::get_object(r, bucket, key)? {
        if o.version_id.as_deref() == wanted {
            return Ok(Some((Place::Current, o)));
        }
    }
    match seq {
        Some(seq) => {
            let k = row_key(bucket, key, seq);
            Ok(r.get_json::<Object>(VERSIONS, &k)?
                .filter(|o| o.version_id.as_deref() == wanted)
                .map(|o| (Place::Row(k), o)))
        }
        None => Ok(rows_of(r, bucket, key, usize::MAX)?
            .into_iter()
            .find(|(_, o)| o.version_id.is_none())
            .map(|(k, o)| (Place::Row(k), o))),
    }
}

/// Writes back a version found with [`find`] (ACL or tags changed).
pub fn store(
    w: &mut dyn Writer,
    bucket: &str,
    key: &str,
    place: &Place,
    o: &Object,
) -> Result<(), AwsError> {
    match place {
        Place::Current => w.put_json(OBJECTS, &object_key(bucket, key), o)?,
        Place::Row(k) => w.put_json(VERSIONS, k, o)?,
    }
    Ok(())
}

/// The refusal of a read that found a delete marker.
pub fn delete_marker_error(o: &Object, key: &str, by_id: bool, method: &str) -> AwsError {
    let e = if by_id {
        AwsError::new(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .with("Method", method)
        .with("ResourceType", "DeleteMarker")
        .with("Allow", "DELETE")
    } else {
        super::no_such_key(key)
    };
    let e = e.with("x-amz-delete-marker", "true");
    match (&o.version_id, o.seq) {
        (Some(v), _) => e.with("x-amz-version-id", v.clone()),
        (None, Some(_)) if by_id => e.with("x-amz-version-id", "null"),
        _ => e,
    }
}

/// The version id header a version answers with (none for objects of never-versioned
/// buckets).
pub fn header_of(o: &Object) -> Option<&str> {
    match (&o.version_id, o.seq) {
        (Some(v), _) => Some(v),
        (None, Some(_)) => Some("null"),
        _ => None,
    }
}

/// The next sequence for a key: now, or just after its newest version.
fn next_seq(r: &dyn Reader, b: &Bucket, key: &str, now_micros: i64) -> Result<u64, AwsError> {
    let newest = latest(r, b, key)?.map(|(_, o)| seq_of(&o));
    let now = now_micros.max(0) as u64;
    Ok(match newest {
        Some(n) if n >= now => n + 1,
        _ => now,
    })
}

/// Removes the key's `null` version, wherever it is (Suspended writes replace it).
fn remove_null(w: &mut dyn Writer, bucket: &str, key: &str) -> Result<Garbage, AwsError> {
    let mut garbage = Vec::new();
    if let Some(o) = super::get_object(w, bucket, key)? {
        if o.version_id.is_none() {
            w.delete(OBJECTS, &object_key(bucket, key))?;
            garbage.extend(blob_ids(&o));
        }
    }
    for (k, o) in rows_of(w, bucket, key, usize::MAX)? {
        if o.version_id.is_none() {
            w.delete(VERSIONS, &k)?;
            garbage.extend(blob_ids(&o));
        }
    }
    Ok(garbage)
}

/// Moves the current version (if any) among the noncurrent ones.
fn demote_current(w: &mut dyn Writer, bucket: &str, key: &str) -> Result<(), AwsError> {
    if let Some(mut o) = super::get_object(w, bucket, key)? {
        let seq = seq_of(&o);
        o.seq = Some(seq);
        w.delete(OBJECTS, &object_key(bucket, key))?;
        w.put_json(VERSIONS, &row_key(bucket, key, seq), &o)?;
    }
    Ok(())
}

/// What a write of a new version did.
pub struct Written {
    /// The `x-amz-version-id` to answer (None in a never-versioned bucket).
    pub version_id: Option<String>,
    pub garbage: Garbage,
}

/// Writes `object` as the key's new current version, under the bucket's versioning state:
/// never versioned, it replaces the object; Enabled, it gets a new id and the old current
/// version stays as a noncurrent one; Suspended, it is the `null` version (replacing any).
pub fn write_new(
    w: &mut dyn Writer,
    b: &Bucket,
    key: &str,
    now_micros: i64,
    mut object: Object,
) -> Result<Written, AwsError> {
    let bucket = b.name.as_str();
    let mut garbage = Vec::new();
    let version_id = match state(b) {
        State::Unversioned => {
            if let Some(old) = super::get_object(w, bucket, key)? {
                garbage.extend(blob_ids(&old));
            }
            object.version_id = None;
            object.seq = None;
            None
        }
        State::Enabled => {
            let seq = next_seq(w, b, key, now_micros)?;
            demote_current(w, bucket, key)?;
            let id = new_version_id(seq);
            object.version_id = Some(id.clone());
            object.seq = Some(seq);
            Some(id)
        }
        State::Suspended => {
            let seq = next_seq(w, b, key, now_micros)?;
            garbage.extend(remove_null(w, bucket, key)?);
            demote_current(w, bucket, key)?;
            object.version_id = None;
            object.seq = Some(seq);
            Some("null".to_string())
        }
    };
    object.delete_marker = false;
    w.put_json(OBJECTS, &object_key(bucket, key), &object)?;
    Ok(Written {
        version_id,
        garbage,
    })
}

/// What DeleteObject did.
#[derive(Clone, Debug, Default)]
pub struct Deleted {
    pub version_id: Option<String>,
    pub delete_marker: bool,
    pub garbage: Garbage,
}

/// DeleteObject without a version id: removes the object of a never-versioned bucket, else
/// adds a delete marker (the `null` one when versioning is suspended).
pub fn delete_current(
    w: &mut dyn Writer,
    b: &Bucket,
    key: &str,
    owner: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Deleted, AwsError> {
    let bucket = b.name.as_str();
    let st = state(b);
    if st == State::Unversioned {
        let mut garbage = Vec::new();
        if let Some(o) = super::get_object(w, bucket, key)? {
            w.delete(OBJECTS, &object_key(bucket, key))?;
            garbage.extend(blob_ids(&o));
        }
        return Ok(Deleted {
            garbage,
            ..Default::default()
        });
    }
    let seq = next_seq(w, b, key, now.timestamp_micros())?;
    let mut garbage = Vec::new();
    let id = if st == State::Enabled {
        Some(new_version_id(seq))
    } else {
        garbage.extend(remove_null(w, bucket, key)?);
        None
    };
    demote_current(w, bucket, key)?;
    let marker = Object {
        modified: now.timestamp_millis(),
        owner: owner.to_string(),
        version_id: id.clone(),
        seq: Some(seq),
        delete_marker: true,
        ..Default::default()
    };
    w.put_json(VERSIONS, &row_key(bucket, key, seq), &marker)?;
    Ok(Deleted {
        version_id: Some(id.unwrap_or_else(|| "null".into())),
        delete_marker: true,
        garbage,
    })
}

/// DeleteObject with a version id: removes that version for good (a delete marker too). When
/// it was the current one, the next newest becomes current.
pub fn delete_version(
    w: &mut dyn Writer,
    b: &Bucket,
    key: &str,
    version_id: &str,
    found: Option<(Place, Object)>,
) -> Result<Deleted, AwsError> {
    let bucket = b.name.as_str();
    let Some((place, o)) = found else {
        return Ok(Deleted {
            version_id: Some(version_id.to_string()),
            ..Default::default()
        });
    };
    match &place {
        Place::Current => {
            w.delete(OBJECTS, &object_key(bucket, key))?;
            promote(w, bucket, key)?;
        }
        Place::Row(k) => {
            w.delete(VERSIONS, k)?;
            // A current delete marker removed: the version under it is current again.
            if super::get_object(w, bucket, key)?.is_none() {
                promote(w, bucket, key)?;
            }
        }
    }
    Ok(Deleted {
        version_id: Some(version_id.to_string()),
        delete_marker: o.delete_marker,
        garbage: blob_ids(&o),
    })
}

/// After the current version went: the newest noncurrent version becomes current, unless it
/// is a delete marker (which is then current where it is).
fn promote(w: &mut dyn Writer, bucket: &str, key: &str) -> Result<(), AwsError> {
    if let Some((k, o)) = rows_of(w, bucket, key, 1)?.into_iter().next() {
        if !o.delete_marker {
            w.delete(VERSIONS, &k)?;
            w.put_json(OBJECTS, &object_key(bucket, key), &o)?;
        }
    }
    Ok(())
}

/// Whether a bucket holds any version (DeleteBucket).
pub fn any_version(r: &dyn Reader, bucket: &str) -> Result<bool, AwsError> {
    Ok(!r
        .scan_prefix_json::<serde_json::Value>(VERSIONS, format!("{bucket}/").as_bytes(), 1)?
        .is_empty())
}

// Configuration.

pub fn get_versioning(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:GetBucketVersioning", &Target::bucket(&b), &[])?;
    let mut w = super::xml::Writer::document("VersioningConfiguration");
    if let Some(v) = &b.config.versioning {
        w.opt("Status", v.status.as_deref());
        w.opt("MfaDelete", v.mfa_delete.as_deref());
    }
    Ok(w.finish("VersioningConfiguration"))
}

/// What no MFA device can pass: Cairn has none.
pub fn mfa_refused() -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        "Mfa Authentication must be used for this request",
    )
}

pub fn put_versioning(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:PutBucketVersioning", &Target::bucket(&b), &[])?;
    if doc.name != "VersioningConfiguration" {
        return Err(malformed_xml());
    }
    let status = doc.child_text("Status").map(str::to_string);
    let mfa = doc.child_text("MfaDelete").map(str::to_string);
    if status
        .as_deref()
        .is_some_and(|s| s != "Enabled" && s != "Suspended")
        || mfa
            .as_deref()
            .is_some_and(|s| s != "Enabled" && s != "Disabled")
    {
        return Err(malformed_xml());
    }
    if mfa.as_deref() == Some("Enabled") {
        return Err(mfa_refused());
    }
    if super::object_lock::enabled(&b) && status.as_deref() == Some("Suspended") {
        return Err(super::object_lock::versioning_locked());
    }
    let mut v = b.config.versioning.clone().unwrap_or_default();
    if status.is_some() {
        v.status = status;
    }
    if mfa.is_some() {
        v.mfa_delete = mfa;
    }
    if v != Versioning::default() || b.config.versioning.is_some() {
        b.config.versioning = Some(v);
    }
    w.put_json(super::BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

// ListObjectVersions.

#[derive(Clone, Debug, Default)]
pub struct ListVersionsInput {
    pub bucket: String,
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub max_keys: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
}

pub enum VersionEntry {
    /// A version or delete marker: key, the version, whether it is the latest.
    Version(String, Box<Object>, bool),
    Prefix(String),
}

pub struct ListVersionsOutput {
    pub entries: Vec<VersionEntry>,
    pub truncated: bool,
    pub max_keys: usize,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

/// A batched scan of one table in the merged order of versions: an `s3.objects` row sorts as
/// `<bucket>/<key>\0` (before the key's rows in `s3.versions`, which are older).
struct Cursor {
    table: crate::store::Table,
    current: bool,
    lower: Vec<u8>,
    inclusive: bool,
    upper: Vec<u8>,
    buf: VecDeque<(Vec<u8>, Vec<u8>)>,
    exhausted: bool,
    batch: usize,
}

impl Cursor {
    fn new(
        table: crate::store::Table,
        current: bool,
        lower: Vec<u8>,
        inclusive: bool,
        upper: Vec<u8>,
        batch: usize,
    ) -> Cursor {
        Cursor {
            table,
            current,
            lower,
            inclusive,
            upper,
            buf: VecDeque::new(),
            exhausted: false,
            batch,
        }
    }

    fn seek(&mut self, to: Vec<u8>) {
        self.buf.retain(|(k, _)| *k >= to);
        if self.buf.is_empty() {
            self.lower = to;
            self.inclusive = true;
        }
    }

    fn fill(&mut self, r: &dyn Reader) -> Result<(), AwsError> {
        while self.buf.is_empty() && !self.exhausted {
            // The raw key to scan from: in `s3.objects` the key part of the merged position.
            let raw: Vec<u8> = if self.current {
                match self.lower.iter().rposition(|&c| c == 0) {
                    Some(p) => self.lower[..p].to_vec(),
                    None => self.lower.clone(),
                }
            } else {
                self.lower.clone()
            };
            let from = if self.inclusive || self.current {
                Bound::Included(raw.as_slice())
            } else {
                Bound::Excluded(raw.as_slice())
            };
            let rows = r.scan(
                self.table,
                from,
                Bound::Excluded(&self.upper),
                self.batch,
                false,
            )?;
            if rows.len() < self.batch {
                self.exhausted = true;
            }
            let Some((last, _)) = rows.last() else {
                break;
            };
            let mut last = last.clone();
            if self.current {
                last.push(0);
            }
            for (mut k, v) in rows {
                if self.current {
                    k.push(0);
                }
                let keep = if self.inclusive {
                    k >= self.lower
                } else {
                    k > self.lower
                };
                if keep {
                    self.buf.push_back((k, v));
                }
            }
            self.lower = last;
            self.inclusive = false;
        }
        Ok(())
    }

    fn peek(&mut self, r: &dyn Reader) -> Result<Option<&Vec<u8>>, AwsError> {
        self.fill(r)?;
        Ok(self.buf.front().map(|(k, _)| k))
    }
}

fn parse_max_keys(v: &Option<String>) -> Result<usize, AwsError> {
    match v {
        None => Ok(super::listing::MAX_KEYS),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok((n as usize).min(super::listing::MAX_KEYS)),
            _ => Err(invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                s,
            )),
        },
    }
}

pub fn list_versions(
    r: &dyn Reader,
    call: &Call,
    input: &ListVersionsInput,
) -> Result<ListVersionsOutput, AwsError> {
    let b = existing_bucket(r, &input.bucket)?;
    let mut extra: Vec<(&'static str, String)> = Vec::new();
    if let Some(p) = &input.prefix {
        extra.push(("s3:prefix", p.clone()));
    }
    if let Some(d) = &input.delimiter {
        extra.push(("s3:delimiter", d.clone()));
    }
    if let Some(m) = &input.max_keys {
        extra.push(("s3:max-keys", m.clone()));
    }
    authorize::check(
        r,
        call,
        "s3:ListBucketVersions",
        &Target::bucket(&b),
        &extra,
    )?;
    scan_versions(r, &b, input)
}

/// ListObjectVersions once authorized: a merged, bounded scan of `s3.objects` and
/// `s3.versions` from the markers.
fn scan_versions(
    r: &dyn Reader,
    b: &Bucket,
    input: &ListVersionsInput,
) -> Result<ListVersionsOutput, AwsError> {
    let max_keys = parse_max_keys(&input.max_keys)?;
    let key_marker = input.key_marker.clone().filter(|k| !k.is_empty());
    let vid_marker = input.version_id_marker.clone().filter(|k| !k.is_empty());
    if vid_marker.is_some() && key_marker.is_none() {
        return Err(invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            vid_marker.as_deref().unwrap_or(""),
        ));
    }
    let bucket = b.name.as_str();
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let base = object_key(bucket, "");
    let upper = prefix_end(&object_key(bucket, &prefix)).expect("bucket keys end below 0xff");
    // The merged position to start from, and whether it is included.
    let mut lower = object_key(bucket, &prefix);
    let mut inclusive = true;
    let mut mid_key: Option<String> = None;
    if let Some(km) = &key_marker {
        let (pos, incl) = match &vid_marker {
            None => (
                prefix_end(&versions_prefix(bucket, km)).expect("ends below 0xff"),
                true,
            ),
            Some(v) => {
                mid_key = Some(km.clone());
                let seq = match check_version_id(v)? {
                    Some(s) => Some(s),
                    None => find(r, bucket, km, "null")?.map(|(_, o)| seq_of(&o)),
                };
                let current_is = super::get_object(r, bucket, km)?
                    .is_some_and(|o| o.version_id.as_deref().unwrap_or("null") == v);
                match seq {
                    _ if current_is => (versions_prefix(bucket, km), false),
                    Some(s) => (row_key(bucket, km, s), false),
                    None => (
                        prefix_end(&versions_prefix(bucket, km)).expect("ends"),
                        true,
                    ),
                }
            }
        };
        if pos > lower {
            lower = pos;
            inclusive = incl;
        }
    }
    let batch = (max_keys + 1).clamp(2, 256);
    let mut cur = Cursor::new(
        OBJECTS,
        true,
        lower.clone(),
        inclusive,
        upper.clone(),
        batch,
    );
    let mut old = Cursor::new(VERSIONS, false, lower, inclusive, upper, batch);
    let mut entries: Vec<VersionEntry> = Vec::new();
    let mut truncated = false;
    let mut last_key: Option<String> = None;
    loop {
        let a = cur.peek(r)?.cloned();
        let o = old.peek(r)?.cloned();
        let from_current = match (&a, &o) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x <= y,
        };
        let composite = if from_current { a } else { o }.expect("peeked");
        let end = composite
            .iter()
            .rposition(|&c| c == 0)
            .unwrap_or(composite.len());
        let key = String::from_utf8_lossy(&composite[base.len()..end]).into_owned();
        let rolled = delimiter.as_ref().and_then(|d| {
            key.get(prefix.len()..)
                .and_then(|rest| rest.find(d.as_str()))
                .map(|i| key[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(cp) = rolled {
            let new = key_marker.as_ref().is_none_or(|m| cp.as_str() > m.as_str());
            if new {
                if entries.len() == max_keys {
                    truncated = true;
                    break;
                }
                entries.push(VersionEntry::Prefix(cp.clone()));
            }
            match prefix_end(&object_key(bucket, &cp)) {
                Some(end) => {
                    cur.seek(end.clone());
                    old.seek(end);
                }
                None => break,
            }
            continue;
        }
        if entries.len() == max_keys {
            truncated = true;
            break;
        }
        let (_, v) = if from_current {
            cur.buf.pop_front()
        } else {
            old.buf.pop_front()
        }
        .expect("peeked");
        let version: Object = serde_json::from_slice(&v).map_err(super::internal)?;
        let first_of_key =
            last_key.as_deref() != Some(key.as_str()) && mid_key.as_deref() != Some(key.as_str());
        let is_latest = from_current || (version.delete_marker && first_of_key);
        last_key = Some(key.clone());
        entries.push(VersionEntry::Version(key, Box::new(version), is_latest));
    }
    let (next_key_marker, next_version_id_marker) = if truncated {
        match entries.last() {
            Some(VersionEntry::Version(k, o, _)) => {
                (Some(k.clone()), Some(o.version_text().to_string()))
            }
            Some(VersionEntry::Prefix(p)) => (Some(p.clone()), None),
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(ListVersionsOutput {
        entries,
        truncated,
        max_keys,
        next_key_marker,
        next_version_id_marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Durability, SqliteEngine, Store};
    use std::sync::Arc;

    fn bucket(status: Option<&str>) -> Bucket {
        let mut b = Bucket {
            name: "bkt".into(),
            owner: "111111111111".into(),
            region: "us-east-1".into(),
            created: 0,
            ownership: None,
            acl: Vec::new(),
            policy: None,
            config: Default::default(),
        };
        b.config.versioning = status.map(|s| Versioning {
            status: Some(s.into()),
            mfa_delete: None,
        });
        b
    }

    fn object(size: u64) -> Object {
        Object {
            size,
            owner: "111111111111".into(),
            ..Default::default()
        }
    }

    type Listed = Vec<(String, String, bool, bool)>;

    fn listed(out: &ListVersionsOutput) -> Listed {
        out.entries
            .iter()
            .map(|e| match e {
                VersionEntry::Version(k, o, latest) => (
                    k.clone(),
                    o.version_text().to_string(),
                    o.delete_marker,
                    *latest,
                ),
                VersionEntry::Prefix(p) => (p.clone(), String::new(), false, false),
            })
            .collect()
    }

    fn scan(store: &Store, b: &Bucket, input: &ListVersionsInput) -> ListVersionsOutput {
        store
            .read(|r| Ok(scan_versions(r, b, input)))
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn listing_merges_current_and_noncurrent_versions_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SqliteEngine::open(&dir.path().join("s.db"), Durability::Process).unwrap();
        let store = Store::new(Arc::new(engine));
        let ids: Vec<String> = store
            .write(|w| -> Result<_, AwsError> {
                // "a" written before versioning: the null version.
                write_new(w, &bucket(None), "a", 1_000, object(1))?;
                let b = bucket(Some("Enabled"));
                let mut ids = vec!["null".to_string()];
                for (i, key) in ["a", "a", "ab", "a/b"].iter().enumerate() {
                    let v = write_new(w, &b, key, 2_000 + i as i64, object(2))?;
                    ids.push(v.version_id.unwrap());
                }
                let d = delete_current(w, &b, "ab", "111111111111", chrono::Utc::now())?;
                ids.push(d.version_id.unwrap());
                Ok(ids)
            })
            .await
            .unwrap();
        let b = bucket(Some("Enabled"));
        let e =
            |k: &str, i: usize, dm: bool, latest: bool| (k.to_string(), ids[i].clone(), dm, latest);
        let expect = vec![
            e("a", 2, false, true),
            e("a", 1, false, false),
            e("a", 0, false, false),
            e("a/b", 4, false, true),
            e("ab", 5, true, true),
            e("ab", 3, false, false),
        ];
        let all = scan(&store, &b, &ListVersionsInput::default());
        assert_eq!(listed(&all), expect);
        assert!(!all.truncated);
        // Pages of two, resuming from the markers.
        let mut seen = Vec::new();
        let mut input = ListVersionsInput {
            max_keys: Some("2".into()),
            ..Default::default()
        };
        loop {
            let page = scan(&store, &b, &input);
            seen.extend(listed(&page));
            if !page.truncated {
                break;
            }
            input.key_marker = page.next_key_marker.clone();
            input.version_id_marker = page.next_version_id_marker.clone();
        }
        assert_eq!(seen, expect);
        // A key marker alone starts after every version of that key.
        let after_a = scan(
            &store,
            &b,
            &ListVersionsInput {
                key_marker: Some("a".into()),
                ..Default::default()
            },
        );
        assert_eq!(listed(&after_a), expect[3..].to_vec());
        // A delimiter rolls "a/b" up; a prefix bounds the scan.
        let rolled = scan(
            &store,
            &b,
            &ListVersionsInput {
                delimiter: Some("/".into()),
                ..Default::default()
            },
        );
        let rolled = listed(&rolled);
        assert_eq!(rolled.len(), 6);
        assert_eq!(rolled[3], ("a/".to_string(), String::new(), false, false));
        let only_ab = scan(
            &store,
            &b,
            &ListVersionsInput {
                prefix: Some("ab".into()),
                ..Default::default()
            },
        );
        assert_eq!(listed(&only_ab), expect[4..].to_vec());
    }

    #[test]
    fn version_ids_sort_newest_first_and_name_their_sequence() {
        let seqs = [
            0u64,
            1,
            63,
            64,
            1_700_000_000_000_000,
            1_700_000_000_000_001,
            u64::MAX >> 1,
        ];
        let ids: Vec<String> = seqs.iter().map(|&s| new_version_id(s)).collect();
        for (id, &s) in ids.iter().zip(&seqs) {
            assert_eq!(id.len(), VERSION_ID_LEN);
            assert!(id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
            assert_eq!(decode_seq(id), Some(s));
            assert_eq!(check_version_id(id).unwrap(), Some(s));
        }
        for pair in ids.windows(2) {
            assert!(
                pair[0] > pair[1],
                "{} should sort after {}",
                pair[0],
                pair[1]
            );
        }
        let keys: Vec<Vec<u8>> = seqs.iter().map(|&s| row_key("b", "k", s)).collect();
        for pair in keys.windows(2) {
            assert!(pair[0] > pair[1]);
        }
        assert_eq!(check_version_id("null").unwrap(), None);
        assert_eq!(check_version_id("abc").unwrap_err().code, "InvalidArgument");
        assert!(check_version_id(&"~".repeat(32)).is_err());
    }
}
