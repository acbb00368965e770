//! S3 Block Public Access for buckets: Put/Get/DeletePublicAccessBlock, GetBucketPolicyStatus,
//! what makes a policy or an ACL *public* (the S3 User Guide's "The meaning of public"), and the
//! enforcement of the four settings: BlockPublicAcls and BlockPublicPolicy refuse the writes
//! that would make a bucket public; IgnorePublicAcls and RestrictPublicBuckets are applied by
//! `authorize` when access is decided. Buckets made since April 2023 start with all four on.

use super::acl::{Grant, Grantee, ALL_USERS, AUTHENTICATED_USERS};
use super::authorize::{self, Target};
use super::xml::{Element, Writer as XmlWriter};
use super::{access_denied, existing_bucket, malformed_xml, Bucket, Call, BUCKETS};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn all() -> Self {
        PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }
}

/// The settings in force for a bucket (none when it has no configuration).
pub fn settings(b: &Bucket) -> PublicAccessBlock {
    b.config.public_access_block.unwrap_or_default()
}

pub fn parse(doc: &Element) -> Result<PublicAccessBlock, AwsError> {
    if doc.name != "PublicAccessBlockConfiguration" {
        return Err(malformed_xml());
    }
    let flag = |name: &str| match doc.child_text(name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(malformed_xml()),
    };
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    })
}

pub fn render(p: &PublicAccessBlock) -> String {
    let t = |b: bool| if b { "true" } else { "false" };
    let mut w = XmlWriter::document("PublicAccessBlockConfiguration");
    w.elem("BlockPublicAcls", t(p.block_public_acls))
        .elem("IgnorePublicAcls", t(p.ignore_public_acls))
        .elem("BlockPublicPolicy", t(p.block_public_policy))
        .elem("RestrictPublicBuckets", t(p.restrict_public_buckets));
    w.finish("PublicAccessBlockConfiguration")
}

pub fn put(w: &mut dyn Writer, call: &Call, bucket: &str, doc: &Element) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutBucketPublicAccessBlock",
        &Target::bucket(&b),
        &[],
    )?;
    b.config.public_access_block = Some(parse(doc)?);
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

pub fn get(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(
        r,
        call,
        "s3:GetBucketPublicAccessBlock",
        &Target::bucket(&b),
        &[],
    )?;
    b.config
        .public_access_block
        .as_ref()
        .map(render)
        .ok_or_else(|| {
            AwsError::new(
                404,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )
            .with("BucketName", bucket)
        })
}

/// Authorized as `s3:PutBucketPublicAccessBlock`, as on AWS.
pub fn delete(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutBucketPublicAccessBlock",
        &Target::bucket(&b),
        &[],
    )?;
    if b.config.public_access_block.take().is_some() {
        w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    }
    Ok(())
}

/// GetBucketPolicyStatus: whether the bucket policy is public.
pub fn policy_status(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(
        r,
        call,
        "s3:GetBucketPolicyStatus",
        &Target::bucket(&b),
        &[],
    )?;
    let Some(policy) = &b.policy else {
        return Err(AwsError::new(
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        )
        .with("BucketName", bucket));
    };
    let mut w = XmlWriter::document("PolicyStatus");
    w.elem(
        "IsPublic",
        if policy_is_public(policy) {
            "true"
        } else {
            "false"
        },
    );
    Ok(w.finish("PolicyStatus"))
}

/// Condition keys whose fixed values limit who a statement grants to (the User Guide's list).
const LIMITING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

fn values(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// An IP range narrower than a /8 (IPv4) or /32 (IPv6) is fixed; wider ones count as public.
fn fixed_cidr(v: &str) -> bool {
    let (addr, bits) = match v.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok()),
        None => (v, Some(if v.contains(':') { 128 } else { 32 })),
    };
    match bits {
        Some(b) if addr.contains(':') => b >= 32,
        Some(b) => b >= 8,
        None => false,
    }
}

/// Whether one condition (operator, key, values) pins the statement to fixed principals or
/// sources.
fn limits(operator: &str, key: &str, vals: &[&str]) -> bool {
    let key = key.to_ascii_lowercase();
    if !LIMITING_KEYS.contains(&key.as_str()) || vals.is_empty() {
        return false;
    }
    let op = operator
        .strip_prefix("ForAnyValue:")
        .or_else(|| operator.strip_prefix("ForAllValues:"))
        .unwrap_or(operator);
    // `...IfExists` passes a request without the key.
    if op.ends_with("IfExists") {
        return false;
    }
    let wildcard = |v: &str| v.contains('*') || v.contains('?');
    match op {
        "IpAddress" => key == "aws:sourceip" && vals.iter().all(|v| fixed_cidr(v)),
        "StringEquals" | "StringEqualsIgnoreCase" | "ArnEquals" => key != "aws:sourceip",
        "StringLike" | "ArnLike" => {
            key != "aws:sourceip"
                && vals.iter().all(|v| {
                    // A role's sessions (`AROA...:*`) are a fixed set of principals.
                    !wildcard(v) || (key == "aws:userid" && !wildcard(v.trim_end_matches(":*")))
                })
        }
        _ => false,
    }
}

fn public_principal(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() == "AWS")
            .any(|(_, v)| values(v).iter().any(|a| a.contains('*'))),
        _ => false,
    }
}

fn statement_is_public(s: &Value) -> bool {
    if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    // NotPrincipal with Allow grants to everyone it does not name.
    let public =
        s.get("NotPrincipal").is_some() || s.get("Principal").is_some_and(public_principal);
    if !public {
        return false;
    }
    let limited = s
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|ops| {
            ops.iter().any(|(op, keys)| {
                keys.as_object()
                    .is_some_and(|keys| keys.iter().any(|(k, v)| limits(op, k, &values(v))))
            })
        });
    !limited
}

/// Whether a bucket policy is public: some Allow statement grants to `*` (or an AWS principal
/// with a wildcard) without a condition that pins it to fixed values of the limiting keys.
pub fn policy_is_public(text: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().any(statement_is_public),
        Some(s @ Value::Object(_)) => statement_is_public(s),
        _ => false,
    }
}

pub fn public_grant(g: &Grant) -> bool {
    matches!(&g.grantee, Grantee::Group(uri) if uri == ALL_USERS || uri == AUTHENTICATED_USERS)
}

/// Canned ACLs that grant to everyone or to every AWS account.
pub fn public_canned(name: &str) -> bool {
    matches!(
        name,
        "public-read" | "public-read-write" | "authenticated-read"
    )
}

fn blocked(call: &Call, b: &Bucket, action: &str, resource: &str, why: &str) -> AwsError {
    let p = &call.ctx.principal;
    if p.account != b.owner {
        return access_denied();
    }
    AwsError::new(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: {action} on resource: \"{resource}\" because {why}",
            p.arn()
        ),
    )
}

/// BlockPublicPolicy: a PutBucketPolicy that would make the bucket public is refused.
pub fn check_policy(call: &Call, b: &Bucket, text: &str) -> Result<(), AwsError> {
    if settings(b).block_public_policy && policy_is_public(text) {
        return Err(blocked(
            call,
            b,
            "s3:PutBucketPolicy",
            &b.arn(),
            "public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access.",
        ));
    }
    Ok(())
}

/// BlockPublicAcls: a write that sets a public ACL (canned or granted) is refused.
pub fn check_acl(
    call: &Call,
    b: &Bucket,
    action: &str,
    resource: &str,
    canned: Option<&str>,
    grants: &[Grant],
) -> Result<(), AwsError> {
    if !settings(b).block_public_acls {
        return Ok(());
    }
    if canned.is_some_and(public_canned) || grants.iter().any(public_grant) {
        return Err(blocked(
            call,
            b,
            action,
            resource,
            "public access control lists (ACLs) are blocked by the BlockPublicAcls block public access feature.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(principal: &str, condition: &str) -> String {
        let c = if condition.is_empty() {
            String::new()
        } else {
            format!(r#", "Condition": {condition}"#)
        };
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {principal}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"{c}}}]}}"#
        )
    }

    #[test]
    fn public_policies() {
        assert!(policy_is_public(&stmt(r#""*""#, "")));
        assert!(policy_is_public(&stmt(r#"{"AWS": "*"}"#, "")));
        assert!(policy_is_public(&stmt(
            r#"{"AWS": ["111111111111", "*"]}"#,
            ""
        )));
        assert!(!policy_is_public(&stmt(r#"{"AWS": "111111111111"}"#, "")));
        assert!(!policy_is_public(&stmt(
            r#"{"Service": "cloudtrail.amazonaws.com"}"#,
            ""
        )));
        for limiting in [
            r#"{"StringEquals": {"aws:SourceAccount": "111111111111"}}"#,
            r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}}"#,
            r#"{"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}"#,
            r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}}"#,
        ] {
            assert!(!policy_is_public(&stmt(r#""*""#, limiting)), "{limiting}");
        }
        for open in [
            r#"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#,
            r#"{"StringLike": {"aws:SourceArn": "*"}}"#,
            r#"{"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}"#,
            r#"{"Bool": {"aws:SecureTransport": "true"}}"#,
            r#"{"StringEquals": {"s3:prefix": "x"}}"#,
        ] {
            assert!(policy_is_public(&stmt(r#""*""#, open)), "{open}");
        }
        // A deny is never public.
        let deny = r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}}"#;
        assert!(!policy_is_public(deny));
    }

    #[test]
    fn documents() {
        let doc = super::super::xml::parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>TRUE</RestrictPublicBuckets></PublicAccessBlockConfiguration>").unwrap();
        let p = parse(&doc).unwrap();
        assert!(p.block_public_acls && p.restrict_public_buckets);
        assert!(!p.ignore_public_acls && !p.block_public_policy);
        let bad = super::super::xml::parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>").unwrap();
        assert_eq!(parse(&bad).unwrap_err().code, "MalformedXML");
    }
}
