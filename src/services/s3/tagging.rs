//! Tags of buckets and objects: Put/Get/DeleteBucketTagging, Put/Get/DeleteObjectTagging, the
//! `x-amz-tagging` header of the writes that make objects, and the tag condition keys
//! (`s3:ExistingObjectTag/<key>`, `s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`).

use super::authorize::{self, Target};
use super::xml::{Element, Writer as XmlWriter};
use super::{existing_bucket, invalid_argument, malformed_xml, Call, BUCKETS};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde::{Deserialize, Serialize};

pub const MAX_BUCKET_TAGS: usize = 50;
pub const MAX_OBJECT_TAGS: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bucket,
    Object,
}

fn invalid_tag(message: &str) -> AwsError {
    AwsError::new(400, "InvalidTag", message)
}

/// Letters, numbers, spaces (any Unicode), and `_ . : / = + - @`.
fn allowed_chars(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c) || c == '\u{a0}'
    })
}

/// AWS's tag rules: keys of 1-128 characters, values of at most 256, the tag character set, no
/// `aws:` prefix, no duplicate keys, and the per-resource limit.
pub fn validate(tags: &[Tag], kind: Kind) -> Result<(), AwsError> {
    match kind {
        Kind::Bucket if tags.len() > MAX_BUCKET_TAGS => {
            return Err(invalid_tag("Bucket tag count cannot be greater than 50"))
        }
        Kind::Object if tags.len() > MAX_OBJECT_TAGS => {
            return Err(AwsError::new(
                400,
                "BadRequest",
                "Object tags cannot be greater than 10",
            ))
        }
        _ => {}
    }
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        let key_len = t.key.encode_utf16().count();
        if key_len == 0 || key_len > 128 || !allowed_chars(&t.key) {
            return Err(
                invalid_tag("The TagKey you have provided is invalid").with("TagKey", &t.key)
            );
        }
        if t.value.encode_utf16().count() > 256 || !allowed_chars(&t.value) {
            return Err(invalid_tag("The TagValue you have provided is invalid")
                .with("TagKey", &t.key)
                .with("TagValue", &t.value));
        }
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(match kind {
                Kind::Bucket => invalid_tag("System tags cannot be added/updated by requester"),
                Kind::Object => invalid_tag("Your TagKey cannot be prefixed with aws:"),
            }
            .with("TagKey", &t.key));
        }
        if !seen.insert(t.key.as_str()) {
            return Err(
                invalid_tag("Cannot provide multiple Tags with the same key")
                    .with("TagKey", &t.key),
            );
        }
    }
    Ok(())
}

/// A `Tagging` document's tags, validated.
pub fn parse_document(doc: &Element, kind: Kind) -> Result<Vec<Tag>, AwsError> {
    if doc.name != "Tagging" {
        return Err(malformed_xml());
    }
    let set = doc.child("TagSet").ok_or_else(malformed_xml)?;
    let mut tags = Vec::new();
    for t in set.children("Tag") {
        let key = t.child("Key").ok_or_else(malformed_xml)?;
        let value = t.child("Value").map(|v| v.text.clone()).unwrap_or_default();
        tags.push(Tag {
            key: key.text.clone(),
            value,
        });
    }
    validate(&tags, kind)?;
    Ok(tags)
}

/// The `x-amz-tagging` header: URL query form (`k1=v1&k2=v2`), validated as object tags.
pub fn parse_header(raw: &str) -> Result<Vec<Tag>, AwsError> {
    let bad = || {
        invalid_argument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
            "x-amz-tagging",
            raw,
        )
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad())
    };
    let mut tags: Vec<Tag> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let tag = Tag {
            key: decode(k)?,
            value: decode(v)?,
        };
        if tags.iter().any(|t| t.key == tag.key) {
            return Err(bad());
        }
        tags.push(tag);
    }
    validate(&tags, Kind::Object)?;
    Ok(tags)
}

/// The `Tagging` document of GetBucketTagging / GetObjectTagging.
pub fn render(tags: &[Tag]) -> String {
    let mut w = XmlWriter::document("Tagging");
    w.open("TagSet");
    for t in tags {
        w.open("Tag")
            .elem("Key", &t.key)
            .elem("Value", &t.value)
            .close("Tag");
    }
    w.close("TagSet");
    w.finish("Tagging")
}

/// `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` of a request that sets tags.
pub fn request_condition_keys(tags: &[Tag]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|t| {
            (
                format!("s3:RequestObjectTag/{}", t.key),
                vec![t.value.clone()],
            )
        })
        .collect();
    out.push((
        "s3:RequestObjectTagKeys".into(),
        tags.iter().map(|t| t.key.clone()).collect(),
    ));
    out
}

fn no_such_tag_set(bucket: &str) -> AwsError {
    AwsError::new(404, "NoSuchTagSet", "The TagSet does not exist").with("BucketName", bucket)
}

pub fn put_bucket(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:PutBucketTagging", &Target::bucket(&b), &[])?;
    let tags = parse_document(doc, Kind::Bucket)?;
    b.config.tags = Some(tags);
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

pub fn get_bucket(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:GetBucketTagging", &Target::bucket(&b), &[])?;
    match &b.config.tags {
        Some(tags) if !tags.is_empty() => Ok(render(tags)),
        _ => Err(no_such_tag_set(bucket)),
    }
}

/// DeleteBucketTagging is authorized as `s3:PutBucketTagging`, as on AWS.
pub fn delete_bucket(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:PutBucketTagging", &Target::bucket(&b), &[])?;
    if b.config.tags.take().is_some() {
        w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    }
    Ok(())
}

/// Without versioning the only version an object has is `null`.
pub fn check_version(version: Option<&str>) -> Result<(), AwsError> {
    match version {
        None | Some("null") => Ok(()),
        Some(v) => Err(invalid_argument(
            "Invalid version id specified",
            "versionId",
            v,
        )),
    }
}

/// The version a tagging call addresses, authorized as `action` (its `...Version` form with a
/// version id).
#[allow(clippy::too_many_arguments)]
fn object_op<T>(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    action: &str,
    request_tags: Option<&[Tag]>,
    f: impl FnOnce(super::versions::Place, super::Object) -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    let b = existing_bucket(r, bucket)?;
    let found = match version_id {
        None => super::versions::latest(r, &b, key)?,
        Some(v) => super::versions::find(r, bucket, key, v)?,
    };
    let live = found.as_ref().map(|(_, o)| o).filter(|o| !o.delete_marker);
    let mut target = Target::object(&b, key, live);
    if let Some(tags) = request_tags {
        target = target.with_request_tags(tags);
    }
    let extra: Vec<(&'static str, String)> = version_id
        .map(|v| vec![("s3:versionid", v.to_string())])
        .unwrap_or_default();
    let action = super::objects::versioned_action(action, version_id);
    authorize::check(r, call, &action, &target, &extra)?;
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
        Some((p, o)) => f(p, o),
    }
}

pub fn put_object(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    doc: &Element,
) -> Result<Option<String>, AwsError> {
    let tags = parse_document(doc, Kind::Object)?;
    let (place, mut o) = object_op(
        w,
        call,
        bucket,
        key,
        version_id,
        "s3:PutObjectTagging",
        Some(&tags),
        |p, o| Ok((p, o)),
    )?;
    o.tags = tags;
    super::versions::store(w, bucket, key, &place, &o)?;
    Ok(super::versions::header_of(&o).map(str::to_string))
}

pub fn get_object_tags(
    r: &dyn Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<(String, Option<String>), AwsError> {
    object_op(
        r,
        call,
        bucket,
        key,
        version_id,
        "s3:GetObjectTagging",
        None,
        |_, o| {
            Ok((
                render(&o.tags),
                super::versions::header_of(&o).map(str::to_string),
            ))
        },
    )
}

pub fn delete_object(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let (place, mut o) = object_op(
        w,
        call,
        bucket,
        key,
        version_id,
        "s3:DeleteObjectTagging",
        None,
        |p, o| Ok((p, o)),
    )?;
    if !o.tags.is_empty() {
        o.tags.clear();
        super::versions::store(w, bucket, key, &place, &o)?;
    }
    Ok(super::versions::header_of(&o).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tags: &[(&str, &str)]) -> Element {
        let mut s = String::from("<Tagging><TagSet>");
        for (k, v) in tags {
            s.push_str(&format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"));
        }
        s.push_str("</TagSet></Tagging>");
        super::super::xml::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn documents_and_limits() {
        let tags =
            parse_document(&doc(&[("env", "prod"), ("team", "a b+c")]), Kind::Bucket).unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1].value, "a b+c");
        let code = |d: &Element, k| parse_document(d, k).unwrap_err().code;
        assert_eq!(
            code(&doc(&[("a", "1"), ("a", "2")]), Kind::Bucket),
            "InvalidTag"
        );
        assert_eq!(code(&doc(&[("aws:x", "1")]), Kind::Object), "InvalidTag");
        assert_eq!(code(&doc(&[("", "1")]), Kind::Object), "InvalidTag");
        assert_eq!(code(&doc(&[("a#", "1")]), Kind::Object), "InvalidTag");
        assert_eq!(
            code(&doc(&[(&"k".repeat(129), "1")]), Kind::Object),
            "InvalidTag"
        );
        assert_eq!(
            code(&doc(&[("k", &"v".repeat(257))]), Kind::Object),
            "InvalidTag"
        );
        let eleven: Vec<(String, String)> = (0..11)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        let eleven: Vec<(&str, &str)> = eleven.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        assert_eq!(code(&doc(&eleven), Kind::Object), "BadRequest");
        assert!(parse_document(&doc(&eleven), Kind::Bucket).is_ok());
        let no_set = super::super::xml::parse(b"<Tagging/>").unwrap();
        assert_eq!(code(&no_set, Kind::Bucket), "MalformedXML");
    }

    #[test]
    fn header_form() {
        let tags = parse_header("a=1&b=x%20y&c=").unwrap();
        assert_eq!(
            tags,
            vec![
                Tag {
                    key: "a".into(),
                    value: "1".into()
                },
                Tag {
                    key: "b".into(),
                    value: "x y".into()
                },
                Tag {
                    key: "c".into(),
                    value: "".into()
                },
            ]
        );
        assert_eq!(parse_header("a=1&a=2").unwrap_err().code, "InvalidArgument");
        assert_eq!(parse_header("aws:k=1").unwrap_err().code, "InvalidTag");
        assert!(parse_header("").unwrap().is_empty());
    }
}
