//! AddTags, RemoveTags, ListTags on trails (spec cloudtrail.md §3.11).

use super::input::{opt_list, req_str};
use super::model::{Tag, Trail, TRAILS};
use super::names::parse_trail_arn;
use super::resolve::{self, Seen};
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::{Writer, WriterExt};
use serde_json::{json, Map, Value};

pub const TAGS_PER_TRAIL: usize = 50;

fn invalid_tag(m: impl Into<String>) -> AwsError {
    AwsError::client("InvalidTagParameterException", m)
}

/// Validates a `TagsList`.
pub fn parse_tags(list: &[Value]) -> Result<Vec<Tag>, AwsError> {
    let mut out: Vec<Tag> = Vec::new();
    for t in list {
        let key = t.get("Key").and_then(Value::as_str).unwrap_or("");
        if key.is_empty() || key.chars().count() > 128 {
            return Err(invalid_tag("Tag key must be 1 to 128 characters."));
        }
        if key.starts_with("aws:") {
            return Err(invalid_tag(
                "Tag keys cannot start with the reserved prefix aws:.",
            ));
        }
        if out.iter().any(|o| o.key == key) {
            return Err(invalid_tag(format!("Duplicate tag key: {key}")));
        }
        let value = t.get("Value").and_then(Value::as_str).map(str::to_string);
        if value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(invalid_tag("Tag value must be at most 256 characters."));
        }
        out.push(Tag {
            key: key.to_string(),
            value,
        });
    }
    if out.len() > TAGS_PER_TRAIL {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            "The number of tags exceeds the limit of 50.",
        ));
    }
    Ok(out)
}

fn unsupported(id: &str) -> AwsError {
    AwsError::client(
        "ResourceTypeNotSupportedException",
        format!("Resource type not supported: {id}"),
    )
}

fn resource_not_found(id: &str) -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        format!("Resource not found: {id}"),
    )
}

/// A tag target: a trail ARN of the current region (§3.11). `change`: AddTags / RemoveTags,
/// which a member account may not do to an organization trail (a delegated administrator may).
fn target(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    id: &str,
    change: bool,
) -> Result<Trail, AwsError> {
    if !id.starts_with("arn:") {
        return Err(AwsError::client(
            "CloudTrailARNInvalidException",
            format!("Invalid ARN: {id}"),
        ));
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    if parts.len() == 6 && (parts[2] != "cloudtrail" || !parts[5].starts_with("trail/")) {
        return Err(unsupported(id));
    }
    let arn = parse_trail_arn(id)?;
    if arn.region != ctx.region {
        return Err(AwsError::client(
            "CloudTrailARNInvalidException",
            format!(
                "Region in ARN is wrong, you can only access resources in region {}.",
                ctx.region
            ),
        ));
    }
    let account = &ctx.principal.account;
    let found = resolve::get(w, &arn.account, &arn.region, &arn.name)?;
    let seen = match &found {
        Some(t) => resolve::seen(w, t, account, &ctx.region)?,
        None => None,
    };
    match (found, seen) {
        (Some(t), Some(Seen::Organization)) => {
            if change && !resolve::may_manage_organization_trail(w, account)? {
                return Err(resolve::not_management());
            }
            Ok(t)
        }
        (Some(t), Some(_)) => Ok(t),
        _ if !resolve::reachable(w, account, &arn.account)? => Err(resolve::wrong_account(account)),
        _ => Err(resource_not_found(id)),
    }
}

pub fn add_tags(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let id = req_str(input, "ResourceId")?;
    let new = parse_tags(
        opt_list(input, "TagsList")?
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    )?;
    let mut t = target(w, ctx, &id, true)?;
    for tag in new {
        match t.tags.iter_mut().find(|o| o.key == tag.key) {
            Some(o) => o.value = tag.value,
            None => t.tags.push(tag),
        }
    }
    if t.tags.len() > TAGS_PER_TRAIL {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            "The number of tags exceeds the limit of 50.",
        ));
    }
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(json!({}))
}

pub fn remove_tags(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let id = req_str(input, "ResourceId")?;
    let gone = parse_tags(
        opt_list(input, "TagsList")?
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    )?;
    let mut t = target(w, ctx, &id, true)?;
    t.tags.retain(|o| !gone.iter().any(|g| g.key == o.key));
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(json!({}))
}

pub fn list_tags(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let ids = opt_list(input, "ResourceIdList")?
        .cloned()
        .unwrap_or_default();
    if ids.len() > 20 {
        return Err(AwsError::client(
            "InvalidParameterException",
            "ResourceIdList can hold at most 20 ARNs.",
        ));
    }
    let mut out = Vec::new();
    for id in ids {
        let id = id.as_str().unwrap_or("").to_string();
        let t = target(w, ctx, &id, false)?;
        let tags: Vec<Value> = t
            .tags
            .iter()
            .map(|tag| {
                let mut m = Map::new();
                m.insert("Key".into(), json!(tag.key));
                if let Some(v) = &tag.value {
                    m.insert("Value".into(), json!(v));
                }
                Value::Object(m)
            })
            .collect();
        out.push(json!({"ResourceId": id, "TagsList": tags}));
    }
    Ok(json!({ "ResourceTagList": out }))
}
