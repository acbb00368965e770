//! Bucket operations (spec §5.1-5.3): CreateBucket, HeadBucket, GetBucketLocation, ListBuckets,
//! DeleteBucket, and the ownership controls.

use super::acl::{self, AclRequest};
use super::authorize::{self, Target};
use super::xml::Element;
use super::{
    existing_bucket, get_bucket, invalid_argument, malformed_xml, Bucket, Call, Ownership, BUCKETS,
    OBJECTS, OWNED, UPLOADS,
};
use crate::error::AwsError;
use crate::store::{Reader, ReaderExt, Writer, WriterExt};
use std::ops::Bound;

/// Regions a LocationConstraint may name (the commercial partition, then the China, GovCloud and
/// isolated partitions' own). `EU` is S3's legacy name for eu-west-1.
pub const REGIONS: &[&str] = &[
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// S3's bucket naming rules (spec §5.1).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    for label in name.split('.') {
        let l = label.as_bytes();
        if l.is_empty() || !alnum(l[0]) || !alnum(l[l.len() - 1]) {
            return false;
        }
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    let bad_prefix = ["xn--", "sthree-", "amzn-s3-demo-"];
    let bad_suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    !bad_prefix.iter().any(|p| name.starts_with(p)) && !bad_suffix.iter().any(|s| name.ends_with(s))
}

pub fn check_name(name: &str) -> Result<(), AwsError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(AwsError::new(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .with("BucketName", name))
    }
}

pub struct CreateBucketInput {
    pub bucket: String,
    /// The `CreateBucketConfiguration` body, when one was sent.
    pub configuration: Option<Element>,
    pub acl: AclRequest,
    /// `x-amz-object-ownership`.
    pub ownership: Option<String>,
    /// `x-amz-bucket-object-lock-enabled: true`.
    pub object_lock: bool,
}

pub struct CreateBucketOutput {
    pub location: String,
}

fn owned_key(account: &str, bucket: &str) -> Vec<u8> {
    format!("{account}/{bucket}").into_bytes()
}

/// The region the bucket goes to, from the endpoint region and the LocationConstraint.
fn bucket_region(endpoint: &str, configuration: Option<&Element>) -> Result<String, AwsError> {
    let constraint = match configuration {
        None => None,
        Some(doc) => {
            if doc.name != "CreateBucketConfiguration" {
                return Err(malformed_xml());
            }
            doc.child_text("LocationConstraint")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        }
    };
    let invalid = |lc: &str| {
        AwsError::new(
            400,
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
        )
        .with("LocationConstraint", lc)
    };
    match constraint {
        None if endpoint == "us-east-1" => Ok("us-east-1".into()),
        None => Err(AwsError::new(
            400,
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
        )),
        // The global endpoint's region is never named explicitly.
        Some(lc) if lc == "us-east-1" => Err(invalid(&lc)),
        Some(lc) => {
            let region = if lc == "EU" { "eu-west-1".to_string() } else { lc.clone() };
            if !REGIONS.contains(&region.as_str()) {
                return Err(invalid(&lc));
            }
            if endpoint != "us-east-1" && region != endpoint {
                return Err(AwsError::new(
                    400,
                    "IllegalLocationConstraintException",
                    format!("The {lc} location constraint is incompatible for the region specific endpoint this request was sent to."),
                ));
            }
            Ok(region)
        }
    }
}

pub fn create(
    w: &mut dyn Writer,
    call: &Call,
    input: &CreateBucketInput,
) -> Result<CreateBucketOutput, AwsError> {
    let name = &input.bucket;
    check_name(name)?;
    authorize::check_account_action(w, call, "s3:CreateBucket", &format!("arn:aws:s3:::{name}"))?;
    let account = call.ctx.principal.account.clone();
    let region = bucket_region(&call.ctx.region, input.configuration.as_ref())?;
    let ownership = match &input.ownership {
        None => Ownership::BucketOwnerEnforced,
        Some(s) => Ownership::parse(s).ok_or_else(|| {
            invalid_argument(
                "Invalid x-amz-object-ownership header",
                "x-amz-object-ownership",
                s,
            )
        })?,
    };
    let grants = acl::resolve(&input.acl, &account, None)?;
    if ownership == Ownership::BucketOwnerEnforced {
        let private_only = match &input.acl.canned {
            Some(c) => c == "private" || c == "bucket-owner-full-control",
            None => grants.as_ref().is_none_or(|g| *g == acl::private(&account)),
        };
        if !private_only {
            return Err(AwsError::new(
                400,
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            ));
        }
    }
    // New buckets block public access: a public ACL cannot be set at creation.
    let public = input
        .acl
        .canned
        .as_deref()
        .is_some_and(super::public_access::public_canned)
        || grants
            .as_ref()
            .is_some_and(|g| g.iter().any(super::public_access::public_grant));
    if public {
        return Err(AwsError::new(
            400,
            "InvalidBucketAclWithBlockPublicAccessError",
            "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
        ));
    }
    if input.object_lock {
        // A bucket made with Object Lock also has it configured and versioning enabled, which
        // AWS authorizes as those two actions.
        for action in [
            "s3:PutBucketObjectLockConfiguration",
            "s3:PutBucketVersioning",
        ] {
            authorize::check_account_action(w, call, action, &format!("arn:aws:s3:::{name}"))?;
        }
    }
    if let Some(existing) = get_bucket(w, name)? {
        if existing.owner != account {
            return Err(AwsError::new(
                409,
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            )
            .with("BucketName", name));
        }
        // S3's legacy us-east-1 behaviour: re-creating an owned bucket there succeeds and
        // resets its ACL.
        if existing.region == "us-east-1" && region == "us-east-1" {
            let mut b = existing;
            b.acl = grants.unwrap_or_else(|| acl::private(&account));
            w.put_json(BUCKETS, name.as_bytes(), &b)?;
            return Ok(CreateBucketOutput {
                location: format!("/{name}"),
            });
        }
        return Err(AwsError::new(
            409,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", name));
    }
    let b = Bucket {
        name: name.clone(),
        owner: account.clone(),
        region: region.clone(),
        created: call.ctx.time.timestamp_millis(),
        ownership: Some(ownership),
        acl: grants.unwrap_or_else(|| acl::private(&account)),
        policy: None,
        // Since April 2023 every new bucket blocks public access.
        config: super::BucketConfig {
            public_access_block: Some(super::public_access::PublicAccessBlock::all()),
            versioning: input.object_lock.then(|| super::versions::Versioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            }),
            object_lock: input.object_lock.then_some(super::object_lock::LockConfig {
                enabled: true,
                rule: None,
            }),
            ..Default::default()
        },
    };
    w.put_json(BUCKETS, name.as_bytes(), &b)?;
    w.put(OWNED, &owned_key(&account, name), b"{}")?;
    Ok(CreateBucketOutput {
        location: if region == "us-east-1" {
            format!("/{name}")
        } else {
            format!("http://{name}.s3.amazonaws.com/")
        },
    })
}

/// HeadBucket: the bucket's region. A refusal carries the region too (`BucketRegion`), which
/// S3 sends as `x-amz-bucket-region` even on 403.
pub fn head(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:ListBucket", &Target::bucket(&b), &[])
        .map_err(|e| e.with("BucketRegion", b.region.clone()))?;
    Ok(b.region)
}

/// GetBucketLocation: the region, None for us-east-1 (an empty element).
pub fn location(r: &dyn Reader, call: &Call, bucket: &str) -> Result<Option<String>, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:GetBucketLocation", &Target::bucket(&b), &[])?;
    Ok((b.region != "us-east-1").then_some(b.region))
}

pub struct ListBucketsInput {
    pub prefix: Option<String>,
    pub max_buckets: Option<usize>,
    pub continuation_token: Option<String>,
    pub region: Option<String>,
}

pub struct ListBucketsOutput {
    pub owner: String,
    pub buckets: Vec<Bucket>,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
}

pub fn list(
    r: &dyn Reader,
    call: &Call,
    input: &ListBucketsInput,
) -> Result<ListBucketsOutput, AwsError> {
    authorize::check_account_action(r, call, "s3:ListAllMyBuckets", "*")?;
    let account = &call.ctx.principal.account;
    let max = match input.max_buckets {
        Some(n) if !(1..=10000).contains(&n) => {
            return Err(invalid_argument(
                "Max buckets must be a number between 1 and 10000",
                "max-buckets",
                &n.to_string(),
            ))
        }
        Some(n) => n,
        None => 10000,
    };
    let base = format!("{account}/");
    let from = match &input.continuation_token {
        Some(after) => format!("{base}{after}"),
        None => format!("{base}{}", input.prefix.as_deref().unwrap_or("")),
    };
    let end = crate::store::prefix_end(base.as_bytes()).expect("a prefix ending in '/'");
    let lower = if input.continuation_token.is_some() {
        Bound::Excluded(from.as_bytes())
    } else {
        Bound::Included(from.as_bytes())
    };
    let mut buckets = Vec::new();
    let mut more = false;
    for (k, _) in r.scan(OWNED, lower, Bound::Excluded(&end), usize::MAX, false)? {
        let name = String::from_utf8_lossy(&k[base.len()..]).into_owned();
        if let Some(p) = &input.prefix {
            if !name.starts_with(p.as_str()) {
                break;
            }
        }
        let Some(b) = get_bucket(r, &name)? else {
            continue;
        };
        if input.region.as_ref().is_some_and(|reg| *reg != b.region) {
            continue;
        }
        if buckets.len() == max {
            more = true;
            break;
        }
        buckets.push(b);
    }
    let continuation_token = more
        .then(|| buckets.last().map(|b| b.name.clone()))
        .flatten();
    Ok(ListBucketsOutput {
        owner: acl::canonical_id(account),
        buckets,
        continuation_token,
        prefix: input.prefix.clone(),
    })
}

pub fn delete(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let b = existing_bucket(w, bucket)?;
    authorize::check(w, call, "s3:DeleteBucket", &Target::bucket(&b), &[])?;
    let prefix = format!("{bucket}/");
    let objects = w.scan_prefix_json::<serde_json::Value>(OBJECTS, prefix.as_bytes(), 1)?;
    let uploads = w.scan_prefix_json::<serde_json::Value>(UPLOADS, prefix.as_bytes(), 1)?;
    if !objects.is_empty() || !uploads.is_empty() || super::versions::any_version(w, bucket)? {
        return Err(AwsError::new(
            409,
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
        )
        .with("BucketName", bucket));
    }
    w.delete(BUCKETS, bucket.as_bytes())?;
    w.delete(OWNED, &owned_key(&b.owner, bucket))?;
    Ok(())
}

fn ownership_not_found(bucket: &str) -> AwsError {
    AwsError::new(
        404,
        "OwnershipControlsNotFoundError",
        "The bucket ownership controls were not found",
    )
    .with("BucketName", bucket)
}

pub fn get_ownership(r: &dyn Reader, call: &Call, bucket: &str) -> Result<Ownership, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(
        r,
        call,
        "s3:GetBucketOwnershipControls",
        &Target::bucket(&b),
        &[],
    )?;
    b.ownership.ok_or_else(|| ownership_not_found(bucket))
}

pub fn put_ownership(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutBucketOwnershipControls",
        &Target::bucket(&b),
        &[],
    )?;
    if doc.name != "OwnershipControls" {
        return Err(malformed_xml());
    }
    let rules: Vec<_> = doc.children("Rule").collect();
    if rules.len() != 1 {
        return Err(malformed_xml());
    }
    let ownership = rules[0]
        .child_text("ObjectOwnership")
        .and_then(Ownership::parse)
        .ok_or_else(malformed_xml)?;
    if ownership == Ownership::BucketOwnerEnforced && b.acl != acl::private(&b.owner) {
        // Disabling ACLs would silently drop grants to others.
        return Err(AwsError::new(
            400,
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        ));
    }
    b.ownership = Some(ownership);
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

pub fn delete_ownership(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutBucketOwnershipControls",
        &Target::bucket(&b),
        &[],
    )?;
    b.ownership = None;
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in [
            "abc",
            "my-trail-bucket",
            "a.b.c",
            "1bucket",
            &"a".repeat(63),
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Abc",
            "a_b",
            "a..b",
            "a-.b",
            "a.-b",
            "-ab",
            "ab-",
            "192.168.1.1",
            "xn--abc",
            "sthree-x",
            "amzn-s3-demo-x",
            "abc-s3alias",
            "abc--ol-s3",
            "abc.mrap",
            "abc--x-s3",
            "abc--table-s3",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn location_constraints() {
        let lc = |r: &str| {
            super::super::xml::parse(format!("<CreateBucketConfiguration><LocationConstraint>{r}</LocationConstraint></CreateBucketConfiguration>").as_bytes()).unwrap()
        };
        assert_eq!(bucket_region("us-east-1", None).unwrap(), "us-east-1");
        assert_eq!(
            bucket_region("us-east-2", None).unwrap_err().code,
            "IllegalLocationConstraintException"
        );
        assert_eq!(
            bucket_region("us-east-1", Some(&lc("us-east-1")))
                .unwrap_err()
                .code,
            "InvalidLocationConstraint"
        );
        assert_eq!(
            bucket_region("us-east-1", Some(&lc("mars-1")))
                .unwrap_err()
                .code,
            "InvalidLocationConstraint"
        );
        assert_eq!(
            bucket_region("us-east-1", Some(&lc("eu-west-2"))).unwrap(),
            "eu-west-2"
        );
        assert_eq!(
            bucket_region("eu-west-1", Some(&lc("eu-west-1"))).unwrap(),
            "eu-west-1"
        );
        let e = bucket_region("eu-west-1", Some(&lc("eu-west-2"))).unwrap_err();
        assert_eq!(e.code, "IllegalLocationConstraintException");
        assert!(e.message.starts_with("The eu-west-2 location constraint"));
        assert_eq!(
            bucket_region("us-east-1", Some(&lc("EU"))).unwrap(),
            "eu-west-1"
        );
    }
}
