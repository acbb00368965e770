//! Object Lock: a bucket's lock configuration (Put/GetObjectLockConfiguration, enabled only at
//! CreateBucket), per-version retention (Put/GetObjectRetention, the `x-amz-object-lock-*`
//! headers of the writes, the bucket's default retention) and legal holds
//! (Put/GetObjectLegalHold), and the enforcement that makes a locked version undeletable:
//! a legal hold ON or a COMPLIANCE retention refuses every delete of the version; a
//! GOVERNANCE retention only yields to `x-amz-bypass-governance-retention: true` together with
//! `s3:BypassGovernanceRetention`.

use super::authorize::{self, Target};
use super::xml::{Element, Writer as XmlWriter};
use super::{existing_bucket, invalid_argument, malformed_xml, xml_time, Bucket, Call, Object};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

/// Longest default retention S3 accepts.
pub const MAX_DAYS: u32 = 36_500;
pub const MAX_YEARS: u32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    #[serde(rename = "GOVERNANCE")]
    Governance,
    #[serde(rename = "COMPLIANCE")]
    Compliance,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Governance => "GOVERNANCE",
            Mode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "GOVERNANCE" => Some(Mode::Governance),
            "COMPLIANCE" => Some(Mode::Compliance),
            _ => None,
        }
    }
}

/// A version's retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: Mode,
    /// Epoch milliseconds.
    pub until: i64,
}

impl Retention {
    pub fn until_at(&self) -> DateTime<Utc> {
        super::millis(self.until)
    }

    /// Whether it still protects the version at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.until > now.timestamp_millis()
    }
}

/// The default retention of a bucket's lock configuration: exactly one of days and years.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

impl DefaultRetention {
    /// The retention a version written at `now` gets.
    pub fn apply(&self, now: DateTime<Utc>) -> Retention {
        let until = match (self.days, self.years) {
            (Some(d), _) => now + chrono::Duration::days(d as i64),
            (None, Some(y)) => now
                .checked_add_months(Months::new(12 * y))
                .unwrap_or(now + chrono::Duration::days(365 * y as i64)),
            (None, None) => now,
        };
        Retention {
            mode: self.mode,
            until: until.timestamp_millis(),
        }
    }
}

/// A bucket's Object Lock configuration (`BucketConfig.object_lock`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockConfig {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<DefaultRetention>,
}

/// What a write (PutObject, CopyObject, CreateMultipartUpload, UploadPart) says about locks.
#[derive(Clone, Debug, Default)]
pub struct LockRequest {
    /// `x-amz-object-lock-mode`.
    pub mode: Option<String>,
    /// `x-amz-object-lock-retain-until-date`.
    pub until: Option<String>,
    /// `x-amz-object-lock-legal-hold`.
    pub legal_hold: Option<String>,
    /// The request carried Content-MD5 or a flexible checksum (`x-amz-checksum-*`,
    /// `x-amz-sdk-checksum-algorithm`, a checksum trailer).
    pub digest_sent: bool,
}

impl LockRequest {
    pub fn has_parameters(&self) -> bool {
        self.mode.is_some() || self.until.is_some() || self.legal_hold.is_some()
    }
}

/// The lock a new version gets: its retention and its legal hold (`ON`/`OFF`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewLock {
    pub retention: Option<Retention>,
    pub legal_hold: Option<String>,
}

pub fn config(b: &Bucket) -> Option<&LockConfig> {
    b.config.object_lock.as_ref().filter(|c| c.enabled)
}

pub fn enabled(b: &Bucket) -> bool {
    config(b).is_some()
}

fn missing_configuration() -> AwsError {
    super::invalid_request("Bucket is missing Object Lock Configuration")
}

/// The refusal of anything a lock protects.
pub fn protected() -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        "Access Denied because object protected by object lock.",
    )
}

fn no_object_configuration() -> AwsError {
    AwsError::new(
        404,
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
    )
}

fn in_future(
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    name: &str,
    raw: &str,
) -> Result<(), AwsError> {
    if until <= now {
        return Err(invalid_argument(
            "The retain until date must be in the future!",
            name,
            raw,
        ));
    }
    Ok(())
}

fn parse_date(raw: &str, name: &str) -> Result<DateTime<Utc>, AwsError> {
    let t = raw.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc())
        })
        .map_err(|_| {
            invalid_argument(
                "The retain until date must be in ISO 8601 format",
                name,
                raw,
            )
        })
}

fn parse_legal_hold(raw: &str, name: &str) -> Result<String, AwsError> {
    match raw.trim() {
        s @ ("ON" | "OFF") => Ok(s.to_string()),
        _ => Err(invalid_argument(
            "Legal Hold must be either of 'ON' or 'OFF'",
            name,
            raw,
        )),
    }
}

/// The lock headers of a write, validated (without regard to the bucket).
pub fn parse_request(req: &LockRequest, now: DateTime<Utc>) -> Result<NewLock, AwsError> {
    let retention = match (&req.mode, &req.until) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => return Err(invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            "x-amz-object-lock-retain-until-date",
            req.until.as_deref().unwrap_or(""),
        )),
        (Some(m), Some(u)) => {
            let mode = Mode::parse(m.trim()).ok_or_else(|| {
                invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", m)
            })?;
            let until = parse_date(u, "x-amz-object-lock-retain-until-date")?;
            in_future(until, now, "x-amz-object-lock-retain-until-date", u)?;
            Some(Retention {
                mode,
                until: until.timestamp_millis(),
            })
        }
    };
    let legal_hold = req
        .legal_hold
        .as_deref()
        .map(|v| parse_legal_hold(v, "x-amz-object-lock-legal-hold"))
        .transpose()?;
    Ok(NewLock {
        retention,
        legal_hold,
    })
}

/// The lock checks of a write into `b`: lock headers need a bucket with Object Lock and
/// `s3:PutObjectRetention` / `s3:PutObjectLegalHold`.
pub fn check_write(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    req: &LockRequest,
) -> Result<NewLock, AwsError> {
    let lock = parse_request(req, call.ctx.time)?;
    if !enabled(b) {
        if req.has_parameters() {
            return Err(missing_configuration());
        }
        return Ok(lock);
    }
    let target = Target::object(b, key, None);
    if let Some(ret) = &lock.retention {
        let extra: Vec<(&'static str, String)> = vec![
            ("s3:object-lock-mode", ret.mode.as_str().to_string()),
            ("s3:object-lock-retain-until-date", xml_time(ret.until_at())),
        ];
        authorize::check(r, call, "s3:PutObjectRetention", &target, &extra)?;
    }
    if let Some(h) = &lock.legal_hold {
        authorize::check(
            r,
            call,
            "s3:PutObjectLegalHold",
            &target,
            &[("s3:object-lock-legal-hold", h.clone())],
        )?;
    }
    Ok(lock)
}

/// A PutObject whose version will be locked (its own headers or the bucket's default
/// retention) must carry Content-MD5 or a checksum.
pub fn require_digest(b: &Bucket, req: &LockRequest) -> Result<(), AwsError> {
    match config(b) {
        Some(cfg) if (req.has_parameters() || cfg.rule.is_some()) && !req.digest_sent => {
            Err(digest_required())
        }
        _ => Ok(()),
    }
}

pub fn digest_required() -> AwsError {
    super::invalid_request(
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    )
}

/// Whether an upload's part must carry a digest (UploadPart into a bucket whose completed
/// object will be locked).
pub fn part_needs_digest(b: &Bucket, upload_locked: bool) -> bool {
    config(b).is_some_and(|c| upload_locked || c.rule.is_some())
}

/// Sets a new version's lock: its own, else the bucket's default retention.
pub fn apply(b: &Bucket, lock: &NewLock, now: DateTime<Utc>, o: &mut Object) {
    let Some(cfg) = config(b) else {
        return;
    };
    o.retention = lock
        .retention
        .or_else(|| cfg.rule.as_ref().map(|r| r.apply(now)));
    o.legal_hold = lock.legal_hold.clone();
}

/// Whether the caller may bypass GOVERNANCE retention: the header and the permission.
fn may_bypass(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    o: &Object,
    bypass: bool,
) -> Result<bool, AwsError> {
    Ok(bypass
        && authorize::allowed(
            r,
            call,
            "s3:BypassGovernanceRetention",
            &Target::object(b, key, Some(o)),
            &[],
        )?)
}

/// Whether a lock keeps `o` from being deleted at `now` whoever asks (a legal hold ON or an
/// unexpired retention of either mode, bypass aside): what S3's own lifecycle actions respect.
pub fn protects(o: &Object, now: DateTime<Utc>) -> bool {
    !o.delete_marker
        && (o.legal_hold.as_deref() == Some("ON") || o.retention.is_some_and(|r| r.active(now)))
}

/// May the version `o` be deleted for good? A legal hold ON, a COMPLIANCE retention, or a
/// GOVERNANCE retention without bypass refuse.
pub fn check_delete(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    o: &Object,
    bypass: bool,
) -> Result<(), AwsError> {
    if o.delete_marker {
        return Ok(());
    }
    if o.legal_hold.as_deref() == Some("ON") {
        return Err(protected());
    }
    match &o.retention {
        Some(ret) if ret.active(call.ctx.time) => match ret.mode {
            Mode::Compliance => Err(protected()),
            Mode::Governance if may_bypass(r, call, b, key, o, bypass)? => Ok(()),
            Mode::Governance => Err(protected()),
        },
        _ => Ok(()),
    }
}

/// May `old` become `new`? Extending is always allowed; an active COMPLIANCE retention can be
/// neither shortened, removed nor changed to GOVERNANCE; an active GOVERNANCE one only with
/// bypass.
pub fn retention_change_allowed(
    old: Option<&Retention>,
    new: Option<&Retention>,
    now: DateTime<Utc>,
    may_bypass: impl FnOnce() -> Result<bool, AwsError>,
) -> Result<(), AwsError> {
    let Some(old) = old.filter(|o| o.active(now)) else {
        return Ok(());
    };
    let weakens = match new {
        None => true,
        Some(n) => n.until < old.until || (old.mode == Mode::Compliance && n.mode != old.mode),
    };
    if !weakens {
        return Ok(());
    }
    match old.mode {
        Mode::Compliance => Err(protected()),
        Mode::Governance if may_bypass()? => Ok(()),
        Mode::Governance => Err(protected()),
    }
}

// Bucket configuration.

fn invalid_bucket_state(message: &str) -> AwsError {
    AwsError::new(409, "InvalidBucketState", message)
}

/// An `ObjectLockConfiguration` document, validated.
pub fn parse_configuration(doc: &Element) -> Result<LockConfig, AwsError> {
    if doc.name != "ObjectLockConfiguration" {
        return Err(malformed_xml());
    }
    if doc.child_text("ObjectLockEnabled").map(str::trim) != Some("Enabled") {
        return Err(malformed_xml());
    }
    let rule = match doc.child("Rule") {
        None => None,
        Some(rule) => {
            let d = rule.child("DefaultRetention").ok_or_else(malformed_xml)?;
            let mode = d
                .child_text("Mode")
                .map(str::trim)
                .and_then(Mode::parse)
                .ok_or_else(malformed_xml)?;
            let number = |name: &str| -> Result<Option<u32>, AwsError> {
                match d.child_text(name).map(str::trim) {
                    None => Ok(None),
                    Some(v) => match v.parse::<i64>() {
                        Ok(n) if n > 0 => Ok(Some(n.min(u32::MAX as i64) as u32)),
                        Ok(_) => Err(invalid_argument(
                            "Default retention period must be a positive integer value",
                            name,
                            v,
                        )),
                        Err(_) => Err(malformed_xml()),
                    },
                }
            };
            let (days, years) = (number("Days")?, number("Years")?);
            match (days, years) {
                (Some(_), Some(_)) | (None, None) => return Err(malformed_xml()),
                (Some(n), None) if n > MAX_DAYS => {
                    return Err(invalid_argument(
                        "Default retention period is too large.",
                        "Days",
                        &n.to_string(),
                    ))
                }
                (None, Some(n)) if n > MAX_YEARS => {
                    return Err(invalid_argument(
                        "Default retention period is too large.",
                        "Years",
                        &n.to_string(),
                    ))
                }
                _ => {}
            }
            Some(DefaultRetention { mode, days, years })
        }
    };
    Ok(LockConfig {
        enabled: true,
        rule,
    })
}

pub fn render_configuration(c: &LockConfig) -> String {
    let mut w = XmlWriter::document("ObjectLockConfiguration");
    w.elem("ObjectLockEnabled", "Enabled");
    if let Some(r) = &c.rule {
        w.open("Rule").open("DefaultRetention");
        w.elem("Mode", r.mode.as_str());
        if let Some(d) = r.days {
            w.elem("Days", &d.to_string());
        }
        if let Some(y) = r.years {
            w.elem("Years", &y.to_string());
        }
        w.close("DefaultRetention").close("Rule");
    }
    w.finish("ObjectLockConfiguration")
}

pub fn put_configuration(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutBucketObjectLockConfiguration",
        &Target::bucket(&b),
        &[],
    )?;
    let c = parse_configuration(doc)?;
    // Since November 2023 AWS lets an existing bucket turn Object Lock on, once versioning is
    // enabled on it.
    if !enabled(&b) && super::versions::state(&b) != super::versions::State::Enabled {
        return Err(invalid_bucket_state(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        ));
    }
    b.config.object_lock = Some(c);
    w.put_json(super::BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

pub fn get_configuration(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(
        r,
        call,
        "s3:GetBucketObjectLockConfiguration",
        &Target::bucket(&b),
        &[],
    )?;
    match config(&b) {
        Some(c) => Ok(render_configuration(c)),
        None => Err(AwsError::new(
            404,
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        )
        .with("BucketName", bucket)),
    }
}

/// The refusal of PutBucketVersioning Suspended on a locked bucket.
pub fn versioning_locked() -> AwsError {
    invalid_bucket_state(
        "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
    )
}

// Retention and legal hold of a version.

/// The version a retention or legal-hold call addresses, authorized as `action` (these actions
/// have no `...Version` form).
fn version_op(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    action: &str,
    extra: &[(&'static str, String)],
) -> Result<(Bucket, super::versions::Place, Object), AwsError> {
    let b = existing_bucket(r, bucket)?;
    let found = match version_id {
        None => super::versions::latest(r, &b, key)?,
        Some(v) => super::versions::find(r, bucket, key, v)?,
    };
    let live = found.as_ref().map(|(_, o)| o).filter(|o| !o.delete_marker);
    let mut extra = extra.to_vec();
    if let Some(v) = version_id {
        extra.push(("s3:versionid", v.to_string()));
    }
    authorize::check(r, call, action, &Target::object(&b, key, live), &extra)?;
    if !enabled(&b) {
        return Err(missing_configuration());
    }
    match found {
        None => Err(match version_id {
            Some(v) => super::versions::no_such_version(key, v),
            None => super::objects::missing_key(r, call, &b, key)?,
        }),
        Some((_, o)) if o.delete_marker => Err(super::versions::delete_marker_error(
            &o,
            key,
            version_id.is_some(),
            "GET",
        )),
        Some((p, o)) => Ok((b, p, o)),
    }
}

/// A `Retention` document: None when it sets none (removing a retention).
pub fn parse_retention(doc: &Element, now: DateTime<Utc>) -> Result<Option<Retention>, AwsError> {
    if doc.name != "Retention" {
        return Err(malformed_xml());
    }
    let mode = doc.child_text("Mode").map(str::trim);
    let until = doc.child_text("RetainUntilDate").map(str::trim);
    match (mode, until) {
        (None, None) => Ok(None),
        (Some(m), Some(u)) => {
            let mode = Mode::parse(m).ok_or_else(malformed_xml)?;
            let until = parse_date(u, "RetainUntilDate")?;
            in_future(until, now, "RetainUntilDate", u)?;
            Ok(Some(Retention {
                mode,
                until: until.timestamp_millis(),
            }))
        }
        _ => Err(malformed_xml()),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn put_retention(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    doc: &Element,
    bypass: bool,
) -> Result<Option<String>, AwsError> {
    let new = parse_retention(doc, call.ctx.time)?;
    let extra: Vec<(&'static str, String)> = match &new {
        Some(r) => vec![
            ("s3:object-lock-mode", r.mode.as_str().to_string()),
            ("s3:object-lock-retain-until-date", xml_time(r.until_at())),
        ],
        None => Vec::new(),
    };
    let (b, place, mut o) = version_op(
        w,
        call,
        bucket,
        key,
        version_id,
        "s3:PutObjectRetention",
        &extra,
    )?;
    retention_change_allowed(o.retention.as_ref(), new.as_ref(), call.ctx.time, || {
        may_bypass(w, call, &b, key, &o, bypass)
    })?;
    o.retention = new;
    super::versions::store(w, bucket, key, &place, &o)?;
    Ok(super::versions::header_of(&o).map(str::to_string))
}

pub fn get_retention(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<String, AwsError> {
    let (_, _, o) = version_op(
        r,
        call,
        bucket,
        key,
        version_id,
        "s3:GetObjectRetention",
        &[],
    )?;
    let ret = o.retention.ok_or_else(no_object_configuration)?;
    let mut w = XmlWriter::document("Retention");
    w.elem("Mode", ret.mode.as_str())
        .elem("RetainUntilDate", &xml_time(ret.until_at()));
    Ok(w.finish("Retention"))
}

pub fn parse_legal_hold_document(doc: &Element) -> Result<String, AwsError> {
    if doc.name != "LegalHold" {
        return Err(malformed_xml());
    }
    match doc.child_text("Status").map(str::trim) {
        Some(s @ ("ON" | "OFF")) => Ok(s.to_string()),
        _ => Err(malformed_xml()),
    }
}

pub fn put_legal_hold(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    doc: &Element,
) -> Result<Option<String>, AwsError> {
    let status = parse_legal_hold_document(doc)?;
    let (_, place, mut o) = version_op(
        w,
        call,
        bucket,
        key,
        version_id,
        "s3:PutObjectLegalHold",
        &[("s3:object-lock-legal-hold", status.clone())],
    )?;
    o.legal_hold = Some(status);
    super::versions::store(w, bucket, key, &place, &o)?;
    Ok(super::versions::header_of(&o).map(str::to_string))
}

pub fn get_legal_hold(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<String, AwsError> {
    let (_, _, o) = version_op(
        r,
        call,
        bucket,
        key,
        version_id,
        "s3:GetObjectLegalHold",
        &[],
    )?;
    let status = o.legal_hold.ok_or_else(no_object_configuration)?;
    let mut w = XmlWriter::document("LegalHold");
    w.elem("Status", &status);
    Ok(w.finish("LegalHold"))
}

/// What GetObject/HeadObject show of a version's lock: only what the caller may read
/// (`s3:GetObjectRetention`, `s3:GetObjectLegalHold`), as on AWS.
pub fn visible_lock(
    r: &dyn Reader,
    call: &Call,
    b: &Bucket,
    key: &str,
    o: &mut Object,
) -> Result<(), AwsError> {
    let target = Target::object(b, key, None);
    if o.retention.is_some() && !authorize::allowed(r, call, "s3:GetObjectRetention", &target, &[])?
    {
        o.retention = None;
    }
    if o.legal_hold.is_some()
        && !authorize::allowed(r, call, "s3:GetObjectLegalHold", &target, &[])?
    {
        o.legal_hold = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn doc(s: &str) -> Element {
        super::super::xml::parse(s.as_bytes()).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn configurations_are_validated() {
        let c = parse_configuration(&doc("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule></ObjectLockConfiguration>")).unwrap();
        assert_eq!(
            c.rule,
            Some(DefaultRetention {
                mode: Mode::Governance,
                days: Some(3),
                years: None
            })
        );
        assert!(render_configuration(&c).contains("<Days>3</Days>"));
        let bare = parse_configuration(&doc(
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>",
        ))
        .unwrap();
        assert_eq!(bare.rule, None);
        let code = |s: &str| parse_configuration(&doc(s)).unwrap_err().code;
        let rule = |inner: &str| {
            format!("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>{inner}</DefaultRetention></Rule></ObjectLockConfiguration>")
        };
        assert_eq!(
            code("<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>"),
            "MalformedXML"
        );
        assert_eq!(
            code(&rule(
                "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>"
            )),
            "MalformedXML"
        );
        assert_eq!(code(&rule("<Mode>GOVERNANCE</Mode>")), "MalformedXML");
        assert_eq!(
            code(&rule("<Mode>LOOSE</Mode><Days>1</Days>")),
            "MalformedXML"
        );
        assert_eq!(code(&rule("<Days>1</Days>")), "MalformedXML");
        assert_eq!(
            code(&rule("<Mode>COMPLIANCE</Mode><Days>0</Days>")),
            "InvalidArgument"
        );
        assert_eq!(
            code(&rule("<Mode>COMPLIANCE</Mode><Years>-1</Years>")),
            "InvalidArgument"
        );
        assert_eq!(
            code(&rule("<Mode>COMPLIANCE</Mode><Years>101</Years>")),
            "InvalidArgument"
        );
        assert_eq!(
            code(&rule("<Mode>COMPLIANCE</Mode><Days>x</Days>")),
            "MalformedXML"
        );
    }

    #[test]
    fn default_retention_dates() {
        let d = DefaultRetention {
            mode: Mode::Compliance,
            days: Some(2),
            years: None,
        };
        assert_eq!(
            d.apply(now()).until_at(),
            Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap()
        );
        let y = DefaultRetention {
            mode: Mode::Governance,
            days: None,
            years: Some(1),
        };
        assert_eq!(
            y.apply(now()).until_at(),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn request_headers() {
        let req = |m: Option<&str>, u: Option<&str>, h: Option<&str>| LockRequest {
            mode: m.map(str::to_string),
            until: u.map(str::to_string),
            legal_hold: h.map(str::to_string),
            digest_sent: true,
        };
        let l = parse_request(
            &req(Some("COMPLIANCE"), Some("2026-02-01T00:00:00Z"), Some("ON")),
            now(),
        )
        .unwrap();
        assert_eq!(l.retention.unwrap().mode, Mode::Compliance);
        assert_eq!(l.legal_hold.as_deref(), Some("ON"));
        let code = |r: LockRequest| parse_request(&r, now()).unwrap_err().code;
        assert_eq!(code(req(Some("COMPLIANCE"), None, None)), "InvalidArgument");
        assert_eq!(
            code(req(None, Some("2026-02-01T00:00:00Z"), None)),
            "InvalidArgument"
        );
        assert_eq!(
            code(req(Some("COMPLIANCE"), Some("2025-02-01T00:00:00Z"), None)),
            "InvalidArgument"
        );
        assert_eq!(
            code(req(Some("X"), Some("2026-02-01T00:00:00Z"), None)),
            "InvalidArgument"
        );
        assert_eq!(
            code(req(Some("GOVERNANCE"), Some("tomorrow"), None)),
            "InvalidArgument"
        );
        assert_eq!(code(req(None, None, Some("maybe"))), "InvalidArgument");
        assert_eq!(
            parse_request(&req(None, None, None), now()).unwrap(),
            NewLock::default()
        );
    }

    #[test]
    fn retention_documents_and_changes() {
        let r = parse_retention(
            &doc("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2026-03-01T00:00:00.000Z</RetainUntilDate></Retention>"),
            now(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.mode, Mode::Governance);
        assert_eq!(parse_retention(&doc("<Retention/>"), now()).unwrap(), None);
        assert_eq!(
            parse_retention(
                &doc("<Retention><Mode>GOVERNANCE</Mode></Retention>"),
                now()
            )
            .unwrap_err()
            .code,
            "MalformedXML"
        );
        assert_eq!(
            parse_retention(&doc("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate></Retention>"), now())
                .unwrap_err()
                .code,
            "InvalidArgument"
        );
        let at = |mode, days: i64| Retention {
            mode,
            until: (now() + chrono::Duration::days(days)).timestamp_millis(),
        };
        let yes = || Ok(true);
        let no = || Ok(false);
        let c5 = at(Mode::Compliance, 5);
        let g5 = at(Mode::Governance, 5);
        // Extending is always allowed.
        assert!(
            retention_change_allowed(Some(&c5), Some(&at(Mode::Compliance, 9)), now(), no).is_ok()
        );
        // COMPLIANCE: no shortening, no removal, no change of mode, bypass or not.
        for new in [
            Some(at(Mode::Compliance, 1)),
            None,
            Some(at(Mode::Governance, 9)),
        ] {
            let e = retention_change_allowed(Some(&c5), new.as_ref(), now(), yes).unwrap_err();
            assert_eq!(
                (e.status, e.message.as_str()),
                (
                    403,
                    "Access Denied because object protected by object lock."
                )
            );
        }
        // GOVERNANCE: only with bypass.
        assert!(
            retention_change_allowed(Some(&g5), Some(&at(Mode::Governance, 1)), now(), no).is_err()
        );
        assert!(
            retention_change_allowed(Some(&g5), Some(&at(Mode::Governance, 1)), now(), yes).is_ok()
        );
        assert!(
            retention_change_allowed(Some(&g5), Some(&at(Mode::Compliance, 9)), now(), no).is_ok()
        );
        assert!(retention_change_allowed(Some(&g5), None, now(), no).is_err());
        // An expired retention protects nothing.
        let past = at(Mode::Compliance, -1);
        assert!(retention_change_allowed(Some(&past), None, now(), no).is_ok());
    }

    #[test]
    fn legal_hold_documents() {
        assert_eq!(
            parse_legal_hold_document(&doc("<LegalHold><Status>ON</Status></LegalHold>")).unwrap(),
            "ON"
        );
        assert_eq!(
            parse_legal_hold_document(&doc("<LegalHold><Status>on</Status></LegalHold>"))
                .unwrap_err()
                .code,
            "MalformedXML"
        );
    }

    #[test]
    fn records_load_without_lock_fields() {
        let o: Object = serde_json::from_str(
            r#"{"size":1,"etag":"\"x\"","modified":0,"segments":[],"owner":"1","acl":[]}"#,
        )
        .unwrap();
        assert!(o.retention.is_none() && o.legal_hold.is_none());
        let c: super::super::BucketConfig = serde_json::from_str("{}").unwrap();
        assert!(c.object_lock.is_none());
    }
}
