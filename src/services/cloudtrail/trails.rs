//! CreateTrail, UpdateTrail, DeleteTrail, GetTrail, DescribeTrails, ListTrails
//! (spec cloudtrail.md §3.4, §3.6, §3.7, §3.9).

use super::bucket::{self, DeliveryProbe};
use super::input::{opt_bool, opt_list, opt_str, req_str};
use super::model::{default_event_selectors, Trail, TRAILS};
use super::names::{check_bucket_name, check_prefix, check_sns_topic, check_trail_name, trail_arn};
use super::org::{self, OrgInfo};
use super::resolve::{self, not_management, owned, Seen};
use super::tags::parse_tags;
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::{Writer, WriterExt};
use serde_json::{json, Value};

/// Trails per account per region (a multi-region trail counts in every region).
pub const TRAILS_PER_REGION: usize = 5;

fn combination(message: &str) -> AwsError {
    AwsError::client("InvalidParameterCombinationException", message)
}

/// The settings CreateTrail and UpdateTrail share, as given (None: not in the request).
struct Settings {
    bucket: Option<String>,
    prefix: Option<String>,
    sns: Option<String>,
    global: Option<bool>,
    multi: Option<bool>,
    validation: Option<bool>,
    log_group: Option<String>,
    role: Option<String>,
    kms: Option<String>,
    organization: Option<bool>,
}

fn settings(input: &JsonInput) -> Result<Settings, AwsError> {
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

/// An empty string clears an optional setting in UpdateTrail.
fn cleared(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| if s.is_empty() { None } else { Some(s) })
}

/// Checks 3–5 of §3.4: combinations and syntax.
fn check_syntax(s: &Settings) -> Result<(), AwsError> {
    if s.multi == Some(true) && s.global == Some(false) {
        return Err(combination(
            "Multi-Region trail must include global service events.",
        ));
    }
    let lg = s.log_group.as_deref().filter(|v| !v.is_empty());
    let role = s.role.as_deref().filter(|v| !v.is_empty());
    if lg.is_some() != role.is_some() {
        return Err(combination(
            "You must specify both CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn.",
        ));
    }
    if let Some(b) = &s.bucket {
        check_bucket_name(b)?;
    }
    if let Some(p) = &s.prefix {
        check_prefix(p)?;
    }
    if let Some(t) = s.sns.as_deref().filter(|t| !t.is_empty()) {
        check_sns_topic(t)?;
    }
    if let Some(k) = s.kms.as_deref().filter(|k| !k.is_empty()) {
        let ok = k.starts_with("alias/")
            || k.starts_with("arn:aws:kms:")
            || k.starts_with("mrk-")
            || (k.len() == 36 && k.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
        if !ok {
            return Err(AwsError::client(
                "InvalidKmsKeyIdException",
                format!("Invalid KMS key id: {k}"),
            ));
        }
    }
    if let Some(lg) = lg {
        if !(lg.starts_with("arn:aws:logs:") && lg.contains(":log-group:")) {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsLogGroupArnException",
                "CloudWatch Logs log group ARN is not valid.",
            ));
        }
    }
    if let Some(role) = role {
        if !(role.starts_with("arn:aws:iam::") && role.contains(":role/")) {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsRoleArnException",
                "CloudWatch Logs role ARN is not valid.",
            ));
        }
    }
    Ok(())
}

/// The organization checks of §3.9 for creating (or converting to) an organization trail.
/// Returns the organization.
fn check_organization(
    w: &mut dyn Writer,
    account: &str,
    management_only: bool,
) -> Result<OrgInfo, AwsError> {
    let Some(o) = org::organization_of(w, account)? else {
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
        || (!management_only && org::is_delegated_admin(w, account)?);
    if !allowed {
        return Err(not_management());
    }
    if !org::trusted_access(w, &o)? {
        return Err(AwsError::client(
            "CloudTrailAccessNotEnabledException",
            "CloudTrail trusted access is not enabled for your organization.",
        ));
    }
    Ok(o)
}

/// Checks 8–9: the name is free and the owner stays within the trail limit, in every region the
/// trail will exist in. `replacing` is the trail being updated, which does not count.
fn check_room(w: &mut dyn Writer, t: &Trail, replacing: Option<&Trail>) -> Result<(), AwsError> {
    let others: Vec<Trail> = owned(w, &t.owner)?
        .into_iter()
        .filter(|o| replacing.is_none_or(|r| r.key() != o.key()))
        .collect();
    let exists = || {
        AwsError::client(
            "TrailAlreadyExistsException",
            format!("Trail {} already exists for customer: {}", t.name, t.owner),
        )
    };
    for o in &others {
        let overlap = o.home_region == t.home_region || o.is_multi_region || t.is_multi_region;
        if o.name == t.name && overlap {
            return Err(exists());
        }
    }
    // Count, per region where the new trail exists, the owner's trails there.
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
        if n + 1 > TRAILS_PER_REGION {
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

/// Checks 10–16: the resources the trail points at.
fn check_resources(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    t: &Trail,
    org_id: Option<&str>,
    bucket_changed: bool,
    s: &Settings,
) -> Result<(), AwsError> {
    if bucket_changed {
        if !bucket::bucket_exists(w, &t.s3_bucket_name)? {
            return Err(AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket {} does not exist.", t.s3_bucket_name),
            ));
        }
        // An organization trail writes under the organization's root as well as the owner's.
        let mut roots = vec![t.owner.clone()];
        if let Some(o) = org_id.filter(|_| t.is_organization_trail) {
            roots.push(o.to_string());
        }
        let arn = t.arn();
        let probe = DeliveryProbe {
            bucket: &t.s3_bucket_name,
            trail_arn: &arn,
            owner: &t.owner,
            roots,
            prefix: t.s3_key_prefix.as_deref(),
            org_id,
            now: ctx.time,
        };
        if !bucket::policy_allows_delivery(w, &probe)? {
            return Err(AwsError::client(
                "InsufficientS3BucketPolicyException",
                format!(
                    "Incorrect S3 bucket policy is detected for bucket: {}",
                    t.s3_bucket_name
                ),
            ));
        }
    }
    // SNS, KMS and CloudWatch Logs are not served here, so a topic, key or log group a trail
    // names cannot exist: AWS's answer for a missing resource.
    if s.sns.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(AwsError::client(
            "InsufficientSnsTopicPolicyException",
            "SNS Topic does not exist or the topic policy is incorrect!",
        ));
    }
    if s.kms.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(AwsError::client(
            "KmsKeyNotFoundException",
            "Specified KMS key was not found or is not in the same region as the trail.",
        ));
    }
    if s.log_group.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(AwsError::client(
            "InvalidCloudWatchLogsLogGroupArnException",
            "Access denied. Verify in IAM that the role has adequate permissions.",
        ));
    }
    Ok(())
}

pub fn create_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let bucket = req_str(input, "S3BucketName")?;
    let s = settings(input)?;
    check_trail_name(&name)?;
    check_syntax(&s)?;
    let tags = match opt_list(input, "TagsList")? {
        Some(list) => parse_tags(list)?,
        None => Vec::new(),
    };
    let account = ctx.principal.account.clone();
    let organization = if s.organization == Some(true) {
        Some(check_organization(w, &account, false)?)
    } else {
        None
    };
    // An organization trail belongs to the management account, whoever creates it.
    let owner = organization
        .as_ref()
        .map(|o| o.management_account.clone())
        .unwrap_or(account);
    let multi = s.multi.unwrap_or(false);
    let t = Trail {
        name,
        owner,
        home_region: ctx.region.clone(),
        s3_bucket_name: bucket,
        s3_key_prefix: s.prefix.clone().filter(|p| !p.is_empty()),
        sns_topic_name: s.sns.clone().filter(|p| !p.is_empty()),
        include_global_service_events: s.global.unwrap_or(true),
        is_multi_region: multi,
        log_file_validation: s.validation.unwrap_or(false),
        cloudwatch_logs_log_group_arn: s.log_group.clone().filter(|p| !p.is_empty()),
        cloudwatch_logs_role_arn: s.role.clone().filter(|p| !p.is_empty()),
        kms_key_id: s.kms.clone().filter(|p| !p.is_empty()),
        is_organization_trail: organization.is_some(),
        has_custom_event_selectors: false,
        event_selectors: Some(default_event_selectors()),
        advanced_event_selectors: None,
        insight_selectors: None,
        tags,
        logging: false,
        logging_periods: Vec::new(),
        start_logging_time: None,
        stop_logging_time: None,
        created: ctx.time.timestamp_millis(),
    };
    check_room(w, &t, None)?;
    let org_id = match &organization {
        Some(o) => Some(o.id.clone()),
        None => org::organization_of(w, &t.owner)?.map(|o| o.id),
    };
    check_resources(w, ctx, &t, org_id.as_deref(), true, &s)?;
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(t.write_output())
}

pub fn update_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let old = resolve::resolve_for_change(w, ctx, &name)?;
    let s = settings(input)?;
    check_syntax(&s)?;
    let mut t = old.clone();
    if let Some(b) = &s.bucket {
        t.s3_bucket_name = b.clone();
    }
    if let Some(p) = cleared(s.prefix.clone()) {
        t.s3_key_prefix = p;
    }
    if let Some(v) = cleared(s.sns.clone()) {
        t.sns_topic_name = v;
    }
    if let Some(v) = cleared(s.kms.clone()) {
        t.kms_key_id = v;
    }
    if let Some(v) = cleared(s.log_group.clone()) {
        t.cloudwatch_logs_log_group_arn = v;
    }
    if let Some(v) = cleared(s.role.clone()) {
        t.cloudwatch_logs_role_arn = v;
    }
    if let Some(v) = s.validation {
        t.log_file_validation = v;
    }
    if let Some(v) = s.global {
        t.include_global_service_events = v;
    }
    if let Some(m) = s.multi {
        // Becoming multi-region always includes global service events.
        if m && !old.is_multi_region && s.global.is_none() {
            t.include_global_service_events = true;
        }
        t.is_multi_region = m;
    }
    if t.is_multi_region && !t.include_global_service_events {
        return Err(combination(
            "Multi-Region trail must include global service events.",
        ));
    }
    let mut org_id = None;
    match s.organization {
        Some(true) => {
            // Converting to an organization trail is for the management account alone.
            let info = check_organization(w, &ctx.principal.account, !old.is_organization_trail)?;
            org_id = Some(info.id);
            t.is_organization_trail = true;
        }
        Some(false) => {
            if old.is_organization_trail && ctx.principal.account != old.owner {
                return Err(not_management());
            }
            t.is_organization_trail = false;
        }
        None if t.is_organization_trail => {
            org_id = org::organization_of(w, &t.owner)?.map(|o| o.id);
        }
        None => {}
    }
    // aws:SourceOrgID names the owner's organization whether or not the trail covers it.
    if org_id.is_none() {
        org_id = org::organization_of(w, &t.owner)?.map(|o| o.id);
    }
    if t.is_multi_region != old.is_multi_region {
        check_room(w, &t, Some(&old))?;
    }
    let bucket_changed = s.bucket.is_some() || s.prefix.is_some() || s.organization.is_some();
    check_resources(w, ctx, &t, org_id.as_deref(), bucket_changed, &s)?;
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(t.write_output())
}

pub fn delete_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let t = resolve::resolve_for_change(w, ctx, &name)?;
    w.delete(TRAILS, &t.key())?;
    Ok(json!({}))
}

pub fn get_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let (t, _) = resolve::resolve(w, ctx, &name)?;
    Ok(json!({ "Trail": t.shape() }))
}

pub fn describe_trails(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let shadows = opt_bool(input, "includeShadowTrails")?.unwrap_or(true);
    let names = opt_list(input, "trailNameList")?
        .cloned()
        .unwrap_or_default();
    let mut list = Vec::new();
    if names.is_empty() {
        for (t, seen) in resolve::visible(w, ctx)? {
            if seen == Seen::Home || shadows {
                list.push(t.shape());
            }
        }
    } else {
        for v in names {
            let Some(value) = v.as_str() else {
                return Err(AwsError::client(
                    "SerializationException",
                    "trailNameList holds strings",
                ));
            };
            // Unknown names and ARNs are left out; malformed ones are errors.
            match resolve::resolve(w, ctx, value) {
                Ok((t, _)) => list.push(t.shape()),
                Err(e) if e.code == "TrailNotFoundException" => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(json!({ "trailList": list }))
}

pub fn list_trails(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    const PAGE: usize = 50;
    let account = &ctx.principal.account;
    let mut all: Vec<Trail> = owned(w, account)?;
    if let Some(o) = org::organization_of(w, account)? {
        if o.management_account != *account {
            all.extend(
                owned(w, &o.management_account)?
                    .into_iter()
                    .filter(|t| t.is_organization_trail),
            );
        }
    }
    all.sort_by_key(|t| t.arn());
    let start = match opt_str(input, "NextToken")? {
        None => 0,
        Some(tok) => all.iter().position(|t| t.arn() > tok).unwrap_or(all.len()),
    };
    let page: Vec<&Trail> = all.iter().skip(start).take(PAGE).collect();
    let mut out = serde_json::Map::new();
    out.insert(
        "Trails".into(),
        Value::Array(
            page.iter()
                .map(|t| json!({"TrailARN": t.arn(), "Name": t.name, "HomeRegion": t.home_region}))
                .collect(),
        ),
    );
    if start + PAGE < all.len() {
        if let Some(last) = page.last() {
            out.insert("NextToken".into(), json!(last.arn()));
        }
    }
    Ok(Value::Object(out))
}

/// The ARN a trail argument names, for records and LookupEvents resources.
pub fn arn_of(value: &str, ctx: &RequestContext) -> String {
    if value.starts_with("arn:") {
        value.to_string()
    } else {
        trail_arn(&ctx.region, &ctx.principal.account, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(name: &str, region: &str, multi: bool) -> Trail {
        Trail {
            name: name.into(),
            owner: "111111111111".into(),
            home_region: region.into(),
            s3_bucket_name: "b".into(),
            s3_key_prefix: None,
            sns_topic_name: None,
            include_global_service_events: true,
            is_multi_region: multi,
            log_file_validation: false,
            cloudwatch_logs_log_group_arn: None,
            cloudwatch_logs_role_arn: None,
            kms_key_id: None,
            is_organization_trail: false,
            has_custom_event_selectors: false,
            event_selectors: None,
            advanced_event_selectors: None,
            insight_selectors: None,
            tags: vec![],
            logging: false,
            logging_periods: Vec::new(),
            start_logging_time: None,
            stop_logging_time: None,
            created: 0,
        }
    }

    #[test]
    fn outputs_have_awss_members_in_order() {
        let t = trail("t1", "us-east-2", true);
        let keys: Vec<String> = t
            .write_output()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "Name",
                "S3BucketName",
                "IncludeGlobalServiceEvents",
                "IsMultiRegionTrail",
                "TrailARN",
                "LogFileValidationEnabled",
                "IsOrganizationTrail"
            ]
        );
        let shape: Vec<String> = t.shape().as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            shape,
            [
                "Name",
                "S3BucketName",
                "IncludeGlobalServiceEvents",
                "IsMultiRegionTrail",
                "HomeRegion",
                "TrailARN",
                "LogFileValidationEnabled",
                "HasCustomEventSelectors",
                "HasInsightSelectors",
                "IsOrganizationTrail"
            ]
        );
    }

    #[test]
    fn syntax_checks_in_order() {
        let s = |v: Value| settings(v.as_object().unwrap()).unwrap();
        let e = check_syntax(&s(
            json!({"IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": false}),
        ))
        .unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "InvalidParameterCombinationException",
                "Multi-Region trail must include global service events."
            )
        );
        let e = check_syntax(&s(
            json!({"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:1:log-group:x:*"}),
        ))
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameterCombinationException");
        assert_eq!(
            check_syntax(&s(json!({"S3BucketName": "Bad_Bucket"})))
                .unwrap_err()
                .code,
            "InvalidS3BucketNameException"
        );
        assert_eq!(
            check_syntax(&s(json!({"S3KeyPrefix": "p".repeat(201)})))
                .unwrap_err()
                .code,
            "InvalidS3PrefixException"
        );
        assert_eq!(
            check_syntax(&s(json!({"KmsKeyId": "nope"})))
                .unwrap_err()
                .code,
            "InvalidKmsKeyIdException"
        );
        assert!(check_syntax(&s(
            json!({"KmsKeyId": "alias/x", "S3BucketName": "ok-bucket"})
        ))
        .is_ok());
    }
}
