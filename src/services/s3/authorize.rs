//! The one door every S3 operation passes: may this caller do this action on this bucket or
//! object? (spec §6.4-6.6). It combines the caller's identity policies, the bucket policy, the
//! bucket owner, ACLs where the bucket's ownership setting lets them count, and the request's
//! condition keys (§6.5), through the policy engine.
//!
//! [`service_may`] is the same question for an AWS service principal (CloudTrail's bucket
//! checks at CreateTrail/UpdateTrail and at every delivery).

use super::acl::{self, Permission};
use super::public_access;
use super::tagging::Tag;
use super::{access_denied, AuthFacts, Bucket, Call, Object, Ownership, ServiceSource};
use crate::access::{self, Ask};
use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{Context, Decision, Outcome, Policy, PolicyKind};
use crate::store::Reader;
use chrono::{DateTime, Utc};

/// What an action applies to.
pub struct Target<'a> {
    pub bucket: &'a Bucket,
    /// None for bucket-level actions.
    pub key: Option<&'a str>,
    /// The object, when it exists: its ACL counts for object reads when ACLs are enabled, and
    /// its tags are `s3:ExistingObjectTag/<key>`.
    pub object: Option<&'a Object>,
    /// Tags the request sets (`s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`).
    pub request_tags: Option<&'a [Tag]>,
}

impl<'a> Target<'a> {
    pub fn bucket(bucket: &'a Bucket) -> Self {
        Target {
            bucket,
            key: None,
            object: None,
            request_tags: None,
        }
    }

    pub fn object(bucket: &'a Bucket, key: &'a str, object: Option<&'a Object>) -> Self {
        Target {
            bucket,
            key: Some(key),
            object,
            request_tags: None,
        }
    }

    pub fn with_request_tags(mut self, tags: &'a [Tag]) -> Self {
        self.request_tags = Some(tags);
        self
    }

    fn resource(&self) -> String {
        match self.key {
            Some(k) => format!("arn:aws:s3:::{}/{}", self.bucket.name, k),
            None => format!("arn:aws:s3:::{}", self.bucket.name),
        }
    }
}

/// Request-specific condition keys, e.g. `("s3:x-amz-acl", "bucket-owner-full-control")`,
/// `("s3:prefix", "AWSLogs/")`.
pub type Extra<'a> = &'a [(&'static str, String)];

/// The facts the condition keys are made of, whoever asks.
struct Facts<'a> {
    request: access::Facts<'a>,
    auth: Option<&'a AuthFacts>,
    service: Option<&'a ServiceSource>,
}

/// S3's own condition keys and those of service-made requests; the access room adds the keys
/// every request carries.
fn context(f: &Facts, owner: &str, extra: Extra) -> Context {
    let mut c = Context::new();
    c.set("s3:ResourceAccount", owner);
    if let Some(a) = f.auth {
        if let Some(t) = a.auth_type {
            c.set("s3:authType", t);
        }
        if let Some(v) = a.signature_version {
            c.set("s3:signatureversion", v);
        }
        if let Some(h) = &a.content_sha256 {
            c.set("s3:x-amz-content-sha256", h.clone());
        }
    }
    if let Some(s) = f.service {
        if let Some(v) = &s.source_arn {
            c.set("aws:SourceArn", v.clone());
        }
        if let Some(v) = &s.source_account {
            c.set("aws:SourceAccount", v.clone());
        }
        if let Some(v) = &s.source_org_id {
            c.set("aws:SourceOrgID", v.clone());
        }
    }
    for (k, v) in extra {
        c.set(k, v.clone());
    }
    c
}

fn facts<'a>(call: &'a Call) -> Facts<'a> {
    Facts {
        request: access::Facts::of(&call.ctx),
        auth: Some(&call.auth),
        service: call.service.as_ref(),
    }
}

fn bucket_policy(bucket: &Bucket) -> Option<Policy> {
    bucket.policy.as_ref().and_then(|text| {
        Policy::parse(
            text,
            &PolicyKind::Bucket {
                bucket: bucket.name.clone(),
            },
        )
        .ok()
    })
}

/// Which ACL permission stands for an action, and whether it is read from the object's ACL
/// (else the bucket's). Actions ACLs cannot grant give None.
fn acl_permission(action: &str) -> Option<(Permission, bool)> {
    Some(match action {
        "s3:ListBucket" | "s3:ListBucketMultipartUploads" | "s3:ListBucketVersions" => {
            (Permission::Read, false)
        }
        "s3:PutObject"
        | "s3:DeleteObject"
        | "s3:DeleteObjectVersion"
        | "s3:AbortMultipartUpload" => (Permission::Write, false),
        "s3:GetBucketAcl" => (Permission::ReadAcp, false),
        "s3:PutBucketAcl" => (Permission::WriteAcp, false),
        "s3:GetObject" | "s3:GetObjectVersion" | "s3:ListMultipartUploadParts" => {
            (Permission::Read, true)
        }
        "s3:GetObjectAcl" | "s3:GetObjectVersionAcl" => (Permission::ReadAcp, true),
        "s3:PutObjectAcl" | "s3:PutObjectVersionAcl" => (Permission::WriteAcp, true),
        _ => return None,
    })
}

/// The condition keys of the target: the object's tags, the tags the request sets.
fn target_context(mut c: Context, t: &Target) -> Context {
    if let Some(o) = t.object {
        for tag in &o.tags {
            c.set(
                &format!("s3:ExistingObjectTag/{}", tag.key),
                tag.value.clone(),
            );
        }
    }
    if let Some(tags) = t.request_tags {
        for (k, v) in super::tagging::request_condition_keys(tags) {
            c.set_multi(&k, v);
        }
    }
    c
}

/// RestrictPublicBuckets: while the bucket policy is public, it grants nothing to principals
/// outside the bucket owner's account other than AWS services.
fn policy_counts_for(t: &Target, principal: &Principal) -> bool {
    if !public_access::settings(t.bucket).restrict_public_buckets {
        return true;
    }
    if principal.account == t.bucket.owner
        || matches!(principal.kind, PrincipalKind::Service { .. })
    {
        return true;
    }
    !t.bucket
        .policy
        .as_deref()
        .is_some_and(public_access::policy_is_public)
}

fn decide(
    r: &dyn Reader,
    f: &Facts,
    action: &str,
    t: &Target,
    extra: Extra,
) -> Result<Outcome, AwsError> {
    let policy = bucket_policy(t.bucket).filter(|_| policy_counts_for(t, f.request.principal));
    let resource = t.resource();
    let decision = access::decide(
        r,
        &f.request,
        Ask {
            action,
            resource: &resource,
            resource_policy: policy.as_ref(),
            resource_owner: Some(&t.bucket.owner),
            context: target_context(context(f, &t.bucket.owner, extra), t),
        },
    )?;
    if decision.decision != Decision::ImplicitDeny
        || t.bucket.effective_ownership() == Ownership::BucketOwnerEnforced
    {
        return Ok(decision);
    }
    // ACLs count only when the bucket's ownership setting enables them, and never against an
    // explicit deny.
    let Some((permission, on_object)) = acl_permission(action) else {
        return Ok(decision);
    };
    let grants = match (on_object, t.object) {
        (true, Some(o)) => &o.acl,
        (true, None) => return Ok(decision),
        (false, _) => &t.bucket.acl,
    };
    let principal = f.request.principal;
    // IgnorePublicAcls: grants to everyone or to every AWS account count for nothing.
    let kept: Vec<acl::Grant>;
    let grants = if public_access::settings(t.bucket).ignore_public_acls {
        kept = grants
            .iter()
            .filter(|g| !public_access::public_grant(g))
            .cloned()
            .collect();
        &kept
    } else {
        grants
    };
    if !acl::grants(grants, principal, permission) {
        return Ok(decision);
    }
    Ok(match principal.kind {
        PrincipalKind::Anonymous | PrincipalKind::Service { .. } | PrincipalKind::Root => {
            Outcome::allowed()
        }
        // An ACL grant names an account; its users and roles still need their own policies
        // to allow the action.
        _ => {
            let own = access::decide(
                r,
                &f.request,
                Ask {
                    action,
                    resource: &resource,
                    resource_policy: None,
                    resource_owner: Some(&principal.account),
                    context: target_context(context(f, &t.bucket.owner, extra), t),
                },
            )?;
            if own.is_allowed() {
                Outcome::allowed()
            } else {
                decision
            }
        }
    })
}

fn is_policy_action(action: &str) -> bool {
    matches!(
        action,
        "s3:GetBucketPolicy" | "s3:PutBucketPolicy" | "s3:DeleteBucketPolicy"
    )
}

/// Whether the call may do `action` on `target` (no error mapping).
pub fn allowed(
    r: &dyn Reader,
    call: &Call,
    action: &str,
    target: &Target,
    extra: Extra,
) -> Result<bool, AwsError> {
    Ok(decide(r, &facts(call), action, target, extra)?.is_allowed())
}

/// S3's refusal: for a caller of the resource owner's account or organization, AWS's message
/// names the caller, the action, the resource and the policy that refused; others (and
/// anonymous callers) get the bare "Access Denied".
fn refusal(
    r: &dyn Reader,
    call: &Call,
    action: &str,
    resource: Option<&str>,
    owner: &str,
    outcome: &Outcome,
) -> AwsError {
    let p = &call.ctx.principal;
    if p.account.is_empty() || outcome.refused_by.is_none() {
        return access_denied();
    }
    let org_of = |a: &str| {
        crate::services::organizations::view::organization_of(r, a)
            .ok()
            .flatten()
            .map(|o| o.id)
    };
    let related =
        p.account == owner || org_of(&p.account).is_some_and(|o| Some(o) == org_of(owner));
    if !related {
        return access_denied();
    }
    let quoted = resource.map(|x| format!("\"{x}\""));
    AwsError::new(
        403,
        "AccessDenied",
        access::denied_message(p, action, quoted.as_deref().unwrap_or("*"), outcome),
    )
}

/// Authorizes an action on a bucket or object; AccessDenied (403) when refused.
///
/// The bucket owner's root may always manage the bucket policy (so a policy can never lock the
/// owner out); another account that the policy lets manage it still gets 405 MethodNotAllowed,
/// since only the owning account may.
pub fn check(
    r: &dyn Reader,
    call: &Call,
    action: &str,
    target: &Target,
    extra: Extra,
) -> Result<(), AwsError> {
    if let Some(expected) = &call.expected_owner {
        if *expected != target.bucket.owner {
            return Err(access_denied());
        }
    }
    let p = &call.ctx.principal;
    if is_policy_action(action) && p.kind == PrincipalKind::Root && p.account == target.bucket.owner
    {
        return Ok(());
    }
    let outcome = decide(r, &facts(call), action, target, extra)?;
    if !outcome.is_allowed() {
        return Err(refusal(
            r,
            call,
            action,
            Some(&target.resource()),
            &target.bucket.owner,
            &outcome,
        ));
    }
    if is_policy_action(action) && p.account != target.bucket.owner {
        return Err(AwsError::new(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .with("Method", method_of(action))
        .with("ResourceType", "BUCKETPOLICY"));
    }
    Ok(())
}

fn method_of(action: &str) -> &'static str {
    match action {
        "s3:GetBucketPolicy" => "GET",
        "s3:PutBucketPolicy" => "PUT",
        _ => "DELETE",
    }
}

/// Account-level actions (ListAllMyBuckets, CreateBucket of a new bucket): only the caller's own
/// identity policies count, and anonymous callers are refused.
pub fn check_account_action(
    r: &dyn Reader,
    call: &Call,
    action: &str,
    resource: &str,
) -> Result<(), AwsError> {
    let p = &call.ctx.principal;
    if p.account.is_empty() {
        return Err(access_denied());
    }
    let f = facts(call);
    let d = access::decide(
        r,
        &f.request,
        Ask {
            action,
            resource,
            resource_policy: None,
            resource_owner: Some(&p.account),
            context: context(&f, &p.account, &[]),
        },
    )?;
    if d.is_allowed() {
        Ok(())
    } else {
        let shown = (resource != "*").then_some(resource);
        Err(refusal(r, call, action, shown, &p.account, &d))
    }
}

/// What an AWS service asks before acting on a bucket (CloudTrail's bucket checks).
pub struct ServiceRequest<'a> {
    /// e.g. `cloudtrail.amazonaws.com`.
    pub service: &'a str,
    /// `aws:SourceArn`, `aws:SourceAccount`, `aws:SourceOrgID`.
    pub source: &'a ServiceSource,
    /// e.g. `s3:GetBucketAcl`, `s3:PutObject`.
    pub action: &'a str,
    pub bucket: &'a str,
    /// None for bucket-level actions.
    pub key: Option<&'a str>,
    /// The `x-amz-acl` the request would carry (`s3:x-amz-acl`).
    pub acl: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// May the service do the action? Reads the bucket's policy and owner from the store;
/// `NoSuchBucket` when there is no such bucket. Service requests are made over TLS
/// (`aws:SecureTransport` is true) and carry no source IP.
pub fn service_may(r: &dyn Reader, q: &ServiceRequest) -> Result<bool, AwsError> {
    let b = super::existing_bucket(r, q.bucket)?;
    let principal = Principal::service(q.service);
    let region = b.region.clone();
    let f = Facts {
        request: access::Facts {
            principal: &principal,
            source_ip: None,
            secure: true,
            time: q.now,
            region: &region,
        },
        auth: None,
        service: Some(q.source),
    };
    let extra: Vec<(&'static str, String)> = q
        .acl
        .map(|a| vec![("s3:x-amz-acl", a.to_string())])
        .unwrap_or_default();
    let target = Target {
        bucket: &b,
        key: q.key,
        object: None,
        request_tags: None,
    };
    Ok(decide(r, &f, q.action, &target, &extra)?.is_allowed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::s3::{acl, BUCKETS};
    use crate::store::{Durability, SqliteEngine, Store, WriterExt};
    use std::sync::Arc;

    /// The organization-trail bucket policy of create-s3-bucket-policy-for-cloudtrail.md
    /// (spec §6.7).
    const TRAIL_POLICY: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
         "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
         "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::trail-bucket",
         "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}},
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
         "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/111111111111/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                         "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}},
        {"Sid": "AWSCloudTrailOrganizationWrite20150319", "Effect": "Allow",
         "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/o-exampleorgid/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                         "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}}
      ]
    }"#;

    async fn store_with_bucket(policy: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let engine = SqliteEngine::open(&dir.path().join("s.db"), Durability::Process).unwrap();
        let store = Store::new(Arc::new(engine));
        let bucket = Bucket {
            name: "trail-bucket".into(),
            owner: "111111111111".into(),
            region: "us-east-1".into(),
            created: 0,
            ownership: Some(Ownership::BucketOwnerEnforced),
            acl: acl::private("111111111111"),
            policy: Some(policy.to_string()),
            config: Default::default(),
        };
        store
            .write(move |w| w.put_json(BUCKETS, b"trail-bucket", &bucket))
            .await
            .unwrap();
        (dir, store)
    }

    fn ask(
        store: &Store,
        source_arn: &str,
        action: &str,
        key: Option<&str>,
        acl: Option<&str>,
    ) -> bool {
        let source = ServiceSource {
            source_arn: Some(source_arn.into()),
            source_account: Some("111111111111".into()),
            source_org_id: Some("o-exampleorgid".into()),
        };
        store
            .read(|r| {
                Ok(service_may(
                    r,
                    &ServiceRequest {
                        service: "cloudtrail.amazonaws.com",
                        source: &source,
                        action,
                        bucket: "trail-bucket",
                        key,
                        acl,
                        now: Utc::now(),
                    },
                ))
            })
            .unwrap()
            .unwrap()
    }

    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail";
    const FULL: Option<&str> = Some("bucket-owner-full-control");

    #[tokio::test]
    async fn cloudtrail_checks_against_the_documented_policy() {
        let (_d, store) = store_with_bucket(TRAIL_POLICY).await;
        assert!(ask(&store, TRAIL, "s3:GetBucketAcl", None, None));
        assert!(ask(
            &store,
            TRAIL,
            "s3:PutObject",
            Some("AWSLogs/111111111111/"),
            FULL
        ));
        assert!(ask(
            &store,
            TRAIL,
            "s3:PutObject",
            Some("AWSLogs/o-exampleorgid/222222222222/CloudTrail/us-east-1/2026/11/24/x.json.gz"),
            FULL
        ));
        // The ACL header is required, the prefix must match, and so must the trail.
        assert!(!ask(
            &store,
            TRAIL,
            "s3:PutObject",
            Some("AWSLogs/111111111111/x"),
            None
        ));
        assert!(!ask(
            &store,
            TRAIL,
            "s3:PutObject",
            Some("AWSLogs/333333333333/x"),
            FULL
        ));
        let other = "arn:aws:cloudtrail:us-east-1:111111111111:trail/other";
        assert!(!ask(&store, other, "s3:GetBucketAcl", None, None));
        assert!(!ask(
            &store,
            other,
            "s3:PutObject",
            Some("AWSLogs/111111111111/x"),
            FULL
        ));
        // Reading is not granted to the service.
        assert!(!ask(
            &store,
            TRAIL,
            "s3:GetObject",
            Some("AWSLogs/111111111111/x"),
            None
        ));
        // No such bucket.
        let source = ServiceSource::default();
        let missing = store
            .read(|r| {
                Ok(service_may(
                    r,
                    &ServiceRequest {
                        service: "cloudtrail.amazonaws.com",
                        source: &source,
                        action: "s3:GetBucketAcl",
                        bucket: "no-such-bucket",
                        key: None,
                        acl: None,
                        now: Utc::now(),
                    },
                ))
            })
            .unwrap();
        assert_eq!(missing.unwrap_err().code, "NoSuchBucket");
    }

    #[tokio::test]
    async fn variants_and_secure_transport() {
        // StringLike on the trail ARN, lower-cased keys, SourceAccount, and a "deny plain
        // HTTP" statement that service requests (always TLS) pass.
        let policy = r#"{"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
           "Action": ["s3:GetBucketAcl", "s3:PutObject"],
           "Resource": ["arn:aws:s3:::trail-bucket", "arn:aws:s3:::trail-bucket/AWSLogs/*"],
           "Condition": {"StringLike": {"AWS:SourceArn": "arn:aws:cloudtrail:*:111111111111:trail/*"},
                         "StringEquals": {"aws:sourceAccount": "111111111111"}}},
          {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
           "Resource": ["arn:aws:s3:::trail-bucket", "arn:aws:s3:::trail-bucket/*"],
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]}"#;
        let (_d, store) = store_with_bucket(policy).await;
        assert!(ask(&store, TRAIL, "s3:GetBucketAcl", None, None));
        assert!(ask(
            &store,
            "arn:aws:cloudtrail:eu-west-1:111111111111:trail/x",
            "s3:PutObject",
            Some("AWSLogs/1/"),
            FULL
        ));
        assert!(!ask(
            &store,
            "arn:aws:cloudtrail:eu-west-1:999999999999:trail/x",
            "s3:GetBucketAcl",
            None,
            None
        ));
    }
}
