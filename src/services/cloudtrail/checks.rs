//! The checks CreateTrail and UpdateTrail share, each with AWS's exception, run in AWS's order
//! (spec cloudtrail.md §3.4, §3.5, §3.9).

use super::bucket::{self, DeliveryProbe};
use super::input::{opt_bool, opt_str};
use super::model::Trail;
use super::names::{check_bucket_name, check_prefix, check_sns_topic};
use super::org::{self, OrgInfo};
use super::resolve::{not_management, owned};
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::Reader;

/// Trails per account per region (a multi-region trail counts in every region).
pub const TRAILS_PER_REGION: usize = 5;

pub fn combination(message: &str) -> AwsError {
    AwsError::client("InvalidParameterCombinationException", message)
}

pub const MULTI_REGION_NEEDS_GLOBAL: &str =
    "Multi-Region trail must include global service events.";

/// The settings CreateTrail and UpdateTrail share, as given (None: not in the request).
pub struct Settings {
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub sns: Option<String>,
    pub global: Option<bool>,
    pub multi: Option<bool>,
    pub validation: Option<bool>,
    pub log_group: Option<String>,
    pub role: Option<String>,
    pub kms: Option<String>,
    pub organization: Option<bool>,
}

pub fn settings(input: &JsonInput) -> Result<Settings, AwsError> {
    Ok(Settings {
        bucket: opt_str(input, "S3BucketName")?,
        prefix: opt_str(input, "S3KeyPrefix")?,
        sns: opt_str(input, "SnsTopicName")?,
        global: opt_bool(input, "IncludeGlobalServiceEvents")?,
        multi: opt_bool(input, "IsMultiRegionTrail")?,
        validation: opt_bool(input, "EnableLogFileValidation")?,
        log_group: opt_str(input, "CloudWatchLogsLogGroupArn")?,
        role: opt_str(input, "CloudWatchLogsRoleArn")?,
        kms: opt_str(input, "KmsKeyId")?,
        organization: opt_bool(input, "IsOrganizationTrail")?,
    })
}

/// A member given a non-empty value (an empty string clears a setting in UpdateTrail).
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.is_empty())
}

fn kms_id_ok(k: &str) -> bool {
    let uuid = |s: &str| {
        s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| {
                if [8, 13, 18, 23].contains(&i) {
                    b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            })
    };
    let key_id = |s: &str| uuid(s) || (s.starts_with("mrk-") && s.len() > 4);
    if let Some(alias) = k.strip_prefix("alias/") {
        return !alias.is_empty();
    }
    if k.starts_with("arn:") {
        let p: Vec<&str> = k.splitn(6, ':').collect();
        return p.len() == 6
            && p[2] == "kms"
            && !p[3].is_empty()
            && p[4].len() == 12
            && p[4].bytes().all(|b| b.is_ascii_digit())
            && (p[5].strip_prefix("key/").is_some_and(key_id)
                || p[5].strip_prefix("alias/").is_some_and(|a| !a.is_empty()));
    }
    key_id(k)
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>:*`
fn log_group_ok(arn: &str) -> bool {
    let p: Vec<&str> = arn.splitn(7, ':').collect();
    p.len() == 7
        && p[0] == "arn"
        && p[2] == "logs"
        && !p[3].is_empty()
        && p[4].len() == 12
        && p[4].bytes().all(|b| b.is_ascii_digit())
        && p[5] == "log-group"
        && !p[6].is_empty()
}

/// `arn:aws:iam::<account>:role/<name>`
fn role_ok(arn: &str) -> bool {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && p[2] == "iam"
        && p[3].is_empty()
        && p[4].len() == 12
        && p[4].bytes().all(|b| b.is_ascii_digit())
        && p[5].strip_prefix("role/").is_some_and(|n| !n.is_empty())
}

/// Checks 3–5 of §3.4: combinations, then syntax.
pub fn check_syntax(s: &Settings) -> Result<(), AwsError> {
    if s.multi == Some(true) && s.global == Some(false) {
        return Err(combination(MULTI_REGION_NEEDS_GLOBAL));
    }
    let lg = set(&s.log_group);
    let role = set(&s.role);
    if lg.is_some() != role.is_some() {
        return Err(combination(
            "You must specify both a CloudWatch Logs log group ARN and a role ARN, or neither.",
        ));
    }
    if let Some(b) = &s.bucket {
        check_bucket_name(b)?;
    }
    if let Some(p) = &s.prefix {
        check_prefix(p)?;
    }
    if let Some(t) = set(&s.sns) {
        check_sns_topic(t)?;
    }
    if let Some(k) = set(&s.kms) {
        if !kms_id_ok(k) {
            return Err(AwsError::client(
                "InvalidKmsKeyIdException",
                format!("Invalid KmsKeyId {k} is specified."),
            ));
        }
    }
    if let Some(lg) = lg {
        if !log_group_ok(lg) {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsLogGroupArnException",
                format!("CloudWatch Logs log group ARN {lg} is not valid."),
            ));
        }
    }
    if let Some(role) = role {
        if !role_ok(role) {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsRoleArnException",
                format!("CloudWatch Logs role ARN {role} is not valid."),
            ));
        }
    }
    Ok(())
}

/// Check 7: creating (or converting to) an organization trail (§3.9), in AWS's order. The
/// management account may always; a CloudTrail delegated administrator may unless
/// `management_only` (converting an existing trail). Returns the organization.
pub fn check_organization(
    r: &dyn Reader,
    account: &str,
    management_only: bool,
) -> Result<OrgInfo, AwsError> {
    let Some(o) = org::organization_of(r, account)? else {
        return Err(AwsError::client(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        ));
    };
    if !o.all_features {
        return Err(AwsError::client(
            "OrganizationNotInAllFeaturesModeException",
            "This operation requires that all features are enabled in your organization.",
        ));
    }
    let allowed = o.management_account == account
        || (!management_only && org::is_delegated_admin(r, account)?);
    if !allowed {
        return Err(not_management());
    }
    if !org::trusted_access(r, &o)? {
        return Err(AwsError::client(
            "CloudTrailAccessNotEnabledException",
            "The request could not be processed because your organization hasn't enabled CloudTrail service access. Enable service access for CloudTrail, and then try again.",
        ));
    }
    Ok(o)
}

/// Checks 8–9: the name is free and the owner stays within the trail limit, in every region the
/// trail will exist in. `replacing` is the trail being updated, which does not count.
pub fn check_room(r: &dyn Reader, t: &Trail, replacing: Option<&Trail>) -> Result<(), AwsError> {
    let others: Vec<Trail> = owned(r, &t.owner)?
        .into_iter()
        .filter(|o| replacing.is_none_or(|r| r.key() != o.key()))
        .collect();
    for o in &others {
        let overlap = o.home_region == t.home_region || o.is_multi_region || t.is_multi_region;
        if o.name == t.name && overlap {
            return Err(AwsError::client(
                "TrailAlreadyExistsException",
                format!("Trail {} already exists for customer: {}", t.name, t.owner),
            ));
        }
    }
    // A region holding none of the owner's single-region trails holds only its multi-region
    // ones, which every region holds too: the home regions are the only counts to take.
    let mut regions: Vec<&str> = others.iter().map(|o| o.home_region.as_str()).collect();
    regions.push(&t.home_region);
    regions.sort();
    regions.dedup();
    for region in regions {
        if !(t.is_multi_region || t.home_region == region) {
            continue;
        }
        let n = others
            .iter()
            .filter(|o| o.home_region == region || o.is_multi_region)
            .count();
        if n >= TRAILS_PER_REGION {
            return Err(AwsError::client(
                "MaximumNumberOfTrailsExceededException",
                format!(
                    "User: {} already has {} trails in {}.",
                    t.owner, TRAILS_PER_REGION, region
                ),
            ));
        }
    }
    Ok(())
}

fn bucket_missing(bucket: &str) -> AwsError {
    AwsError::client(
        "S3BucketDoesNotExistException",
        format!("S3 bucket {bucket} does not exist."),
    )
}

fn policy_insufficient(bucket: &str) -> AwsError {
    AwsError::client(
        "InsufficientS3BucketPolicyException",
        format!("Incorrect S3 bucket policy is detected for bucket: {bucket}"),
    )
}

/// Checks 10–11: the bucket exists and its policy lets CloudTrail deliver for this trail
/// (§3.5): GetBucketAcl, then PutObject under `{P}AWSLogs/<owner>/` and, for an organization
/// trail, `{P}AWSLogs/<org-id>/` too.
pub fn check_bucket(r: &dyn Reader, ctx: &RequestContext, t: &Trail) -> Result<(), AwsError> {
    if !bucket::bucket_exists(r, &t.s3_bucket_name)? {
        return Err(bucket_missing(&t.s3_bucket_name));
    }
    // aws:SourceOrgID names the owner's organization whether or not the trail covers it.
    let org_id = match (&t.org_id, t.is_organization_trail) {
        (Some(id), true) => Some(id.clone()),
        _ => org::organization_of(r, &t.owner)?.map(|o| o.id),
    };
    let mut roots = vec![t.owner.clone()];
    if t.is_organization_trail {
        roots.extend(org_id.clone());
    }
    let arn = t.arn();
    let probe = DeliveryProbe {
        bucket: &t.s3_bucket_name,
        trail_arn: &arn,
        owner: &t.owner,
        roots,
        prefix: t.s3_key_prefix.as_deref(),
        org_id: org_id.as_deref(),
        now: ctx.time,
    };
    if !bucket::policy_allows_delivery(r, &probe)? {
        return Err(policy_insufficient(&t.s3_bucket_name));
    }
    Ok(())
}

/// Checks 12–16 for the members the request sets. SNS, KMS and CloudWatch Logs are not served
/// here, so a topic, key or log group a request names cannot exist: AWS's answer for a missing
/// resource.
pub fn check_other_resources(s: &Settings) -> Result<(), AwsError> {
    if set(&s.sns).is_some() {
        return Err(AwsError::client(
            "InsufficientSnsTopicPolicyException",
            "SNS Topic does not exist or the topic policy is incorrect!",
        ));
    }
    if let Some(k) = set(&s.kms) {
        return Err(AwsError::client(
            "KmsKeyNotFoundException",
            format!(
                "Specified KMS key {k} was not found or is not in the same region as the trail."
            ),
        ));
    }
    if set(&s.log_group).is_some() {
        return Err(AwsError::client(
            "InvalidCloudWatchLogsLogGroupArnException",
            "Access denied. Verify in IAM that the role has adequate permissions.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn s(v: Value) -> Settings {
        settings(v.as_object().unwrap()).unwrap()
    }

    fn code(v: Value) -> String {
        check_syntax(&s(v)).unwrap_err().code.to_string()
    }

    #[test]
    fn combinations_before_syntax() {
        let e = check_syntax(&s(json!({"IsMultiRegionTrail": true,
            "IncludeGlobalServiceEvents": false, "S3BucketName": "Bad_Bucket"})))
        .unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "InvalidParameterCombinationException",
                MULTI_REGION_NEEDS_GLOBAL
            )
        );
        assert_eq!(
            code(
                json!({"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111111111111:log-group:x:*",
                "S3BucketName": "Bad_Bucket"})
            ),
            "InvalidParameterCombinationException"
        );
        // An empty pair is no pair.
        assert!(check_syntax(&s(json!({"CloudWatchLogsLogGroupArn": "",
            "CloudWatchLogsRoleArn": ""})))
        .is_ok());
    }

    #[test]
    fn syntax() {
        assert_eq!(
            code(json!({"S3BucketName": "Bad_Bucket"})),
            "InvalidS3BucketNameException"
        );
        assert_eq!(
            code(json!({"S3KeyPrefix": "p".repeat(201)})),
            "InvalidS3PrefixException"
        );
        assert_eq!(
            code(json!({"SnsTopicName": "bad topic"})),
            "InvalidSnsTopicNameException"
        );
        for bad in [
            "nope",
            "alias/",
            "arn:aws:kms:us-east-1:111111111111:thing/x",
            "1234",
        ] {
            assert_eq!(
                code(json!({"KmsKeyId": bad})),
                "InvalidKmsKeyIdException",
                "{bad}"
            );
        }
        for ok in [
            "alias/my-key",
            "arn:aws:kms:us-east-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-2:111111111111:alias/my-key",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
        ] {
            assert!(check_syntax(&s(json!({"KmsKeyId": ok}))).is_ok(), "{ok}");
        }
        let pair = |lg: &str, role: &str| {
            code(json!({"CloudWatchLogsLogGroupArn": lg, "CloudWatchLogsRoleArn": role}))
        };
        assert_eq!(
            pair("log-group", "arn:aws:iam::111111111111:role/r"),
            "InvalidCloudWatchLogsLogGroupArnException"
        );
        assert_eq!(
            pair(
                "arn:aws:logs:us-east-2:111111111111:log-group:g:*",
                "arn:aws:iam::111111111111:user/u"
            ),
            "InvalidCloudWatchLogsRoleArnException"
        );
    }
}
