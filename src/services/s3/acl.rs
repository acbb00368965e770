//! ACLs and object ownership (spec §5.4): canned ACLs, grant headers and AccessControlPolicy
//! documents; Get/PutBucketAcl, Get/PutObjectAcl; who an ACL grants what.

use super::authorize::{self, Target};
use super::xml::Element;
use super::{
    existing_bucket, invalid_argument, malformed_xml, no_such_key, Bucket, Call, Ownership,
};
use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::store::{Writer, WriterExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        [
            Permission::FullControl,
            Permission::Read,
            Permission::Write,
            Permission::ReadAcp,
            Permission::WriteAcp,
        ]
        .into_iter()
        .find(|p| p.name() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grantee {
    /// A canonical user id (an account).
    CanonicalUser(String),
    /// A group URI.
    Group(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// An account's canonical user id: 64 lowercase hex, stable per account.
pub fn canonical_id(account: &str) -> String {
    hex::encode(Sha256::digest(account.as_bytes()))
}

fn owner_full(account: &str) -> Grant {
    Grant {
        grantee: Grantee::CanonicalUser(canonical_id(account)),
        permission: Permission::FullControl,
    }
}

/// The ACL owners get when nothing else is asked for.
pub fn private(owner: &str) -> Vec<Grant> {
    vec![owner_full(owner)]
}

/// The grants of a canned ACL. `object_owner` is None for a bucket ACL.
pub fn canned(
    name: &str,
    bucket_owner: &str,
    object_owner: Option<&str>,
) -> Result<Vec<Grant>, AwsError> {
    let owner = object_owner.unwrap_or(bucket_owner);
    let mut grants = vec![owner_full(owner)];
    let group = |uri: &str, p: Permission| Grant {
        grantee: Grantee::Group(uri.to_string()),
        permission: p,
    };
    match name {
        "private" | "aws-exec-read" => {}
        "public-read" => grants.push(group(ALL_USERS, Permission::Read)),
        "public-read-write" => {
            grants.push(group(ALL_USERS, Permission::Read));
            grants.push(group(ALL_USERS, Permission::Write));
        }
        "authenticated-read" => grants.push(group(AUTHENTICATED_USERS, Permission::Read)),
        "bucket-owner-read" | "bucket-owner-full-control" => {
            if owner != bucket_owner {
                grants.push(Grant {
                    grantee: Grantee::CanonicalUser(canonical_id(bucket_owner)),
                    permission: if name == "bucket-owner-read" {
                        Permission::Read
                    } else {
                        Permission::FullControl
                    },
                });
            }
        }
        "log-delivery-write" => {
            grants.push(group(LOG_DELIVERY, Permission::Write));
            grants.push(group(LOG_DELIVERY, Permission::ReadAcp));
        }
        _ => return Err(invalid_argument("", "x-amz-acl", name)),
    }
    Ok(grants)
}

/// What a request says about an ACL: a canned name, grant headers, or (Put*Acl) a document.
#[derive(Clone, Debug, Default)]
pub struct AclRequest {
    /// `x-amz-acl`.
    pub canned: Option<String>,
    /// `x-amz-grant-*` headers as (permission, value).
    pub grant_headers: Vec<(Permission, String)>,
    /// An `AccessControlPolicy` body.
    pub body: Option<Element>,
}

impl AclRequest {
    pub fn is_empty(&self) -> bool {
        self.canned.is_none() && self.grant_headers.is_empty() && self.body.is_none()
    }
}

fn grantees_of_header(value: &str) -> Result<Vec<Grantee>, AwsError> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let (kind, v) = item
            .split_once('=')
            .ok_or_else(|| invalid_argument("Invalid grant header", "x-amz-grant", item))?;
        let v = v.trim().trim_matches('"');
        match kind.trim() {
            "id" => out.push(Grantee::CanonicalUser(v.to_string())),
            "uri" => out.push(Grantee::Group(check_group(v)?)),
            "emailAddress" => return Err(unresolvable_email()),
            _ => {
                return Err(invalid_argument(
                    "Invalid grant header",
                    "x-amz-grant",
                    item,
                ))
            }
        }
    }
    Ok(out)
}

fn unresolvable_email() -> AwsError {
    AwsError::new(
        400,
        "UnresolvableGrantByEmailAddress",
        "The e-mail address you provided does not match any account on record.",
    )
}

fn check_group(uri: &str) -> Result<String, AwsError> {
    if [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&uri) {
        Ok(uri.to_string())
    } else {
        Err(invalid_argument("Invalid group uri", "uri", uri))
    }
}

fn grants_of_document(doc: &Element) -> Result<Vec<Grant>, AwsError> {
    if doc.name != "AccessControlPolicy" {
        return Err(malformed_xml());
    }
    let list = doc.child("AccessControlList").ok_or_else(malformed_xml)?;
    let mut grants = Vec::new();
    for g in list.children("Grant") {
        let grantee = g.child("Grantee").ok_or_else(malformed_xml)?;
        let permission = g
            .child_text("Permission")
            .and_then(Permission::parse)
            .ok_or_else(malformed_xml)?;
        let who = match grantee.attribute("type") {
            Some("CanonicalUser") => Grantee::CanonicalUser(
                grantee
                    .child_text("ID")
                    .ok_or_else(malformed_xml)?
                    .to_string(),
            ),
            Some("Group") => Grantee::Group(check_group(
                grantee.child_text("URI").ok_or_else(malformed_xml)?,
            )?),
            Some("AmazonCustomerByEmail") => return Err(unresolvable_email()),
            _ => return Err(malformed_xml()),
        };
        grants.push(Grant {
            grantee: who,
            permission,
        });
    }
    Ok(grants)
}

/// The grants a request asks for; None when it says nothing about ACLs.
pub fn resolve(
    req: &AclRequest,
    bucket_owner: &str,
    object_owner: Option<&str>,
) -> Result<Option<Vec<Grant>>, AwsError> {
    if req.canned.is_some() && !req.grant_headers.is_empty() {
        return Err(super::invalid_request(
            "Specifying both Canned ACLs and Header Grants is not allowed",
        ));
    }
    if req.body.is_some() && (req.canned.is_some() || !req.grant_headers.is_empty()) {
        return Err(AwsError::new(
            400,
            "UnexpectedContent",
            "This request does not support content",
        ));
    }
    if let Some(c) = &req.canned {
        return canned(c, bucket_owner, object_owner).map(Some);
    }
    if let Some(doc) = &req.body {
        return grants_of_document(doc).map(Some);
    }
    if req.grant_headers.is_empty() {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for (permission, value) in &req.grant_headers {
        for grantee in grantees_of_header(value)? {
            grants.push(Grant {
                grantee,
                permission: *permission,
            });
        }
    }
    Ok(Some(grants))
}

/// The ACL a PutBucketAcl / PutObjectAcl stores: None when the bucket enforces ownership and the
/// request only restates the owner's full control (accepted, nothing to store); refused when it
/// names no ACL at all or grants anything else under enforced ownership.
fn replacement(
    req: &AclRequest,
    b: &Bucket,
    object_owner: Option<&str>,
) -> Result<Option<Vec<Grant>>, AwsError> {
    let Some(grants) = resolve(req, &b.owner, object_owner)? else {
        return Err(AwsError::new(
            400,
            "MissingSecurityHeader",
            "Your request was missing a required header",
        )
        .with("MissingHeaderName", "x-amz-acl"));
    };
    if b.effective_ownership() == Ownership::BucketOwnerEnforced {
        if enforced_accepts(req, &Some(grants), &b.owner) {
            return Ok(None);
        }
        return Err(not_supported());
    }
    Ok(Some(grants))
}

/// Whether an ACL request is acceptable under BucketOwnerEnforced: absent, the canned
/// `bucket-owner-full-control`, or grants that give the bucket owner full control and nothing
/// else.
pub fn enforced_accepts(req: &AclRequest, grants: &Option<Vec<Grant>>, bucket_owner: &str) -> bool {
    match (&req.canned, grants) {
        (_, None) => true,
        (Some(c), _) => c == "bucket-owner-full-control",
        (None, Some(g)) => g.iter().all(|g| *g == owner_full(bucket_owner)),
    }
}

pub fn not_supported() -> AwsError {
    AwsError::new(
        400,
        "AccessControlListNotSupported",
        "The bucket does not allow ACLs",
    )
}

/// Whether `grants` give `principal` `wanted` (FULL_CONTROL covers everything).
pub fn grants(grants: &[Grant], principal: &Principal, wanted: Permission) -> bool {
    let signed = matches!(
        principal.kind,
        PrincipalKind::Root | PrincipalKind::User { .. } | PrincipalKind::AssumedRole { .. }
    );
    let me = signed.then(|| canonical_id(&principal.account));
    grants.iter().any(|g| {
        let who = match &g.grantee {
            Grantee::CanonicalUser(id) => me.as_deref() == Some(id.as_str()),
            Grantee::Group(uri) if uri == ALL_USERS => true,
            Grantee::Group(uri) if uri == AUTHENTICATED_USERS => signed,
            // The log delivery group is S3's server access logging.
            Grantee::Group(uri) if uri == LOG_DELIVERY => matches!(
                &principal.kind,
                PrincipalKind::Service { service } if service == "logging.s3.amazonaws.com"
            ),
            Grantee::Group(_) => false,
        };
        who && (g.permission == wanted || g.permission == Permission::FullControl)
    })
}

/// An ACL as GetBucketAcl / GetObjectAcl return it.
pub struct AclView {
    pub owner: String,
    pub grants: Vec<Grant>,
}

pub fn get_bucket_acl(
    r: &dyn crate::store::Reader,
    call: &Call,
    bucket: &str,
) -> Result<AclView, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(r, call, "s3:GetBucketAcl", &Target::bucket(&b), &[])?;
    Ok(AclView {
        owner: canonical_id(&b.owner),
        // With ACLs disabled the owner has full control, whatever was stored.
        grants: if b.effective_ownership() == Ownership::BucketOwnerEnforced {
            private(&b.owner)
        } else {
            b.acl.clone()
        },
    })
}

pub fn put_bucket_acl(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    req: &AclRequest,
) -> Result<(), AwsError> {
    let mut b: Bucket = existing_bucket(w, bucket)?;
    let extra: Vec<(&'static str, String)> = req
        .canned
        .iter()
        .map(|c| ("s3:x-amz-acl", c.clone()))
        .collect();
    authorize::check(w, call, "s3:PutBucketAcl", &Target::bucket(&b), &extra)?;
    let Some(grants) = replacement(req, &b, None)? else {
        return Ok(());
    };
    super::public_access::check_acl(
        call,
        &b,
        "s3:PutBucketAcl",
        &b.arn(),
        req.canned.as_deref(),
        &grants,
    )?;
    b.acl = grants;
    w.put_json(super::BUCKETS, b.name.as_bytes(), &b)?;
    Ok(())
}

pub fn get_object_acl(
    r: &dyn crate::store::Reader,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<AclView, AwsError> {
    let b = existing_bucket(r, bucket)?;
    let o = super::objects::read_version(r, call, &b, key, version_id, "s3:GetObjectAcl", "GET")?;
    Ok(AclView {
        owner: canonical_id(&o.owner),
        grants: if b.effective_ownership() == Ownership::BucketOwnerEnforced {
            private(&o.owner)
        } else {
            o.acl.clone()
        },
    })
}

pub fn put_object_acl(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    req: &AclRequest,
) -> Result<(), AwsError> {
    let b = existing_bucket(w, bucket)?;
    let found = match version_id {
        None => super::versions::latest(w, &b, key)?,
        Some(v) => super::versions::find(w, bucket, key, v)?,
    };
    let (place, o) = match found {
        Some((p, o)) if !o.delete_marker => (Some(p), Some(o)),
        Some((_, o)) => (None, Some(o)),
        None => (None, None),
    };
    let mut extra: Vec<(&'static str, String)> = req
        .canned
        .iter()
        .map(|c| ("s3:x-amz-acl", c.clone()))
        .collect();
    if let Some(v) = version_id {
        extra.push(("s3:versionid", v.to_string()));
    }
    authorize::check(
        w,
        call,
        &super::objects::versioned_action("s3:PutObjectAcl", version_id),
        &Target::object(&b, key, o.as_ref().filter(|o| !o.delete_marker)),
        &extra,
    )?;
    let (place, mut o) = match (place, o) {
        (Some(p), Some(o)) => (p, o),
        (None, Some(o)) => {
            return Err(super::versions::delete_marker_error(
                &o,
                key,
                version_id.is_some(),
                "PUT",
            ))
        }
        _ => {
            return Err(match version_id {
                Some(v) => super::versions::no_such_version(key, v),
                None => no_such_key(key),
            })
        }
    };
    let Some(grants) = replacement(req, &b, Some(&o.owner))? else {
        return Ok(());
    };
    super::public_access::check_acl(
        call,
        &b,
        "s3:PutObjectAcl",
        &format!("{}/{key}", b.arn()),
        req.canned.as_deref(),
        &grants,
    )?;
    o.acl = grants;
    super::versions::store(w, bucket, key, &place, &o)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls() {
        let g = canned("public-read", "111111111111", None).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[1].grantee, Grantee::Group(ALL_USERS.into()));
        let g = canned(
            "bucket-owner-full-control",
            "111111111111",
            Some("222222222222"),
        )
        .unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            g[1].grantee,
            Grantee::CanonicalUser(canonical_id("111111111111"))
        );
        assert_eq!(
            canned("nope", "1", None).unwrap_err().code,
            "InvalidArgument"
        );
        assert_eq!(canonical_id("111111111111").len(), 64);
    }

    #[test]
    fn grant_headers() {
        let req = AclRequest {
            grant_headers: vec![(Permission::Read, format!("uri=\"{ALL_USERS}\", id=\"abc\""))],
            ..Default::default()
        };
        let g = resolve(&req, "1", None).unwrap().unwrap();
        assert_eq!(g.len(), 2);
        let anon = Principal {
            account: String::new(),
            kind: PrincipalKind::Anonymous,
            access_key_id: String::new(),
            session: None,
        };
        assert!(grants(&g, &anon, Permission::Read));
        assert!(!grants(&g, &anon, Permission::Write));
    }
}
