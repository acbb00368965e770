//! CreateTrail, UpdateTrail, DeleteTrail (spec cloudtrail.md §3.4, §3.6, §3.7, §3.9).

use super::checks::{
    check_bucket, check_organization, check_other_resources, check_room, check_syntax, combination,
    settings, MULTI_REGION_NEEDS_GLOBAL,
};
use super::input::{opt_list, req_str};
use super::model::{default_event_selectors, status_prefix, Trail, STATUS, TRAILS};
use super::names::check_trail_name;
use super::resolve::{self, not_management};
use super::tags::parse_tags;
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::{Writer, WriterExt};
use serde_json::{json, Value};

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
    let organization = match s.organization {
        Some(true) => Some(check_organization(w, &ctx.principal.account, false)?),
        _ => None,
    };
    // An organization trail belongs to the management account, whoever creates it.
    let owner = organization
        .as_ref()
        .map(|o| o.management_account.clone())
        .unwrap_or_else(|| ctx.principal.account.clone());
    let t = Trail {
        name,
        owner,
        home_region: ctx.region.clone(),
        s3_bucket_name: bucket,
        s3_key_prefix: s.prefix.clone().filter(|p| !p.is_empty()),
        sns_topic_name: s.sns.clone().filter(|p| !p.is_empty()),
        include_global_service_events: s.global.unwrap_or(true),
        is_multi_region: s.multi.unwrap_or(false),
        log_file_validation: s.validation.unwrap_or(false),
        cloudwatch_logs_log_group_arn: s.log_group.clone().filter(|p| !p.is_empty()),
        cloudwatch_logs_role_arn: s.role.clone().filter(|p| !p.is_empty()),
        kms_key_id: s.kms.clone().filter(|p| !p.is_empty()),
        is_organization_trail: organization.is_some(),
        org_since: organization.as_ref().map(|_| ctx.time.timestamp_millis()),
        org_id: organization.map(|o| o.id),
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
        retired: false,
    };
    check_room(w, &t, None)?;
    check_bucket(w, ctx, &t)?;
    check_other_resources(&s)?;
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(t.write_output())
}

/// An empty string clears an optional setting in UpdateTrail.
fn cleared(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref()
        .map(|s| if s.is_empty() { None } else { Some(s.clone()) })
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
    if let Some(v) = cleared(&s.prefix) {
        t.s3_key_prefix = v;
    }
    if let Some(v) = cleared(&s.sns) {
        t.sns_topic_name = v;
    }
    if let Some(v) = cleared(&s.kms) {
        t.kms_key_id = v;
    }
    if let Some(v) = cleared(&s.log_group) {
        t.cloudwatch_logs_log_group_arn = v;
    }
    if let Some(v) = cleared(&s.role) {
        t.cloudwatch_logs_role_arn = v;
    }
    if let Some(v) = s.validation {
        t.log_file_validation = v;
    }
    if let Some(v) = s.global {
        t.include_global_service_events = v;
    }
    if let Some(m) = s.multi {
        // Becoming multi-region includes global service events unless the request says
        // otherwise (which check_syntax refused).
        if m && !old.is_multi_region {
            t.include_global_service_events = true;
        }
        t.is_multi_region = m;
    }
    if t.is_multi_region && !t.include_global_service_events {
        return Err(combination(MULTI_REGION_NEEDS_GLOBAL));
    }
    match s.organization {
        Some(true) => {
            // Converting an existing trail is for the management account alone; a delegated
            // administrator may update an organization trail that already is one.
            let o = check_organization(w, &ctx.principal.account, !old.is_organization_trail)?;
            if !old.is_organization_trail {
                t.org_since = Some(ctx.time.timestamp_millis());
            }
            t.is_organization_trail = true;
            t.org_id = Some(o.id);
        }
        Some(false) => {
            if old.is_organization_trail && ctx.principal.account != old.owner {
                return Err(not_management());
            }
            t.is_organization_trail = false;
            t.org_id = None;
            t.org_since = None;
        }
        None => {}
    }
    if t.is_multi_region && !old.is_multi_region {
        check_room(w, &t, Some(&old))?;
    }
    if s.bucket.is_some() || s.prefix.is_some() || s.organization.is_some() {
        check_bucket(w, ctx, &t)?;
    }
    check_other_resources(&s)?;
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(t.write_output())
}

pub fn delete_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let mut t = resolve::resolve_for_change(w, ctx, &name)?;
    w.delete(TRAILS, &t.key())?;
    // A trail created later under the same name starts with no delivery history.
    w.delete_prefix(STATUS, &status_prefix(&t.arn()))?;
    // As StopLogging: the trail's last log file holds this call, and a validated trail ends
    // its digest chains with final digests; the consumers finish it after it is gone.
    super::logging::stop(w, ctx, &mut t)?;
    crate::delivery::retired::retire(w, t)?;
    Ok(json!({}))
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
            org_id: None,
            org_since: None,
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
            retired: false,
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
}
