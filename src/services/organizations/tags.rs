//! Tags on roots, accounts, OUs, policies and the resource policy: TagResource, UntagResource,
//! ListTagsForResource.

use super::accounts::listing;
use super::errors::{constraint, invalid_input, target_not_found};
use super::model::{self, Org};
use super::page::Page;
use super::validate::{self, tag_key};
use super::Call;
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Value};

pub const MAX_TAGS: usize = 50;

fn resource_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("ResourceId")?;
    if id.len() > 130 || !validate::is_taggable_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

/// Whether `id` names a taggable resource of `org`.
pub fn exists(r: &dyn Reader, org: &Org, id: &str) -> Result<bool, AwsError> {
    Ok(if id == org.root {
        true
    } else if validate::is_account_id(id) {
        model::member_of(r, &org.id, id)?.is_some()
    } else if validate::is_ou_id(id) {
        model::ou_of(r, &org.id, id)?.is_some()
    } else if validate::is_policy_id(id) {
        super::policies::customer_policy(r, &org.id, id)?.is_some()
    } else if validate::is_resource_policy_id(id) {
        super::resource_policy::of(r, &org.id)?.is_some_and(|p| p.id == id)
    } else {
        false
    })
}

pub fn tag(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = resource_id(c)?;
    if !c.input.has("Tags") {
        return Err(invalid_input("INPUT_REQUIRED"));
    }
    let tags = c.input.tags("Tags")?;
    if !exists(w, org, id)? {
        return Err(target_not_found());
    }
    let existing = model::tags_of(w, id)?;
    let added = tags
        .iter()
        .filter(|t| !existing.iter().any(|e| e.key == t.key))
        .count();
    if existing.len() + added > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    model::put_tags(w, id, &tags)?;
    Ok(json!({}))
}

pub fn untag(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = resource_id(c)?;
    let keys = c
        .input
        .opt_strings("TagKeys")?
        .ok_or_else(|| invalid_input("INPUT_REQUIRED"))?;
    for k in &keys {
        tag_key(k)?;
    }
    if !exists(w, org, id)? {
        return Err(target_not_found());
    }
    for k in keys {
        let mut key = model::prefix(&[id]);
        key.extend_from_slice(k.as_bytes());
        w.delete(model::TAGS, &key)?;
    }
    Ok(json!({}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = resource_id(c)?;
    // Every tag of a resource fits one page.
    let page = Page::with_max(&c.input, &format!("ListTagsForResource:{id}"), MAX_TAGS)?;
    if !exists(w, org, id)? {
        return Err(target_not_found());
    }
    let tags = model::tags_of(w, id)?;
    let (items, next) = page.of(tags
        .into_iter()
        .map(|t| (t.key.clone(), json!({"Key": t.key, "Value": t.value}))));
    Ok(listing("Tags", items, next))
}
