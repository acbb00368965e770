//! The organization's resource-based delegation policy: PutResourcePolicy,
//! DescribeResourcePolicy, DeleteResourcePolicy. What it allows, member accounts may call
//! (the "delegated administrator for AWS Organizations" of AWS).

use super::errors::{constraint, invalid_input, resource_policy_not_found};
use super::model::{self, Org, ResourcePolicy};
use super::{ids, validate, Call};
use crate::access::{self, Ask, Facts};
use crate::error::AwsError;
use crate::policy::{Context, Policy, PolicyKind};
use crate::store::{Reader, ReaderExt, Writer, WriterExt};
use serde_json::{json, Value};

const MAX_TAGS: usize = 50;

pub fn of(r: &dyn Reader, org: &str) -> Result<Option<ResourcePolicy>, AwsError> {
    Ok(r.get_json(model::RESOURCE_POLICIES, org.as_bytes())?)
}

fn parse(content: &str) -> Option<Policy> {
    Policy::parse(content, &PolicyKind::Trust).ok()
}

pub fn put(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let content = c.input.str("Content")?;
    validate::length(content, 1, 40_000)?;
    let tags = c.input.tags("Tags")?;
    if tags.len() > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    if parse(content).is_none() {
        return Err(invalid_input("INVALID_RESOURCE_POLICY_JSON"));
    }
    let id = match of(w, &org.id)? {
        Some(existing) => existing.id,
        None => ids::resource_policy(),
    };
    let p = ResourcePolicy {
        id,
        org: org.id.clone(),
        management: org.management.clone(),
        content: content.into(),
    };
    w.put_json(model::RESOURCE_POLICIES, org.id.as_bytes(), &p)?;
    model::put_tags(w, &p.id, &tags)?;
    Ok(json!({"ResourcePolicy": p.json()}))
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let p = of(w, &org.id)?.ok_or_else(resource_policy_not_found)?;
    Ok(json!({"ResourcePolicy": p.json()}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let p = of(w, &org.id)?.ok_or_else(resource_policy_not_found)?;
    w.delete(model::RESOURCE_POLICIES, org.id.as_bytes())?;
    model::delete_tags(w, &p.id)?;
    Ok(json!({}))
}

/// Whether the organization's resource policy lets `principal` (a member account's identity)
/// perform `action` on the organization. Its own identity policies must allow it too, as for
/// any cross-account access.
pub fn allows(r: &dyn Reader, org: &Org, facts: &Facts, action: &str) -> Result<bool, AwsError> {
    let Some(p) = of(r, &org.id)? else {
        return Ok(false);
    };
    let Some(policy) = parse(&p.content) else {
        return Ok(false);
    };
    let arn = org.arn();
    let outcome = access::decide(
        r,
        facts,
        Ask {
            action,
            resource: &arn,
            resource_policy: Some(&policy),
            resource_owner: Some(&org.management),
            context: Context::new(),
        },
    )?;
    Ok(outcome.is_allowed())
}
